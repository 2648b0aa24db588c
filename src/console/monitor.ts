// `edgepeer console`: a serial monitor in the spirit of tio, specialised for edgepeer boards. It keeps
// the port open (reopening it with backoff when it goes away), splits what the board prints into
// lines, decodes the board's status and log lines, and shows them as a live panel (on a terminal),
// as timestamped lines (`--plain`), or as a hex dump (`--hex`); `--log FILE` keeps a copy of every line.
import { createWriteStream, type WriteStream } from 'node:fs';
import { consoleDefaults } from './consoleDefaults.js';
import { ManagedSerialPort, type PortFactory, type PortState } from '../transport/serial/managedPort.js';
import type { SerialPortSpec } from '../transport/serial/serialEndpoint.js';
import { BoardView } from './boardView.js';
import { HexDumper } from './hexDump.js';
import { LineSplitter } from './lineSplitter.js';
import { renderPanel } from './panel.js';
import { ansi, ansiPaint, clockTime, noPaint } from '../observability/terminal.js';

export type MonitorMode = 'panel' | 'plain' | 'hex';

/** Keys that quit when stdin is a terminal: q, Ctrl-] (tio's and telnet's escape), Ctrl-C (raw mode eats SIGINT). */
const QUIT_KEYS = new Set([0x71, 0x1d, 0x03]);
const TOGGLE_STATUS_KEY = 0x73;
/** The panel's "last report n s ago" is refreshed this often even when the board is silent. */
const PANEL_TICK_MS = 1_000;

export interface MonitorOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface MonitorInput {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  off(event: 'data', listener: (chunk: Buffer) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface MonitorOptions {
  port: SerialPortSpec;
  mode: MonitorMode;
  timestamps: boolean;
  colour: boolean;
  out: MonitorOutput;
  /** Keys are read from here when it is a terminal. */
  input?: MonitorInput;
  logFile?: string;
  portFactory?: PortFactory;
  reopen?: { baseDelayMs?: number; maxDelayMs?: number };
}

export class Monitor {
  readonly view = new BoardView(consoleDefaults.logLines);
  /** Resolves when the user asks to quit (q, Ctrl-], Ctrl-C at the keyboard). */
  readonly quitRequested: Promise<string>;
  private requestQuit!: (why: string) => void;
  private readonly port: ManagedSerialPort;
  private readonly lines: LineSplitter;
  private readonly hex: HexDumper;
  private log: WriteStream | null = null;
  private showStatusLines = false;
  private redrawTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private lastState: PortState = 'idle';
  private stopped = false;
  private readonly onKey = (chunk: Buffer): void => this.handleKeys(chunk);
  private readonly onResize = (): void => this.redrawNow();

  /** Resolves the first time the port opens (a deadline on it is the command's: src/cli/commands/console.ts). */
  readonly opened: Promise<void>;
  private markOpened: () => void = () => undefined;
  private lastErrorText: string | null = null;

  /** Why the port last failed to open, or null. */
  get lastError(): string | null {
    return this.lastErrorText;
  }

  constructor(private readonly o: MonitorOptions) {
    this.quitRequested = new Promise((resolve) => (this.requestQuit = resolve));
    this.opened = new Promise((resolve) => (this.markOpened = resolve));
    this.lines = new LineSplitter(consoleDefaults.maxLineBytes, (line) => this.handleLine(line));
    this.hex = new HexDumper((line) => this.emit(line, 'other'));
    this.port = new ManagedSerialPort({
      port: o.port,
      reopen: o.reopen,
      portFactory: o.portFactory,
      onData: (chunk) => this.handleData(chunk),
      onState: (state, detail) => this.handleState(state, detail),
      // Reported once per distinct error until the port opens again: a missing device does not flood.
      onError: (err) => {
        this.lastErrorText = err.message;
        this.event(`${o.port.path}: ${err.message}; reopening with backoff`);
      },
    });
  }

  start(): void {
    if (this.o.logFile !== undefined) {
      this.log = createWriteStream(this.o.logFile, { flags: 'a' });
      // A log that cannot be written (a bad path, a full disk) is reported once, and the monitor goes on.
      this.log.once('error', (err) => {
        this.event(`cannot write ${this.o.logFile}: ${err.message}`);
        this.log = null;
      });
    }
    const input = this.o.input;
    if (input?.isTTY === true && input.setRawMode !== undefined) {
      input.setRawMode(true);
      input.on('data', this.onKey);
      input.resume();
    }
    if (this.o.mode === 'panel') {
      this.o.out.write(ansi.altScreenOn + ansi.hideCursor);
      this.o.out.on?.('resize', this.onResize);
      this.tickTimer = setInterval(() => this.redrawNow(), PANEL_TICK_MS);
      this.redrawNow();
    }
    this.port.start();
  }

  /** Closes the port and the log, and gives the terminal back as it was. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.redrawTimer !== null) clearTimeout(this.redrawTimer);
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    await this.port.close();
    this.lines.flush();
    this.hex.flush();
    const input = this.o.input;
    if (input?.isTTY === true && input.setRawMode !== undefined) {
      input.off('data', this.onKey);
      input.setRawMode(false);
      input.pause();
    }
    if (this.o.mode === 'panel') {
      this.o.out.off?.('resize', this.onResize);
      this.o.out.write(ansi.showCursor + ansi.altScreenOff);
      const s = this.view.status;
      if (s !== null) this.o.out.write(`last status from ${this.o.port.path}: height=${s['height'] ?? '?'} link=${s['link'] ?? '?'}\n`);
    }
    const log = this.log;
    this.log = null;
    if (log !== null) await new Promise<void>((resolve) => log.end(() => resolve()));
  }

  private handleData(chunk: Buffer): void {
    if (this.o.mode === 'hex') {
      this.hex.push(chunk);
      this.hex.flush();
      return;
    }
    this.lines.push(chunk);
  }

  private handleLine(line: string): void {
    const kind = this.view.ingest(line, Date.now());
    this.emit(line, kind);
  }

  private handleState(state: PortState, detail: string): void {
    const wasOpen = this.lastState === 'open';
    this.lastState = state;
    if (state === 'open') {
      this.markOpened();
      this.view.portState = 'open';
      this.view.portDetail = '';
      this.event(`${this.o.port.path} open at ${this.o.port.baudRate} baud`);
    } else if (state === 'backoff') {
      if (wasOpen) {
        this.view.reconnects += 1;
        // The rest of a line torn by the loss will not come.
        this.lines.flush();
        this.hex.flush();
      }
      this.view.portState = 'lost';
      this.view.portDetail = detail;
    } else if (state === 'opening') {
      if (this.view.portState !== 'lost') this.view.portState = 'opening';
    } else if (state === 'closed') {
      this.view.portState = 'closed';
    }
    this.scheduleRedraw();
  }

  /** A line of the monitor's own. */
  private event(text: string): void {
    const line = `[console] ${text}`;
    this.view.event(line, Date.now());
    this.emit(line, 'event');
  }

  /** One line to the log file, and to stdout unless the panel shows it. */
  private emit(line: string, kind: string): void {
    const now = Date.now();
    this.log?.write(`${new Date(now).toISOString()} ${line}\n`);
    if (this.o.mode === 'panel') {
      this.scheduleRedraw();
      return;
    }
    const paint = this.o.colour ? ansiPaint : noPaint;
    const stamp = this.o.timestamps ? `${paint(clockTime(now), 'dim')} ` : '';
    const text = kind === 'event' ? paint(line, 'cyan') : line;
    this.o.out.write(`${stamp}${text}\n`);
  }

  private scheduleRedraw(): void {
    if (this.o.mode !== 'panel' || this.redrawTimer !== null || this.stopped) return;
    this.redrawTimer = setTimeout(() => {
      this.redrawTimer = null;
      this.redrawNow();
    }, consoleDefaults.redrawIntervalMs);
  }

  private redrawNow(): void {
    if (this.o.mode !== 'panel' || this.stopped) return;
    const width = this.o.out.columns ?? 80;
    const height = this.o.out.rows ?? 24;
    const rows = renderPanel(this.view, {
      width, height, nowMs: Date.now(), paint: this.o.colour ? ansiPaint : noPaint, timestamps: this.o.timestamps,
      showStatusLines: this.showStatusLines, title: `edgepeer console ${this.o.port.path} @ ${this.o.port.baudRate}`,
    });
    this.o.out.write(ansi.home + rows.map((r) => r + ansi.clearLineRight).join('\r\n') + ansi.clearBelow);
  }

  private handleKeys(chunk: Buffer): void {
    for (const key of chunk) {
      if (QUIT_KEYS.has(key)) {
        this.requestQuit(key === 0x03 ? 'Ctrl-C' : key === 0x1d ? 'Ctrl-]' : 'q');
        return;
      }
      if (key === TOGGLE_STATUS_KEY) {
        this.showStatusLines = !this.showStatusLines;
        this.redrawNow();
      }
    }
  }
}
