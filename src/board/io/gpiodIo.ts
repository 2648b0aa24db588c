// GPIO through the Linux GPIO character device (/dev/gpiochipN), by way of libgpiod's command-line tools
// (Debian and Raspberry Pi OS package `gpiod`). Why tools and not a Node addon: they work on every Pi
// model including the Pi 5 (whose RP1 chip pigpio and /dev/gpiomem-based libraries cannot drive), they
// need no native code in this package (so `npm install` works the same on x86, CI and a Pi), and they use
// the kernel's supported interface, with its permissions (the `gpio` group owns /dev/gpiochip*).
//
// The character device releases a line when the process holding it exits, after which its level is not
// guaranteed (Raspberry Pi kernels keep it unless `strict_gpiod` is set). So one `gpioset` process holds
// every LED line at its level; a change of levels replaces it with a new one holding the new levels. The
// LED driver coalesces changes to its refresh rate, which bounds the replacements per second.
// libgpiod 1.x (Debian 12, Raspberry Pi OS bookworm) and 2.x (Debian 13, trixie) differ in their options;
// both are handled.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { HEADER_GPIO_COUNT } from '../pins.js';
import { type BoardIo, IO_MODES, type IoPin, type IoPlugin, headerPins } from './ioPlugin.js';

/** A newly started gpioset that is still running after this long has taken its lines. */
export const GPIOSET_SETTLE_MS = 300;
/** gpioset asked to exit (SIGTERM) that is still running after this long is killed. */
export const GPIOSET_EXIT_TIMEOUT_MS = 1_000;
/** `gpioset --version` and `gpiodetect` must answer within this. */
export const GPIO_TOOL_TIMEOUT_MS = 5_000;
/** Consumer name shown by `gpioinfo` for the lines (libgpiod 2 only; 1.x always says "gpioset"). */
export const GPIOD_CONSUMER = 'edgepeer';
/** stderr kept of a gpioset, for the error message. */
const STDERR_KEPT_CHARS = 2_000;

export interface GpiodTools {
  gpioset: string;
  gpiodetect: string;
}

export const defaultGpiodTools: GpiodTools = { gpioset: 'gpioset', gpiodetect: 'gpiodetect' };

export interface GpiodIoOptions {
  /** The chip (`gpiochip0` or `/dev/gpiochip4`); default: the one labelled chipLabel. */
  chip?: string;
  /** Label of the chip carrying the header lines, as `gpiodetect` prints it (`pinctrl-rp1`). */
  chipLabel?: string;
  /** BCM lines to drive as outputs; each starts low. */
  lines: readonly number[];
  tools?: GpiodTools;
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

/** `gpiodetect` output: one chip a line, "gpiochip0 [pinctrl-bcm2711] (58 lines)". */
export function parseGpiodetect(text: string): { chip: string; label: string }[] {
  const out: { chip: string; label: string }[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+\[([^\]]*)\]/.exec(line.trim());
    if (m) out.push({ chip: m[1]!, label: m[2]! });
  }
  return out;
}

/** gpioset's arguments to hold `levels` (BCM line → 0/1) until signalled. */
export function gpiosetArgs(major: number, chip: string, levels: ReadonlyMap<number, number>): string[] {
  const values = [...levels].sort((a, b) => a[0] - b[0]).map(([line, v]) => `${line}=${v}`);
  return major >= 2
    ? ['--consumer', GPIOD_CONSUMER, '--chip', chip, ...values]
    : ['--mode=signal', chip, ...values];
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

/** The gpioset process holding the lines. */
interface Holder {
  child: ChildProcess;
  /** We asked it to exit: its end is not a failure. */
  stopping: boolean;
  exited: Promise<void>;
}

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
  private dirty = false;
  private flushing: Promise<void> | null = null;
  private closed = false;
  /** Times a gpioset was started (for tests and diagnostics). */
  spawns = 0;

  private constructor(readonly chip: string, readonly libgpiodMajor: number, private readonly tools: GpiodTools, lines: readonly number[]) {
    super();
    for (const line of lines) {
      this.pinAt(line).mode = IO_MODES.OUTPUT;
      this.levels.set(line, 0);
    }
  }

  /** Finds the tools and the chip, takes the lines (all low), and resolves once gpioset holds them. */
  static async open(o: GpiodIoOptions): Promise<GpiodIo> {
    const tools = o.tools ?? defaultGpiodTools;
    const version = await runTool(tools.gpioset, ['--version']);
    const major = parseGpiodMajorVersion(version.stdout + version.stderr);
    if (major === null) throw new GpioBackendError(`cannot tell the libgpiod version from '${tools.gpioset} --version': ${version.stdout.trim()}`);
    const chip = await findChip(o, tools);
    const io = new GpiodIo(chip, major, tools, o.lines);
    await io.startHolder(true);
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
    this.flushing ??= this.flush();
  }

  digitalRead(pin: number, handler: (value: number) => void): void {
    const v = this.pinAt(pin).value;
    queueMicrotask(() => handler(v));
  }

  analogWrite(pin: number, _value: number): void {
    throw new Error(`gpiod IO: GPIO${pin} has no PWM (LEDs are driven on/off)`);
  }

  /** Levels as last written (what gpioset holds once the pending flush is done). */
  heldLevels(): ReadonlyMap<number, number> {
    return this.levels;
  }

  /** Resolves when every write so far is held by a gpioset. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Ends the gpioset holding the lines; the kernel releases them. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.idle();
    this.closed = true;
    await this.stopHolder();
  }

  private async flush(): Promise<void> {
    // Writes made in the same turn (one LED refresh) go into one gpioset.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.dirty && !this.closed) {
        this.dirty = false;
        await this.stopHolder();
        await this.startHolder(false);
      }
    } finally {
      this.flushing = null;
    }
  }

  /** Starts gpioset with the current levels; at start-up, waits to see that it keeps running. */
  private startHolder(atStartup: boolean): Promise<void> {
    const args = gpiosetArgs(this.libgpiodMajor, this.chip, this.levels);
    const child = spawn(this.tools.gpioset, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.spawns++;
    let stderr = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_KEPT_CHARS); });
    const failure = (code: number | null, signal: NodeJS.Signals | null, spawnErr?: Error): GpioBackendError => {
      if (spawnErr !== undefined) {
        const missing = (spawnErr as NodeJS.ErrnoException).code === 'ENOENT';
        return new GpioBackendError(missing ? `${this.tools.gpioset} not found: install libgpiod's tools (apt-get install gpiod)` : spawnErr.message);
      }
      const hint = /permission denied/i.test(stderr) ? ' (is this user in the gpio group? see docs/gpio.md)' : '';
      return new GpioBackendError(`${this.tools.gpioset} ${args.join(' ')} ended (${signal ?? `exit ${code}`}): ${stderr.trim() || 'no message'}${hint}`);
    };
    // Until the start-up check is over a failure rejects open(); after it, it is an 'error' event.
    let startupFailed: ((err: GpioBackendError) => void) | null = null;
    let isEnded = false;
    const holder: Holder = { child, stopping: false, exited: Promise.resolve() };
    holder.exited = new Promise<void>((resolve) => {
      const ended = (err: GpioBackendError | null): void => {
        if (isEnded) return;
        isEnded = true;
        if (this.holder === holder) this.holder = null;
        if (err !== null) {
          if (startupFailed !== null) startupFailed(err);
          else this.emit('error', err);
        }
        resolve();
      };
      child.once('error', (err) => ended(failure(null, null, err)));
      child.once('close', (code, signal) => ended(holder.stopping ? null : failure(code, signal)));
    });
    this.holder = holder;
    if (!atStartup) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        startupFailed = null;
        resolve();
      }, GPIOSET_SETTLE_MS);
      startupFailed = (err) => {
        clearTimeout(timer);
        startupFailed = null;
        reject(err);
      };
    });
  }

  private async stopHolder(): Promise<void> {
    const h = this.holder;
    if (h === null) return;
    h.stopping = true;
    h.child.kill('SIGTERM');
    const timer = setTimeout(() => h.child.kill('SIGKILL'), GPIOSET_EXIT_TIMEOUT_MS);
    await h.exited;
    clearTimeout(timer);
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
