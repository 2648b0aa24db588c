// PTY pairs for serial tests (socat, real serialport bindings) and a noisy line between two of them.
// Every pair started here is registered, so a test file's after() hook can stop what a failed test left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { seededRandom } from '../../src/config/random.js';
import { type PtyPair, SOCAT_MISSING, findSocat, startPtyPair } from '../../src/fleet/ptyPair.js';

export { seededRandom } from '../../src/config/random.js';

export type { PtyPair };

const pairs = new Set<PtyPair>();

/** Null when socat is installed, otherwise the reason to skip. */
export async function socatMissing(): Promise<string | null> {
  return (await findSocat()) === undefined ? SOCAT_MISSING : null;
}

/** A temp dir for PTY symlinks; removed by the returned function. */
export function ptyDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-pty-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A registered PTY pair with ends `<dir>/<a>` and `<dir>/<b>`. */
export async function ptyPair(dir: string, a: string, b: string): Promise<PtyPair> {
  const pair = await startPtyPair(join(dir, a), join(dir, b));
  pairs.add(pair);
  void pair.exited.then(() => pairs.delete(pair));
  return pair;
}

/** Stops every pair still running (for an after() hook). */
export async function stopAllPtyPairs(): Promise<void> {
  await Promise.all([...pairs].map((p) => p.stop()));
}

export interface NoiseRates {
  /** Chance per byte that one of its bits is flipped. */
  flipPerByte: number;
  /** Chance per byte that it is dropped. */
  dropPerByte: number;
  /** Chance per byte that 1–8 random bytes are inserted before it. */
  insertPerByte: number;
}

export interface NoiseCounters {
  bytes: number;
  flipped: number;
  dropped: number;
  inserted: number;
}

/**
 * Copies bytes between two serial ports in both directions, damaging them at the given rates:
 * peer ↔ pair1 ↔ NoiseProxy ↔ pair2 ↔ orderer. Backpressure is kept: a side that cannot write pauses
 * the other side's reading.
 */
export class NoiseProxy {
  readonly counters: NoiseCounters = { bytes: 0, flipped: 0, dropped: 0, inserted: 0 };
  private readonly ports: [SerialPort, SerialPort];
  private readonly random: () => number;
  enabled = true;

  constructor(pathA: string, pathB: string, private readonly rates: NoiseRates, seed: number) {
    this.random = seededRandom(seed);
    this.ports = [
      new SerialPort({ path: pathA, baudRate: 115200, autoOpen: false }),
      new SerialPort({ path: pathB, baudRate: 115200, autoOpen: false }),
    ];
  }

  async start(): Promise<void> {
    await Promise.all(this.ports.map((p) => new Promise<void>((resolve, reject) => p.open((err) => (err ? reject(err) : resolve())))));
    const [a, b] = this.ports;
    this.pipe(a, b);
    this.pipe(b, a);
  }

  async close(): Promise<void> {
    await Promise.all(this.ports.map((p) => new Promise<void>((resolve) => (p.isOpen ? p.close(() => resolve()) : resolve()))));
  }

  private pipe(from: SerialPort, to: SerialPort): void {
    from.on('data', (chunk: Buffer) => {
      const out = this.enabled ? this.damage(chunk) : chunk;
      if (out.length > 0 && !to.write(out)) {
        from.pause();
        to.once('drain', () => from.resume());
      }
    });
    // The far end's PTY closing is the test's doing; nothing to report.
    from.on('error', () => undefined);
  }

  private damage(chunk: Buffer): Buffer {
    const r = this.rates;
    const out: number[] = [];
    for (const byte of chunk) {
      this.counters.bytes += 1;
      if (this.random() < r.insertPerByte) {
        const n = 1 + Math.floor(this.random() * 8);
        for (let i = 0; i < n; i++) out.push(Math.floor(this.random() * 256));
        this.counters.inserted += 1;
      }
      if (this.random() < r.dropPerByte) {
        this.counters.dropped += 1;
        continue;
      }
      if (this.random() < r.flipPerByte) {
        out.push(byte ^ (1 << Math.floor(this.random() * 8)));
        this.counters.flipped += 1;
        continue;
      }
      out.push(byte);
    }
    return Buffer.from(out);
  }
}
