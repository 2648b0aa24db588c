// The emulated board's GPIO: an IO plugin that keeps each line's level in memory and records every write,
// so the real johnny-five runs on top of it in the demo and the tests, and a test can see each LED.
import { EventEmitter } from 'node:events';
import { HEADER_GPIO_COUNT } from '../pins.js';
import { type BoardIo, IO_MODES, type IoPin, type IoPlugin, headerPins } from './ioPlugin.js';

/** Writes kept in `recentWrites`; older ones are dropped (a long demo must not grow without bound). */
export const VIRTUAL_IO_WRITE_LOG_MAX = 4096;

export interface PinWrite {
  pin: number;
  value: number;
  /** Count of writes before this one. */
  seq: number;
}

export interface VirtualIoEvents {
  connect: [];
  ready: [];
  error: [Error];
  /** Every digitalWrite, as it happens. */
  write: [PinWrite];
}

export class VirtualIo extends EventEmitter implements IoPlugin {
  readonly name = 'edgepeer-virtual-io';
  readonly MODES = IO_MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly pins: IoPin[] = headerPins(HEADER_GPIO_COUNT);
  readonly analogPins: number[] = [];
  readonly isReady = true;
  /** The newest writes, oldest first (at most VIRTUAL_IO_WRITE_LOG_MAX). */
  readonly recentWrites: PinWrite[] = [];
  private writes = 0;

  get writeCount(): number {
    return this.writes;
  }

  /** A line's level: 1 or 0. */
  level(pin: number): number {
    return this.pinAt(pin).value;
  }

  pinMode(pin: number, mode: number): void {
    const p = this.pinAt(pin);
    if (!p.supportedModes.includes(mode)) throw new Error(`virtual IO: GPIO${pin} does not support mode ${mode}`);
    p.mode = mode;
  }

  digitalWrite(pin: number, value: number): void {
    const p = this.pinAt(pin);
    if (p.mode !== IO_MODES.OUTPUT) throw new Error(`virtual IO: GPIO${pin} is not an output`);
    p.value = value ? 1 : 0;
    const w: PinWrite = { pin, value: p.value, seq: this.writes++ };
    this.recentWrites.push(w);
    if (this.recentWrites.length > VIRTUAL_IO_WRITE_LOG_MAX) this.recentWrites.shift();
    this.emit('write', w);
  }

  digitalRead(pin: number, handler: (value: number) => void): void {
    const p = this.pinAt(pin);
    queueMicrotask(() => handler(p.value));
  }

  analogWrite(pin: number, _value: number): void {
    throw new Error(`virtual IO: GPIO${pin} has no PWM (LEDs are driven on/off)`);
  }

  private pinAt(pin: number): IoPin {
    const p = this.pins[pin];
    if (p === undefined) throw new Error(`virtual IO: no GPIO${pin} (the header has GPIO0..GPIO${this.pins.length - 1})`);
    return p;
  }
}

export function virtualBoardIo(io: VirtualIo = new VirtualIo()): BoardIo & { virtual: VirtualIo } {
  return { io, virtual: io, pinId: (bcm) => bcm, close: async () => {} };
}
