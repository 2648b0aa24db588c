// GPIO through the Linux GPIO character device (/dev/gpiochipN), by way of libgpiod's command-line tools
// (Debian and Raspberry Pi OS package `gpiod`). Why tools and not a Node addon: they work on every Pi
// model including the Pi 5 (whose RP1 chip pigpio and /dev/gpiomem-based libraries cannot drive), they
// need no native code in this package (so `npm install` works the same on x86, CI and a Pi), and they use
// the kernel's supported interface, with its permissions (the `gpio` group owns /dev/gpiochip*).
//
// The character device releases a line when the process holding it exits, after which its level is not
// guaranteed (Raspberry Pi kernels keep it unless `strict_gpiod` is set). So one `gpioset` process holds
// every LED line, in one of two ways (docs/gpio.md, "What the gpiod backend holds, and what it costs"):
// - interactive: a libgpiod 2 gpioset built with `--interactive` holds the lines for the board's life and
//   takes `set` commands on its stdin, answering each with its prompt; no process starts per change;
// - respawn: libgpiod 1 (`--mode=signal`), and libgpiod 2 built without `--interactive` (Debian's own
//   build: its gpioset has no -i), hold the levels they were started with, so a change of levels replaces
//   the process (killed by PID, its exit awaited, the next one started). Changes are coalesced: at most
//   one replacement is in flight, at most one starts per GPIOSET_MIN_RESPAWN_INTERVAL_MS, and it takes
//   the latest levels.
// A gpioset that ends on its own after start-up is logged (rate-limited) and restarted after the shared
// jittered backoff (src/config/backoff.ts); start-up failures reject open() with what to do.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { Backoff, type BackoffPolicy } from '../../config/backoff.js';
import { type Clock, type TimerHandle, systemClock } from '../../config/clock.js';
import { type Logger, silentLogger } from '../../observability/logger.js';
import { RateLimitedLog } from '../../observability/rateLimitedLog.js';
import { HEADER_GPIO_COUNT } from '../pins.js';
import { type BoardIo, IO_MODES, type IoPin, type IoPlugin, headerPins } from './ioPlugin.js';

/** Respawn mode: a newly started gpioset that is still running after this long has taken its lines. */
export const GPIOSET_SETTLE_MS = 300;
/** gpioset asked to exit (SIGTERM) that is still running after this long is killed. */
export const GPIOSET_EXIT_TIMEOUT_MS = 1_000;
/** `gpioset --version`, `gpioset --help` and `gpiodetect` must answer within this. */
export const GPIO_TOOL_TIMEOUT_MS = 5_000;
/**
 * Interactive mode: gpioset must print its prompt (lines taken, or a command applied) within this; one
 * that does not is taken as hung and replaced, since every later change would queue behind it.
 */
export const GPIOSET_ANSWER_TIMEOUT_MS = 5_000;
/**
 * Respawn mode: gpioset is started at most this often however fast levels change (5 a second), since
 * each start is a fork/exec on a board whose CPU the peer needs. The LED refresh (profile `refreshMs`) is
 * the operator's knob below this bound; a blink (ledDefaults.blinkPeriodMs) stays visible at this rate.
 */
export const GPIOSET_MIN_RESPAWN_INTERVAL_MS = 200;
/** A gpioset that ended on its own is restarted after a jittered wait of this policy. */
export const GPIOSET_RESTART_POLICY: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000 };
/** With no unexpected end for this long, the restart wait starts from the base again. */
export const GPIOSET_RESTART_RESET_AFTER_MS = 60_000;
/** An unexpected end (or a refused command) is logged at most this often, with the count held back. */
export const GPIOSET_WARNING_INTERVAL_MS = 10_000;
/** Consumer name shown by `gpioinfo` for the lines (libgpiod 2 only; 1.x always says "gpioset"). */
export const GPIOD_CONSUMER = 'edgepeer';
/** What an interactive gpioset prints, without a newline, whenever it waits for a command (stdout not a terminal). */
export const GPIOSET_PROMPT = 'gpioset> ';
/** stderr and stdout kept of a gpioset, for the error message. */
const OUTPUT_KEPT_CHARS = 2_000;

export interface GpiodTools {
  gpioset: string;
  gpiodetect: string;
}

export const defaultGpiodTools: GpiodTools = { gpioset: 'gpioset', gpiodetect: 'gpiodetect' };

/** interactive: one gpioset for the board's life, fed `set` commands; respawn: one gpioset per set of levels. */
export type GpiosetMode = 'interactive' | 'respawn';

export interface GpiodIoOptions {
  /** The chip (`gpiochip0` or `/dev/gpiochip4`); default: the one labelled chipLabel. */
  chip?: string;
  /** Label of the chip carrying the header lines, as `gpiodetect` prints it (`pinctrl-rp1`). */
  chipLabel?: string;
  /** BCM lines to drive as outputs; each starts low. */
  lines: readonly number[];
  tools?: GpiodTools;
  /** Where an unexpected end of gpioset is reported; default: nowhere. */
  log?: Logger;
  clock?: Clock;
  /** Jitter of the restart waits: Math.random by default, seeded in tests. */
  random?: () => number;
  /** Default GPIOSET_RESTART_POLICY. */
  restartPolicy?: BackoffPolicy;
  /** Default GPIOSET_MIN_RESPAWN_INTERVAL_MS. */
  minRespawnIntervalMs?: number;
  /** Default GPIOSET_ANSWER_TIMEOUT_MS. */
  answerTimeoutMs?: number;
}

/** A GPIO tool missing, refusing, or not finding the chip: the message says what to do. */
export class GpioBackendError extends Error {
  override readonly name = 'GpioBackendError';
}

interface ToolResult {
  stdout: string;
  stderr: string;
}

function runTool(file: string, args: readonly string[]): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: GPIO_TOOL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new GpioBackendError(`${file} not found: install libgpiod's tools (apt-get install gpiod)`));
        } else {
          reject(new GpioBackendError(`${file} ${args.join(' ')} failed: ${(stderr || err.message).trim()}`));
        }
        return;
      }
      resolve({ stdout, stderr });
    });
  });
}

/** libgpiod's major version from `gpioset --version` ("gpioset (libgpiod) v1.6.3", "… v2.1"). */
export function parseGpiodMajorVersion(versionText: string): number | null {
  const m = /\bv(\d+)\.\d+/.exec(versionText);
  return m ? Number(m[1]) : null;
}

/**
 * How this gpioset can hold lines: interactively when it is libgpiod 2 and its `--help` lists
 * `--interactive` (a build option, --enable-gpioset-interactive, that needs libedit), else by respawning.
 */
export function gpiosetMode(major: number, helpText: string): GpiosetMode {
  return major >= 2 && /--interactive\b/.test(helpText) ? 'interactive' : 'respawn';
}

/** `gpiodetect` output: one chip a line, "gpiochip0 [pinctrl-bcm2711] (58 lines)". */
export function parseGpiodetect(text: string): { chip: string; label: string }[] {
  const out: { chip: string; label: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\[([^\]]*)\]/.exec(line.trim());
    if (m) out.push({ chip: m[1]!, label: m[2]! });
  }
  return out;
}

function lineValues(levels: ReadonlyMap<number, number>): string[] {
  return [...levels].sort((a, b) => a[0] - b[0]).map(([line, v]) => `${line}=${v}`);
}

/** gpioset's arguments to hold `levels` (BCM line → 0/1): until signalled, or (interactive) until told. */
export function gpiosetArgs(major: number, mode: GpiosetMode, chip: string, levels: ReadonlyMap<number, number>): string[] {
  const values = lineValues(levels);
  if (major < 2) return ['--mode=signal', chip, ...values];
  // Options before the first line=value: gpioset stops reading options there.
  return ['--consumer', GPIOD_CONSUMER, '--chip', chip, ...(mode === 'interactive' ? ['--interactive'] : []), ...values];
}

/** The interactive command that sets every line to `levels` (the lines named as at start-up: offsets). */
export function gpiosetCommand(levels: ReadonlyMap<number, number>): string {
  return `set ${lineValues(levels).join(' ')}`;
}

async function findChip(o: GpiodIoOptions, tools: GpiodTools): Promise<string> {
  if (o.chip !== undefined) return o.chip;
  const label = o.chipLabel;
  if (label === undefined) throw new GpioBackendError('the gpiod backend needs io.chip or io.chipLabel in the board profile');
  const chips = parseGpiodetect((await runTool(tools.gpiodetect, [])).stdout);
  const found = chips.find((c) => c.label === label);
  if (found === undefined) {
    const seen = chips.map((c) => `${c.chip} [${c.label}]`).join(', ') || 'none (is /dev/gpiochip* readable? see docs/gpio.md)';
    throw new GpioBackendError(`no GPIO chip labelled '${label}' (chips: ${seen}); set io.chip in the board profile, or use the profile of this board model`);
  }
  return found.chip;
}

/** A gpioset process holding (or about to hold) the lines. */
interface Holder {
  child: ChildProcess;
  args: string[];
  /** We asked it to exit: its end is not a failure. */
  stopping: boolean;
  ended: boolean;
  /** It holds the lines: interactive, its first prompt was seen; respawn, it ran GPIOSET_SETTLE_MS. */
  holding: boolean;
  /** Interactive: the command written and not yet answered by a prompt. */
  pending: string | null;
  /** Interactive: the first prompt, or the pending command's, must come before this fires. */
  answerTimer: TimerHandle | null;
  settleTimer: TimerHandle | null;
  stdout: string;
  stderr: string;
  exited: Promise<void>;
  /** Resolves once it holds the lines; rejects (with what to do) if it ends or hangs before. */
  held: Promise<void>;
  heldSettled: (err: GpioBackendError | null) => void;
}

/**
 * Drives LED lines through gpioset. Emits 'held' (pid) each time a gpioset has taken the lines, after
 * open() and after each restart or respawn.
 */
export class GpiodIo extends EventEmitter implements IoPlugin {
  readonly name = 'edgepeer-gpiod';
  readonly MODES = IO_MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly pins: IoPin[] = headerPins(HEADER_GPIO_COUNT);
  readonly analogPins: number[] = [];
  readonly isReady = true;
  private readonly levels = new Map<number, number>();
  private holder: Holder | null = null;
  /** Levels changed since the holder was last given them. */
  private dirty = false;
  /** A step() is queued for the next turn: writes of one turn (one LED refresh) become one command or process. */
  private stepQueued = false;
  private respawning: Promise<void> | null = null;
  private lastSpawnAtMs = Number.NEGATIVE_INFINITY;
  private restartTimer: TimerHandle | null = null;
  private lastDeathAtMs = Number.NEGATIVE_INFINITY;
  /** After open(): an end is a failure to report and restart, not a start-up error. */
  private opened = false;
  /** close() began: flush to the live holder, start none. */
  private closing = false;
  private closed: Promise<void> | null = null;
  private readonly restarts: Backoff;
  private readonly warnings: RateLimitedLog;
  private readonly clock: Clock;
  private readonly minRespawnIntervalMs: number;
  private readonly answerTimeoutMs: number;
  /** Announces every change idle() depends on. */
  private readonly progress = new EventEmitter();
  /** Times a gpioset was started (for tests and diagnostics). */
  spawns = 0;

  private constructor(
    readonly chip: string,
    readonly libgpiodMajor: number,
    readonly mode: GpiosetMode,
    private readonly tools: GpiodTools,
    o: GpiodIoOptions,
  ) {
    super();
    for (const line of o.lines) {
      this.pinAt(line).mode = IO_MODES.OUTPUT;
      this.levels.set(line, 0);
    }
    this.clock = o.clock ?? systemClock;
    this.restarts = new Backoff(o.restartPolicy ?? GPIOSET_RESTART_POLICY, o.random);
    this.warnings = new RateLimitedLog(o.log ?? silentLogger(), this.clock, GPIOSET_WARNING_INTERVAL_MS);
    this.minRespawnIntervalMs = o.minRespawnIntervalMs ?? GPIOSET_MIN_RESPAWN_INTERVAL_MS;
    this.answerTimeoutMs = o.answerTimeoutMs ?? GPIOSET_ANSWER_TIMEOUT_MS;
  }

  /** Finds the tools and the chip, takes the lines (all low), and resolves once gpioset holds them. */
  static async open(o: GpiodIoOptions): Promise<GpiodIo> {
    const tools = o.tools ?? defaultGpiodTools;
    const version = await runTool(tools.gpioset, ['--version']);
    const major = parseGpiodMajorVersion(version.stdout + version.stderr);
    if (major === null) throw new GpioBackendError(`cannot tell the libgpiod version from '${tools.gpioset} --version': ${version.stdout.trim()}`);
    const mode = major >= 2 ? gpiosetMode(major, (await runTool(tools.gpioset, ['--help'])).stdout) : 'respawn';
    const chip = await findChip(o, tools);
    const io = new GpiodIo(chip, major, mode, tools, o);
    await io.spawnHolder().held;
    io.opened = true;
    return io;
  }

  pinMode(pin: number, mode: number): void {
    const p = this.pinAt(pin);
    if (mode !== IO_MODES.OUTPUT || !this.levels.has(pin)) {
      throw new Error(`gpiod IO: GPIO${pin} was not opened as an LED output (mode ${mode})`);
    }
    p.mode = mode;
  }

  digitalWrite(pin: number, value: number): void {
    if (!this.levels.has(pin)) throw new Error(`gpiod IO: GPIO${pin} was not opened as an LED output`);
    const v = value ? 1 : 0;
    this.pinAt(pin).value = v;
    if (this.levels.get(pin) === v) return;
    this.levels.set(pin, v);
    this.dirty = true;
    this.queueStep();
  }

  digitalRead(pin: number, handler: (value: number) => void): void {
    const v = this.pinAt(pin).value;
    queueMicrotask(() => handler(v));
  }

  analogWrite(pin: number, _value: number): void {
    throw new Error(`gpiod IO: GPIO${pin} has no PWM (LEDs are driven on/off)`);
  }

  /** Levels as last written (what gpioset holds once the pending work is done). */
  heldLevels(): ReadonlyMap<number, number> {
    return this.levels;
  }

  /** The PID of the gpioset holding the lines now, or null (between a death and its restart). */
  get gpiosetPid(): number | null {
    return this.holder?.child.pid ?? null;
  }

  /**
   * Resolves when every write so far has been handed over: interactive, gpioset answered the command that
   * carries it; respawn, the gpioset carrying it was started. Also when a restart is pending (it takes the
   * latest levels).
   */
  async idle(): Promise<void> {
    while (!this.isIdle()) await once(this.progress, 'progress');
  }

  /** Applies the pending levels (the LED driver turns everything off first), then ends gpioset; the kernel releases the lines. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing = true;
      if (this.restartTimer !== null) {
        this.clock.clearTimeout(this.restartTimer);
        this.restartTimer = null;
        this.dirty = false;
      }
      this.queueStep();
      await this.idle();
      // A respawned gpioset killed before it ran would leave the lines as they were, not as last written.
      const h = this.holder;
      if (h !== null && !h.holding) await h.held.catch(() => {});
      await this.stopHolder();
    })();
    return this.closed;
  }

  private isIdle(): boolean {
    if (this.stepQueued || this.respawning !== null) return false;
    if (this.restartTimer !== null) return true;
    if (this.dirty) return false;
    const h = this.holder;
    return this.mode === 'respawn' || h === null || (h.holding && h.pending === null);
  }

  private changed(): void {
    this.progress.emit('progress');
  }

  private queueStep(): void {
    if (this.stepQueued) return;
    this.stepQueued = true;
    setImmediate(() => {
      this.stepQueued = false;
      this.step();
      this.changed();
    });
  }

  /** Hands the latest levels to gpioset, if there is something to hand and nothing in the way. */
  private step(): void {
    if (!this.dirty || this.restartTimer !== null) return;
    if (this.mode === 'respawn') {
      // Cleared in a later turn than it is set, even when the loop has nothing to wait for.
      this.respawning ??= this.respawnLoop().finally(() => {
        this.respawning = null;
        this.changed();
      });
      return;
    }
    const h = this.holder;
    if (h === null) {
      // Only before a restart's timer has fired, or while closing: a new gpioset starts with the levels.
      this.dirty = false;
      if (!this.closing) this.spawnHolder();
      return;
    }
    // Its prompt (the first, or the pending command's) queues the next step.
    if (!h.holding || h.pending !== null) return;
    this.dirty = false;
    h.pending = gpiosetCommand(this.levels);
    h.child.stdin!.write(`${h.pending}\n`);
    this.armAnswerTimer(h);
  }

  private async respawnLoop(): Promise<void> {
    while (this.dirty && this.restartTimer === null) {
      const waitMs = this.lastSpawnAtMs + this.minRespawnIntervalMs - this.clock.now();
      if (waitMs > 0) {
        // Levels written meanwhile go into this one start: the latest win.
        await new Promise<void>((resolve) => { this.clock.setTimeout(resolve, waitMs); });
        if (this.restartTimer !== null) break;
      }
      if (this.closing && this.holder === null) {
        this.dirty = false;
        break;
      }
      this.dirty = false;
      await this.stopHolder();
      if (this.restartTimer !== null) {
        // It ended on its own meanwhile: the restart, after its backoff, takes these levels.
        this.dirty = true;
        break;
      }
      this.spawnHolder();
    }
  }

  /** Starts gpioset holding the current levels. */
  private spawnHolder(): Holder {
    const args = gpiosetArgs(this.libgpiodMajor, this.mode, this.chip, this.levels);
    const interactive = this.mode === 'interactive';
    const child = spawn(this.tools.gpioset, args, { stdio: [interactive ? 'pipe' : 'ignore', interactive ? 'pipe' : 'ignore', 'pipe'] });
    this.spawns++;
    this.lastSpawnAtMs = this.clock.now();
    let heldSettled: (err: GpioBackendError | null) => void = () => {};
    const held = new Promise<void>((resolve, reject) => {
      let done = false;
      heldSettled = (err) => {
        if (done) return;
        done = true;
        if (err === null) resolve();
        else reject(err);
      };
    });
    // Only open() awaits it; after start-up an end is reported by ended().
    held.catch(() => {});
    let resolveExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => { resolveExited = resolve; });
    const h: Holder = {
      child, args, stopping: false, ended: false, holding: false, pending: null, answerTimer: null, settleTimer: null,
      stdout: '', stderr: '', exited, held, heldSettled,
    };
    this.holder = h;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { h.stderr = (h.stderr + chunk).slice(-OUTPUT_KEPT_CHARS); });
    child.once('error', (err) => { this.ended(h, this.spawnFailure(err)); resolveExited(); });
    child.once('close', (code, signal) => { this.ended(h, this.endFailure(h, code, signal)); resolveExited(); });
    if (interactive) {
      // A gpioset that died makes the write fail (EPIPE); its end is reported by 'close'.
      child.stdin!.on('error', () => {});
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (chunk: string) => this.output(h, chunk));
      this.armAnswerTimer(h);
    } else {
      h.settleTimer = this.clock.setTimeout(() => {
        h.settleTimer = null;
        this.nowHolding(h);
      }, GPIOSET_SETTLE_MS);
    }
    return h;
  }

  private armAnswerTimer(h: Holder): void {
    if (h.answerTimer !== null) this.clock.clearTimeout(h.answerTimer);
    h.answerTimer = this.clock.setTimeout(() => {
      h.answerTimer = null;
      const what = h.pending === null ? 'take the lines' : `answer '${h.pending}'`;
      const err = new GpioBackendError(`${this.tools.gpioset} did not ${what} within ${this.answerTimeoutMs} ms`);
      h.heldSettled(err);
      if (this.opened) this.warnings.warn('hung', { pid: h.child.pid }, `${err.message}: killing it`);
      // Its end goes through ended(), as a failure (it was not asked to stop): restarted after open(), fatal before.
      h.child.kill('SIGKILL');
    }, this.answerTimeoutMs);
  }

  /** Interactive gpioset's stdout: each prompt answers the start-up or the pending command; text before it is its complaint. */
  private output(h: Holder, chunk: string): void {
    h.stdout += chunk;
    for (let at = h.stdout.indexOf(GPIOSET_PROMPT); at >= 0; at = h.stdout.indexOf(GPIOSET_PROMPT)) {
      const said = h.stdout.slice(0, at).trim();
      h.stdout = h.stdout.slice(at + GPIOSET_PROMPT.length);
      if (h.answerTimer !== null) this.clock.clearTimeout(h.answerTimer);
      h.answerTimer = null;
      if (!h.holding) {
        this.nowHolding(h);
        continue;
      }
      const command = h.pending;
      h.pending = null;
      if (said !== '') this.warnings.warn('refused', { pid: h.child.pid, command, said }, 'gpioset did not apply a command');
      this.queueStep();
    }
    h.stdout = h.stdout.slice(-OUTPUT_KEPT_CHARS);
  }

  private nowHolding(h: Holder): void {
    h.holding = true;
    h.heldSettled(null);
    this.emit('held', h.child.pid);
    this.queueStep();
    this.changed();
  }

  private spawnFailure(err: Error): GpioBackendError {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return new GpioBackendError(missing ? `${this.tools.gpioset} not found: install libgpiod's tools (apt-get install gpiod)` : err.message);
  }

  private endFailure(h: Holder, code: number | null, signal: NodeJS.Signals | null): GpioBackendError {
    const said = `${h.stderr.trim()} ${h.stdout.trim()}`.trim();
    const hint = /permission denied/i.test(said) ? ' (is this user in the gpio group? see docs/gpio.md)' : '';
    return new GpioBackendError(`${this.tools.gpioset} ${h.args.join(' ')} ended (${signal ?? `exit ${code}`}): ${said || 'no message'}${hint}`);
  }

  private ended(h: Holder, err: GpioBackendError): void {
    if (h.ended) return;
    h.ended = true;
    for (const t of [h.answerTimer, h.settleTimer]) if (t !== null) this.clock.clearTimeout(t);
    h.answerTimer = null;
    h.settleTimer = null;
    if (this.holder === h) this.holder = null;
    h.heldSettled(err);
    if (!h.stopping && this.opened && !this.closing) this.restartLater(h, err);
    this.changed();
  }

  /** A gpioset that ended on its own: say so (rate-limited), and start another after the backoff's wait. */
  private restartLater(h: Holder, err: GpioBackendError): void {
    const now = this.clock.now();
    if (now - this.lastDeathAtMs >= GPIOSET_RESTART_RESET_AFTER_MS) this.restarts.reset();
    this.lastDeathAtMs = now;
    const waitMs = this.restarts.next();
    this.warnings.warn('ended', { pid: h.child.pid, err: err.message, restartInMs: waitMs, attempt: this.restarts.attempts },
      'gpioset holding the LED lines ended unexpectedly (the LEDs may show stale levels): restarting it');
    if (this.restartTimer !== null) this.clock.clearTimeout(this.restartTimer);
    this.restartTimer = this.clock.setTimeout(() => {
      this.restartTimer = null;
      this.dirty = true;
      this.queueStep();
    }, waitMs);
    this.restartTimer.unref?.();
  }

  /** Ends the holder (SIGTERM to its PID, SIGKILL if it lingers) and awaits its exit. */
  private async stopHolder(): Promise<void> {
    const h = this.holder;
    if (h === null) return;
    h.stopping = true;
    h.child.kill('SIGTERM');
    const timer = this.clock.setTimeout(() => h.child.kill('SIGKILL'), GPIOSET_EXIT_TIMEOUT_MS);
    await h.exited;
    this.clock.clearTimeout(timer);
  }

  private pinAt(pin: number): IoPin {
    const p = this.pins[pin];
    if (p === undefined) throw new Error(`gpiod IO: no GPIO${pin} on the header`);
    return p;
  }
}

export function gpiodBoardIo(io: GpiodIo): BoardIo {
  return { io, pinId: (bcm) => bcm, close: () => io.close() };
}
