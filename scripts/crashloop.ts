// `npm run crashloop`: crash safety measured with real processes (test/helpers/crashLoop.ts). A peer
// SIGKILLed --cycles times at seeded random moments, during catch-up of a prepared backlog and while a
// client extends the chain, then checked (no lost commit, no gap, no duplicate, `ledger verify --network`
// clean, its ledger equal to the orderer's); then the orderer SIGKILLed --orderer-cycles times while the
// client submits (every SUCCESS in a block, no transaction twice, no conflicting block for the peer that
// follows). Prints a summary; exits 1 on any violation.
//
//   npm run crashloop -- --cycles 1000 --orderer-cycles 200 --seed 7 [--max-message-count 1]
import { Command } from 'commander';
import { atLeast, decimalNumber, wholeNumber } from '../src/cli/options.js';
import { CRASH_LOOP_DEFAULTS, formatCrashLoopReport, runCrashLoop } from '../test/helpers/crashLoop.js';
import { TestRig } from '../test/helpers/processes.js';

/** Floor of --tx-per-sec: 0 would submit nothing, while any light load is still allowed. */
const MIN_TX_PER_SEC = 0.001;
/** The seed drawn from the clock when none is given stays below this (short to type back in). */
const CLOCK_SEED_MODULUS = 1_000_000;

const values = new Command('crashloop')
  .description('SIGKILL a peer and then the orderer at seeded random moments, restart them, check nothing a crash may not break')
  .option('--cycles <n>', 'peer lives, each ended by SIGKILL', wholeNumber, CRASH_LOOP_DEFAULTS.peerCycles)
  .option('--orderer-cycles <n>', 'orderer lives, each ended by SIGKILL', wholeNumber, CRASH_LOOP_DEFAULTS.ordererCycles)
  .option('--seed <n>', 'seed of the kill moments (default: one from the clock, printed, to repeat a failing run)', wholeNumber)
  .option('--prepared-blocks <n>', "blocks in the orderer's ledger before the first peer start (the catch-up backlog)", atLeast(1, wholeNumber), CRASH_LOOP_DEFAULTS.preparedBlocks)
  .option('--backlog-blocks <n>', 'blocks of each later backlog, added whenever the live kills have caught up with the catch-up kills (0: none)', wholeNumber, CRASH_LOOP_DEFAULTS.backlogBlocks)
  .option('--tx-per-sec <n>', 'transactions the client submits per second (fraction allowed)', atLeast(MIN_TX_PER_SEC, decimalNumber), CRASH_LOOP_DEFAULTS.txPerSec)
  .option('--max-message-count <n>', "the channel's batch size", atLeast(1, wholeNumber), CRASH_LOOP_DEFAULTS.maxMessageCount)
  .option('--batch-timeout-ms <ms>', "the channel's batch timeout", atLeast(1, wholeNumber), CRASH_LOOP_DEFAULTS.batchTimeoutMs)
  .parse().opts<{
    cycles: number; ordererCycles: number; seed?: number; preparedBlocks: number; backlogBlocks: number; txPerSec: number; maxMessageCount: number; batchTimeoutMs: number;
  }>();
const seed = values.seed ?? Date.now() % CLOCK_SEED_MODULUS;
const say = (line: string): void => { process.stderr.write(`crashloop: ${line}\n`); };
say(`seed ${seed}, ${values.cycles} peer cycles, ${values.ordererCycles} orderer cycles`);

// Everything the run starts is on this rig: its processes (stopped by PID), the temp dirs, the client's link.
const rig = new TestRig();
let interrupted = false;
const closeRig = (): Promise<void> => rig.close().catch((err: unknown) => {
  process.stderr.write(`crashloop: cleanup: ${(err as Error).message}\n`);
});

// Ctrl-C, and `kill PID` (how a run is stopped by its PID): the same clean-up, the conventional status.
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`${signal}: stopping the processes, removing the temp dirs`);
    void closeRig().finally(() => process.exit(status));
  });
}

runCrashLoop({
  ...CRASH_LOOP_DEFAULTS,
  seed,
  peerCycles: values.cycles,
  ordererCycles: values.ordererCycles,
  preparedBlocks: values.preparedBlocks,
  backlogBlocks: values.backlogBlocks,
  txPerSec: values.txPerSec,
  maxMessageCount: values.maxMessageCount,
  batchTimeoutMs: values.batchTimeoutMs,
  log: say,
}, rig).then(async (r) => {
  if (interrupted) return;
  await closeRig();
  process.stdout.write(`${formatCrashLoopReport(r).join('\n')}\n`);
  // Sockets of stopped children may hold the loop a moment; the run is over.
  process.exit(r.ok ? 0 : 1);
}, async (err: unknown) => {
  if (interrupted) return;
  process.stderr.write(`crashloop: ${(err as Error).stack ?? String(err)}\n`);
  await closeRig();
  process.exit(1);
});
