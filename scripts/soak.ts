// `npm run soak`: a gossip fleet of real board processes under steady load for --minutes, with seeded
// chaos (SIGKILL and SIGTERM of random boards and leaders, a partition when root), its invariants checked
// throughout and at the end (test/helpers/soak.ts). Prints a summary; exits 1 on a violated invariant.
//
//   npm run soak -- --minutes 3 --seed 7 --boards 6 --orgs 2 --tx-per-sec 20 [--no-partition]
import { parseArgs } from 'node:util';
import { SOAK_DEFAULTS, formatSoakReport, runSoak } from '../test/helpers/soak.js';
import { TestRig } from '../test/helpers/processes.js';

const DEFAULT_MINUTES = 10;
const MS_PER_MINUTE = 60_000;

function positive(name: string, raw: string | undefined, fallback: number, integer = true): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    process.stderr.write(`soak: --${name} must be a positive ${integer ? 'whole ' : ''}number, got '${raw}'\n`);
    process.exit(2);
  }
  return n;
}

const { values } = parseArgs({ options: {
  minutes: { type: 'string' }, seed: { type: 'string' }, boards: { type: 'string' }, orgs: { type: 'string' },
  'tx-per-sec': { type: 'string' }, 'no-partition': { type: 'boolean' },
} });
// No --seed: one from the clock, printed, so that a failing run can be repeated.
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000;
if (!Number.isSafeInteger(seed) || seed < 0) {
  process.stderr.write(`soak: --seed must be a whole number, got '${values.seed}'\n`);
  process.exit(2);
}
const minutes = positive('minutes', values.minutes, DEFAULT_MINUTES, false);
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
  boards: positive('boards', values.boards, SOAK_DEFAULTS.boards),
  orgs: positive('orgs', values.orgs, SOAK_DEFAULTS.orgs),
  txPerSec: positive('tx-per-sec', values['tx-per-sec'], SOAK_DEFAULTS.txPerSec, false),
  partition: values['no-partition'] === true ? false : 'auto',
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
