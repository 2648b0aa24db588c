// Reads a board's `--status-json` lines back into StatusReports. A line that is not a complete report
// (something else the board printed, a half-written line) is ignored rather than trusted.
import {
  type BlockSources, type BoardRole, GOSSIP_BLOCK_ORIGINS, type LedLight, type LedsReport, type StatusReport, type SyncState, soloBlockSources,
} from '../observability/statusReport.js';
import type { DeliverClientState } from '../peer/deliverClient.js';
import type { LinkState } from '../transport/link.js';

const LINK_STATES: readonly LinkState[] = ['down', 'connecting', 'up'];
const DELIVER_STATES: readonly DeliverClientState[] = ['idle', 'connecting', 'streaming', 'backoff', 'stopped'];
const SYNC_STATES: readonly SyncState[] = ['offline', 'syncing', 'in-sync', 'forked'];
const ROLES: readonly BoardRole[] = ['leader', 'follower'];
const LIGHTS: readonly LedLight[] = ['off', 'on', 'blink', 'alternate'];

type Fields = Record<string, unknown>;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isText = (v: unknown): v is string => typeof v === 'string';

function isLinkState(v: unknown): v is LinkState {
  return (LINK_STATES as readonly unknown[]).includes(v);
}

function isDeliverState(v: unknown): v is DeliverClientState {
  return (DELIVER_STATES as readonly unknown[]).includes(v);
}

const isOneOf = <T>(values: readonly T[]) => (v: unknown): v is T => (values as readonly unknown[]).includes(v);
const isLight = isOneOf(LIGHTS);

/** The `leds` of a report; null when absent or not the shape a board sends (the rest of the report still counts). */
function parseLeds(v: unknown): LedsReport | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const { link, sync, leader, error, height } = v as Fields;
  if (!isLight(link) || !isLight(sync) || !isLight(leader) || !isLight(error)) return null;
  if (!Array.isArray(height) || !height.every((b) => typeof b === 'boolean')) return null;
  return { link, sync, leader, error, height: height as boolean[] };
}

/** The `from` of a JSON report: a count for every block origin, or null when it is not that shape. */
function blockSourcesFromJson(v: unknown): BlockSources | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const f = v as Fields;
  const out = soloBlockSources(0);
  for (const o of GOSSIP_BLOCK_ORIGINS) {
    const n = f[o];
    if (!isCount(n)) return null;
    out[o] = n;
  }
  return out;
}

export function parseStatusJson(line: string): StatusReport | null {
  const t = line.trim();
  if (!t.startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(t);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const f = value as Fields;
  const { board, channel, height, lastHash, link, endpoint, deliver, committed, rejected, error, blocksPerSec, uptimeSec, sync, role } = f;
  if (!isOneOf(SYNC_STATES)(sync) || !isOneOf(ROLES)(role)) return null;
  // Where the blocks came from is part of the report, as the role is: the view shows both.
  const from = blockSourcesFromJson(f['from']);
  if (from === null) return null;
  if (!isText(board) || !isText(channel) || !isCount(height) || !isText(lastHash) || !isLinkState(link) || !isText(endpoint)
    || !isDeliverState(deliver) || !isCount(committed) || !isCount(rejected) || !(error === null || isText(error))
    || !isRate(blocksPerSec) || !isRate(uptimeSec)) {
    return null;
  }
  return {
    board, channel, height, lastHash, link, endpoint, deliver, committed, rejected, error, blocksPerSec, uptimeSec, sync, role,
    leds: parseLeds(f['leds']), from,
  };
}
