// The soak (test/helpers/soak.ts, `npm run soak`) in short: 4 board processes in 2 orgs under steady
// load for 15 s of chaos (the first action always kills a leader, then seeded kills, stops and, as root,
// a partition), then the same end checks as the long run: every board at the orderer's height with its
// last hash, `ledger verify` on every board, no block rejected, at most one Deliver stream per org.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type SoakOptions, type SoakTimeouts, formatSoakReport, runSoak, soakWorstCaseMs } from '../helpers/soak.js';
import { TestRig, killAllProcesses } from '../helpers/processes.js';

const CHAOS_MS = 15_000;
const SEED = 7;
/**
 * Shorter waits than the long run's (4 boards, a short load), so that a stuck soak fails with its own
 * message inside the test's timeout instead of as a bare timeout.
 */
const TIMEOUTS: SoakTimeouts = { settleMs: 30_000, restartMs: 15_000, takeoverMs: 10_000, loadDrainMs: 10_000, convergeMs: 30_000 };
/** Shorter gaps and outages than the long run's, so that 15 s hold a few actions. */
const CHAOS = { durationMs: CHAOS_MS, chaosGapMs: [2_500, 4_000], downMs: [1_000, 2_500] } as const satisfies Partial<SoakOptions>;
/** Beyond the soak's own waits: init, the orderer's start, SIGTERM of every board, `ledger verify`. */
const OUTSIDE_WAITS_MS = 60_000;

after(killAllProcesses);

test('soak (short): 4 boards, 2 orgs, 15 s of seeded chaos under load; the fleet converges and every invariant holds',
  { timeout: soakWorstCaseMs(CHAOS, TIMEOUTS) + OUTSIDE_WAITS_MS }, async (t) => {
    // The test's rig: t.after closes it on every path, a timeout of this test included.
    const rig = new TestRig();
    t.after(() => rig.close());
    const report = await runSoak({
      ...CHAOS, seed: SEED, boards: 4, orgs: 2, txPerSec: 20, partition: 'auto', timeouts: TIMEOUTS,
      log: (line) => t.diagnostic(line),
    }, rig);
    for (const line of formatSoakReport(report)) t.diagnostic(line);
    assert.deepEqual(report.violations, []);
    assert.ok(report.chaos.length >= 2, `${report.chaos.length} chaos actions in ${CHAOS_MS} ms`);
    assert.ok(report.chaos.some((c) => c.takeover !== undefined), 'a leader was taken down and another board streamed for its org');
  });
