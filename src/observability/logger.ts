// Structured logs for every role. Humans at a terminal get pretty lines; everything else (systemd's
// journal, a file, a parent process reading a child's stderr) gets one JSON object per line.
//
// Prettifying runs in this thread and writes with writeSync: pino's worker-thread transports keep a
// process alive after its work is done and lose the last lines when a child process exits, which is
// exactly when the last lines matter.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import { pino } from 'pino';
import type PinoPretty from 'pino-pretty';
import { colourWanted } from './terminal.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_LEVEL_ENV = 'EDGEPEER_LOG_LEVEL';
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';
const STDERR_FD = 2;

export interface LogFn {
  (msg: string): void;
  (fields: Record<string, unknown>, msg?: string): void;
}

/** The logging surface the rest of the code uses, so that nothing else imports pino. */
export interface Logger {
  level: string;
  fatal: LogFn;
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: string): boolean;
}

export interface LoggerOptions {
  /** Shown on every line (`orderer`, `peer:board-3`, ...). */
  name: string;
  /** Defaults to $EDGEPEER_LOG_LEVEL, then 'info'. */
  level?: string;
  /** Force pretty (true) or JSON (false); by default pretty exactly when the destination is a TTY. */
  pretty?: boolean;
  /** A file descriptor or a stream; stderr by default, because stdout carries command output. */
  destination?: NodeJS.WritableStream | number;
  /** A second sink that gets each JSON record at or above `level` (a board's serial console). */
  mirror?: { level: LogLevel; write(jsonLine: string): void };
}

function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/** The level named by the option, then the environment, then the default; an unknown name is an error. */
export function resolveLogLevel(level?: string, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const fromEnv = env[LOG_LEVEL_ENV];
  const chosen = level ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_LOG_LEVEL);
  const normalised = chosen.toLowerCase();
  if (!isLogLevel(normalised)) {
    const source = level !== undefined ? 'log level' : LOG_LEVEL_ENV;
    throw new Error(`${source}: unknown level '${chosen}' (expected one of ${LOG_LEVELS.join(', ')})`);
  }
  return normalised;
}

function destinationIsTty(dest: NodeJS.WritableStream | number): boolean {
  if (typeof dest === 'number') return isatty(dest);
  return (dest as { isTTY?: boolean }).isTTY === true;
}

/** pino accepts any object with write(line); this one writes synchronously to a descriptor or stream. */
function lineSink(dest: NodeJS.WritableStream | number, transform: (line: string) => string): { write(line: string): void } {
  if (typeof dest === 'number') return { write: (line) => { writeSync(dest, transform(line)); } };
  return { write: (line) => { dest.write(transform(line)); } };
}

/**
 * pino-pretty (and its colour and date libraries) loaded only for a logger that prettifies: a board under
 * systemd, or a child process whose stderr a parent reads, never pays for it. CommonJS, so require() loads
 * it synchronously and createLogger stays synchronous.
 */
function loadPinoPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = resolveLogLevel(opts.level);
  const dest = opts.destination ?? STDERR_FD;
  const pretty = opts.pretty ?? destinationIsTty(dest);
  let main: pino.DestinationStream;
  if (!pretty) {
    // pino.destination with sync: true is SonicBoom writing with writeSync: nothing buffered at exit.
    main = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : (dest as pino.DestinationStream);
  } else {
    const prettify = loadPinoPretty().prettyFactory({
      colorize: colourWanted(destinationIsTty(dest), process.env),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    main = lineSink(dest, prettify);
  }
  if (opts.mirror === undefined) return pino({ name: opts.name, level }, main);
  const mirror = opts.mirror;
  return pino({ name: opts.name, level }, pino.multistream([
    { level: 'trace', stream: main },
    { level: mirror.level, stream: { write: (line: string) => mirror.write(line) } },
  ]));
}

/** A logger that drops everything (tests and library callers that were given none). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
