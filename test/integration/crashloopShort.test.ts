// The crash loop (test/helpers/crashLoop.ts, `npm run crashloop`) in short: a peer process SIGKILLed 10
// times (during catch-up of a prepared backlog and under live load) and restarted, then the orderer
// process SIGKILLed 5 times while a client submits, with the long run's checks: no reported commit lost,
// no block rejected, no gap, no transaction twice, every SUCCESS answered longer than batchTimeoutMs
// before a kill in a block (docs/protocol.md §10: SUCCESS is "ordered"; a batch not cut yet dies with the
// orderer), the follower never offered a conflicting block, `ledger verify --network` clean on both
// ledgers, the peer's ledger the orderer's. With the long run's batching (CRASH_LOOP_DEFAULTS).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CRASH_LOOP_DEFAULTS, type CrashLoopTimeouts, formatCrashLoopReport, runCrashLoop } from '../helpers/crashLoop.js';
import { TestRig, killAllProcesses } from '../helpers/processes.js';

const SEED = 7;
const PEER_CYCLES = 10;
const ORDERER_CYCLES = 5;
/** Small backlogs: a few kills catch up each (the peer pulls thousands of blocks a second). */
const BACKLOG_BLOCKS = 5_000;
/** Shorter than the long run's, so a stuck loop fails with its own message inside the test's timeout. */
const TIMEOUTS: CrashLoopTimeouts = { peerStartMs: 15_000, ordererStartMs: 15_000, syncMs: 30_000 };
/** About 35 s on 2 idle cores; room for a loaded machine and the waits above. */
const TEST_TIMEOUT_MS = 150_000;

after(killAllProcesses);

test(`crash loop (short): ${PEER_CYCLES} peer SIGKILLs in catch-up and live, ${ORDERER_CYCLES} orderer SIGKILLs under load; nothing committed is lost, no SUCCESS older than the batch timeout, ledgers verify and agree`,
  { timeout: TEST_TIMEOUT_MS }, async (t) => {
    // The test's rig: t.after closes it on every path, a timeout of this test included.
    const rig = new TestRig();
    t.after(() => rig.close());
    const report = await runCrashLoop({
      ...CRASH_LOOP_DEFAULTS, seed: SEED, peerCycles: PEER_CYCLES, ordererCycles: ORDERER_CYCLES,
      preparedBlocks: BACKLOG_BLOCKS, backlogBlocks: BACKLOG_BLOCKS, timeouts: TIMEOUTS,
      log: (line) => t.diagnostic(line),
    }, rig);
    for (const line of formatCrashLoopReport(report)) t.diagnostic(line);
    assert.deepEqual(report.violations, []);
    assert.equal(report.peer.cycles, PEER_CYCLES);
    assert.ok(report.peer.killsDuringCatchUp >= 1 && report.peer.killsLive >= 1,
      `kills during catch-up (${report.peer.killsDuringCatchUp}) and live (${report.peer.killsLive})`);
    assert.equal(report.orderer.cycles, ORDERER_CYCLES);
    assert.ok(report.orderer.accepted > 0 && report.orderer.blocksCut > 0,
      `the orderer loop ordered something: ${report.orderer.accepted} SUCCESS, ${report.orderer.blocksCut} blocks`);
    assert.equal(report.orderer.finalHeight, report.peer.finalHeight + report.orderer.blocksCut);
  });
