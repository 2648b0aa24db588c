// `npm run soak`: a gossip fleet of real board processes under steady load for --minutes, with seeded
// chaos (SIGKILL and SIGTERM of random boards and leaders, a partition when root), its invariants checked
// throughout and at the end (test/helpers/soak.ts). Prints a summary; exits 1 on a violated invariant.
//
//   npm run soak -- --minutes 3 --seed 7 --boards 6 --orgs 2 --tx-per-sec 20 [--no-partition]
import { Command } from 'commander';
import { atLeast, decimalNumber, wholeNumber } from '../src/cli/options.js';
import { SOAK_DEFAULTS, formatSoakReport, runSoak } from '../test/helpers/soak.js';
import { TestRig } from '../test/helpers/processes.js';

const DEFAULT_MINUTES = 10;
const MS_PER_MINUTE = 60_000;
/** Floor of --minutes and --tx-per-sec: 0 of either soaks nothing, while any short or light run is still allowed. */
const MIN_FRACTIONAL_SETTING = 0.001;

const values = new Command('soak')
  .description('a gossip fleet of real board processes under steady load and seeded chaos, its invariants checked')
  .option('--minutes <n>', 'how long the load and the chaos last (fraction allowed)', atLeast(MIN_FRACTIONAL_SETTING, decimalNumber), DEFAULT_MINUTES)
  .option('--seed <n>', 'seed of the chaos (default: one from the clock, printed, to repeat a failing run)', wholeNumber)
  .option('--boards <n>', 'board processes', atLeast(1, wholeNumber), SOAK_DEFAULTS.boards)
  .option('--orgs <n>', 'peer organisations the boards belong to', atLeast(1, wholeNumber), SOAK_DEFAULTS.orgs)
  .option('--tx-per-sec <n>', 'transactions submitted per second (fraction allowed)', atLeast(MIN_FRACTIONAL_SETTING, decimalNumber), SOAK_DEFAULTS.txPerSec)
  .option('--no-partition', 'no network partition, even when root')
  .parse().opts<{ minutes: number; seed?: number; boards: number; orgs: number; txPerSec: number; partition: boolean }>();
const seed = values.seed ?? Date.now() % 1_000_000;
const { minutes } = values;
const say = (line: string): void => { process.stderr.write(`soak: ${line}\n`); };
say(`seed ${seed}, ${minutes} min`);

// Everything the run starts is on this rig: its processes (stopped by PID), the network namespace and
// its veth pair, the temp dirs, the load generator and its MQTT link.
const rig = new TestRig();
let interrupted = false;
const closeRig = (): Promise<void> => rig.close().catch((err: unknown) => {
  process.stderr.write(`soak: cleanup: ${(err as Error).message}\n`);
});

// Ctrl-C: release all of it before exiting (the run, its processes gone, then fails: that is not reported).
process.once('SIGINT', () => {
  interrupted = true;
  say('interrupted: stopping the fleet, removing the namespace and the temp dirs');
  void closeRig().finally(() => process.exit(130));
});

runSoak({
  durationMs: minutes * MS_PER_MINUTE,
  seed,
  boards: values.boards,
  orgs: values.orgs,
  txPerSec: values.txPerSec,
  partition: values.partition ? 'auto' : false,
  chaosGapMs: SOAK_DEFAULTS.chaosGapMs,
  downMs: SOAK_DEFAULTS.downMs,
  log: say,
}, rig).then(async (r) => {
  if (interrupted) return;
  await closeRig();
  process.stdout.write(`${formatSoakReport(r).join('\n')}\n`);
  // Sockets of stopped children may hold the loop a moment; the run is over.
  process.exit(r.ok ? 0 : 1);
}, async (err: unknown) => {
  if (interrupted) return;
  process.stderr.write(`soak: ${(err as Error).stack ?? String(err)}\n`);
  await closeRig();
  process.exit(1);
});
