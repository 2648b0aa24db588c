// GPIO through the Linux GPIO character device (/dev/gpiochipN), by way of libgpiod: its command-line
// tools (Debian and Raspberry Pi OS package `gpiod`) and, where they cannot hold lines for long, its
// Python bindings (`python3-libgpiod`). Why not a Node addon: these work on every Pi model including the
// Pi 5 (whose RP1 chip pigpio and /dev/gpiomem-based libraries cannot drive), they need no native code in
// this package (so `npm install` works the same on x86, CI and a Pi), and they use the kernel's supported
// interface, with its permissions (the `gpio` group owns /dev/gpiochip*).
//
// The character device releases a line when the process holding it exits, after which its level is not
// guaranteed (Raspberry Pi kernels keep it unless `strict_gpiod` is set). So one process holds every LED
// line, in one of three ways, chosen at open() in this order (docs/gpio.md, "What the gpiod backend
// holds, and what it costs"):
// - interactive: a libgpiod 2 gpioset built with `--interactive` holds the lines for the board's life and
//   takes `set` commands on its stdin, answering each with its prompt; no process starts per change;
// - python: the shipped line holder (gpiodLineHolder.py, beside this file) on libgpiod's Python bindings,
//   v1 or v2, speaks the same protocol for the board's life: libgpiod 1 (bookworm) and Debian's libgpiod
//   2 (built without --interactive) then cost no process per change either;
// - respawn, the last resort: libgpiod 1 (`--mode=signal`), and libgpiod 2 without `--interactive`, hold
//   the levels they were started with, so a change of levels replaces the process (killed by PID, its
//   exit awaited, the next one started). Changes are coalesced: at most one replacement is in flight, at
//   most one starts per GPIOSET_MIN_RESPAWN_INTERVAL_MS, and it takes the latest levels.
// A holder that ends on its own after start-up is logged (rate-limited) and restarted after the shared
// jittered backoff (src/config/backoff.ts); start-up failures reject open() with what to do.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { fileURLToPath } from 'node:url';
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
/** `gpioset --version`, `gpioset --help`, `gpiodetect` and the line holder's `--probe` must answer within this. */
export const GPIO_TOOL_TIMEOUT_MS = 5_000;
/**
 * Interactive and python modes: the holder must print its prompt (lines taken, or a command applied)
 * within this; one that does not is taken as hung and replaced, since every later change would queue
 * behind it. python3 with the bindings should start well within it on a Pi Zero 2 W (about 65 ms on the
 * x86 CI machine; `benchGpiodHolder` measures it on a board).
 */
export const GPIOSET_ANSWER_TIMEOUT_MS = 5_000;
/**
 * Respawn mode: gpioset is started at most this often however fast levels change (5 a second), since
 * each start is a fork/exec on a board whose CPU the peer needs. The LED refresh (profile `refreshMs`) is
 * the operator's knob below this bound; a blink (ledDefaults.blinkPeriodMs) stays visible at this rate.
 */
export const GPIOSET_MIN_RESPAWN_INTERVAL_MS = 200;
/** A holder that ended on its own is restarted after a jittered wait of this policy. */
export const GPIOSET_RESTART_POLICY: BackoffPolicy = { baseDelayMs: 500, maxDelayMs: 30_000 };
/** With no unexpected end for this long, the restart wait starts from the base again. */
export const GPIOSET_RESTART_RESET_AFTER_MS = 60_000;
/** An unexpected end (or a refused command) is logged at most this often, with the count held back. */
export const GPIOSET_WARNING_INTERVAL_MS = 10_000;
/** Consumer name shown by `gpioinfo` for the lines (libgpiod 1's gpioset always says "gpioset"). */
export const GPIOD_CONSUMER = 'edgepeer';
/**
 * What an interactive gpioset prints, without a newline, whenever it waits for a command (stdout not a
 * terminal); the python line holder prints the same.
 */
export const GPIOSET_PROMPT = 'gpioset> ';
/** The python line holder, shipped beside this module (scripts/build.mjs copies it into dist/src). */
export const GPIOD_LINE_HOLDER = fileURLToPath(new URL('./gpiodLineHolder.py', import.meta.url));
/** Forces a mode (interactive, python, respawn) instead of the first available; `auto` or unset: choose. */
export const GPIOD_MODE_ENV = 'EDGEPEER_GPIOD_MODE';
/** stderr and stdout kept of a holder, for the error message. */
const OUTPUT_KEPT_CHARS = 2_000;

export interface GpiodTools {
  gpioset: string;
  gpiodetect: string;
  /** The interpreter the line holder runs on (its `gpiod` module is python3-libgpiod's). */
  python3: string;
}

export const defaultGpiodTools: GpiodTools = { gpioset: 'gpioset', gpiodetect: 'gpiodetect', python3: 'python3' };

/**
 * interactive: one gpioset for the board's life, fed `set` commands; python: one line holder on libgpiod's
 * Python bindings for the board's life, fed the same commands; respawn: one gpioset per set of levels.
 */
export type GpiodMode = 'interactive' | 'python' | 'respawn';
export const GPIOD_MODES: readonly GpiodMode[] = ['interactive', 'python', 'respawn'];
/** A mode forced by the operator, or `auto`: the first of GPIOD_MODES this board has. */
export type GpiodModeChoice = GpiodMode | 'auto';

export interface GpiodIoOptions {
  /** The chip (`gpiochip0` or `/dev/gpiochip4`); default: the one labelled chipLabel. */
  chip?: string;
  /** Label of the chip carrying the header lines, as `gpiodetect` prints it (`pinctrl-rp1`). */
  chipLabel?: string;
  /** BCM lines to drive as outputs; each starts low. */
  lines: readonly number[];
  tools?: GpiodTools;
  /** Default `auto`: interactive gpioset, else the python line holder, else respawned gpiosets. */
  mode?: GpiodModeChoice;
  /** Where the mode chosen (when it is respawn) and an unexpected end of a holder are reported; default: nowhere. */
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

const INSTALL_TOOLS = "install libgpiod's tools (apt-get install gpiod)";
const INSTALL_PYTHON = "install python3 and libgpiod's Python bindings (apt-get install python3-libgpiod)";

function runTool(file: string, args: readonly string[], install = INSTALL_TOOLS): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: GPIO_TOOL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new GpioBackendError(`${file} not found: ${install}`));
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
 * Whether this gpioset can hold lines for the board's life: when it is libgpiod 2 and its `--help` lists
 * `--interactive` (a build option, --enable-gpioset-interactive, that needs libedit).
 */
export function gpiosetIsInteractive(major: number, helpText: string): boolean {
  return major >= 2 && /--interactive\b/.test(helpText);
}

/** The operator's choice in $EDGEPEER_GPIOD_MODE: unset or `auto` lets the backend choose. */
export function gpiodModeFromEnv(env: NodeJS.ProcessEnv): GpiodModeChoice {
  const v = env[GPIOD_MODE_ENV]?.trim() ?? '';
  if (v === '' || v === 'auto') return 'auto';
  const mode = GPIOD_MODES.find((m) => m === v);
  if (mode === undefined) throw new GpioBackendError(`${GPIOD_MODE_ENV}=${v}: expected auto, ${GPIOD_MODES.join(', ')}`);
  return mode;
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
export function gpiosetArgs(major: number, interactive: boolean, chip: string, levels: ReadonlyMap<number, number>): string[] {
  const values = lineValues(levels);
  if (major < 2) return ['--mode=signal', chip, ...values];
  // Options before the first line=value: gpioset stops reading options there.
  return ['--consumer', GPIOD_CONSUMER, '--chip', chip, ...(interactive ? ['--interactive'] : []), ...values];
}

/** The python line holder's arguments (after the interpreter) to hold `levels` until told. */
export function lineHolderArgs(chip: string, levels: ReadonlyMap<number, number>): string[] {
  return [GPIOD_LINE_HOLDER, '--chip', chip, '--consumer', GPIOD_CONSUMER, ...lineValues(levels)];
}

/** Which Python bindings the line holder finds ("libgpiod python bindings v1 (1.6.3)"), or why none. */
export async function probeLineHolder(tools: GpiodTools): Promise<{ bindings: string } | { missing: string }> {
  try {
    const r = await runTool(tools.python3, [GPIOD_LINE_HOLDER, '--probe'], INSTALL_PYTHON);
    return { bindings: r.stdout.trim() };
  } catch (err) {
    return { missing: (err as Error).message };
  }
}

interface ModeFound {
  mode: GpiodMode;
  /** null when gpioset was not asked (python forced). */
  major: number | null;
  bindings: string | null;
}

async function gpiosetMajor(tools: GpiodTools): Promise<number> {
  const version = await runTool(tools.gpioset, ['--version']);
  const major = parseGpiodMajorVersion(version.stdout + version.stderr);
  if (major === null) throw new GpioBackendError(`cannot tell the libgpiod version from '${tools.gpioset} --version': ${version.stdout.trim()}`);
  return major;
}

/** The first mode of interactive > python > respawn this board has, or the one forced (which must work). */
async function findMode(choice: GpiodModeChoice, tools: GpiodTools, log: Logger | undefined): Promise<ModeFound> {
  const python = async (major: number | null): Promise<ModeFound | string> => {
    const p = await probeLineHolder(tools);
    return 'bindings' in p ? { mode: 'python', major, bindings: p.bindings } : p.missing;
  };
  if (choice === 'python') {
    const found = await python(null);
    if (typeof found === 'string') throw new GpioBackendError(`${GPIOD_MODE_ENV}=python, but the line holder cannot run: ${found}`);
    return found;
  }
  const major = await gpiosetMajor(tools);
  if (choice === 'respawn') return { mode: 'respawn', major, bindings: null };
  const interactive = major >= 2 && gpiosetIsInteractive(major, (await runTool(tools.gpioset, ['--help'])).stdout);
  if (interactive) return { mode: 'interactive', major, bindings: null };
  if (choice === 'interactive') {
    throw new GpioBackendError(`${GPIOD_MODE_ENV}=interactive, but ${tools.gpioset} (libgpiod ${major}) has no --interactive`);
  }
  const found = await python(major);
  if (typeof found !== 'string') return found;
  log?.info({ why: found }, 'gpiod LEDs: gpioset is started anew for each change of levels, the lines released in between; apt-get install python3-libgpiod to hold them in one process (docs/gpio.md)');
  return { mode: 'respawn', major, bindings: null };
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

/** A gpioset or line-holder process holding (or about to hold) the lines. */
interface Holder {
  child: ChildProcess;
  file: string;
  args: string[];
  /** We asked it to exit: its end is not a failure. */
  stopping: boolean;
  ended: boolean;
  /** It holds the lines: interactive or python, its first prompt was seen; respawn, it ran GPIOSET_SETTLE_MS. */
  holding: boolean;
  /** Interactive or python: the command written and not yet answered by a prompt. */
  pending: string | null;
  /** Interactive or python: the first prompt, or the pending command's, must come before this fires. */
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
 * Drives LED lines through gpioset or the python line holder. Emits 'held' (pid) each time a holder has
 * taken the lines, after open() and after each restart or respawn.
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
  /** Times a holder (gpioset or the line holder) was started (for tests and diagnostics). */
  spawns = 0;

  private constructor(
    readonly chip: string,
    /** libgpiod's major version as gpioset tells it; null when python was forced and gpioset not asked. */
    readonly libgpiodMajor: number | null,
    readonly mode: GpiodMode,
    /** python mode: the bindings the line holder found ("libgpiod python bindings v1 (1.6.3)"). */
    readonly pythonBindings: string | null,
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

  /** Finds the tools, the mode and the chip, takes the lines (all low), and resolves once a holder holds them. */
  static async open(o: GpiodIoOptions): Promise<GpiodIo> {
    const tools = o.tools ?? defaultGpiodTools;
    const found = await findMode(o.mode ?? 'auto', tools, o.log);
    const chip = await findChip(o, tools);
    const io = new GpiodIo(chip, found.major, found.mode, found.bindings, tools, o);
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

  /** Levels as last written (what the holder holds once the pending work is done). */
  heldLevels(): ReadonlyMap<number, number> {
    return this.levels;
  }

  /** The PID of the process holding the lines now, or null (between a death and its restart). */
  get holderPid(): number | null {
    return this.holder?.child.pid ?? null;
  }

  /**
   * Resolves when every write so far has been handed over: interactive or python, the holder answered the
   * command that carries it; respawn, the gpioset carrying it was started. Also when a restart is pending
   * (it takes the latest levels).
   */
  async idle(): Promise<void> {
    while (!this.isIdle()) await once(this.progress, 'progress');
  }

  /** Applies the pending levels (the LED driver turns everything off first), then ends the holder; the kernel releases the lines. */
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

  /** Hands the latest levels to the holder, if there is something to hand and nothing in the way. */
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
      // Only before a restart's timer has fired, or while closing: a new holder starts with the levels.
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

  /** What to start to hold the current levels. */
  private holderCommand(): { file: string; args: string[] } {
    if (this.mode === 'python') return { file: this.tools.python3, args: lineHolderArgs(this.chip, this.levels) };
    // findMode() reads gpioset's version for every mode but a forced python.
    if (this.libgpiodMajor === null) throw new Error(`gpiod IO: mode ${this.mode} without gpioset's libgpiod version`);
    return { file: this.tools.gpioset, args: gpiosetArgs(this.libgpiodMajor, this.mode === 'interactive', this.chip, this.levels) };
  }

  /** How log lines and errors name the holder. */
  private get holderName(): string {
    return this.mode === 'python' ? 'the python3 process' : 'gpioset';
  }

  /** Starts a holder of the current levels. */
  private spawnHolder(): Holder {
    const { file, args } = this.holderCommand();
    // Interactive and python holders take commands on stdin and answer on stdout.
    const commanded = this.mode !== 'respawn';
    const child = spawn(file, args, { stdio: [commanded ? 'pipe' : 'ignore', commanded ? 'pipe' : 'ignore', 'pipe'] });
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
      child, file, args, stopping: false, ended: false, holding: false, pending: null, answerTimer: null, settleTimer: null,
      stdout: '', stderr: '', exited, held, heldSettled,
    };
    this.holder = h;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { h.stderr = (h.stderr + chunk).slice(-OUTPUT_KEPT_CHARS); });
    child.once('error', (err) => { this.ended(h, this.spawnFailure(h, err)); resolveExited(); });
    child.once('close', (code, signal) => { this.ended(h, this.endFailure(h, code, signal)); resolveExited(); });
    if (commanded) {
      // A holder that died makes the write fail (EPIPE); its end is reported by 'close'.
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
      const err = new GpioBackendError(`${this.holderName} did not ${what} within ${this.answerTimeoutMs} ms`);
      h.heldSettled(err);
      if (this.opened) this.warnings.warn('hung', { pid: h.child.pid }, `${err.message}: killing it`);
      // Its end goes through ended(), as a failure (it was not asked to stop): restarted after open(), fatal before.
      h.child.kill('SIGKILL');
    }, this.answerTimeoutMs);
  }

  /** A commanded holder's stdout: each prompt answers the start-up or the pending command; text before it is its complaint. */
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
      if (said !== '') this.warnings.warn('refused', { pid: h.child.pid, command, said }, `${this.holderName} did not apply a command`);
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

  private spawnFailure(h: Holder, err: Error): GpioBackendError {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    return new GpioBackendError(missing ? `${h.file} not found: ${this.mode === 'python' ? INSTALL_PYTHON : INSTALL_TOOLS}` : err.message);
  }

  private endFailure(h: Holder, code: number | null, signal: NodeJS.Signals | null): GpioBackendError {
    const said = `${h.stderr.trim()} ${h.stdout.trim()}`.trim();
    const hint = /permission denied/i.test(said) ? ' (is this user in the gpio group? see docs/gpio.md)' : '';
    return new GpioBackendError(`${h.file} ${h.args.join(' ')} ended (${signal ?? `exit ${code}`}): ${said || 'no message'}${hint}`);
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

  /** A holder that ended on its own: say so (rate-limited), and start another after the backoff's wait. */
  private restartLater(h: Holder, err: GpioBackendError): void {
    const now = this.clock.now();
    if (now - this.lastDeathAtMs >= GPIOSET_RESTART_RESET_AFTER_MS) this.restarts.reset();
    this.lastDeathAtMs = now;
    const waitMs = this.restarts.next();
    this.warnings.warn('ended', { pid: h.child.pid, err: err.message, restartInMs: waitMs, attempt: this.restarts.attempts },
      `${this.holderName} holding the LED lines ended unexpectedly (the LEDs may show stale levels): restarting it`);
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
