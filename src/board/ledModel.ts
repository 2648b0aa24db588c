// What each LED shows, given the peer's status: a pure function, so every rule is tested without
// hardware, timers or johnny-five. The driver (ledDriver.ts) calls it on its own timer.
import type { LedLight, LedsReport, ReportedPeerStatus } from '../observability/statusReport.js';
import type { LedPins, StatusLed } from './profile.js';

export type LedInputs = Pick<ReportedPeerStatus, 'height' | 'link' | 'sync' | 'role' | 'error'> & {
  /** A block was rejected within the last few seconds (ledDefaults.rejectionFlashMs). */
  rejectedRecently: boolean;
};

/** The reflected binary Gray code of n (n ≥ 0, below 2^31): consecutive values differ in exactly one bit. */
export function grayCode(n: number): number {
  return (n ^ (n >>> 1)) >>> 0;
}

/**
 * The height bar: Gray(height mod 2^leds), LED i showing bit i. The K-bit Gray code is cyclic, so exactly
 * one LED changes per committed block, also when the bar wraps from 2^K − 1 back to 0.
 */
export function heightBar(height: number, leds: number): boolean[] {
  const g = grayCode(height % 2 ** leds);
  const bar: boolean[] = [];
  for (let i = 0; i < leds; i++) bar.push(((g >>> i) & 1) === 1);
  return bar;
}

const light = (on: boolean): LedLight => (on ? 'on' : 'off');

export function ledsFor(i: LedInputs, heightLeds: number): LedsReport {
  // A fork needs an operator (docs/gpio.md): sync and error blink in turn, a pattern no other state makes.
  if (i.sync === 'forked') {
    return { link: light(i.link === 'up'), sync: 'blink', leader: light(i.role === 'leader'), error: 'alternate', height: heightBar(i.height, heightLeds) };
  }
  return {
    link: light(i.link === 'up'),
    sync: i.sync === 'in-sync' ? 'on' : i.sync === 'syncing' ? 'blink' : 'off',
    leader: light(i.role === 'leader'),
    error: i.error !== null ? 'on' : i.rejectedRecently ? 'blink' : 'off',
    height: heightBar(i.height, heightLeds),
  };
}

/** Whether blinking LEDs are lit at `nowMs`: on for the first half of each period. */
export function blinkPhaseOn(nowMs: number, periodMs: number): boolean {
  return nowMs % periodMs < periodMs / 2;
}

export interface PinLevel {
  /** BCM line. */
  pin: number;
  on: boolean;
}

const STATUS_ORDER: readonly StatusLed[] = ['link', 'sync', 'leader', 'error'];

/** The level of every LED pin: status LEDs in the order link, sync, leader, error, then the height bar. */
export function pinLevels(leds: LedsReport, pins: LedPins, blinkOn: boolean): PinLevel[] {
  const out: PinLevel[] = STATUS_ORDER.map((name) => {
    const l = leds[name];
    return { pin: pins[name], on: l === 'on' || (l === 'blink' && blinkOn) || (l === 'alternate' && !blinkOn) };
  });
  pins.height.forEach((pin, i) => out.push({ pin, on: leds.height[i] === true }));
  return out;
}
