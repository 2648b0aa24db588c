// "Syncing vs in sync" from what the orderer does: heartbeats, and responses that end before the packing
// limit (the orderer had nothing more) versus full ones (catch-up).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SyncTracker } from '../../../src/peer/syncTracker.js';

const LIMIT = 10_000;
const blocks = (...sizes: number[]): Uint8Array[] => sizes.map((n) => new Uint8Array(n));

test('no stream: offline; a new stream starts as syncing; a heartbeat says in sync', () => {
  const t = new SyncTracker();
  assert.equal(t.state, 'offline');
  t.response(blocks());
  assert.equal(t.state, 'offline', 'nothing counts without a stream');
  t.streamOpened(LIMIT);
  assert.equal(t.state, 'syncing');
  t.response(blocks());
  assert.equal(t.state, 'in-sync');
  t.streamClosed();
  assert.equal(t.state, 'offline');
  t.streamOpened(LIMIT);
  assert.equal(t.state, 'syncing', 'a reconnection has to prove it again');
});

test('full responses (catch-up) are syncing; a response that ended below the limit is in sync one response later', () => {
  const t = new SyncTracker();
  t.streamOpened(LIMIT);
  t.response(blocks(3_000, 3_000, 3_000));
  assert.equal(t.state, 'syncing', 'the first response cannot be judged yet');
  t.response(blocks(3_000, 3_000, 3_000));
  assert.equal(t.state, 'syncing', '9,000 + 3,000 > 10,000: the previous one was full');
  t.response(blocks(500));
  assert.equal(t.state, 'in-sync', '9,000 + 500 fits: had block 500 existed, it would have been packed: that response reached the tip');
});

test('following the tip: small responses, each judged by the next', () => {
  const t = new SyncTracker();
  t.streamOpened(LIMIT);
  t.response(blocks(2_000, 2_000)); // catch-up of a short gap, which fit in one response
  t.response(blocks(1_000));
  assert.equal(t.state, 'in-sync', '4,000 + 1,000 ≤ 10,000: the orderer had no more when it sent the first');
  t.response(blocks(1_000));
  assert.equal(t.state, 'in-sync');
  // A burst: the board falls behind by more than one response.
  t.response(blocks(5_000, 4_000));
  assert.equal(t.state, 'in-sync', 'judges the previous (1,000 + 5,000 fits)');
  t.response(blocks(5_000, 4_000));
  assert.equal(t.state, 'syncing', '9,000 + 5,000 does not fit: that response was full');
  t.response(blocks());
  assert.equal(t.state, 'in-sync', 'a heartbeat: caught up');
  t.response(blocks(1_000));
  assert.equal(t.state, 'in-sync', 'nothing to judge after a heartbeat: stays in sync');
});
