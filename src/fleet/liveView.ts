// The demo's terminal view: a header and one row per board, redrawn in place with ANSI cursor movement.
// Lines are cut to the terminal's width (a wrapped line would break the cursor arithmetic) and the board
// list to its height, in display columns (src/observability/terminal.ts). Colour follows NO_COLOR there.
import { formatBlockSourcesBrief } from '../observability/statusReport.js';
import type { BoardRow, DemoSnapshot, OrgRow } from './demoSnapshot.js';
import { type Colour, ansi, ansiPaint, cutToWidth, displayWidth, padToWidth } from '../observability/terminal.js';
import { ledGlyphs } from './ledGlyphs.js';

/** A board this many blocks behind the orderer or more is shown as lagging. */
export const LAG_WARN_BLOCKS = 10;
/** Used when the terminal does not say its size. */
const FALLBACK_COLUMNS = 100;
const FALLBACK_ROWS = 30;

export type Style = Colour;

/** A piece of a line: text, and how to show it when colour is on. */
export type Segment = [text: string, style?: Style];
export type Line = Segment[];

/** A line as terminal text, cut to `width` visible characters. */
export function lineText(line: Line, width: number, colour: boolean): string {
  let out = '';
  let left = width;
  for (const [text, style] of line) {
    if (left <= 0) break;
    const piece = cutToWidth(text, left);
    left -= displayWidth(piece);
    out += colour && style !== undefined ? ansiPaint(piece, style) : piece;
  }
  return out;
}

function formatUptime(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

function stateText(r: BoardRow): string {
  if (r.state !== 'dead' && r.state !== 'stopped') return r.state;
  if (r.exitSignal !== null) return `${r.state} ${r.exitSignal}`;
  return r.exitCode === null ? r.state : `${r.state} (${r.exitCode})`;
}

function stateStyle(r: BoardRow): Style | undefined {
  switch (r.state) {
    case 'running': return 'green';
    case 'dead': return 'red';
    case 'stopped': return 'dim';
    default: return 'yellow';
  }
}

function linkStyle(link: string): Style | undefined {
  if (link === 'up' || link === 'streaming') return 'green';
  if (link === 'down' || link === 'stopped') return 'red';
  if (link === '-') return undefined;
  return 'yellow';
}

function fromText(r: BoardRow): string {
  return r.from === null ? '-' : formatBlockSourcesBrief(r.from);
}

/** "org1 org1-board2": who leads each org; none or several is shown as the problem it is. */
function leadersLine(orgs: readonly OrgRow[], gossip: boolean): Line {
  if (!gossip) return [['gossip', 'bold'], ['   off: every board pulls from the orderer itself', 'dim']];
  const line: Line = [['leaders', 'bold']];
  orgs.forEach((o, i) => {
    line.push([i === 0 ? '  ' : '  ·  ']);
    line.push([`${o.org} `]);
    if (o.leaders.length === 1) line.push([o.leaders[0]!, 'cyan']);
    else if (o.leaders.length === 0) line.push(['electing…', 'yellow']);
    else line.push([`${o.leaders.length} leaders: ${o.leaders.join(', ')}`, 'red']);
  });
  line.push(['   from: o orderer, p push, l pull, c catch-up', 'dim']);
  return line;
}

function lagStyle(lag: number | null): Style | undefined {
  if (lag === null) return undefined;
  if (lag === 0) return 'green';
  return lag >= LAG_WARN_BLOCKS ? 'yellow' : undefined;
}

interface Column {
  title: string;
  width: number;
  right?: boolean;
  cell(r: BoardRow): Segment;
}

function columns(rows: readonly BoardRow[], nowMs: number): Column[] {
  // Status LEDs (link, sync, leader, error), a space, the height bar.
  const ledsWidth = Math.max(4, ...rows.map((r) => (r.leds === null ? 0 : 5 + r.leds.height.length)));
  const idWidth = Math.max(5, ...rows.map((r) => r.id.length));
  const stateWidth = Math.max(7, ...rows.map((r) => stateText(r).length));
  const orgWidth = Math.max(3, ...rows.map((r) => r.org.length));
  const fromWidth = Math.max(4, ...rows.map((r) => fromText(r).length));
  const linkWidth = Math.max(4, ...rows.map((r) => r.link.length));
  const deliverWidth = Math.max(7, ...rows.map((r) => r.deliver.length));
  // A follower has no orderer stream by design: its link and deliver states are shown, not flagged.
  const orderSide = (r: BoardRow, v: string): Segment => [v, r.role === 'follower' ? 'dim' : linkStyle(v)];
  // What matters most comes first, so that a narrow terminal cuts off the least telling columns.
  return [
    { title: 'BOARD', width: idWidth, cell: (r) => [r.id, 'bold'] },
    { title: 'ORG', width: orgWidth, cell: (r) => [r.org] },
    { title: 'ROLE', width: 8, cell: (r) => [r.role ?? '-', r.role === 'leader' ? 'cyan' : undefined] },
    { title: 'PROCESS', width: stateWidth, cell: (r) => [stateText(r), stateStyle(r)] },
    { title: 'HEIGHT', width: 7, right: true, cell: (r) => [r.height === null ? '-' : String(r.height)] },
    { title: 'LAG', width: 5, right: true, cell: (r) => [r.lag === null ? '-' : String(r.lag), lagStyle(r.lag)] },
    { title: 'LEDS', width: ledsWidth, cell: (r) => [r.leds === null ? '-' : ledGlyphs(r.leds, nowMs), r.leds?.error === 'on' ? 'red' : undefined] },
    { title: 'FROM', width: fromWidth, cell: (r) => [fromText(r)] },
    { title: 'BLK/S', width: 6, right: true, cell: (r) => [r.blocksPerSec.toFixed(1)] },
    { title: 'LINK', width: linkWidth, cell: (r) => orderSide(r, r.link) },
    { title: 'DELIVER', width: deliverWidth, cell: (r) => orderSide(r, r.deliver) },
    { title: 'REJ', width: 4, right: true, cell: (r) => [String(r.rejected), r.rejected > 0 ? 'red' : undefined] },
    { title: 'PID', width: 7, right: true, cell: (r) => [r.pid === null ? '-' : String(r.pid)] },
  ];
}

const COLUMN_GAP = '  ';

function pad(text: string, c: Column): string {
  return padToWidth(text, c.width, c.right === true);
}

function boardLine(r: BoardRow, cols: readonly Column[]): Line {
  const line: Line = [];
  cols.forEach((c, i) => {
    const [text, style] = c.cell(r);
    if (i > 0) line.push([COLUMN_GAP]);
    line.push(style === undefined ? [pad(text, c)] : [pad(text, c), style]);
  });
  if (r.error !== null) line.push([`${COLUMN_GAP}${r.error}`, 'red']);
  return line;
}

/** The whole view as lines, at most `maxLines` of them. */
export function renderFrame(s: DemoSnapshot, maxLines: number): Line[] {
  const l = s.load;
  const header: Line[] = [
    [['edgepeer demo', 'bold'], [`  channel ${s.channel}  broker ${s.brokerUrl}  up ${formatUptime(s.uptimeMs)}`]],
    [
      ['orderer', 'bold'], ['  height '], [String(s.ordererHeight), 'bold'], [`  blocks/s ${s.blocksPerSec.toFixed(1)}`],
      [`  tx/s ${s.txPerSec.toFixed(1)}`], [` (target ${s.targetTxPerSec} × ${s.txSizeBytes} B)`, 'dim'],
      [`  accepted ${l.accepted}`], [`  failed ${l.failed}`, l.failed > 0 ? 'red' : undefined],
      ...(l.skipped > 0 ? [[`  skipped ${l.skipped}`, 'yellow'] as Segment] : []),
    ],
    leadersLine(s.orgs, s.gossip),
    [['data', 'bold'], [`     ${s.dir}`], ['   Ctrl-C stops', 'dim']],
    [],
  ];
  const cols = columns(s.boards, s.atMs);
  const titles: Line = [[cols.map((c) => pad(c.title, c)).join(COLUMN_GAP), 'bold']];
  const room = Math.max(0, maxLines - header.length - 1);
  const rows = s.boards.map((r) => boardLine(r, cols));
  if (rows.length > room) {
    const shown = Math.max(0, room - 1);
    const hidden = rows.length - shown;
    return [...header, titles, ...rows.slice(0, shown), [[`… ${hidden} more boards (run with --plain to see every one)`, 'dim']]];
  }
  return [...header, titles, ...rows];
}

/** What the live view needs of the terminal (process.stdout when it is a TTY). */
export interface TerminalOut {
  write(text: string): boolean;
  columns?: number;
  rows?: number;
  on(event: 'resize', listener: () => void): unknown;
  off(event: 'resize', listener: () => void): unknown;
}

export class LiveView {
  private drawnLines = 0;
  private closed = false;
  private readonly onResize = (): void => {
    // Lines cut for the old width may have wrapped: the cursor arithmetic no longer holds, start afresh.
    this.out.write(ansi.clearScreenHome);
    this.drawnLines = 0;
  };
  private readonly restoreCursor = (): void => {
    if (!this.closed) this.out.write(ansi.showCursor);
  };

  constructor(private readonly out: TerminalOut, private readonly colour: boolean) {
    out.write(ansi.hideCursor);
    out.on('resize', this.onResize);
    // A crash must not leave the user's terminal without a cursor.
    process.once('exit', this.restoreCursor);
  }

  render(s: DemoSnapshot): void {
    if (this.closed) return;
    const width = Math.max(1, (this.out.columns ?? FALLBACK_COLUMNS) - 1);
    // One row stays free for the cursor, so the frame never scrolls the screen.
    const height = Math.max(1, (this.out.rows ?? FALLBACK_ROWS) - 1);
    const lines = renderFrame(s, height);
    let text = this.drawnLines > 0 ? ansi.up(this.drawnLines) : '\r';
    for (const line of lines) text += `${lineText(line, width, this.colour)}${ansi.clearLineRight}\n`;
    text += ansi.clearBelow;
    this.out.write(text);
    this.drawnLines = lines.length;
  }

  /** Leaves the last frame on screen and gives the cursor back. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.out.off('resize', this.onResize);
    process.off('exit', this.restoreCursor);
    this.out.write(ansi.showCursor);
  }
}
