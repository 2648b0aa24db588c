// Fabric's block cutter: cut at maxMessageCount, cut the pending batch first when an envelope would pass
// preferredMaxBytes, put an oversized envelope in a batch of its own, cut() on demand, new batch config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockCutter } from '../../../src/orderer/blockCutter.js';
import type { BatchConfig } from '../../../src/protocol/channelConfig.js';

const BATCH: BatchConfig = { maxMessageCount: 3, preferredMaxBytes: 100, absoluteMaxBytes: 1000, batchTimeoutMs: 10 };
/** Big enough that only the byte rules cut. */
const NO_COUNT_LIMIT = 1_000;

let tag = 0;
/** An envelope of `bytes` bytes with a distinct first byte, so batches can be compared by identity. */
function env(bytes: number): Uint8Array {
  const e = new Uint8Array(bytes);
  if (bytes > 0) e[0] = ++tag & 0xff;
  return e;
}

test('a batch is cut when it reaches maxMessageCount, envelopes in order', () => {
  const c = new BlockCutter(BATCH);
  const [a, b, d] = [env(10), env(10), env(10)];
  assert.deepEqual(c.ordered(a), []);
  assert.deepEqual(c.ordered(b), []);
  assert.equal(c.pendingCount, 2);
  const out = c.ordered(d);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.length, 3);
  assert.ok(out[0]![0] === a && out[0]![1] === b && out[0]![2] === d);
  assert.equal(c.pendingCount, 0);
  // The next batch starts empty.
  assert.deepEqual(c.ordered(env(10)), []);
  assert.equal(c.pendingCount, 1);
});

test('an envelope that would pass preferredMaxBytes cuts the pending batch first and starts the next', () => {
  const c = new BlockCutter({ ...BATCH, maxMessageCount: NO_COUNT_LIMIT });
  const [a, b, d] = [env(40), env(40), env(30)];
  assert.deepEqual(c.ordered(a), []);
  assert.deepEqual(c.ordered(b), []);
  const out = c.ordered(d); // 80 + 30 > 100
  assert.equal(out.length, 1);
  assert.ok(out[0]!.length === 2 && out[0]![0] === a && out[0]![1] === b);
  assert.equal(c.pendingCount, 1);
  const rest = c.cut();
  assert.ok(rest.length === 1 && rest[0] === d);
});

test('reaching preferredMaxBytes exactly does not cut', () => {
  const c = new BlockCutter({ ...BATCH, maxMessageCount: NO_COUNT_LIMIT });
  assert.deepEqual(c.ordered(env(60)), []);
  assert.deepEqual(c.ordered(env(40)), []); // 100, not above
  assert.equal(c.pendingCount, 2);
  assert.equal(c.ordered(env(1)).length, 1); // 101 would pass it
  assert.equal(c.pendingCount, 1);
});

test('the byte total restarts after a cut', () => {
  const c = new BlockCutter({ ...BATCH, maxMessageCount: NO_COUNT_LIMIT });
  c.ordered(env(90));
  assert.equal(c.ordered(env(90)).length, 1); // cuts [90]
  // Pending is [90] again; had the counter kept the first 90, a 10 would cut.
  assert.deepEqual(c.ordered(env(10)), []);
  assert.equal(c.pendingCount, 2);
  c.cut();
  assert.deepEqual(c.ordered(env(100)), []);
});

test('an envelope larger than preferredMaxBytes goes alone, after the pending batch is cut', () => {
  const c = new BlockCutter(BATCH);
  const [a, big] = [env(10), env(150)];
  c.ordered(a);
  const out = c.ordered(big);
  assert.equal(out.length, 2);
  assert.ok(out[0]!.length === 1 && out[0]![0] === a, 'pending batch first');
  assert.ok(out[1]!.length === 1 && out[1]![0] === big, 'then the oversized envelope on its own');
  assert.equal(c.pendingCount, 0);
  // With nothing pending, only its own batch.
  const big2 = env(101);
  const out2 = c.ordered(big2);
  assert.equal(out2.length, 1);
  assert.ok(out2[0]!.length === 1 && out2[0]![0] === big2);
  assert.equal(c.pendingCount, 0);
});

test('an envelope of exactly preferredMaxBytes is not oversized', () => {
  const c = new BlockCutter(BATCH);
  assert.deepEqual(c.ordered(env(100)), []);
  assert.equal(c.pendingCount, 1);
});

test('cut() returns what is pending and empties the cutter', () => {
  const c = new BlockCutter(BATCH);
  assert.deepEqual(c.cut(), []);
  const [a, b] = [env(5), env(6)];
  c.ordered(a);
  c.ordered(b);
  const batch = c.cut();
  assert.ok(batch.length === 2 && batch[0] === a && batch[1] === b);
  assert.equal(c.pendingCount, 0);
  assert.deepEqual(c.cut(), []);
  // Bytes were reset too: 100 bytes fit in the now empty batch.
  assert.deepEqual(c.ordered(env(100)), []);
});

test('setBatchConfig takes effect for the next envelope', () => {
  const c = new BlockCutter(BATCH);
  c.ordered(env(10));
  c.setBatchConfig({ ...BATCH, maxMessageCount: 2 });
  assert.equal(c.ordered(env(10)).length, 1, 'new maxMessageCount cuts at 2');
  c.setBatchConfig({ ...BATCH, maxMessageCount: NO_COUNT_LIMIT, preferredMaxBytes: 20 });
  c.ordered(env(15));
  assert.equal(c.ordered(env(10)).length, 1, 'new preferredMaxBytes: 15 + 10 > 20');
  const out = c.ordered(env(21));
  assert.equal(out.length, 2, 'an envelope above the new preferredMaxBytes goes alone');
});
