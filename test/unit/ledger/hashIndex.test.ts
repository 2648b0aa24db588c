// The ledger's hash index (src/ledger/hashIndex.ts) on a real LMDB file beside real segments: caught up
// on demand in slices of sliceBlocks, each moving indexedHeight with the entries it wrote; a read-only
// handle finds unindexed blocks in the segments and writes nothing; the hashes an appender noted are
// used instead of the segments' tables; damage and a lagging handle are LedgerCorruptErrors; a
// background failure is what the next on-demand catch-up reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HashIndex, type HashIndexOptions } from '../../../src/ledger/hashIndex.js';
import { LedgerCorruptError } from '../../../src/ledger/ledger.js';
import { U64_BYTES, readU64 } from '../../../src/ledger/metaRecords.js';
import { SEGMENT_FIXED_BYTES, SEGMENT_PER_BLOCK_BYTES } from '../../../src/ledger/segment.js';
import { type LedgerEnv, hashAt, openLedgerEnv, testBlock, testHashes } from '../../helpers/ledgerEnv.js';

const BLOCK_BYTES = 40;
/** Segments of four blocks. */
const SEGMENT_BYTES = SEGMENT_FIXED_BYTES + 4 * (SEGMENT_PER_BLOCK_BYTES + BLOCK_BYTES);
const SLICE_BLOCKS = 3;
const RECENT_BLOCKS = 64;
const HEIGHT = 10;

/** HEIGHT blocks stored in segments, the head at HEIGHT, none indexed. */
function stored(t: { after(fn: () => unknown): void }): { e: LedgerEnv; hashes: Uint8Array } {
  const e = openLedgerEnv(t, SEGMENT_BYTES);
  const hashes = testHashes(0, HEIGHT);
  e.putRun(0, Array.from({ length: HEIGHT }, (_, n) => testBlock(n, BLOCK_BYTES)), hashes);
  e.putMeta(HEIGHT, 0);
  return { e, hashes };
}

function index(e: LedgerEnv, over: Partial<HashIndexOptions> = {}): HashIndex {
  return new HashIndex({
    env: e.env, meta: e.meta, segments: e.store, path: e.path, height: () => HEIGHT, indexedHeight: 0,
    scheduling: null, sliceBlocks: SLICE_BLOCKS, recentBlocks: RECENT_BLOCKS, ...over,
  });
}

const storedIndexedHeight = (e: LedgerEnv): number => readU64(e.meta.getBinary('indexedHeight')!, 0);
const corrupt = (message: RegExp) => (err: unknown): boolean => err instanceof LedgerCorruptError && message.test(err.message);

test('a writer\'s lookup catches the index up first, a slice of sliceBlocks per transaction, indexedHeight moving with each', (t) => {
  const { e, hashes } = stored(t);
  const progress: number[] = [];
  const idx = index(e, { onProgress: (indexed, height) => { assert.equal(height, HEIGHT); progress.push(indexed); } });
  assert.equal(idx.storedNumberOf(hashAt(hashes, 7)), undefined);
  assert.equal(idx.numberOf(hashAt(hashes, 7), true), 7);
  assert.deepEqual(progress, [3, 6, 9, 10]);
  assert.equal(idx.indexedHeight, HEIGHT);
  assert.equal(storedIndexedHeight(e), HEIGHT);
  assert.equal(idx.entryCount(), HEIGHT);
  for (let n = 0; n < HEIGHT; n++) assert.equal(idx.storedNumberOf(hashAt(hashes, n)), n, `block ${n}`);
  // Caught up: another lookup writes nothing more.
  assert.equal(idx.numberOf(hashAt(hashes, 0), true), 0);
  assert.deepEqual(progress, [3, 6, 9, 10]);
});

test('a handle that does not write finds unindexed blocks in the segments and leaves the index as it was', (t) => {
  const { e, hashes } = stored(t);
  const idx = index(e);
  for (let n = 0; n < HEIGHT; n++) assert.equal(idx.numberOf(hashAt(hashes, n), false), n, `block ${n}`);
  assert.equal(idx.numberOf(testHashes(0, 1, 200), false), undefined);
  assert.equal(idx.entryCount(), 0);
  assert.equal(idx.indexedHeight, 0);
  assert.equal(storedIndexedHeight(e), 0);
  // Indexed up to 6 by a writer that had 6 blocks: the stored entries answer below, the segments above.
  index(e, { height: () => 6 }).catchUp();
  assert.equal(storedIndexedHeight(e), 6);
  const half = index(e, { indexedHeight: 6 });
  assert.equal(half.numberOf(hashAt(hashes, 2), false), 2);
  assert.equal(half.numberOf(hashAt(hashes, 8), false), 8);
  assert.equal(half.entryCount(), 6);
});

test('hashes that are not 32 bytes, or of no stored block, are not found', (t) => {
  const { e, hashes } = stored(t);
  const idx = index(e);
  assert.equal(idx.numberOf(hashAt(hashes, 3).subarray(0, 31), true), undefined);
  assert.equal(idx.numberOf(new Uint8Array(33), false), undefined);
  assert.equal(idx.storedNumberOf(new Uint8Array(0)), undefined);
  assert.equal(idx.numberOf(testHashes(0, 1, 200), true), undefined);
});

test('the hashes an appender noted are indexed as given, without reading them from the segments', (t) => {
  const { e, hashes } = stored(t);
  const idx = index(e);
  // Blocks 4..7 noted with other hashes than their segments hold: the index must take these.
  const noted = testHashes(4, 4, 100);
  idx.noteAppend(4, noted, 4);
  idx.catchUp();
  for (let n = 4; n < 8; n++) {
    assert.equal(idx.storedNumberOf(hashAt(noted, n - 4)), n, `noted block ${n}`);
    assert.equal(idx.storedNumberOf(hashAt(hashes, n)), undefined, `segment hash of block ${n}`);
  }
  for (const n of [0, 3, 8, 9]) assert.equal(idx.storedNumberOf(hashAt(hashes, n)), n, `block ${n} from its segment`);
});

test('damage: an entry of the wrong length, an unreadable head, a missing block, a stored height below this handle\'s', (t) => {
  const { e, hashes } = stored(t);
  const idx = index(e);
  idx.catchUp();
  e.env.transactionSync(() => void e.env.openDB<Uint8Array, Uint8Array>('hashes', { encoding: 'binary', keyEncoding: 'binary' })
    .put(hashAt(hashes, 2), new Uint8Array(U64_BYTES - 1)));
  assert.throws(() => idx.storedNumberOf(hashAt(hashes, 2)), corrupt(/a hash index entry is 7 bytes, not 8/));

  const { e: noHead } = stored(t);
  noHead.env.transactionSync(() => void noHead.meta.remove('head'));
  assert.throws(() => index(noHead).catchUp(), corrupt(/the head or indexed height record is unreadable/));

  const { e: gap } = stored(t);
  gap.env.transactionSync(() => void gap.segments.remove(4));
  assert.throws(() => index(gap).catchUp(), corrupt(/block 4 is missing below the recorded height 10/));

  // This handle committed 12 blocks, the file says 10: another writer's file, or a lost write.
  const { e: behind } = stored(t);
  const ahead = index(behind, { height: () => HEIGHT + 2 });
  assert.throws(() => ahead.catchUp(), corrupt(/the stored height 10 is below this handle's height 12/));
});

test('a background catch-up that fails stops, reports once, and the next lookup throws the same error', async (t) => {
  const { e, hashes } = stored(t);
  e.env.transactionSync(() => void e.segments.remove(0));
  let failures = 0;
  let failed!: (err: Error) => void;
  const reported = new Promise<Error>((resolve) => { failed = resolve; });
  const idx = index(e, { scheduling: { idleMs: 1 }, onFailed: (err) => { failures++; failed(err); } });
  t.after(() => idx.stop());
  // Behind at opening: the background catch-up is due without an append.
  const err = await reported;
  assert.ok(err instanceof LedgerCorruptError && /block 0 is missing/.test(err.message), err.message);
  assert.throws(() => idx.numberOf(hashAt(hashes, 5), true), (thrown: unknown) => thrown === err);
  assert.throws(() => idx.catchUp(), (thrown: unknown) => thrown === err);
  assert.equal(failures, 1);
});
