// Telling systemd how the service is doing (sd_notify): READY=1 once the board is up, WATCHDOG=1 from the
// event loop while it stays up, STOPPING=1 on the way out. Without NOTIFY_SOCKET (a terminal, the tests,
// the demo) every call is a no-op.
//
// Why `systemd-notify` and not a socket of our own: Node has no unix datagram sockets, and the npm
// packages that add them (sd-notify, unix-dgram) are native addons that would have to be compiled on the
// board; systemd-notify ships with systemd on every Raspberry Pi OS. It runs as a child process, so the
// unit needs NotifyAccess=all; MAINPID= names this process so that systemd keeps watching the right one,
// and systemd-notify (systemd ≥ 246) waits until systemd has read the message before it exits, so the
// message is never dropped for coming from a process that is already gone.
import { spawn } from 'node:child_process';
import type { Logger } from '../observability/logger.js';

/** The environment variables systemd sets for a Type=notify service with WatchdogSec=. */
export const NOTIFY_SOCKET_ENV = 'NOTIFY_SOCKET';
export const WATCHDOG_USEC_ENV = 'WATCHDOG_USEC';
export const WATCHDOG_PID_ENV = 'WATCHDOG_PID';
/** The helper that carries each message to the socket. */
export const SYSTEMD_NOTIFY_COMMAND = 'systemd-notify';
/** Pings this many times per WatchdogSec, as sd_watchdog_enabled(3) recommends (every half period). */
export const WATCHDOG_PINGS_PER_PERIOD = 2;
/** A systemd-notify that has not exited after this long is killed (its barrier waits at most 5 s). */
export const NOTIFY_COMMAND_TIMEOUT_MS = 10_000;

/** One message: variable assignments as sd_notify(3) lists them (READY=1, STATUS=…, WATCHDOG=1 …). */
export type NotifyFields = readonly (readonly [string, string])[];

/** Delivers one message to the service manager; rejects with a reason when it could not. */
export type NotifySend = (fields: NotifyFields) => Promise<void>;

export interface ServiceNotifier {
  /** Whether a service manager is listening (NOTIFY_SOCKET is set). */
  readonly active: boolean;
  /** The watchdog ping period, or null when systemd asked for no watchdog (or for another process's). */
  readonly watchdogIntervalMs: number | null;
  /** READY=1 with a status text, then WATCHDOG=1 every watchdogIntervalMs until stopping() or close(). */
  ready(status: string): Promise<void>;
  /** STOPPING=1; the watchdog pings stop. */
  stopping(status: string): Promise<void>;
  /** Stops the watchdog timer without telling anyone (the process is about to exit). */
  close(): void;
}

/**
 * The watchdog period systemd asks for, halved: null when WATCHDOG_USEC is unset or not a positive whole
 * number, or when WATCHDOG_PID names another process (the variables were inherited, not meant for us).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number = process.pid): number | null {
  const usec = env[WATCHDOG_USEC_ENV];
  if (usec === undefined || !/^[0-9]+$/.test(usec)) return null;
  const watchdogPid = env[WATCHDOG_PID_ENV];
  if (watchdogPid !== undefined && watchdogPid !== '' && watchdogPid !== String(pid)) return null;
  const periodMs = Number(usec) / 1000;
  if (!Number.isFinite(periodMs) || periodMs <= 0) return null;
  return Math.max(1, Math.floor(periodMs / WATCHDOG_PINGS_PER_PERIOD));
}

/** A NotifySend that runs `systemd-notify VAR=VALUE…` with NOTIFY_SOCKET set to `socket`. */
export function systemdNotifyCommand(socket: string, command: string = SYSTEMD_NOTIFY_COMMAND): NotifySend {
  return (fields) => new Promise((resolve, reject) => {
    const args = fields.map(([k, v]) => `${k}=${v}`);
    const child = spawn(command, args, {
      env: { ...process.env, [NOTIFY_SOCKET_ENV]: socket },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), NOTIFY_COMMAND_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args[0] ?? ''} failed (${signal ?? `exit code ${code}`}): ${stderr.trim() || 'no message'}`));
    });
  });
}

const STATUS_MAX_CHARS = 200;

/** STATUS= is one line in `systemctl status`; newlines would end the variable. */
function statusText(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, STATUS_MAX_CHARS);
}

class NoServiceManager implements ServiceNotifier {
  readonly active = false;
  readonly watchdogIntervalMs = null;
  async ready(): Promise<void> {}
  async stopping(): Promise<void> {}
  close(): void {}
}

type NotifierState = 'starting' | 'ready' | 'stopping' | 'closed';

class SystemdNotifier implements ServiceNotifier {
  readonly active = true;
  private state: NotifierState = 'starting';
  private timer: NodeJS.Timeout | null = null;
  /** Messages go out one at a time and in order: READY before the first WATCHDOG, STOPPING last. */
  private queue: Promise<void> = Promise.resolve();
  private pingInFlight = false;

  constructor(
    private readonly send: NotifySend,
    readonly watchdogIntervalMs: number | null,
    private readonly log: Pick<Logger, 'warn'>,
    private readonly pid: number,
  ) {}

  ready(status: string): Promise<void> {
    if (this.state !== 'starting') return Promise.resolve();
    this.state = 'ready';
    const sent = this.enqueue([['READY', '1'], ['MAINPID', String(this.pid)], ['STATUS', statusText(status)]]);
    if (this.watchdogIntervalMs !== null) {
      // The ping comes from a timer on the event loop, so a loop that stalls stops the pings and systemd
      // restarts the service; that is the point of the watchdog.
      this.timer = setInterval(() => this.ping(), this.watchdogIntervalMs);
      this.timer.unref();
    }
    return sent;
  }

  stopping(status: string): Promise<void> {
    if (this.state === 'stopping' || this.state === 'closed') return Promise.resolve();
    this.state = 'stopping';
    this.stopTimer();
    return this.enqueue([['STOPPING', '1'], ['STATUS', statusText(status)]]);
  }

  close(): void {
    this.state = 'closed';
    this.stopTimer();
  }

  private ping(): void {
    // A systemd-notify still waiting on its barrier must not pile up more behind it.
    if (this.pingInFlight || this.state !== 'ready') return;
    this.pingInFlight = true;
    void this.enqueue([['WATCHDOG', '1']]).finally(() => { this.pingInFlight = false; });
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Never rejects: a message that could not be sent is logged; the service keeps running. */
  private enqueue(fields: NotifyFields): Promise<void> {
    const next = this.queue.then(() => this.send(fields)).catch((err: unknown) => {
      this.log.warn({ err: (err as Error).message, message: fields.map(([k]) => k).join(',') }, 'could not notify systemd');
    });
    this.queue = next;
    return next;
  }
}

export interface ServiceNotifierOptions {
  log: Pick<Logger, 'warn'>;
  env?: NodeJS.ProcessEnv;
  pid?: number;
  /** How messages are carried; default: systemd-notify. */
  send?: NotifySend;
}

/** The notifier for this process: a no-op unless systemd started it with NOTIFY_SOCKET. */
export function createServiceNotifier(o: ServiceNotifierOptions): ServiceNotifier {
  const env = o.env ?? process.env;
  const socket = env[NOTIFY_SOCKET_ENV];
  if (socket === undefined || socket === '') return new NoServiceManager();
  const pid = o.pid ?? process.pid;
  return new SystemdNotifier(o.send ?? systemdNotifyCommand(socket), watchdogIntervalMs(env, pid), o.log, pid);
}
