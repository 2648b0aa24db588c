// A small harness for integration tests that run the real `edgepeer` CLI as child processes: spawn,
// read stdout line by line (await a line, failing with what was awaited and what was seen), keep stderr
// for diagnostics, stop by PID. Every process spawned here is in a registry, so a test file's `after()`
// hook can kill whatever a failed test left running; a TestRig also removes the temp dirs it made.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import type { LedgerInfo, LedgerVerifyResult } from '../../src/cli/commands/ledger.js';
import { LOG_LEVEL_ENV } from '../../src/observability/logger.js';
import { parseStatusLine } from '../../src/observability/statusReport.js';
import type { BrokerCase } from './brokers.js';
import { freePort } from './mosquitto.js';

export { freePort };

/** The compiled CLI: this file is dist/test/helpers/processes.js. */
export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Children log at this level unless told otherwise: warnings and errors stay visible in failures. */
export const DEFAULT_CHILD_LOG_LEVEL = 'warn';
export const LINE_WAIT_TIMEOUT_MS = 20_000;
/** A process asked to stop that is still running after this long is killed with SIGKILL. */
export const EXIT_WAIT_TIMEOUT_MS = 5_000;
/** A one-shot command (init, ledger, submit) that runs longer than this fails the test. */
export const RUN_TIMEOUT_MS = 30_000;
/** Lines of stdout and stderr quoted in a failure message. */
export const RECENT_LINES_SHOWN = 12;
/** Stderr kept per process for diagnostics (the tail, in characters). */
const STDERR_KEPT_CHARS = 64 * 1024;
const METRICS_POLL_INTERVAL_MS = 50;

export interface SpawnCliOptions {
  /** Names the process in failure messages; default the command and its first flag values. */
  name?: string;
  /** EDGEPEER_LOG_LEVEL of the child; default DEFAULT_CHILD_LOG_LEVEL. */
  logLevel?: string;
  env?: Record<string, string>;
  cwd?: string;
  /**
   * Runs the CLI through this command, which must exec node in place so that the PID stays node's
   * (e.g. `ip netns exec NAME`: the board then lives in that network namespace).
   */
  prefix?: readonly string[];
  /** Every stderr line, whole, as it arrives (the kept stderr is only a tail; a log a test reads needs all). */
  onStderrLine?: (line: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const registry = new Set<CliProcess>();

function tail(lines: readonly string[], n = RECENT_LINES_SHOWN): string {
  return lines.slice(-n).map((l) => `    ${l}`).join('\n') || '    (none)';
}

function exitText(e: ExitInfo): string {
  return e.signal !== null ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** One running `edgepeer …` child process. */
export class CliProcess {
  readonly name: string;
  readonly pid: number;
  readonly args: readonly string[];
  /** Every stdout line so far, in order. */
  readonly lines: string[] = [];
  /** Resolves once the process has exited and its output is read to the end. */
  readonly exited: Promise<ExitInfo>;
  private stderrText = '';
  private exitValue: ExitInfo | null = null;
  private readonly lineListeners = new Set<(line: string) => void>();
  private readonly exitListeners = new Set<(e: ExitInfo) => void>();
  private readonly child: ChildProcess;

  constructor(args: readonly string[], opts: SpawnCliOptions = {}) {
    this.args = args;
    this.name = opts.name ?? args.slice(0, 1).join(' ');
    const env: NodeJS.ProcessEnv = { ...process.env, [LOG_LEVEL_ENV]: opts.logLevel ?? DEFAULT_CHILD_LOG_LEVEL, ...opts.env };
    // The CLI is not a test file: it must not think it runs under this runner.
    delete env['NODE_TEST_CONTEXT'];
    const [command, ...commandArgs] = [...(opts.prefix ?? []), process.execPath, CLI_PATH, ...args] as [string, ...string[]];
    this.child = spawn(command, commandArgs, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`${this.name}: could not spawn ${process.execPath}`);
    this.pid = this.child.pid;
    registry.add(this);
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const l of this.lineListeners) l(line);
    });
    const onStderrLine = opts.onStderrLine;
    if (onStderrLine !== undefined) createInterface({ input: this.child.stderr! }).on('line', onStderrLine);
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (chunk: string) => {
      this.stderrText += chunk;
      if (this.stderrText.length > STDERR_KEPT_CHARS) this.stderrText = this.stderrText.slice(-STDERR_KEPT_CHARS);
    });
    // 'close' comes after 'exit' and after stdout and stderr have ended, so no line is missed.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        const e = { code, signal };
        this.exitValue = e;
        registry.delete(this);
        for (const l of this.exitListeners) l(e);
        resolve(e);
      });
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  get stderrLines(): string[] {
    return this.stderrText.split('\n').filter((l) => l !== '');
  }

  /** Null while running. */
  get exitInfo(): ExitInfo | null {
    return this.exitValue;
  }

  get running(): boolean {
    return this.exitValue === null;
  }

  /** Index of the next stdout line: pass as `since` to wait only for lines printed after now. */
  get lineCount(): number {
    return this.lines.length;
  }

  /** Recent stdout and stderr, for failure messages. */
  describe(): string {
    const state = this.exitValue === null ? `running, pid ${this.pid}` : exitText(this.exitValue);
    return `${this.name} (${state})\n  last stdout lines:\n${tail(this.lines)}\n  last stderr lines:\n${tail(this.stderrLines)}`;
  }

  /**
   * The first stdout line from index `since` (default 0: any line so far) that satisfies `predicate`.
   * Fails after `timeoutMs`, or when the process exits first, naming `what` and the last lines seen.
   */
  waitForLine(predicate: (line: string) => boolean, what: string, opts: { since?: number; timeoutMs?: number } = {}): Promise<string> {
    for (let i = opts.since ?? 0; i < this.lines.length; i++) {
      if (predicate(this.lines[i]!)) return Promise.resolve(this.lines[i]!);
    }
    const timeoutMs = opts.timeoutMs ?? LINE_WAIT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
        this.exitListeners.delete(onExit);
      };
      const onLine = (line: string): void => {
        if (!predicate(line)) return;
        done();
        resolve(line);
      };
      const onExit = (e: ExitInfo): void => {
        done();
        reject(new Error(`${this.name} ended (${exitText(e)}) while awaiting ${what}\n${this.describe()}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms awaiting ${what}\n${this.describe()}`));
      }, timeoutMs);
      this.lineListeners.add(onLine);
      this.exitListeners.add(onExit);
      if (this.exitValue !== null) onExit(this.exitValue);
    });
  }

  /** Sends `signal` by PID and waits for the exit; SIGKILL follows if it is still running after EXIT_WAIT_TIMEOUT_MS. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<ExitInfo> {
    if (this.exitValue !== null) return this.exitValue;
    this.signal(signal);
    if (signal === 'SIGKILL') return this.exited;
    const timer = setTimeout(() => {
      if (this.exitValue === null) this.signal('SIGKILL');
    }, EXIT_WAIT_TIMEOUT_MS);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch (err) {
      // Exited, its 'close' not yet delivered: nothing left to signal.
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  /** Stops gracefully (SIGTERM) and fails unless the process exits with code 0. */
  async stop(): Promise<void> {
    const e = await this.kill('SIGTERM');
    if (e.code !== 0) throw new Error(`${this.name} did not stop cleanly (${exitText(e)})\n${this.describe()}`);
  }

  /** Fails unless the process ends by itself with code 0 within `timeoutMs`. */
  async succeeded(timeoutMs = RUN_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
    const r = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (r === 'timeout') {
      await this.kill('SIGKILL');
      throw new Error(`${this.name} still running after ${timeoutMs} ms\n${this.describe()}`);
    }
    if (r.code !== 0) throw new Error(`${this.name} failed (${exitText(r)})\n${this.describe()}`);
  }
}

export function spawnCli(args: readonly string[], opts: SpawnCliOptions = {}): CliProcess {
  return new CliProcess(args, opts);
}

/** Runs a one-shot command to its end; fails unless it exits with code 0. Returns its stdout lines. */
export async function runCli(args: readonly string[], opts: SpawnCliOptions & { timeoutMs?: number } = {}): Promise<string[]> {
  const p = spawnCli(args, opts);
  await p.succeeded(opts.timeoutMs);
  return p.lines;
}

/** Runs a one-shot command whose last stdout line is one JSON object (the `--json` commands). */
export async function runCliJson<T>(args: readonly string[], opts: SpawnCliOptions & { timeoutMs?: number } = {}): Promise<T> {
  const lines = await runCli(args, opts);
  const last = lines.at(-1);
  if (last === undefined) throw new Error(`edgepeer ${args.join(' ')}: no output`);
  return JSON.parse(last) as T;
}

/** Processes spawned here that are still running. */
export function runningProcesses(): CliProcess[] {
  return [...registry];
}

/** SIGKILLs everything still running and waits for the exits (for an `after()` hook). */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...registry].map((p) => p.kill('SIGKILL')));
}

// ---- Network, ledgers, status lines, metrics ----

export interface InitOptions {
  channel?: string;
  orgs?: number;
  boardsPerOrg?: number;
  maxMessageCount?: number;
  batchTimeoutMs?: number;
  /** `--gossip --gossip-base-port`: a gossip section in each board.json, listening on 127.0.0.1 from this port. */
  gossipBasePort?: number;
}

/** `edgepeer init --json` into `dir`. */
export function initNetwork(dir: string, o: InitOptions = {}): Promise<NetworkSummary> {
  const args = [
    'init', '--dir', dir, '--channel', o.channel ?? 'testchannel',
    '--orgs', String(o.orgs ?? 1), '--boards-per-org', String(o.boardsPerOrg ?? 3), '--json',
  ];
  if (o.maxMessageCount !== undefined) args.push('--max-message-count', String(o.maxMessageCount));
  if (o.batchTimeoutMs !== undefined) args.push('--batch-timeout-ms', String(o.batchTimeoutMs));
  if (o.gossipBasePort !== undefined) args.push('--gossip', '--gossip-base-port', String(o.gossipBasePort));
  return runCliJson<NetworkSummary>(args, { name: 'init' });
}

export function ledgerInfo(dataDir: string): Promise<LedgerInfo> {
  return runCliJson<LedgerInfo>(['ledger', 'info', '--data', dataDir, '--json'], { name: `ledger info ${dataDir}` });
}

/** `ledger verify --json`; exits 1 on a bad chain, which is reported here as the result, not thrown. */
export async function ledgerVerify(dataDir: string): Promise<LedgerVerifyResult> {
  const p = spawnCli(['ledger', 'verify', '--data', dataDir, '--json'], { name: `ledger verify ${dataDir}` });
  const e = await p.exited;
  const last = p.lines.at(-1);
  if (last === undefined || (e.code !== 0 && e.code !== 1)) throw new Error(`ledger verify failed to run\n${p.describe()}`);
  return JSON.parse(last) as LedgerVerifyResult;
}

export type StatusFields = Record<string, string>;

/** The status lines (parsed) a peer process has printed from line `since`. */
export function statusLines(p: CliProcess, since = 0): StatusFields[] {
  const out: StatusFields[] = [];
  for (let i = since; i < p.lines.length; i++) {
    const s = parseStatusLine(p.lines[i]!);
    if (s !== null) out.push(s);
  }
  return out;
}

export function lastStatus(p: CliProcess): StatusFields | null {
  return statusLines(p).at(-1) ?? null;
}

/** The first status line from `since` that satisfies `predicate`. */
export async function waitForStatus(
  p: CliProcess, predicate: (s: StatusFields) => boolean, what: string, opts: { since?: number; timeoutMs?: number } = {},
): Promise<StatusFields> {
  const line = await p.waitForLine((l) => {
    const s = parseStatusLine(l);
    return s !== null && predicate(s);
  }, `status line with ${what}`, opts);
  return parseStatusLine(line)!;
}

export const heightOf = (s: StatusFields): number => Number(s['height']);

/** One sample value of a Prometheus metric, or undefined when the series is absent. */
export async function readMetric(port: number, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`metrics on port ${port}: HTTP ${res.status}`);
  const text = await res.text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = m[2] ?? '';
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

/** Polls a metric (a process's /metrics is the only view into it) until `predicate` holds. */
export async function waitForMetric(
  port: number, name: string, predicate: (v: number | undefined) => boolean, what: string,
  opts: { labels?: Record<string, string>; timeoutMs?: number } = {},
): Promise<number | undefined> {
  const deadline = Date.now() + (opts.timeoutMs ?? LINE_WAIT_TIMEOUT_MS);
  let v: number | undefined;
  for (;;) {
    v = await readMetric(port, name, opts.labels);
    if (predicate(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out awaiting ${name} ${what}; last value ${v}`);
    await new Promise((r) => setTimeout(r, METRICS_POLL_INTERVAL_MS));
  }
}

// ---- Orderer and broker ----

export interface OrdererBroker {
  /** MQTT URL peers and clients connect to. */
  url: string;
  /** Flags that point the orderer at this broker (embedded on a fixed port, or an external one). */
  ordererArgs: string[];
  stop(): Promise<void>;
}

/**
 * The broker for a broker case, as the orderer process sees it: for 'aedes' the orderer's own embedded
 * broker on a free port (it lives and dies with the orderer), for 'mosquitto' a Mosquitto the test owns.
 */
export async function brokerForOrderer(c: BrokerCase): Promise<OrdererBroker | { skip: string }> {
  if (c.name === 'aedes') {
    const port = await freePort();
    return { url: `mqtt://127.0.0.1:${port}`, ordererArgs: ['--mqtt-port', String(port)], stop: async () => {} };
  }
  const b = await c.start();
  if ('skip' in b) return b;
  return { url: b.url, ordererArgs: ['--mqtt', b.url], stop: () => b.stop() };
}

export interface OrdererReady {
  ready: true;
  mqtt: string;
  metricsPort: number | null;
  pid: number;
}

/** Starts `edgepeer orderer … --ready-json` and waits until it serves. */
export async function startOrderer(args: readonly string[], opts: SpawnCliOptions = {}): Promise<{ proc: CliProcess; ready: OrdererReady }> {
  const proc = spawnCli(['orderer', ...args, '--ready-json'], { name: 'orderer', ...opts });
  const line = await proc.waitForLine((l) => l.startsWith('{') && l.includes('"ready":true'), 'the orderer ready line');
  return { proc, ready: JSON.parse(line) as OrdererReady };
}

// ---- Per-test resources ----

/** What one test starts besides processes (temp dirs, brokers): released by close(), newest first. */
export class TestRig {
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly procs: CliProcess[] = [];

  spawn(args: readonly string[], opts: SpawnCliOptions = {}): CliProcess {
    const p = spawnCli(args, opts);
    this.procs.push(p);
    return p;
  }

  async orderer(args: readonly string[], opts: SpawnCliOptions = {}): Promise<{ proc: CliProcess; ready: OrdererReady }> {
    const r = await startOrderer(args, opts);
    this.procs.push(r.proc);
    return r;
  }

  tempDir(prefix = 'edgepeer-it-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.defer(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /**
   * Kills this test's processes that still run, then runs the deferred cleanups, newest first. Every
   * cleanup runs even when an earlier one throws (a broker that fails to stop must not leave the temp
   * dirs behind); the failures are rethrown together at the end. Running it twice releases nothing twice.
   */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    const killed = await Promise.allSettled(this.procs.splice(0).map((p) => p.kill('SIGKILL')));
    for (const r of killed) if (r.status === 'rejected') errors.push(r.reason);
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${errors.length} test cleanups failed`);
  }
}
