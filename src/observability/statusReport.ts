// The board's status report: one line a human can read at a console and a program can parse
// (logfmt: key=value pairs, values without spaces), or one JSON object per line. The words it uses (roles,
// sync states, LED lights, block origins) are defined here, below every part that produces or reads them:
// the peer and gossip fill the report, the board's LEDs show it, the console monitor and the fleet parse it.
import type { LinkState } from '../transport/link.js';
import { parseLogfmtLine } from './logfmt.js';

/** Status lines in the demo and on consoles are written this often. */
export const statusIntervalMs = 1_000;

/** A board's role in its group (src/peer/role.ts: who decides it). */
export type BoardRole = 'leader' | 'follower';

/**
 * offline: no Deliver stream open · syncing: catching up or not yet judged · in-sync: following the tip ·
 * forked: the orderer signed a block that conflicts with the board's chain, and the board stopped taking
 * blocks until an operator recovers it (src/peer/syncTracker.ts; docs/operations.md, "Forks").
 */
export type SyncState = 'offline' | 'syncing' | 'in-sync' | 'forked';

/** Where a block the peer took came from. */
export type GossipBlockOrigin = 'orderer' | 'push' | 'pull' | 'catchup';

export const GOSSIP_BLOCK_ORIGINS: readonly GossipBlockOrigin[] = ['orderer', 'push', 'pull', 'catchup'];

/** What the peer reports about itself (src/peer/peer.ts fills it). */
export interface ReportedPeerStatus {
  board: string;
  channel: string;
  height: number;
  lastHash: string;
  link: LinkState;
  endpoint: string;
  /** The deliver client's state (src/peer/deliverClient.ts DeliverClientState). */
  deliver: string;
  committed: number;
  rejected: number;
  error: string | null;
  /** Whether the board has caught up with the orderer (see src/peer/syncTracker.ts for how that is known). */
  sync: SyncState;
  role: BoardRole;
}

/** Blocks the board took, by where they came from. */
export type BlockSources = Record<GossipBlockOrigin, number>;

/** A board without gossip takes every block it commits from the orderer. */
export function soloBlockSources(committed: number): BlockSources {
  return { orderer: committed, push: 0, pull: 0, catchup: 0 };
}

/** `orderer:120,push:3400,pull:12,catchup:0`: the status line's `from` field. */
export function formatBlockSources(f: BlockSources): string {
  return GOSSIP_BLOCK_ORIGINS.map((o) => `${o}:${f[o]}`).join(',');
}

/** Letters of the brief form, in GOSSIP_BLOCK_ORIGINS order: o(rderer), p(ush), (pul)l, c(atch-up). */
const ORIGIN_LETTER: Record<GossipBlockOrigin, string> = { orderer: 'o', push: 'p', pull: 'l', catchup: 'c' };

/** `o 120 p 3400 l 12 c 0`: the sources where room is short (the demo's view, the console panel). */
export function formatBlockSourcesBrief(f: BlockSources): string {
  return GOSSIP_BLOCK_ORIGINS.map((o) => `${ORIGIN_LETTER[o]} ${f[o]}`).join(' ');
}

/** Reads a `from` field back (as formatBlockSources writes it); null when it is not one. */
export function parseBlockSources(text: string): BlockSources | null {
  const out = soloBlockSources(0);
  const parts = text.split(',');
  if (parts.length !== GOSSIP_BLOCK_ORIGINS.length) return null;
  for (const [i, part] of parts.entries()) {
    const m = /^([a-z]+):(\d+)$/.exec(part);
    if (m === null || m[1] !== GOSSIP_BLOCK_ORIGINS[i]) return null;
    out[GOSSIP_BLOCK_ORIGINS[i]!] = Number(m[2]);
  }
  return out;
}

/** One LED as the board drives it; 'alternate' blinks in antiphase to 'blink' (lit while 'blink' is dark). */
export type LedLight = 'off' | 'on' | 'blink' | 'alternate';

/** The board's LEDs (src/board/ledModel.ts decides them): four status LEDs and the height bar. */
export interface LedsReport {
  /** The link to the orderer is up. */
  link: LedLight;
  /** Steady: in sync; blinking: catching up; off: no Deliver stream; blinking in turn with error: forked. */
  sync: LedLight;
  leader: LedLight;
  /** Steady: the board stopped on an error; blinking: a block was rejected a moment ago; in turn with sync: forked. */
  error: LedLight;
  /** The height bar, LED 0 (least significant bit of the Gray code) first. */
  height: boolean[];
}

export interface StatusReport extends ReportedPeerStatus {
  /** Blocks committed per second since the previous report. */
  blocksPerSec: number;
  uptimeSec: number;
  /** null until the board's LEDs are driven (or when it has none). */
  leds: LedsReport | null;
  /** Blocks the board took, by source (gossip's blocksBySource(), or soloBlockSources without gossip). */
  from: BlockSources;
}

const LIGHT_CHAR: Record<LedLight, string> = { off: '0', on: '1', blink: '~', alternate: '^' };

/**
 * The LEDs in a few characters, for consoles: the status LEDs link, sync, leader, error (1 on, 0 off,
 * ~ blinking, ^ blinking in antiphase), a colon, then the height bar, LED 0 first. `1~10:10110000` is link up, catching up, leader,
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
    ['from', formatBlockSources(r.from)],
    ['error', r.error === null ? '-' : JSON.stringify(r.error)],
  ];
  return `${STATUS_LINE_PREFIX} ${fields.map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** Parses a status line back into its fields (the console monitor and the tests use this). */
export function parseStatusLine(line: string): Record<string, string> | null {
  return parseLogfmtLine(STATUS_LINE_PREFIX, line);
}
