#!/usr/bin/env node
// The `edgepeer` command. Exit codes: 0 success, 1 the command failed, 2 the command line was wrong
// (unknown command or option, missing or invalid argument), so scripts can tell the two apart.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LOG_LEVEL_ENV, resolveLogLevel } from '../observability/logger.js';
import { registerBoards } from './commands/boards.js';
import { registerConsole } from './commands/console.js';
import { registerDemo } from './commands/demo.js';
import { registerFabric } from './commands/fabric.js';
import { registerGateway } from './commands/gateway.js';
import { registerHealth } from './commands/health.js';
import { registerInit } from './commands/init.js';
import { registerLedger } from './commands/ledger.js';
import { registerMosquitto } from './commands/mosquitto.js';
import { registerNetwork } from './commands/network.js';
import { registerOrderer } from './commands/orderer.js';
import { registerPeer } from './commands/peer.js';
import { registerSubmit } from './commands/submit.js';

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const DEBUG_ENV = 'EDGEPEER_DEBUG';

function packageVersion(): string {
  // dist/src/cli/main.js -> ../../../package.json, the package root.
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

function parseLogLevel(value: string): string {
  try {
    return resolveLogLevel(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function buildProgram(): Command {
  const program = new Command('edgepeer')
    .description('Fabric-style signed block sync for Raspberry-Pi-class boards')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--log-level <level>', `log level: fatal, error, warn, info, debug, trace, silent (env ${LOG_LEVEL_ENV})`, parseLogLevel)
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (thisCommand) => {
      // Every logger reads the environment, so the flag reaches loggers made deep inside commands.
      const level = thisCommand.opts<{ logLevel?: string }>().logLevel;
      if (level !== undefined) process.env[LOG_LEVEL_ENV] = level;
    });

  // ---- Command registrations: add one register<Name>(program) call per command module here. ----
  registerBoards(program);
  registerConsole(program);
  registerDemo(program);
  registerFabric(program);
  registerGateway(program);
  registerHealth(program);
  registerInit(program);
  registerLedger(program);
  registerMosquitto(program);
  registerNetwork(program);
  registerOrderer(program);
  registerPeer(program);
  registerSubmit(program);
  // ---- End of command registrations. ----

  return program;
}

/** Commands added with addCommand() do not inherit exitOverride, so it is applied to the whole tree. */
function throwInsteadOfExiting(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) throwInsteadOfExiting(sub);
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim() || 'unknown error';
}

function fail(err: unknown): never {
  if (process.env[DEBUG_ENV] === '1' && err instanceof Error && err.stack !== undefined) {
    process.stderr.write(`${err.stack}\n`);
  } else {
    process.stderr.write(`error: ${oneLine(err)}\n`);
  }
  process.exit(EXIT_FAILURE);
}

/** Commander has already printed its message; only the exit code is decided here. */
function exitForCommanderError(err: CommanderError): never {
  if (err.exitCode === 0) process.exit(0);
  // program.error() from a command's action is a runtime failure with the code the command chose.
  if (err.code === 'commander.error') process.exit(err.exitCode);
  process.exit(EXIT_USAGE);
}

async function main(argv: string[]): Promise<void> {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // `edgepeer ledger ... | head` closes the pipe early; that is not a failure.
    if (err.code === 'EPIPE') process.exit(0);
    fail(err);
  });
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);

  const program = buildProgram();
  throwInsteadOfExiting(program);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) exitForCommanderError(err);
    fail(err);
  }
}

await main(process.argv);
