// The live panel: a header with the port, a grid of the board's latest status fields, its latest
// problem, then as many recent lines as fit. Pure: a BoardView and a size in, screen lines out.
import { formatBlockSourcesBrief, parseBlockSources } from '../observability/statusReport.js';
import type { BoardView, LoggedLine } from './boardView.js';
import { type Paint, clockTime, fit } from '../observability/terminal.js';

/** Status fields in the order shown; fields a board adds later are shown after these. */
const FIELD_ORDER = ['board', 'channel', 'role', 'height', 'bps', 'sync', 'link', 'deliver', 'uptime', 'committed', 'rejected', 'hash', 'leds', 'from', 'error'];
const LABEL_WIDTH = 10;
const CELLS_PER_ROW = 3;
const MIN_CELL_WIDTH = 24;
/** A status older than this many ms is shown as stale (boards report every second). */
export const STALE_STATUS_MS = 5_000;

export interface PanelOptions {
  width: number;
  height: number;
  nowMs: number;
  paint: Paint;
  timestamps: boolean;
  /** Status lines are shown in the log area too (toggled with `s`). */
  showStatusLines: boolean;
  title: string;
}

function valueColour(key: string, v: string): Parameters<Paint>[1] | null {
  if (key === 'link') return v === 'up' ? 'green' : v === 'connecting' ? 'yellow' : 'red';
  if (key === 'deliver') return v === 'streaming' ? 'green' : v === 'stopped' ? 'red' : 'yellow';
  if (key === 'sync') return v === 'in-sync' ? 'green' : v === 'forked' ? 'red' : 'yellow';
  if (key === 'error') return v === '-' ? null : 'red';
  if (key === 'rejected') return v === '0' ? null : 'yellow';
  if (key === 'height') return 'bold';
  if (key === 'role') return v === 'leader' ? 'cyan' : null;
  return null;
}

/** A field's value as the panel shows it: the block sources in their brief form, so they fit a cell. */
function shownValue(key: string, v: string): string {
  if (key !== 'from') return v;
  const sources = parseBlockSources(v);
  return sources === null ? v : formatBlockSourcesBrief(sources);
}

function portLine(view: BoardView, o: PanelOptions): string {
  const state = view.portState;
  const colour = state === 'open' ? 'green' : state === 'opening' ? 'yellow' : 'red';
  const right = 'q or Ctrl-] quits · s shows status lines';
  const left = `${o.title} · ${state}${view.portDetail !== '' && state !== 'open' ? ` (${view.portDetail})` : ''} · reconnects ${view.reconnects}`;
  const room = Math.max(0, o.width - right.length - 1);
  const leftFit = fit(left, room);
  return `${o.paint(leftFit.slice(0, o.title.length), 'bold')}${o.paint(leftFit.slice(o.title.length), colour)} ${o.paint(right, 'dim')}`;
}

function statusRows(view: BoardView, o: PanelOptions): string[] {
  const s = view.status;
  if (s === null) return [o.paint(fit('no status report from the board yet', o.width), 'dim')];
  const keys = [...FIELD_ORDER.filter((k) => k in s), ...Object.keys(s).filter((k) => !FIELD_ORDER.includes(k))];
  const cells = Math.max(1, Math.min(CELLS_PER_ROW, Math.floor(o.width / MIN_CELL_WIDTH)));
  const cellWidth = Math.floor(o.width / cells);
  const rows: string[] = [];
  for (let i = 0; i < keys.length; i += cells) {
    const row = keys.slice(i, i + cells).map((k) => {
      const v = shownValue(k, s[k]!);
      const valueWidth = cellWidth - LABEL_WIDTH;
      const label = o.paint(fit(k, LABEL_WIDTH), 'dim');
      const value = fit(v, valueWidth);
      const colour = valueColour(k, v);
      return label + (colour === null ? value : o.paint(value, colour));
    });
    rows.push(row.join(''));
  }
  const age = view.statusAtMs === null ? 0 : o.nowMs - view.statusAtMs;
  const ageText = `last report ${(age / 1000).toFixed(1)} s ago · ${view.statusCount} reports`;
  rows.push(o.paint(fit(ageText, o.width), age > STALE_STATUS_MS ? 'red' : 'dim'));
  return rows;
}

function problemLine(view: BoardView, o: PanelOptions): string {
  const p = view.lastProblem;
  if (p === null) return o.paint(fit('no warnings or errors', o.width), 'dim');
  const text = fit(`${clockTime(p.atMs)} ${p.level}: ${p.msg}`, o.width);
  return o.paint(text, p.level === 'warn' ? 'yellow' : 'red');
}

function logLine(l: LoggedLine, o: PanelOptions): string {
  const prefix = o.timestamps ? `${clockTime(l.atMs)} ` : '';
  const text = fit(`${prefix}${l.text}`, o.width);
  if (l.kind === 'event') return o.paint(text, 'cyan');
  if (l.kind === 'status') return o.paint(text, 'dim');
  return text;
}

export function renderPanel(view: BoardView, o: PanelOptions): string[] {
  const out = [portLine(view, o), ...statusRows(view, o), problemLine(view, o)];
  out.push(o.paint(fit(`── log ${'─'.repeat(o.width)}`, o.width), 'dim'));
  const room = Math.max(0, o.height - out.length);
  const shown = view.lines.filter((l) => o.showStatusLines || l.kind !== 'status').slice(-room);
  for (const l of shown) out.push(logLine(l, o));
  return out.slice(0, o.height);
}
