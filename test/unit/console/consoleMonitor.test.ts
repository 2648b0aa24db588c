// The console monitor (src/console/monitor.ts) on @serialport/binding-mock through its PortFactory seam: a
// port that opens, goes away and comes back (what it prints each time, a torn line not glued to the next
// one, a failing reopen reported once), the board's bytes split into lines across chunks, timestamps and
// colour only when asked, the --log copy, the hex dump, and the panel's terminal set-up and hand-back
// with its keys.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test, type TestContext } from 'node:test';
import { SerialPortMock } from 'serialport';
import { formatHexLine } from '../../../src/console/hexDump.js';
import { Monitor, type MonitorInput, type MonitorOptions } from '../../../src/console/monitor.js';
import type { PortFactory } from '../../../src/transport/serial/managedPort.js';
import { ESC, ansi } from '../../../src/observability/terminal.js';
import { EVENT_WAIT_LIMIT_MS } from '../../helpers/fakes.js';
import { withTimeout } from '../../helpers/wait.js';

// In ESM the MockBinding export can be another instance than the one SerialPortMock uses.
const binding = SerialPortMock.binding;
const BAUD = 115200;
const PATH = '/dev/mock-console';
const REOPEN = { baseDelayMs: 5, maxDelayMs: 20 };
const STATUS = 'edgepeer-status board=b1 channel=ch1 height=42 link=up deliver=streaming sync=in-sync role=leader bps=0.0 committed=41 rejected=0 uptime=9 hash=0011223344556677 leds=- from=- error=-';

afterEach(() => binding.reset());

/** What the monitor wrote, as the writes and as the lines they make; waits for a line without sleeping. */
class Screen {
  readonly writes: string[] = [];
  private waiters: { re: RegExp; from: number; resolve: (line: string) => void }[] = [];
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  private readonly resizeListeners = new Set<() => void>();

  private writeWaiters: { pred: (w: string) => boolean; resolve: () => void }[] = [];

  write(text: string): boolean {
    this.writes.push(text);
    this.writeWaiters = this.writeWaiters.filter((w) => { if (!w.pred(text)) return true; w.resolve(); return false; });
    const lines = this.lines;
    this.waiters = this.waiters.filter((w) => {
      const hit = lines.slice(w.from).find((l) => w.re.test(l));
      if (hit === undefined) return true;
      w.resolve(hit);
      return false;
    });
    return true;
  }

  get lines(): string[] {
    return this.writes.join('').split('\n').slice(0, -1);
  }

  /** The first line from index `from` on matching `re`, now or when it is written. */
  line(re: RegExp, from = 0): Promise<string> {
    const hit = this.lines.slice(from).find((l) => re.test(l));
    if (hit !== undefined) return Promise.resolve(hit);
    return withTimeout(new Promise<string>((resolve) => this.waiters.push({ re, from, resolve })), `a line matching ${re}; have:\n${this.lines.join('\n')}`, EVENT_WAIT_LIMIT_MS * 2);
  }

  /** Resolves when a write satisfying `pred` has been made (now or later). */
  written(pred: (w: string) => boolean, what: string): Promise<void> {
    if (this.writes.some(pred)) return Promise.resolve();
    return withTimeout(new Promise<void>((resolve) => this.writeWaiters.push({ pred, resolve })), what, EVENT_WAIT_LIMIT_MS * 2);
  }

  on(_event: 'resize', listener: () => void): void { this.resizeListeners.add(listener); }
  off(_event: 'resize', listener: () => void): void { this.resizeListeners.delete(listener); }
  get listening(): number { return this.resizeListeners.size; }
}

/** A factory that remembers the ports it made and tells when it made the n-th. */
function mockFactory(): { factory: PortFactory; ports: SerialPortMock[]; made(n: number): Promise<void> } {
  const ports: SerialPortMock[] = [];
  const waiting: { n: number; resolve: () => void }[] = [];
  return {
    ports,
    factory: (o) => {
      const p = new SerialPortMock(o);
      ports.push(p);
      for (const w of waiting.splice(0)) if (ports.length >= w.n) w.resolve(); else waiting.push(w);
      return p;
    },
    made: (n) => (ports.length >= n ? Promise.resolve() : withTimeout(new Promise<void>((resolve) => waiting.push({ n, resolve })), `port object ${n}`, EVENT_WAIT_LIMIT_MS)),
  };
}

function monitor(t: TestContext, o: Partial<MonitorOptions> & { out: Screen; portFactory: PortFactory }): Monitor {
  const m = new Monitor({ port: { path: PATH, baudRate: BAUD }, mode: 'plain', timestamps: false, colour: false, reopen: REOPEN, ...o });
  t.after(() => m.stop());
  return m;
}

function feed(port: SerialPortMock, text: string | Uint8Array): void {
  port.port!.emitData(Buffer.from(text));
}

test('plain: the port opening is announced, and the bytes become lines across chunks (CR dropped)', async (t) => {
  binding.createPort(PATH);
  const out = new Screen();
  const { factory, ports } = mockFactory();
  const m = monitor(t, { out, portFactory: factory });
  m.start();
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  await out.line(/open at/);
  feed(ports[0]!, 'U-Boot 2024\r\nedgepeer-log level=info msg="start');
  feed(ports[0]!, 'ed"\n');
  feed(ports[0]!, `${STATUS}\nlast`);
  await out.line(/^edgepeer-status/);
  assert.deepEqual(out.lines, [
    `[console] ${PATH} open at ${BAUD} baud`,
    'U-Boot 2024',
    'edgepeer-log level=info msg="started"',
    STATUS,
  ]);
  assert.equal(m.view.status?.['height'], '42');
  // A line still without its end is printed when the monitor stops, not lost.
  await m.stop();
  assert.equal(out.lines.at(-1), 'last');
  assert.equal(m.lastError, null);
});

test('a port that goes away: the torn line is printed on its own, a failing reopen is reported once, and the port comes back', async (t) => {
  binding.createPort(PATH);
  const out = new Screen();
  const { factory, ports, made } = mockFactory();
  const m = monitor(t, { out, portFactory: factory });
  m.start();
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  feed(ports[0]!, 'before\nhalf a li');
  await out.line(/^before$/);

  // Unplugged: the device node disappears and the open port closes under the monitor.
  binding.reset();
  const lossAt = out.lines.length;
  await new Promise<void>((resolve) => ports[0]!.close(() => resolve()));
  await out.line(/^half a li$/, lossAt);
  assert.equal(m.view.reconnects, 1);
  assert.equal(m.view.portState, 'lost');
  // Several reopen attempts fail the same way while the device is absent...
  await made(4);
  const failed = await out.line(/reopening with backoff/, lossAt + 1);
  assert.match(m.lastError ?? '', /./);
  const sameFailure = out.lines.filter((l) => l === failed);
  assert.equal(sameFailure.length, 1, `reported once:\n${out.lines.join('\n')}`);

  // ...until it is back.
  binding.createPort(PATH);
  const backAt = out.lines.length;
  await out.line(new RegExp(`^\\[console\\] ${PATH} open at ${BAUD} baud$`), backAt);
  assert.equal(m.view.portState, 'open');
  const port = ports.at(-1)!;
  feed(port, 'ne\nafter\n');
  await out.line(/^after$/, backAt);
  // The rest of the torn line is a line of its own, not glued to what came before the loss.
  assert.ok(out.lines.includes('ne'), out.lines.join('\n'));
  assert.equal(out.lines.some((l) => l.includes('half a line')), false);
  assert.equal(out.lines.filter((l) => l.includes('open at')).length, 2);
});

test('timestamps and colour only when asked: the monitor\'s own lines cyan, the stamp dim', async (t) => {
  binding.createPort(PATH);
  const out = new Screen();
  const { factory, ports } = mockFactory();
  const m = monitor(t, { out, portFactory: factory, timestamps: true, colour: true });
  m.start();
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  feed(ports[0]!, 'board line\n');
  const boardLine = await out.line(/board line/);
  const stamp = `${ESC}2m\\d\\d:\\d\\d:\\d\\d\\.\\d{3}${ESC}22m `.replaceAll('[', '\\[');
  assert.match(boardLine, new RegExp(`^${stamp}board line$`));
  assert.match(out.lines[0]!, new RegExp(`^${stamp}${ESC.replace('[', '\\[')}36m\\[console\\] ${PATH} open at ${BAUD} baud${ESC.replace('[', '\\[')}39m$`));
});

test('--log keeps every line with an ISO time, and a log that cannot be written is reported once while the monitor goes on', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-monitor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  binding.createPort(PATH);
  const out = new Screen();
  const { factory, ports } = mockFactory();
  const logFile = join(dir, 'console.log');
  const m = monitor(t, { out, portFactory: factory, logFile });
  m.start();
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  feed(ports[0]!, 'one\ntwo\n');
  await out.line(/^two$/);
  await m.stop();
  const logged = readFileSync(logFile, 'utf8').split('\n').slice(0, -1);
  assert.equal(logged.length, 3, logged.join('\n'));
  const iso = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
  assert.match(logged[0]!, new RegExp(`^${iso} \\[console\\] ${PATH} open at ${BAUD} baud$`));
  assert.match(logged[1]!, new RegExp(`^${iso} one$`));
  assert.match(logged[2]!, new RegExp(`^${iso} two$`));

  binding.reset();
  binding.createPort(PATH);
  const out2 = new Screen();
  const second = mockFactory();
  const bad = join(dir, 'no-such-folder', 'console.log');
  const m2 = monitor(t, { out: out2, portFactory: second.factory, logFile: bad });
  m2.start();
  await withTimeout(m2.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  await out2.line(new RegExp(`^\\[console\\] cannot write ${bad}: ENOENT`));
  feed(second.ports[0]!, 'still shown\n');
  await out2.line(/^still shown$/);
  assert.equal(out2.lines.filter((l) => l.includes('cannot write')).length, 1);
});

test('hex: the bytes as they come, offsets running on across chunks', async (t) => {
  binding.createPort(PATH);
  const out = new Screen();
  const { factory, ports } = mockFactory();
  const m = monitor(t, { out, portFactory: factory, mode: 'hex' });
  m.start();
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  const first = [...Buffer.from('edgepeer\n')];
  const second = [0x00, 0xff, 0x1b];
  feed(ports[0]!, Buffer.from(first));
  await out.line(/^00000000/);
  feed(ports[0]!, Buffer.from(second));
  await out.line(/^00000009/);
  assert.deepEqual(out.lines.slice(1), [formatHexLine(0, first), formatHexLine(first.length, second)]);
});

test('panel: the alternate screen while running, keys read raw (s toggles, q quits), the terminal handed back with the last status', async (t) => {
  binding.createPort(PATH);
  const out = new Screen();
  out.isTTY = true;
  out.columns = 100;
  out.rows = 20;
  const { factory, ports } = mockFactory();
  const keys = new Set<(chunk: Buffer) => void>();
  const raw: boolean[] = [];
  const flow: string[] = [];
  const input: MonitorInput = {
    isTTY: true,
    setRawMode: (r) => raw.push(r),
    on: (_e, l) => keys.add(l),
    off: (_e, l) => keys.delete(l),
    resume: () => flow.push('resume'),
    pause: () => flow.push('pause'),
  };
  const m = monitor(t, { out, portFactory: factory, mode: 'panel', input });
  m.start();
  assert.equal(out.writes[0], ansi.altScreenOn + ansi.hideCursor);
  assert.deepEqual(raw, [true]);
  assert.equal(keys.size, 1);
  assert.equal(out.listening, 1, 'redrawn on resize');
  await withTimeout(m.opened, 'the port to open', EVENT_WAIT_LIMIT_MS);
  feed(ports[0]!, `${STATUS}\n`);
  // The panel shows the status (redrawn within redrawIntervalMs of the line).
  await out.written((w) => w.startsWith(ansi.home) && /height\s+42\b/.test(w), 'a panel showing height 42');
  // Board lines never go to the terminal as lines while the panel is up.
  assert.equal(out.writes.some((w) => w === `${STATUS}\n`), false);
  const before = out.writes.length;
  for (const k of keys) k(Buffer.from('s'));
  assert.ok(out.writes.length > before, 's redraws at once');
  for (const k of keys) k(Buffer.from('xq'));
  assert.equal(await withTimeout(m.quitRequested, 'quit', EVENT_WAIT_LIMIT_MS), 'q');
  await m.stop();
  assert.deepEqual(raw, [true, false]);
  assert.deepEqual(flow, ['resume', 'pause']);
  assert.equal(keys.size, 0);
  assert.equal(out.listening, 0);
  assert.deepEqual(out.writes.slice(-2), [ansi.showCursor + ansi.altScreenOff, `last status from ${PATH}: height=42 link=up\n`]);
  // Nothing is drawn after the hand-back.
  const handedBack = out.writes.length;
  await m.stop();
  assert.equal(out.writes.length, handedBack);
});

test('Ctrl-C and Ctrl-] quit too, named as such', async (t) => {
  for (const [key, name] of [[0x03, 'Ctrl-C'], [0x1d, 'Ctrl-]']] as const) {
    binding.reset();
    binding.createPort(PATH);
    const keys: ((chunk: Buffer) => void)[] = [];
    const input: MonitorInput = { isTTY: true, setRawMode: () => undefined, on: (_e, l) => keys.push(l), off: () => undefined, resume: () => undefined, pause: () => undefined };
    const m = monitor(t, { out: new Screen(), portFactory: mockFactory().factory, input });
    m.start();
    keys[0]!(Buffer.from([key]));
    assert.equal(await withTimeout(m.quitRequested, name, EVENT_WAIT_LIMIT_MS), name);
    await m.stop();
  }
});
