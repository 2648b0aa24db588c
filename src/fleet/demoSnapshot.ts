// What the views show, gathered at one instant: the orderer, the load, and one row per board.
import type { BoardRole } from '../peer/role.js';
import type { BlockSources, LedsReport } from '../observability/statusReport.js';
import type { BoardProcess, BoardProcessState } from './boardProcess.js';
import type { LoadStats } from './loadGenerator.js';
import { BOARD_STATUS_STALE_MS } from './timings.js';

/** A board's process as the views show it: 'silent' is a running board whose status has stopped coming. */
export type BoardShownState = BoardProcessState | 'silent';

export type { BoardRole };

export interface BoardRow {
  id: string;
  org: string;
  pid: number | null;
  state: BoardShownState;
  /** null until the board has reported (with gossip a board starts as a follower and may be elected). */
  role: BoardRole | null;
  /** Blocks the board took, by source; null until it has reported. */
  from: BlockSources | null;
  /** null until the board has reported. */
  height: number | null;
  /** Blocks behind the orderer; null until the board has reported. */
  lag: number | null;
  link: string;
  deliver: string;
  blocksPerSec: number;
  rejected: number;
  error: string | null;
  /** The board's LEDs as it last reported them; null until it has (and for a board that has ended). */
  leds: LedsReport | null;
  /** For a board that has ended. */
  exitCode: number | null;
  exitSignal: string | null;
}

export interface DemoHeader {
  channel: string;
  brokerUrl: string;
  dir: string;
  targetTxPerSec: number;
  txSizeBytes: number;
  /** The boards gossip (one leader per org pulls from the orderer); false: every board pulls itself. */
  gossip: boolean;
}

/** An organisation as the views show it: who leads it, as its running boards report their roles. */
export interface OrgRow {
  org: string;
  /** Running (or stopping) boards that say they lead: exactly one once an org with gossip has settled. */
  leaders: string[];
  boards: number;
}

export interface DemoSnapshot extends DemoHeader {
  atMs: number;
  uptimeMs: number;
  ordererHeight: number;
  /** Accepted transactions per second, measured. */
  txPerSec: number;
  /** Blocks cut per second, measured. */
  blocksPerSec: number;
  load: LoadStats;
  boards: BoardRow[];
  orgs: OrgRow[];
}

export interface BoardRowContext {
  /** The orderer's height now. */
  ordererHeight: number;
  /**
   * The orderer's height when the board's latest status arrived. Lag is measured against it rather than
   * against the height now, or a status line up to one report interval old would show the blocks cut
   * since as lag. An ended board is measured against the height now (it falls behind).
   */
  heightAtStatus: number | null;
  /** Blocks per second measured over a window (the boards' own figure is per report interval, and jumpy). */
  blocksPerSec: number | null;
  nowMs: number;
}

export function boardRow(b: BoardProcess, c: BoardRowContext): BoardRow {
  const s = b.status;
  const live = b.alive;
  let state: BoardShownState = b.state;
  if (state === 'running' && (b.statusAtMs === null || c.nowMs - b.statusAtMs > BOARD_STATUS_STALE_MS)) state = 'silent';
  return {
    id: b.spec.id,
    org: b.spec.org,
    pid: b.pid,
    state,
    // The peer's status carries its role; an ended board leads nothing.
    role: live ? (s?.role ?? null) : null,
    from: s?.from ?? null,
    height: s?.height ?? null,
    lag: s === null ? null : Math.max(0, (live ? (c.heightAtStatus ?? c.ordererHeight) : c.ordererHeight) - s.height),
    // An ended board's last link and deliver states are history, not its state.
    link: live ? (s?.link ?? '-') : '-',
    deliver: live ? (s?.deliver ?? '-') : '-',
    blocksPerSec: live ? (c.blocksPerSec ?? s?.blocksPerSec ?? 0) : 0,
    rejected: s?.rejected ?? 0,
    error: s?.error ?? b.startError,
    leds: live ? (s?.leds ?? null) : null,
    exitCode: b.exitCode,
    exitSignal: b.exitSignal,
  };
}

/** The organisations in order of first appearance, each with the running boards that report leading it. */
export function orgRows(rows: readonly BoardRow[]): OrgRow[] {
  const byOrg = new Map<string, OrgRow>();
  for (const r of rows) {
    const o = byOrg.get(r.org) ?? { org: r.org, leaders: [], boards: 0 };
    byOrg.set(r.org, o);
    o.boards++;
    // A stopping board still reports (the view's last frame is drawn then); a silent one's role is stale.
    if (r.role === 'leader' && (r.state === 'running' || r.state === 'stopping')) o.leaders.push(r.id);
  }
  return [...byOrg.values()];
}
