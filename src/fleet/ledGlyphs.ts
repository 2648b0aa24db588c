// A board's LEDs as the demo shows them: ● lit, ○ dark, blinking LEDs alternating with the wall clock,
// status LEDs (link, sync, leader, error) then the height bar, LED 0 first, as on the board.
import { ledDefaults } from '../board/ledDefaults.js';
import type { LedLight, LedsReport } from '../observability/statusReport.js';

export const LED_ON = '●';
export const LED_OFF = '○';

/** Whether blinking LEDs are lit at `nowMs` (the boards blink with the same period). */
export function blinkLit(nowMs: number, periodMs: number = ledDefaults.blinkPeriodMs): boolean {
  return nowMs % periodMs < periodMs / 2;
}

function glyph(l: LedLight, lit: boolean): string {
  return l === 'on' || (l === 'blink' && lit) || (l === 'alternate' && !lit) ? LED_ON : LED_OFF;
}

/** `●◐●○ ●○●●○○○○`-like text: four status LEDs, a space, the height bar. */
export function ledGlyphs(leds: LedsReport, nowMs: number): string {
  const lit = blinkLit(nowMs);
  const status = [leds.link, leds.sync, leds.leader, leds.error].map((l) => glyph(l, lit)).join('');
  return `${status} ${leds.height.map((on) => (on ? LED_ON : LED_OFF)).join('')}`;
}
