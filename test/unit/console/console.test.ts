// The serial console's parts: the board's log lines, the monitor's line splitter, its panel, its hex
// dump and its port list (without udev), and the board-side console output on a mock port.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialPortMock } from 'serialport';
import { BoardView } from '../../../src/console/boardView.js';
import { formatHexLine } from '../../../src/console/hexDump.js';
import { LineSplitter } from '../../../src/console/lineSplitter.js';
import { renderPanel } from '../../../src/console/panel.js';
import { type ListDeps, formatPortList, listPorts } from '../../../src/console/portList.js';
import { ansiPaint, colourWanted, noPaint } from '../../../src/observability/terminal.js';
import { formatLogLine, parseLogLine } from '../../../src/observability/consoleLog.js';
import { ConsoleOutput } from '../../../src/console/consoleOutput.js';
import {
  type StatusReport, formatBlockSources, formatBlockSourcesBrief, formatStatusLine, parseBlockSources, parseStatusLine, soloBlockSources,
} from '../../../src/observability/statusReport.js';

const ESC = '\u001b';
const STATUS = 'edgepeer-status board=b1 channel=ch1 height=2001 link=up deliver=streaming sync=in-sync role=leader bps=0.0 committed=2000 rejected=0 uptime=9 hash=0011223344556677 leds=- from=orderer:120,push:1870,pull:10,catchup:0 error=-';

test('a log record becomes one logfmt console line that parses back', () => {
  const json = JSON.stringify({
    level: 40, time: Date.UTC(2026, 0, 1), pid: 1, hostname: 'h', name: 'peer:b1', channel: 'ch1', block: 41,
    detail: 'expected block 41, got 43', msg: 'block rejected; restarting',
  });
  const line = formatLogLine(json)!;
  assert.equal(line,
    'edgepeer-log level=warn time=2026-01-01T00:00:00.000Z msg="block rejected; restarting" name=peer:b1 channel=ch1 block=41 detail="expected block 41, got 43"');
  assert.deepEqual(parseLogLine(line), {
    level: 'warn', time: '2026-01-01T00:00:00.000Z', msg: 'block rejected; restarting', name: 'peer:b1', channel: 'ch1', block: '41',
    detail: 'expected block 41, got 43',
  });
  assert.equal(formatLogLine('not json'), null);
  assert.equal(parseLogLine(STATUS), null);
});

test('lines are split on LF (CR dropped), across chunks, and a line without end is cut at the limit', () => {
  const got: [string, boolean][] = [];
  const s = new LineSplitter(8, (line, cut) => got.push([line, cut]));
  s.push(Buffer.from('ab\r\ncd'));
  s.push(Buffer.from('ef\n0123456789abcdefXY'));
  s.push(Buffer.from([0xff, 0x0a]));
  s.push(Buffer.from('tail'));
  s.flush();
  assert.deepEqual(got, [['ab', false], ['cdef', false], ['01234567', true], ['89abcdef', true], ['XY\ufffd', false], ['tail', true]]);
});

test('the panel shows the latest status fields, the latest problem and recent lines; colour only when asked', () => {
  const view = new BoardView(100);
  view.portState = 'open';
  const t0 = Date.UTC(2026, 0, 1, 12);
  view.ingest('U-Boot 2024.01 booting', t0);
  view.ingest(STATUS.replace('height=2001', 'height=5'), t0 + 1);
  view.ingest(STATUS, t0 + 2);
  view.ingest('edgepeer-log level=warn msg="deliver stream ended: link down"', t0 + 3);
  const opts = { width: 100, height: 20, nowMs: t0 + 1000, paint: noPaint, timestamps: false, showStatusLines: false, title: 'edgepeer console /dev/x @ 115200' };
  const screen = renderPanel(view, opts).join('\n');
  assert.match(screen, /height\s+2001\b/);
  assert.match(screen, /link\s+up\b/);
  assert.match(screen, /warn: deliver stream ended: link down/);
  assert.match(screen, /U-Boot 2024\.01 booting/);
  assert.doesNotMatch(screen, /edgepeer-status/, 'status lines are in the panel, not the log, unless asked');
  assert.ok(!screen.includes(`${ESC}[`), 'no escape codes without colour');
  assert.match(renderPanel(view, { ...opts, showStatusLines: true }).join('\n'), /edgepeer-status board=b1/);
  assert.ok(renderPanel(view, { ...opts, paint: ansiPaint }).join('\n').includes(`${ESC}[32mup`), 'link up in green');
  assert.ok(renderPanel(view, opts).every((l) => l.length <= 100), 'no line wider than the terminal');
  assert.equal(renderPanel(view, { ...opts, height: 5 }).length, 5);
  assert.deepEqual(parseStatusLine(STATUS)?.['height'], '2001');
  assert.match(screen, /role\s+leader\b/);
  assert.match(screen, /from\s+o 120 p 1870 l 10 c 0\b/, 'the block sources in their brief form');
});

test('the status line carries the block sources after the existing fields and before error; they parse back', () => {
  const report: StatusReport = {
    board: 'org1-board2', channel: 'ch1', height: 3533, lastHash: '00'.repeat(32), link: 'up', endpoint: 'mqtt://x', deliver: 'idle',
    committed: 3532, rejected: 0, error: 'disk full', sync: 'in-sync', role: 'follower', blocksPerSec: 2, uptimeSec: 9, leds: null,
    from: { orderer: 120, push: 3400, pull: 12, catchup: 0 },
  };
  const line = formatStatusLine(report);
  const keys = Object.keys(parseStatusLine(line)!);
  assert.deepEqual(keys, ['board', 'channel', 'height', 'link', 'deliver', 'sync', 'role', 'bps', 'committed', 'rejected', 'uptime', 'hash', 'leds', 'from', 'error']);
  assert.equal(parseStatusLine(line)!['from'], 'orderer:120,push:3400,pull:12,catchup:0');
  assert.equal(parseStatusLine(line)!['error'], 'disk full');
  assert.deepEqual(parseBlockSources(formatBlockSources(report.from)), report.from);
  assert.equal(formatBlockSourcesBrief(report.from), 'o 120 p 3400 l 12 c 0');
  assert.deepEqual(soloBlockSources(7), { orderer: 7, push: 0, pull: 0, catchup: 0 }, 'without gossip every block is from the orderer');
  for (const bad of ['orderer:1,push:2,pull:3', 'push:1,orderer:2,pull:3,catchup:4', 'orderer:1,push:x,pull:3,catchup:4', '-']) {
    assert.equal(parseBlockSources(bad), null, bad);
  }
});

test('NO_COLOR (any non-empty value) and a non-terminal turn colour off', () => {
  assert.equal(colourWanted(true, {}), true);
  assert.equal(colourWanted(true, { NO_COLOR: '1' }), false);
  assert.equal(colourWanted(true, { NO_COLOR: '' }), true);
  assert.equal(colourWanted(false, {}), false);
});

test('hex lines: offset, two groups of eight, printable ASCII', () => {
  assert.equal(formatHexLine(0x20, [...Buffer.from('edgepeer\x00\x01status')]),
    '00000020  65 64 67 65 70 65 65 72  00 01 73 74 61 74 75 73  |edgepeer..status|');
  assert.equal(formatHexLine(0, [0x0a]), `00000000  0a${' '.repeat(21)}  ${' '.repeat(23)}  |.|`);
});

test('port list without udev: by-id links first, the Pi aliases, then real UARTs only', async () => {
  const fs: Record<string, string[]> = {
    '/dev/serial/by-id': ['usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'],
    '/dev': ['ttyUSB0', 'ttyACM0', 'ttyS0', 'ttyS1', 'ttyAMA0', 'tty1', 'null'],
  };
  const links: Record<string, string> = {
    '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0': '/dev/ttyUSB0',
    '/dev/serial0': '/dev/ttyAMA0',
  };
  const deps: ListDeps = {
    list: () => Promise.reject(new Error('spawn udevadm ENOENT')),
    readdir: (d) => { if (fs[d]) return fs[d]!; throw new Error('ENOENT'); },
    realpath: (p) => { if (links[p]) return links[p]!; throw new Error('ENOENT'); },
    readFile: (p) => { if (p === '/sys/class/tty/ttyS0/type') return '4\n'; if (p === '/sys/class/tty/ttyS1/type') return '0\n'; throw new Error('ENOENT'); },
  };
  const ports = await listPorts(deps);
  assert.deepEqual(ports.map((p) => [p.path, p.byId]), [
    ['/dev/ttyUSB0', '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0'],
    ['/dev/ttyAMA0', null],
    ['/dev/ttyACM0', null],
    ['/dev/ttyS0', null],
  ]);
  assert.match(formatPortList(ports), /^\/dev\/serial\/by-id\/usb-FTDI\S+ {2}-> \/dev\/ttyUSB0/);
  // With udev: its list, by-id names attached.
  const withUdev = await listPorts({ ...deps, list: () => Promise.resolve([{ path: '/dev/ttyUSB0', manufacturer: 'FTDI', vendorId: '0403', productId: '6001' }]) });
  assert.deepEqual(withUdev, [{
    path: '/dev/ttyUSB0', byId: '/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0', description: 'FTDI, 0403:6001', source: 'udev',
  }]);
});

test('the board-side console drops lines while its port is away and never throws; it writes CRLF lines once open', async () => {
  const binding = SerialPortMock.binding;
  binding.reset();
  binding.createPort('/dev/mock-console', { record: true });
  const ports: SerialPortMock[] = [];
  let opened = 0;
  const out = new ConsoleOutput({
    port: { path: '/dev/mock-console', baudRate: 115200 },
    portFactory: (o) => { const p = new SerialPortMock(o); ports.push(p); return p; },
    onOpen: () => { opened += 1; },
  });
  out.writeLine('before open');
  out.start();
  await new Promise<void>((resolve) => { const poll = (): void => { if (out.isOpen) resolve(); else setImmediate(poll); }; poll(); });
  out.writeLine(STATUS);
  const mockPort = ports[0]!.port!;
  await out.close();
  assert.equal(opened, 1);
  assert.equal(out.droppedLines, 1, 'the line written before the port was open');
  assert.equal(mockPort.recording.toString(), `${STATUS}\r\n`);
  binding.reset();
});
