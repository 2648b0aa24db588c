// Drives a board's LEDs through johnny-five. It reads the peer's status on its own timer (every
// refreshMs), never from the commit path: a burst of commits costs the LEDs nothing, and the pins change
// at most once per refresh, which is what bounds the work of slow backends (gpiod with neither an
// interactive gpioset nor libgpiod's Python bindings starts a process per change, docs/gpio.md). Only pins
// whose level changed are written.
import { EventEmitter } from 'node:events';
import five from 'johnny-five';
import { type Clock, type TimerHandle, systemClock } from '../config/clock.js';
import { ledDefaults } from './ledDefaults.js';
import type { Logger } from '../observability/logger.js';
import { RateLimitedLog } from '../observability/rateLimitedLog.js';
import type { LedsReport, ReportedPeerStatus } from '../observability/statusReport.js';
import type { BoardIo } from './io/ioPlugin.js';
import { blinkPhaseOn, ledsFor, pinLevels } from './ledModel.js';
import type { LedPins } from './profile.js';

/** johnny-five's Board must report ready within this after being handed a ready IO plugin. */
export const BOARD_READY_TIMEOUT_MS = 10_000;

/** What the LEDs are computed from: the peer's status, read once per refresh. */
export type LedSource = () => Pick<ReportedPeerStatus, 'height' | 'link' | 'sync' | 'role' | 'error' | 'rejected'>;

export interface LedDriverOptions {
  boardIo: BoardIo;
  pins: LedPins;
  source: LedSource;
  refreshMs: number;
  blinkPeriodMs?: number;
  rejectionFlashMs?: number;
  clock?: Clock;
  log: Logger;
}

export interface LedDriverEvents {
  /** After a refresh that changed at least one pin. */
  changed: [leds: LedsReport];
}

export class LedDriver extends EventEmitter<LedDriverEvents> {
  private readonly clock: Clock;
  private readonly leds = new Map<number, five.Led>();
  private readonly written = new Map<number, boolean>();
  private timer: TimerHandle | null = null;
  private stopped = false;
  private current: LedsReport | null = null;
  private lastRejected = -1;
  private lastRejectionAtMs = Number.NEGATIVE_INFINITY;
  private readonly ioWarnings: RateLimitedLog;

  private constructor(private readonly o: LedDriverOptions, board: five.Board) {
    super();
    this.clock = o.clock ?? systemClock;
    this.ioWarnings = new RateLimitedLog(o.log, this.clock, ledDefaults.errorLogIntervalMs);
    board.on('error', (err: unknown) => this.ioFailed(err));
    for (const bcm of [o.pins.link, o.pins.sync, o.pins.leader, o.pins.error, ...o.pins.height]) {
      this.leds.set(bcm, new five.Led({ pin: o.boardIo.pinId(bcm), board }));
    }
  }

  /** Starts johnny-five on the board's IO, makes the LEDs, shows the status once and starts refreshing. */
  static async start(o: LedDriverOptions): Promise<LedDriver> {
    // sigint: false, or johnny-five exits the process on Ctrl-C before the peer has closed its ledger.
    const options: five.BoardOption & { sigint: boolean } = { io: o.boardIo.io, repl: false, debug: false, sigint: false };
    const board = new five.Board(options);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === null) resolve();
        else reject(err);
      };
      const timer = setTimeout(() => settle(new Error(`johnny-five board not ready after ${BOARD_READY_TIMEOUT_MS} ms`)), BOARD_READY_TIMEOUT_MS);
      // johnny-five's typings lack once(); these listeners stay, and do nothing once settled.
      board.on('ready', () => settle(null));
      board.on('error', (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))));
    });
    const driver = new LedDriver(o, board);
    driver.refresh();
    driver.arm();
    return driver;
  }

  /** What the LEDs show (blinking LEDs as 'blink'); null before the first refresh. */
  get state(): LedsReport | null {
    return this.current;
  }

  /** Recomputes the LEDs from the source and writes the pins that changed. */
  refresh(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const s = this.o.source();
    if (this.lastRejected >= 0 && s.rejected > this.lastRejected) this.lastRejectionAtMs = now;
    this.lastRejected = s.rejected;
    const flashMs = this.o.rejectionFlashMs ?? ledDefaults.rejectionFlashMs;
    const leds = ledsFor({ ...s, rejectedRecently: now - this.lastRejectionAtMs < flashMs }, this.o.pins.height.length);
    this.current = leds;
    let changed = false;
    for (const { pin, on } of pinLevels(leds, this.o.pins, blinkPhaseOn(now, this.o.blinkPeriodMs ?? ledDefaults.blinkPeriodMs))) {
      if (this.written.get(pin) === on) continue;
      if (this.write(pin, on)) changed = true;
    }
    if (changed) this.emit('changed', leds);
  }

  /** Stops refreshing, turns every LED off and releases the IO. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const pin of this.leds.keys()) this.write(pin, false);
    await this.o.boardIo.close();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.refresh();
      this.arm();
    }, this.o.refreshMs);
    this.timer.unref?.();
  }

  private write(pin: number, on: boolean): boolean {
    try {
      const led = this.leds.get(pin)!;
      if (on) led.on();
      else led.off();
      this.written.set(pin, on);
      return true;
    } catch (err) {
      this.ioFailed(err);
      return false;
    }
  }

  /** LEDs are a view: a failing backend is logged (rate-limited) and the peer runs on. */
  private ioFailed(err: unknown): void {
    this.ioWarnings.warn('io', { err: err instanceof Error ? err.message : String(err) }, 'LED output failed');
  }
}
