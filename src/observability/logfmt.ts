// logfmt, as the board's console lines use it: `prefix key=value key="value with spaces"`. Values are
// bare when they hold no space, quote or '=', otherwise JSON strings. One writer and one reader, for the
// status lines and the log lines alike.

/** A logfmt value: bare when it has no space, quote or '=', otherwise a JSON string. */
export function logfmtValue(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** One field of a line: a null value is written '-' (a board not heard from, a height not known). */
export type LogfmtField = [key: string, value: string | number | null];

/** `prefix key=value ...`. */
export function logfmtLine(prefix: string, fields: readonly LogfmtField[]): string {
  return `${prefix} ${fields.map(([k, v]) => `${k}=${v === null ? '-' : logfmtValue(v)}`).join(' ')}`;
}

/**
 * The fields of a line starting with `prefix` and a space, or null for any other line. A quoted value
 * that is not valid JSON is kept as written (quotes included) rather than dropping the line.
 */
export function parseLogfmtLine(prefix: string, line: string): Record<string, string> | null {
  const t = line.trim();
  if (!t.startsWith(`${prefix} `)) return null;
  const out: Record<string, string> = {};
  const re = /(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g;
  for (const m of t.slice(prefix.length + 1).matchAll(re)) {
    const v = m[2]!;
    if (!v.startsWith('"')) {
      out[m[1]!] = v;
      continue;
    }
    try {
      out[m[1]!] = JSON.parse(v) as string;
    } catch {
      out[m[1]!] = v;
    }
  }
  return out;
}
