// key=value lines (logfmt), the format of the boards' status lines: values without spaces stay bare,
// others are JSON strings, which parseStatusLine reads back.

export type KeyValueField = [key: string, value: string | number | null];

export function formatValue(v: string | number | null): string {
  if (v === null) return '-';
  if (typeof v === 'number') return String(v);
  return v !== '' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
}

export function keyValueLine(prefix: string, fields: readonly KeyValueField[]): string {
  return `${prefix} ${fields.map(([k, v]) => `${k}=${formatValue(v)}`).join(' ')}`;
}

/** The fields of a line that starts with `prefix` (null for any other line); JSON-string values are decoded. */
export function parseKeyValueLine(prefix: string, line: string): Record<string, string> | null {
  const t = line.trim();
  if (!t.startsWith(`${prefix} `)) return null;
  const out: Record<string, string> = {};
  for (const m of t.slice(prefix.length + 1).matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) {
    const v = m[2]!;
    out[m[1]!] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
  }
  return out;
}
