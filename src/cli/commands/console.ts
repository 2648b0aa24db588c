// `edgepeer console`: watch a board over its serial console (live panel, plain lines or hex), or list
// the serial ports of this machine.
import type { Command } from 'commander';
import { consoleDefaults } from '../../console/consoleDefaults.js';
import { Monitor, type MonitorMode } from '../../console/monitor.js';
import { formatPortList, listPorts } from '../../console/portList.js';
import { colourWanted } from '../../observability/terminal.js';
import { parsePortSpec } from '../../transport/serial/serialEndpoint.js';
import { withDeadline } from '../deadline.js';
import { untilStopSignal, wholeNumber } from '../options.js';
import { EXIT_USAGE } from './init.js';

/** The port must open within this long the first time (a board plugged in meanwhile still counts). */
export const defaultConsoleOpenTimeoutMs = 10_000;

interface ConsoleCliOptions {
  openTimeoutMs: number;
  baud?: number;
  plain?: boolean;
  hex?: boolean;
  log?: string;
  timestamps: boolean;
  list?: boolean;
  json?: boolean;
}

export function registerConsole(program: Command): void {
  const cmd = program.command('console');
  cmd
    .description("watch a board's serial console: a live status panel decoded from its reports, plus the raw log")
    .argument('[port]', 'serial device of the board\'s console: PATH or PATH@BAUD (a PTY in emulation)')
    .option('--baud <rate>', `line speed (default ${consoleDefaults.baudRate}, or the @BAUD of the port)`, wholeNumber)
    .option('--plain', 'timestamped lines instead of the panel (the default when stdout is not a terminal)')
    .option('--hex', 'raw bytes as a hex dump')
    .option('--log <file>', 'append every line, with an ISO timestamp, to this file')
    .option('--no-timestamps', 'no time in front of each line')
    .option('--open-timeout-ms <ms>', 'give up when the port has not opened within this long (0: wait for ever; once open, a lost port is reopened without end)', wholeNumber, defaultConsoleOpenTimeoutMs)
    .option('--list', 'list the serial ports of this machine (by-id names where present) and exit')
    .option('--json', 'with --list: one JSON array')
    .addHelpText('after', '\nKeys (when stdin is a terminal): q or Ctrl-] quits, s shows status lines in the log. NO_COLOR turns colour off.\n')
    .action(async (port: string | undefined, o: ConsoleCliOptions) => runConsole(port, o, (msg) =>
      cmd.error(`error: ${msg}`, { exitCode: EXIT_USAGE, code: 'commander.invalidArgument' })));
}

async function runConsole(portArg: string | undefined, o: ConsoleCliOptions, usage: (msg: string) => never): Promise<void> {
  if (o.list) {
    const ports = await listPorts();
    process.stdout.write(o.json ? `${JSON.stringify(ports)}\n` : formatPortList(ports));
    return;
  }
  if (portArg === undefined) usage('give the console port (e.g. /dev/ttyUSB0@115200), or --list');
  if (o.plain && o.hex) usage('--plain and --hex exclude each other');
  let spec;
  try {
    spec = parsePortSpec(portArg, consoleDefaults.baudRate);
    if (o.baud !== undefined) spec.baudRate = parsePortSpec(`${spec.path}@${o.baud}`).baudRate;
  } catch (err) {
    usage((err as Error).message);
  }
  const stdoutTty = process.stdout.isTTY === true;
  const mode: MonitorMode = o.hex ? 'hex' : o.plain || !stdoutTty ? 'plain' : 'panel';
  const monitor = new Monitor({
    port: spec,
    mode,
    timestamps: o.timestamps,
    colour: colourWanted(stdoutTty),
    out: process.stdout,
    input: process.stdin,
    ...(o.log !== undefined && { logFile: o.log }),
  });
  monitor.start();
  const stopSignal = untilStopSignal();
  try {
    await Promise.race([withDeadline(monitor.opened, o.openTimeoutMs, () =>
      `console port ${spec.path} did not open within ${o.openTimeoutMs} ms${monitor.lastError !== null ? ` (${monitor.lastError})` : ''}`), monitor.quitRequested, stopSignal]);
  } catch (err) {
    await monitor.stop();
    throw err;
  }
  await Promise.race([monitor.quitRequested, stopSignal]);
  await monitor.stop();
}
