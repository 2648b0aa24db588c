// `edgepeer demo` (`npm start`): the orderer, N board processes and a load generator on this machine,
// with a live view; Ctrl-C stops everything and prints where the data is.
import type { Command } from 'commander';
import { NetworkOptionsError } from '../../network/createNetwork.js';
import { DemoOptionsError } from '../../fleet/demoNetwork.js';
import { runDemo } from '../../fleet/demo.js';
import { DEMO_EXIT_GRACE_MS, demoDefaults } from '../../fleet/timings.js';
import { portNumber, wholeNumber } from '../options.js';

/** Exit code for a command line that cannot be carried out as written (as `edgepeer init` uses). */
const EXIT_USAGE = 2;
/** Not 'commander.error', which main.ts reads as a runtime failure that keeps the exit code it was given. */
const USAGE_ERROR_CODE = 'commander.invalidArgument';
/** Exit code after a second Ctrl-C, which kills the boards instead of waiting for them. */
const EXIT_FORCED = 130;
/**
 * A second stop signal sooner than this after the first is the same request delivered twice (a terminal's
 * Ctrl-C and a wrapper such as npm forwarding it), not a user asking to force the stop.
 */
const FORCE_SIGNAL_MIN_GAP_MS = 500;

interface DemoCliOptions {
  boards: number;
  /** Absent: demoDefaults.orgs, or fewer when there are fewer boards. */
  orgs?: number;
  /** false with --no-gossip. */
  gossip: boolean;
  txPerSec: number;
  txSize: number;
  durationS: number;
  dir?: string;
  mqttPort: number;
  plain?: boolean;
  fabric?: string;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a network on this machine: orderer + broker + load generator here, each board a child process, live view')
    .option('--boards <n>', 'board processes to run', wholeNumber, demoDefaults.boards)
    .option('--orgs <n>', `peer organisations the boards belong to (default: ${demoDefaults.orgs}, or --boards when fewer)`, wholeNumber)
    .option('--no-gossip', 'every board pulls from the orderer itself (default: boards gossip, one leader per org pulls)')
    .option('--tx-per-sec <n>', 'transactions submitted per second (0: none)', wholeNumber, demoDefaults.txPerSec)
    .option('--tx-size <bytes>', 'random payload bytes per transaction', wholeNumber, demoDefaults.txSizeBytes)
    .option('--duration-s <s>', 'stop after this many seconds (0: until Ctrl-C or SIGTERM)', wholeNumber, demoDefaults.durationS)
    .option('--dir <dir>', 'folder for the network, ledgers and logs (default: a new temp folder; an earlier demo folder is reused)')
    .option('--mqtt-port <port>', 'port of the embedded MQTT broker (0: a free port)', portNumber, demoDefaults.mqttPort)
    .option('--fabric <path>', 'the boards follow a Hyperledger Fabric channel from this Fabric block file or peer chains/ folder (served by a gateway in this process; no transactions submitted)')
    .option('--plain', 'key=value status lines once a second instead of the live view (the default when stdout is not a terminal)')
    .action(async (o: DemoCliOptions, cmd: Command) => {
      const stop = new AbortController();
      const force = new AbortController();
      let firstSignalMs = 0;
      const onSignal = (): void => {
        if (!stop.signal.aborted) {
          firstSignalMs = Date.now();
          stop.abort();
        } else if (!force.signal.aborted && Date.now() - firstSignalMs >= FORCE_SIGNAL_MIN_GAP_MS) {
          process.stderr.write('second stop signal: killing the boards\n');
          force.abort();
          process.exitCode = EXIT_FORCED;
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        await runDemo({
          boards: o.boards, orgs: o.orgs ?? Math.min(demoDefaults.orgs, o.boards), gossip: o.gossip, txPerSec: o.txPerSec, txSizeBytes: o.txSize, durationS: o.durationS,
          ...(o.fabric !== undefined ? { fabric: o.fabric } : {}),
          ...(o.dir !== undefined ? { dir: o.dir } : {}), mqttPort: o.mqttPort, plain: o.plain === true, out: process.stdout,
        }, { stop: stop.signal, force: force.signal });
      } catch (err) {
        if (err instanceof DemoOptionsError || err instanceof NetworkOptionsError) {
          cmd.error(`error: ${err.message}`, { exitCode: EXIT_USAGE, code: USAGE_ERROR_CODE });
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      // Everything the demo started is stopped; if some library still holds a handle, do not hang the terminal.
      setTimeout(() => process.exit(), DEMO_EXIT_GRACE_MS).unref();
    });
}
