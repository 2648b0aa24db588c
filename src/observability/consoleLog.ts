// The board's warnings and errors as console lines, in the same logfmt shape as its status lines so
// that one parser reads both:  edgepeer-log level=warn msg="block rejected; ..." channel=ch1 block=41
// The input is one of the logger's JSON records (pino: level as a number, time, msg, fields).

import { logfmtValue, parseLogfmtLine } from './logfmt.js';

export const LOG_LINE_PREFIX = 'edgepeer-log';

/** pino's numeric levels. */
const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Record fields that are the logger's bookkeeping, not the event's. */
const SKIPPED_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

/** One console line for a JSON log record, or null when the text is not one. */
export function formatLogLine(json: string): string | null {
  let record: unknown;
  try {
    record = JSON.parse(json);
  } catch {
    return null;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return null;
  const r = record as Record<string, unknown>;
  const level = typeof r['level'] === 'number' ? (LEVEL_NAMES[r['level']] ?? String(r['level'])) : String(r['level'] ?? 'info');
  const parts = [`level=${level}`];
  if (typeof r['time'] === 'number') parts.push(`time=${new Date(r['time']).toISOString()}`);
  parts.push(`msg=${logfmtValue(r['msg'] ?? '')}`);
  for (const [k, v] of Object.entries(r)) {
    if (SKIPPED_FIELDS.has(k) || v === undefined || !/^\w+$/.test(k)) continue;
    parts.push(`${k}=${logfmtValue(v)}`);
  }
  return `${LOG_LINE_PREFIX} ${parts.join(' ')}`;
}

export function parseLogLine(line: string): Record<string, string> | null {
  return parseLogfmtLine(LOG_LINE_PREFIX, line);
}
