// The seam between the LED driver and the hardware: johnny-five's IO-plugin interface (the part that LEDs
// use), and the handle the driver gets for a board's IO. johnny-five runs unchanged on top of any of them.
import type { EventEmitter } from 'node:events';

/** johnny-five's pin modes (the IO-plugin specification's numbering). */
export const IO_MODES = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 } as const;

export interface IoPin {
  supportedModes: number[];
  mode: number;
  value: number;
  report: number;
  analogChannel: number;
}

/**
 * What johnny-five needs of an IO plugin to drive LEDs. Plugins emit 'connect' then 'ready' (or are
 * ready when handed over, `isReady`), and 'error' when the hardware fails.
 */
export interface IoPlugin extends EventEmitter {
  readonly name: string;
  readonly isReady: boolean;
  readonly pins: IoPin[];
  readonly analogPins: number[];
  readonly MODES: typeof IO_MODES;
  readonly HIGH: 1;
  readonly LOW: 0;
  pinMode(pin: number, mode: number): void;
  digitalWrite(pin: number, value: number): void;
  digitalRead(pin: number, handler: (value: number) => void): void;
  analogWrite(pin: number, value: number): void;
}

/** A board's IO, ready to hand to johnny-five. */
export interface BoardIo {
  /** Passed to `new five.Board({ io })`; a foreign plugin (pi-io) is typed by what johnny-five uses. */
  readonly io: EventEmitter;
  /** What johnny-five is given as `pin` for a BCM line (a number, or a name such as 'GPIO17'). */
  pinId(bcm: number): number | string;
  /** Releases the hardware (stops helper processes). */
  close(): Promise<void>;
}

/** 28 header lines, each an output or an input; no PWM, so johnny-five's Led writes digital levels. */
export function headerPins(count: number): IoPin[] {
  return Array.from({ length: count }, () => ({
    supportedModes: [IO_MODES.INPUT, IO_MODES.OUTPUT], mode: IO_MODES.INPUT, value: 0, report: 1, analogChannel: 127,
  }));
}
