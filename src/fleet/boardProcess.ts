// One emulated board: an `edgepeer peer` child process. Its JSON status lines (stdout) are read back,
// its logs (stderr) go to a file, and its end is told apart: asked to stop, or died.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { StatusReport } from '../observability/statusReport.js';
import { parseStatusJson } from './boardStatus.js';
import { BOARD_STATUS_INTERVAL_MS, BOARD_STOP_TIMEOUT_MS } from './timings.js';

export interface BoardSpec {
  id: string;
  org: string;
  /** Where the board keeps its ledger. */
  dataDir: string;
  /** Receives the board's stderr (its JSON logs), appended. */
  logFile: string;
  /** The board's end of its serial console (a PTY), if it has one. */
  consolePath?: string;
}

export interface BoardLaunch {
  /** The compiled `edgepeer` command (dist/src/cli/main.js). */
  cliPath: string;
  networkDir: string;
  brokerUrl: string;
  statusIntervalMs?: number;
  /** Node executable; default the one running this process. */
  nodePath?: string;
}

/**
 * starting: spawned, no status yet · running: reporting · stopping: asked to stop ·
 * stopped: ended after being asked · dead: ended without being asked (or never started).
 */
export type BoardProcessState = 'starting' | 'running' | 'stopping' | 'stopped' | 'dead';

export interface BoardProcessEvents {
  status: [report: StatusReport];
  /** The process has ended and its output is read; `expected` is false for a board that died. */
  ended: [code: number | null, signal: NodeJS.Signals | null, expected: boolean];
}

export class BoardProcess extends EventEmitter<BoardProcessEvents> {
  readonly pid: number | null;
  private stateValue: BoardProcessState = 'starting';
  private lastReport: StatusReport | null = null;
  private lastReportMs: number | null = null;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: string | null = null;
  private readonly ended: Promise<void>;
  private readonly child: ChildProcess;

  constructor(readonly spec: BoardSpec, launch: BoardLaunch) {
    super();
    const args = [
      launch.cliPath, 'peer',
      '--network', launch.networkDir,
      '--board', spec.id,
      '--data', spec.dataDir,
      '--mqtt', launch.brokerUrl,
      '--status-json',
      '--status-interval-ms', String(launch.statusIntervalMs ?? BOARD_STATUS_INTERVAL_MS),
      ...(spec.consolePath !== undefined ? ['--console', spec.consolePath] : []),
    ];
    const logFd = openSync(spec.logFile, 'a');
    try {
      // Its own process group: Ctrl-C at a terminal reaches only the demo, which then stops the boards in
      // order (after the load, before the orderer). A board whose demo is gone without stopping it ends by
      // itself: its next status line fails with EPIPE, on which `edgepeer` exits.
      this.child = spawn(launch.nodePath ?? process.execPath, args, { stdio: ['ignore', 'pipe', logFd], detached: true });
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(logFd);
    }
    this.pid = this.child.pid ?? null;
    this.ended = new Promise((resolve) => {
      this.child.once('error', (err) => {
        // Spawning failed: there will be no 'close' after this one.
        if (this.pid === null) {
          this.spawnError = err.message;
          this.finish(null, null);
          resolve();
        }
      });
      // 'close' rather than 'exit': the last status lines (the final height) have been read by then.
      this.child.once('close', (code, signal) => {
        this.finish(code, signal);
        resolve();
      });
    });
    if (this.child.stdout) {
      createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    }
  }

  get state(): BoardProcessState {
    return this.stateValue;
  }

  /** The latest status the board reported, if any. */
  get status(): StatusReport | null {
    return this.lastReport;
  }

  /** When (Date.now()) the latest status arrived. */
  get statusAtMs(): number | null {
    return this.lastReportMs;
  }

  get exitCode(): number | null {
    return this.exit?.code ?? null;
  }

  get exitSignal(): NodeJS.Signals | null {
    return this.exit?.signal ?? null;
  }

  /** Why the process could not be started, if it could not. */
  get startError(): string | null {
    return this.spawnError;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Resolves when the process has ended (whether asked to or not). */
  whenEnded(): Promise<void> {
    return this.ended;
  }

  /**
   * Asks the board to stop (SIGTERM: it commits what it holds and closes its ledger) and waits for it;
   * kills it (SIGKILL) if it has not ended within `timeoutMs`. Resolves with whether it had to be killed.
   */
  async stop(timeoutMs: number = BOARD_STOP_TIMEOUT_MS): Promise<boolean> {
    if (!this.alive) return false;
    this.markStopping();
    this.signal('SIGTERM');
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.ended.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return false;
    this.signal('SIGKILL');
    await this.ended;
    return true;
  }

  /** Ends the process at once (SIGKILL), for a second Ctrl-C. */
  kill(): void {
    if (!this.alive) return;
    this.markStopping();
    this.signal('SIGKILL');
  }

  /** From now on an exit is expected (the demo is stopping), even if it happens before stop() is called. */
  markStopping(): void {
    if (this.alive) this.stateValue = 'stopping';
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.child.kill(sig);
    } catch {
      // Already gone: 'close' reports it.
    }
  }

  private onLine(line: string): void {
    const report = parseStatusJson(line);
    if (report === null) return;
    this.lastReport = report;
    this.lastReportMs = Date.now();
    if (this.stateValue === 'starting') this.stateValue = 'running';
    this.emit('status', report);
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exit !== null) return;
    this.exit = { code, signal };
    const expected = this.stateValue === 'stopping';
    this.stateValue = expected ? 'stopped' : 'dead';
    this.emit('ended', code, signal, expected);
  }
}
