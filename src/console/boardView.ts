// What the monitor knows about the board at the other end of the console: the port's state, the
// latest status report (decoded from its `edgepeer-status` lines), its latest warning or error
// (`edgepeer-log` lines) and the recent raw lines.
import { parseLogLine } from '../observability/consoleLog.js';
import { parseStatusLine } from '../observability/statusReport.js';

export type ConsolePortState = 'opening' | 'open' | 'lost' | 'closed';

export interface LoggedLine {
  atMs: number;
  text: string;
  kind: 'status' | 'log' | 'other' | 'event';
}

export class BoardView {
  portState: ConsolePortState = 'opening';
  portDetail = '';
  /** Times the port was lost after being open. */
  reconnects = 0;
  status: Record<string, string> | null = null;
  statusAtMs: number | null = null;
  statusCount = 0;
  /** The latest warning or error the board logged, with its level. */
  lastProblem: { atMs: number; level: string; msg: string } | null = null;
  readonly lines: LoggedLine[] = [];

  constructor(private readonly maxLines: number) {}

  /** Takes one line from the board; returns how it was classified. */
  ingest(text: string, atMs: number): LoggedLine['kind'] {
    const status = parseStatusLine(text);
    let kind: LoggedLine['kind'] = 'other';
    if (status !== null) {
      kind = 'status';
      this.status = status;
      this.statusAtMs = atMs;
      this.statusCount += 1;
    } else {
      const log = parseLogLine(text);
      if (log !== null) {
        kind = 'log';
        const level = log['level'] ?? 'info';
        if (level === 'warn' || level === 'error' || level === 'fatal') this.lastProblem = { atMs, level, msg: log['msg'] ?? '' };
      }
    }
    this.remember({ atMs, text, kind });
    return kind;
  }

  /** A line of the monitor's own (port opened, lost), shown among the board's lines. */
  event(text: string, atMs: number): void {
    this.remember({ atMs, text, kind: 'event' });
  }

  private remember(line: LoggedLine): void {
    this.lines.push(line);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }
}
