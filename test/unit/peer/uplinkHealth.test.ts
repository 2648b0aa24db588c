// The deliver client's uplink health as the gossip leader reads it to step down (src/peer/uplinkHealth.ts):
// when the client last heard from the orderer (never before it started), and whether a link is up (not
// known before the client ever ran).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UplinkMonitor } from '../../../src/peer/uplinkHealth.js';

test('a monitor whose client never ran knows nothing: no last-heard time, reachability unknown', () => {
  const m = new UplinkMonitor();
  assert.deepEqual(m.health(true), { lastHeardMs: null, reachable: null });
  assert.deepEqual(m.health(false), { lastHeardMs: null, reachable: null });
});

test('started and silent: last heard counts from the start, so the yield clock starts there', () => {
  const m = new UplinkMonitor();
  m.started(1_000);
  assert.deepEqual(m.health(false), { lastHeardMs: 1_000, reachable: false });
  assert.deepEqual(m.health(true), { lastHeardMs: 1_000, reachable: true });
});

test('a response (a heartbeat too) moves last heard forward', () => {
  const m = new UplinkMonitor();
  m.started(1_000);
  m.heard(4_000);
  assert.equal(m.health(true).lastHeardMs, 4_000);
  m.heard(9_000);
  assert.equal(m.health(true).lastHeardMs, 9_000);
});

test('a restart after an old response counts from the restart, not from the old response', () => {
  const m = new UplinkMonitor();
  m.started(1_000);
  m.heard(2_000);
  m.stopped();
  m.started(50_000);
  assert.equal(m.health(true).lastHeardMs, 50_000, 'a board that leads again gets a full yield period');
  m.heard(51_000);
  assert.equal(m.health(true).lastHeardMs, 51_000);
});

test('stopped: no last-heard time, but reachability stays known (the link may still be up for the next term)', () => {
  const m = new UplinkMonitor();
  m.started(1_000);
  m.heard(2_000);
  m.stopped();
  assert.deepEqual(m.health(false), { lastHeardMs: null, reachable: false });
  assert.deepEqual(m.health(true), { lastHeardMs: null, reachable: true });
});
