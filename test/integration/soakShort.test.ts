// The soak (test/helpers/soak.ts, `npm run soak`) in short: 4 board processes in 2 orgs under steady
// load for 15 s of chaos (the first action always kills a leader, then seeded kills, stops and, as root,
// a partition), then the same end checks as the long run: every board at the orderer's height with its
// last hash, `ledger verify` on every board, no block rejected, at most one Deliver stream per org.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { formatSoakReport, runSoak } from '../helpers/soak.js';
import { killAllProcesses } from '../helpers/processes.js';

const CHAOS_MS = 15_000;
const SEED = 7;

after(killAllProcesses);

test('soak (short): 4 boards, 2 orgs, 15 s of seeded chaos under load; the fleet converges and every invariant holds', { timeout: 120_000 }, async (t) => {
  const report = await runSoak({
    durationMs: CHAOS_MS, seed: SEED, boards: 4, orgs: 2, txPerSec: 20, partition: 'auto',
    // Shorter gaps and outages than the long run's, so that 15 s hold a few actions.
    chaosGapMs: [2_500, 4_000], downMs: [1_000, 2_500],
    log: (line) => t.diagnostic(line),
  });
  for (const line of formatSoakReport(report)) t.diagnostic(line);
  assert.deepEqual(report.violations, []);
  assert.ok(report.chaos.length >= 2, `${report.chaos.length} chaos actions in ${CHAOS_MS} ms`);
  assert.ok(report.chaos.some((c) => c.takeover !== undefined), 'a leader was taken down and another board streamed for its org');
});
