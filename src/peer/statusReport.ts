// The board's status report: one line a human can read at a console and a program can parse
// (logfmt: key=value pairs, values without spaces), or one JSON object per line.
import type { PeerStatus } from './peer.js';

export interface StatusReport extends PeerStatus {
  /** Blocks committed per second since the previous report. */
  blocksPerSec: number;
  uptimeSec: number;
}

export const STATUS_LINE_PREFIX = 'edgepeer-status';

export function formatStatusLine(r: StatusReport): string {
  const fields: [string, string | number][] = [
    ['board', r.board],
    ['channel', r.channel],
    ['height', r.height],
    ['link', r.link],
    ['deliver', r.deliver],
    ['bps', r.blocksPerSec.toFixed(1)],
    ['committed', r.committed],
    ['rejected', r.rejected],
    ['uptime', r.uptimeSec],
    ['hash', r.lastHash.slice(0, 16)],
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
