// One serial device kept open: opened on start, reopened with exponential backoff whenever it will not
// open or goes away (a USB adapter unplugged, a PTY whose other end closed), closed for good on close().
// Writes go through a bounded queue that respects the stream's 'drain', so a slow UART holds writers
// back instead of growing memory: a write resolves once the OS has taken the bytes, and a write that
// would take the queue past its limit is refused at once.
import { createRequire } from 'node:module';
import type { SerialPortStream } from '@serialport/stream';
import { Backoff, type BackoffPolicy } from '../../config/backoff.js';
import { type Clock, type TimerHandle, systemClock } from '../../config/clock.js';
import { serialDefaults } from './serialDefaults.js';
import type { LinkState } from '../link.js';
import type { SerialPortSpec } from './serialEndpoint.js';
import { hangupAwareBinding } from './hangupAwareBinding.js';

/**
 * idle: not started · opening: an open is under way · open: reading and writing ·
 * backoff: waiting to try again after a failed open or a lost device · closed: close() was called.
 */
export type PortState = 'idle' | 'opening' | 'open' | 'backoff' | 'closed';

const allowedTransitions: Record<PortState, readonly PortState[]> = {
  idle: ['opening', 'closed'],
  opening: ['open', 'backoff', 'closed'],
  open: ['backoff', 'closed'],
  backoff: ['opening', 'closed'],
  closed: [],
};

export function linkStateOf(s: PortState): LinkState {
  return s === 'open' ? 'up' : s === 'opening' ? 'connecting' : 'down';
}

export interface PortOpenOptions {
  path: string;
  baudRate: number;
  autoOpen: false;
  highWaterMark: number;
}

/** Makes the port object (the real bindings by default; tests pass SerialPortMock). */
export type PortFactory = (options: PortOpenOptions) => SerialPortStream;

/**
 * The real bindings, loaded on first use: serialport loads its native module when imported, and a board
 * that talks MQTT only should neither pay for that nor depend on it.
 */
export const realPortFactory: PortFactory = (o) => {
  const load = createRequire(import.meta.url);
  const { SerialPort } = load('serialport') as typeof import('serialport');
  const { SerialPortStream: Stream } = load('@serialport/stream') as typeof import('@serialport/stream');
  return new Stream({ binding: hangupAwareBinding(SerialPort.binding), ...o });
};

/** How a lost or unopenable port is retried (src/config/backoff.ts). */
export type ReopenLimits = BackoffPolicy;

export interface ManagedSerialPortOptions {
  port: SerialPortSpec;
  onData: (chunk: Buffer) => void;
  onState?: (state: PortState, detail: string) => void;
  /** Open failures, lost devices, write errors: the port retries by itself, this is for the log. */
  onError?: (error: Error) => void;
  portFactory?: PortFactory;
  clock?: Clock;
  reopen?: Partial<ReopenLimits>;
  /** The reopen backoff's jitter, [0, 1); default Math.random. */
  random?: () => number;
  maxQueuedWriteBytes?: number;
  writeHighWaterMarkBytes?: number;
}

export class SerialWriteRefused extends Error {
  override name = 'SerialWriteRefused';
  constructor(message: string, readonly reason: 'not-open' | 'queue-full') {
    super(message);
  }
}

interface PendingWrite {
  bytes: Uint8Array;
  resolve: () => void;
  reject: (error: Error) => void;
  done: boolean;
}

export class ManagedSerialPort {
  readonly path: string;
  readonly baudRate: number;
  private stateValue: PortState = 'idle';
  private port: SerialPortStream | undefined;
  private timer: TimerHandle | null = null;
  private readonly queue: PendingWrite[] = [];
  private readonly inStream = new Set<PendingWrite>();
  private queuedBytes = 0;
  private waitingForDrain = false;
  private readonly clock: Clock;
  private readonly factory: PortFactory;
  private readonly reopen: Backoff;
  private readonly maxQueuedBytes: number;
  private lastErrorText = '';
  /** Times the port went from open to lost. */
  reopens = 0;

  constructor(private readonly o: ManagedSerialPortOptions) {
    this.path = o.port.path;
    this.baudRate = o.port.baudRate;
    this.clock = o.clock ?? systemClock;
    this.factory = o.portFactory ?? realPortFactory;
    this.reopen = new Backoff({
      baseDelayMs: o.reopen?.baseDelayMs ?? serialDefaults.reopenBaseDelayMs,
      maxDelayMs: o.reopen?.maxDelayMs ?? serialDefaults.reopenMaxDelayMs,
    }, o.random);
    this.maxQueuedBytes = o.maxQueuedWriteBytes ?? serialDefaults.maxQueuedWriteBytes;
  }

  get state(): PortState {
    return this.stateValue;
  }

  /** Bytes accepted by write() whose promise has not settled yet. */
  get pendingWriteBytes(): number {
    return this.queuedBytes;
  }

  /** Starts opening (and reopening by itself); does nothing once started. */
  start(): void {
    if (this.stateValue === 'idle') this.openNow();
  }

  /** Resolves when the OS has taken `bytes`; rejects at once when the port is not open or the queue is full. */
  write(bytes: Uint8Array): Promise<void> {
    if (this.stateValue !== 'open') {
      return Promise.reject(new SerialWriteRefused(`serial port ${this.path} is ${this.stateValue}: not sent`, 'not-open'));
    }
    if (this.queuedBytes + bytes.length > this.maxQueuedBytes) {
      return Promise.reject(new SerialWriteRefused(
        `serial port ${this.path}: ${this.queuedBytes} bytes already waiting (limit ${this.maxQueuedBytes}): not sent`, 'queue-full'));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject, done: false });
      this.queuedBytes += bytes.length;
      this.pump();
    });
  }

  async close(): Promise<void> {
    if (this.stateValue === 'closed') return;
    this.transition('closed', 'closed');
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.failWrites(new Error(`serial port ${this.path} was closed`));
    const port = this.port;
    this.port = undefined;
    if (port === undefined) return;
    port.removeAllListeners('data');
    if (!port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  private transition(next: PortState, detail: string): void {
    if (!allowedTransitions[this.stateValue].includes(next)) {
      throw new Error(`serial port ${this.path}: no transition ${this.stateValue} -> ${next}`);
    }
    this.stateValue = next;
    if (next === 'open') this.lastErrorText = '';
    this.o.onState?.(next, detail);
  }

  private openNow(): void {
    this.timer = null;
    this.transition('opening', `opening ${this.path} at ${this.baudRate} baud`);
    let port: SerialPortStream;
    try {
      port = this.factory({
        path: this.path, baudRate: this.baudRate, autoOpen: false,
        highWaterMark: this.o.writeHighWaterMarkBytes ?? serialDefaults.writeHighWaterMarkBytes,
      });
    } catch (err) {
      this.lost(undefined, err);
      return;
    }
    this.port = port;
    port.on('data', (chunk: Buffer) => {
      if (port === this.port) this.o.onData(chunk);
    });
    // serialport emits 'close' once for the close itself and again with the disconnect error: the port
    // identity check makes the second one (and anything from an old port) a no-op.
    port.on('close', (err: Error | null) => this.lost(port, err ?? new Error(`serial port ${this.path} closed`)));
    port.on('error', (err: Error) => {
      this.report(err);
      if (!port.isOpen) this.lost(port, err);
    });
    port.open((err) => {
      if (port !== this.port || this.stateValue !== 'opening') {
        // Closed while the open was under way: do not keep the descriptor.
        if (!err && port.isOpen) port.close(() => undefined);
        return;
      }
      if (err) {
        this.lost(port, err);
        return;
      }
      this.reopen.reset();
      this.transition('open', `${this.path} open at ${this.baudRate} baud`);
      this.pump();
    });
  }

  /** The port failed to open or went away: drop it, fail its writes, try again after the backoff. */
  private lost(port: SerialPortStream | undefined, err: unknown): void {
    if (port !== this.port || (this.stateValue !== 'opening' && this.stateValue !== 'open')) return;
    const wasOpen = this.stateValue === 'open';
    this.port = undefined;
    if (port !== undefined) {
      port.removeAllListeners('data');
      // A port that failed mid-way may still hold its descriptor.
      if (port.isOpen) port.close(() => undefined);
    }
    const error = err instanceof Error ? err : new Error(String(err));
    if (wasOpen) this.reopens += 1;
    this.failWrites(new Error(`serial port ${this.path} went away: ${error.message}`));
    const delay = this.reopen.next();
    this.report(error);
    this.transition('backoff', `${error.message}; retrying in ${delay} ms`);
    this.timer = this.clock.setTimeout(() => this.openNow(), delay);
  }

  /** Reports an error once until the port opens again, so a missing device does not flood the log. */
  private report(err: Error): void {
    if (err.message === this.lastErrorText) return;
    this.lastErrorText = err.message;
    this.o.onError?.(err);
  }

  private pump(): void {
    const port = this.port;
    while (port !== undefined && this.stateValue === 'open' && !this.waitingForDrain && this.queue.length > 0) {
      const w = this.queue.shift()!;
      this.inStream.add(w);
      const more = port.write(w.bytes, (err) => this.settle(w, err ?? undefined));
      if (!more) {
        this.waitingForDrain = true;
        port.once('drain', () => {
          if (port !== this.port) return;
          this.waitingForDrain = false;
          this.pump();
        });
      }
    }
  }

  private settle(w: PendingWrite, err: Error | undefined): void {
    if (w.done) return;
    w.done = true;
    this.inStream.delete(w);
    this.queuedBytes -= w.bytes.length;
    if (err) w.reject(err);
    else w.resolve();
  }

  private failWrites(error: Error): void {
    for (const w of [...this.inStream, ...this.queue.splice(0)]) this.settle(w, error);
    this.waitingForDrain = false;
  }
}
