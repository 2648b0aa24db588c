// The board's status report: one line a human can read at a console and a program can parse
// (logfmt: key=value pairs, values without spaces), or one JSON object per line.
import type { PeerStatus } from './peer.js';

/** One LED as the board drives it. */
export type LedLight = 'off' | 'on' | 'blink';

/** The board's LEDs (src/board/ledModel.ts decides them): four status LEDs and the height bar. */
export interface LedsReport {
  /** The link to the orderer is up. */
  link: LedLight;
  /** Steady: in sync; blinking: catching up; off: no Deliver stream. */
  sync: LedLight;
  leader: LedLight;
  /** Steady: the board stopped on an error; blinking: a block was rejected a moment ago. */
  error: LedLight;
  /** The height bar, LED 0 (least significant bit of the Gray code) first. */
  height: boolean[];
}

export interface StatusReport extends PeerStatus {
  /** Blocks committed per second since the previous report. */
  blocksPerSec: number;
  uptimeSec: number;
  /** null until the board's LEDs are driven (or when it has none). */
  leds: LedsReport | null;
}

const LIGHT_CHAR: Record<LedLight, string> = { off: '0', on: '1', blink: '~' };

/**
 * The LEDs in a few characters, for consoles: the status LEDs link, sync, leader, error (1 on, 0 off,
 * ~ blinking), a colon, then the height bar, LED 0 first. `1~10:10110000` is link up, catching up, leader,
 * no error, height bar 0b00001101 in Gray code.
 */
export function formatLedsCompact(l: LedsReport): string {
  const status = [l.link, l.sync, l.leader, l.error].map((x) => LIGHT_CHAR[x]).join('');
  return `${status}:${l.height.map((on) => (on ? '1' : '0')).join('')}`;
}

export const STATUS_LINE_PREFIX = 'edgepeer-status';

export function formatStatusLine(r: StatusReport): string {
  const fields: [string, string | number][] = [
    ['board', r.board],
    ['channel', r.channel],
    ['height', r.height],
    ['link', r.link],
    ['deliver', r.deliver],
    ['sync', r.sync],
    ['role', r.role],
    ['bps', r.blocksPerSec.toFixed(1)],
    ['committed', r.committed],
    ['rejected', r.rejected],
    ['uptime', r.uptimeSec],
    ['hash', r.lastHash.slice(0, 16)],
    ['leds', r.leds === null ? '-' : formatLedsCompact(r.leds)],
    ['error', r.error === null ? '-' : JSON.stringify(r.error)],
  ];
  return `${STATUS_LINE_PREFIX} ${fields.map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** Parses a status line back into its fields (the console monitor and the tests use this). */
export function parseStatusLine(line: string): Record<string, string> | null {
  const t = line.trim();
  if (!t.startsWith(`${STATUS_LINE_PREFIX} `)) return null;
  const out: Record<string, string> = {};
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g;
  for (const m of t.slice(STATUS_LINE_PREFIX.length + 1).matchAll(re)) {
    const v = m[2]!;
    out[m[1]!] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
  }
  return out;
}
