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
