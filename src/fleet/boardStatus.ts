// Reads a board's `--status-json` lines back into StatusReports. A line that is not a complete report
// (something else the board printed, a half-written line) is ignored rather than trusted.
import type { StatusReport } from '../peer/statusReport.js';
import type { DeliverClientState } from '../peer/deliverClient.js';
import type { LinkState } from '../transport/link.js';

const LINK_STATES: readonly LinkState[] = ['down', 'connecting', 'up'];
const DELIVER_STATES: readonly DeliverClientState[] = ['idle', 'connecting', 'streaming', 'backoff', 'stopped'];

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
  const { board, channel, height, lastHash, link, endpoint, deliver, committed, rejected, error, blocksPerSec, uptimeSec } = f;
  if (!isText(board) || !isText(channel) || !isCount(height) || !isText(lastHash) || !isLinkState(link) || !isText(endpoint)
    || !isDeliverState(deliver) || !isCount(committed) || !isCount(rejected) || !(error === null || isText(error))
    || !isRate(blocksPerSec) || !isRate(uptimeSec)) {
    return null;
  }
  return { board, channel, height, lastHash, link, endpoint, deliver, committed, rejected, error, blocksPerSec, uptimeSec };
}
