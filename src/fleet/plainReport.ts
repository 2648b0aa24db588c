// The demo's output when stdout is not a terminal (or with --plain): key=value lines at a steady rate,
// one for the orderer and one per board, for logs, scripts and tests.
import { STATUS_LINE_PREFIX, formatBlockSources, formatLedsCompact } from '../observability/statusReport.js';
import type { BoardRow, DemoSnapshot, OrgRow } from './demoSnapshot.js';
import { logfmtLine } from '../observability/logfmt.js';

export const DEMO_START_PREFIX = 'edgepeer-demo-start';
export const DEMO_BOARD_PREFIX = 'edgepeer-demo-board';
export const DEMO_ORDERER_PREFIX = 'edgepeer-demo-orderer';
export const DEMO_ORG_PREFIX = 'edgepeer-demo-org';

export interface DemoStartInfo {
  dir: string;
  networkDir: string;
  networkCreated: boolean;
  brokerUrl: string;
  channel: string;
  targetTxPerSec: number;
  txSizeBytes: number;
  gossip: boolean;
  /** `console`: the end of the board's serial console to watch (`edgepeer console`); `consolePid`: its socat. */
  boards: { id: string; org: string; pid: number | null; dataDir: string; logFile: string; console?: string | null; consolePid?: number | null }[];
}

/** Printed once at start: where things are and each board's PID (so a caller can check they are gone later). */
export function formatStartLines(s: DemoStartInfo): string[] {
  return [
    logfmtLine(DEMO_START_PREFIX, [
      ['dir', s.dir], ['network', s.networkDir], ['network_created', String(s.networkCreated)], ['broker', s.brokerUrl],
      ['channel', s.channel], ['boards', s.boards.length], ['gossip', String(s.gossip)], ['tx_per_sec', s.targetTxPerSec], ['tx_size', s.txSizeBytes],
    ]),
    ...s.boards.map((b) => logfmtLine(DEMO_BOARD_PREFIX, [
      ['board', b.id], ['org', b.org], ['pid', b.pid], ['data', b.dataDir], ['log', b.logFile],
      ['console', b.console ?? null], ['console_pid', b.consolePid ?? null],
    ])),
  ];
}

function exitText(r: BoardRow): string | null {
  if (r.exitSignal !== null) return r.exitSignal;
  return r.exitCode === null ? null : String(r.exitCode);
}

/**
 * A board's status line: the boards' own key=value format with `org`, `lag`, `role`, `state`, `pid` added
 * (`leds` and `from` as the boards write them).
 */
export function formatBoardLine(r: BoardRow, channel: string): string {
  return logfmtLine(STATUS_LINE_PREFIX, [
    ['board', r.id], ['org', r.org], ['channel', channel], ['height', r.height], ['lag', r.lag], ['link', r.link], ['deliver', r.deliver],
    ['leds', r.leds === null ? null : formatLedsCompact(r.leds)],
    ['bps', r.blocksPerSec.toFixed(1)], ['rejected', r.rejected], ['role', r.role], ['from', r.from === null ? null : formatBlockSources(r.from)],
    ['state', r.state], ['pid', r.pid],
    ['exit', exitText(r)], ['error', r.error],
  ]);
}

export function formatOrdererLine(s: DemoSnapshot): string {
  return logfmtLine(DEMO_ORDERER_PREFIX, [
    ['channel', s.channel], ['height', s.ordererHeight], ['bps', s.blocksPerSec.toFixed(1)], ['txps', s.txPerSec.toFixed(1)],
    ['target_txps', s.targetTxPerSec], ['submitted', s.load.submitted], ['accepted', s.load.accepted], ['failed', s.load.failed],
    ['in_flight', s.load.inFlight], ['skipped', s.load.skipped], ['uptime', Math.round(s.uptimeMs / 1000)],
  ]);
}

/** Who leads an org: `leader` is '-' while nobody does, and `leaders` counts them (1 once settled). */
export function formatOrgLine(o: OrgRow, gossip: boolean): string {
  return logfmtLine(DEMO_ORG_PREFIX, [
    ['org', o.org], ['gossip', String(gossip)], ['leader', o.leaders.length === 1 ? o.leaders[0]! : null], ['leaders', o.leaders.length],
    ['boards', o.boards],
  ]);
}

export function formatPlainReport(s: DemoSnapshot): string[] {
  return [formatOrdererLine(s), ...s.orgs.map((o) => formatOrgLine(o, s.gossip)), ...s.boards.map((r) => formatBoardLine(r, s.channel))];
}
