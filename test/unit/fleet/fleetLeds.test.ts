// The demo shows each board's LEDs: read from the board's JSON status line, drawn as ● and ○ beside its
// height and role in the live view (blinking LEDs alternate with the clock), and as `leds=` in plain mode.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatusJson } from '../../../src/fleet/boardStatus.js';
import type { BoardRow, DemoSnapshot } from '../../../src/fleet/demoSnapshot.js';
import { LED_OFF, LED_ON, ledGlyphs } from '../../../src/fleet/ledGlyphs.js';
import { lineText, renderFrame } from '../../../src/fleet/liveView.js';
import { formatBoardLine } from '../../../src/fleet/plainReport.js';
import { parseLogfmtLine } from '../../../src/observability/logfmt.js';
import { type LedsReport, STATUS_LINE_PREFIX, type StatusReport } from '../../../src/observability/statusReport.js';

const LEDS: LedsReport = { link: 'on', sync: 'blink', leader: 'on', error: 'off', height: [true, false, true, true] };
const REPORT: StatusReport = {
  board: 'org1-board1', channel: 'demo', height: 13, lastHash: 'ab'.repeat(32), link: 'up', endpoint: 'mqtt://127.0.0.1:1883',
  deliver: 'streaming', committed: 12, rejected: 0, error: null, sync: 'syncing', role: 'leader', blocksPerSec: 4, uptimeSec: 3, leds: LEDS,
  from: { orderer: 12, push: 0, pull: 0, catchup: 0 },
};
/** A time in the lit half of a blink period, and one in the dark half. */
const LIT_MS = 1_000_100;
const DARK_MS = 1_000_600;

test("a board's JSON status line is read with its LEDs; a malformed leds field is dropped, not trusted", () => {
  assert.deepEqual(parseStatusJson(JSON.stringify(REPORT)), REPORT);
  assert.equal(parseStatusJson(JSON.stringify({ ...REPORT, leds: { ...LEDS, sync: 'flash' } }))?.leds, null);
  assert.equal(parseStatusJson(JSON.stringify({ ...REPORT, leds: { ...LEDS, height: [1, 0] } }))?.leds, null);
  assert.equal(parseStatusJson(JSON.stringify({ ...REPORT, sync: 'maybe' })), null, 'sync is part of the report');
});

test('LED glyphs: status LEDs then the height bar, blinking ones alternating with the clock', () => {
  assert.equal(ledGlyphs(LEDS, LIT_MS), `${LED_ON}${LED_ON}${LED_ON}${LED_OFF} ${LED_ON}${LED_OFF}${LED_ON}${LED_ON}`);
  assert.equal(ledGlyphs(LEDS, DARK_MS), `${LED_ON}${LED_OFF}${LED_ON}${LED_OFF} ${LED_ON}${LED_OFF}${LED_ON}${LED_ON}`);
});

function row(leds: LedsReport | null): BoardRow {
  return {
    id: 'org1-board1', org: 'org1', pid: 42, state: 'running', role: 'leader', from: { orderer: 12, push: 0, pull: 0, catchup: 0 }, height: 13, lag: 0, link: 'up', deliver: 'streaming',
    blocksPerSec: 4, rejected: 0, error: null, leds, exitCode: null, exitSignal: null,
  };
}

test('the live view shows the LEDs beside height and role; plain mode carries them as leds=', () => {
  const snapshot: DemoSnapshot = {
    channel: 'demo', brokerUrl: 'mqtt://127.0.0.1:1883', dir: '/tmp/demo', targetTxPerSec: 50, txSizeBytes: 256, gossip: false, atMs: LIT_MS,
    uptimeMs: 3_000, ordererHeight: 13, txPerSec: 50, blocksPerSec: 4,
    load: { submitted: 0, accepted: 0, failed: 0, inFlight: 0, skipped: 0 }, boards: [row(LEDS), row(null)], orgs: [],
  };
  const lines = renderFrame(snapshot, 30).map((l) => lineText(l, 200, false));
  const title = lines.find((l) => l.includes('HEIGHT'))!;
  assert.ok(title.indexOf('ROLE') < title.indexOf('HEIGHT') && title.indexOf('HEIGHT') < title.indexOf('LEDS'), title);
  const boardLine = lines.find((l) => l.includes('org1-board1') && l.includes(LED_ON))!;
  assert.ok(boardLine.includes(`${LED_ON}${LED_ON}${LED_ON}${LED_OFF} ${LED_ON}${LED_OFF}${LED_ON}${LED_ON}`), boardLine);
  assert.ok(boardLine.includes('leader'));
  const plain = parseLogfmtLine(STATUS_LINE_PREFIX, formatBoardLine(row(LEDS), 'demo'))!;
  assert.equal(plain['leds'], '1~10:1011');
  assert.equal(parseLogfmtLine(STATUS_LINE_PREFIX, formatBoardLine(row(null), 'demo'))!['leds'], '-');
});
