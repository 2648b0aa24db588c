import { blockHash } from '../../../src/protocol/blockHash.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { type Database, open } from 'lmdb';
import { signConfigEnvelope } from '../../../src/channel/blocks.js';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { toHex } from '../../../src/crypto/hash.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { HashIndexScheduler } from '../../../src/ledger/hashIndexScheduler.js';
import { LedgerAppendError, LedgerCorruptError } from '../../../src/ledger/ledger.js';
import { LedgerOpenError, type LmdbLedger, type OpenLedgerOptions, findLedgers, ledgerPath, openLedger } from '../../../src/ledger/lmdbLedger.js';
import {
  SEGMENT_COUNT_BYTES, SegmentSlot, locateInSegment, segmentCount, segmentHashAt, segmentHeaderBytes, writeSegment,
} from '../../../src/ledger/segment.js';
import { verifyChain } from '../../../src/ledger/verifyChain.js';
import { registerLedger } from '../../../src/cli/commands/ledger.js';
import { BlockLayout, FLAG_CONFIG, HASH_BYTES, LayoutError, locateBlock } from '../../../src/protocol/block.js';
import { EVENT_WAIT_LIMIT_MS } from '../../helpers/fakes.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'testchannel';
let root: string;
let dirCount = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'edgepeer-ledger-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function freshDir(): string {
  return join(root, `d${dirCount++}`);
}

/** Byte equality that ignores Buffer vs Uint8Array (lmdb and node:crypto hand out Buffers). */
function assertBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined, message?: string): void {
  assert.ok(actual !== undefined && expected !== undefined, message ?? 'bytes missing');
  assert.equal(toHex(actual), toHex(expected), message);
}

function hashOf(block: Uint8Array): Uint8Array {
  return blockHash(block);
}

type LedgerOptions = Omit<OpenLedgerOptions, 'channel'>;

/**
 * A ledger holding genesis + n blocks, plus the channel that made it. The blocks go in one append
 * (one segment), or in appends of `runBlocks` blocks (a segment each).
 */
function filledLedger(n: number, runBlocks = n + 1, opts: LedgerOptions = {}): {
  dir: string; path: string; ledger: LmdbLedger; ch: TestChannel; blocks: Uint8Array[];
} {
  const ch = makeTestChannel({ channel: CHANNEL });
  const dir = freshDir();
  const path = ledgerPath(dir, CHANNEL);
  const ledger = openLedger(path, { channel: CHANNEL, ...opts });
  const blocks = [ch.genesis, ...ch.chain(n)];
  for (let at = 0; at < blocks.length; at += runBlocks) ledger.append(blocks, null, at, Math.min(runBlocks, blocks.length - at));
  return { dir, path, ledger, ch, blocks };
}

/** The blocks and hash table of a stored segment, as copies. */
function decodeSegment(seg: Uint8Array): { blocks: Uint8Array[]; hashes: Uint8Array[] } {
  const count = segmentCount(seg, seg.length);
  const slot = new SegmentSlot();
  const blocks: Uint8Array[] = [];
  const hashes: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    assert.ok(locateInSegment(seg, seg.length, count, i, slot), `segment block ${i} out of bounds`);
    blocks.push(seg.slice(slot.start, slot.end));
    hashes.push(seg.slice(segmentHashAt(i), segmentHashAt(i) + HASH_BYTES));
  }
  return { blocks, hashes };
}

function encodeSegment(blocks: Uint8Array[], hashes: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(segmentHeaderBytes(blocks.length) + blocks.reduce((sum, b) => sum + b.length, 0));
  const table = new Uint8Array(hashes.length * HASH_BYTES);
  hashes.forEach((h, i) => table.set(h, i * HASH_BYTES));
  assert.equal(writeSegment(out, blocks, 0, blocks.length, table, 0), out.length);
  return out;
}

/** Raw access to a closed ledger's file, as disk damage or another program would have it. */
async function withRawFile(path: string, act: (dbs: {
  segments: Database<Uint8Array, number>; hashes: Database<Uint8Array, Uint8Array>;
}) => void): Promise<void> {
  const env = open(path, { maxDbs: 3, noSubdir: true });
  try {
    act({
      segments: env.openDB<Uint8Array, number>('segments', { encoding: 'binary' }),
      hashes: env.openDB<Uint8Array, Uint8Array>('hashes', { encoding: 'binary', keyEncoding: 'binary' }),
    });
  } finally {
    await env.close();
  }
}

/** First block number of the stored segment holding block n. */
function segmentKeyOf(segments: Database<Uint8Array, number>, n: number): number {
  for (const key of segments.getKeys({ start: n, reverse: true, limit: 1 })) return key;
  throw new Error(`no segment holds block ${n}`);
}

/** Rewrites the raw bytes of the segment holding block n; `edit` gets a copy and the segment's first number. */
async function editStoredSegment(path: string, n: number, edit: (seg: Uint8Array, first: number) => Uint8Array): Promise<void> {
  await withRawFile(path, ({ segments }) => {
    const first = segmentKeyOf(segments, n);
    segments.putSync(first, edit(Uint8Array.from(segments.getBinary(first)!), first));
  });
}

/**
 * Replaces block n's bytes inside its segment, offsets rebuilt and the hash table kept: damage that
 * leaves the segment's structure sound, so only the per-block checks can find it.
 */
async function overwriteStoredBlock(path: string, n: number, bytes: Uint8Array): Promise<void> {
  await editStoredSegment(path, n, (seg, first) => {
    const { blocks, hashes } = decodeSegment(seg);
    blocks[n - first] = bytes;
    return encodeSegment(blocks, hashes);
  });
}

/** Resolves with `promise`, or rejects after the test's event wait limit. */
async function withinLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${EVENT_WAIT_LIMIT_MS} ms`)), EVENT_WAIT_LIMIT_MS);
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}

function assertAppendRejected(ledger: LmdbLedger, blocks: Uint8Array[], expectedNumber: number, reason: RegExp): void {
  assert.throws(() => ledger.append(blocks, null, 0, blocks.length), (err: unknown) => {
    assert.ok(err instanceof LedgerAppendError, `expected LedgerAppendError, got ${String(err)}`);
    assert.equal(err.blockNumber, expectedNumber);
    assert.match(err.message, new RegExp(`^block ${expectedNumber}: `));
    assert.match(err.message, reason);
    return true;
  });
}

describe('LmdbLedger', () => {
  test('a new ledger is empty, then takes genesis and runs of blocks', async () => {
    const ch = makeTestChannel({ channel: CHANNEL });
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
    assert.equal(ledger.height(), 0);
    assertBytes(ledger.lastHash(), new Uint8Array(32));
    assert.equal(ledger.lastConfigNumber(), -1);

    ledger.append([ch.genesis], null, 0, 1);
    assert.equal(ledger.height(), 1);
    assertBytes(ledger.lastHash(), ch.genesisHash);
    assert.equal(ledger.lastConfigNumber(), 0);

    const run = ch.chain(10);
    ledger.append(run, null, 0, 4);
    ledger.append(run, run.map(hashOf), 4, 6);
    assert.equal(ledger.height(), 11);
    assertBytes(ledger.lastHash(), ch.lastHash());
    assert.equal(ledger.lastConfigNumber(), 0);
    await ledger.close();
  });

  test('getBlock, getBlockUnsafe and numberOfHash return what was appended', async () => {
    const { ledger, blocks } = filledLedger(5);
    for (let n = 0; n < blocks.length; n++) {
      assertBytes(ledger.getBlock(n), blocks[n]);
      const unsafe = ledger.getBlockUnsafe(n)!;
      assert.equal(unsafe.byteLength, blocks[n]!.length, 'the unsafe view must cover exactly the block');
      assertBytes(unsafe, blocks[n]);
      assert.equal(ledger.numberOfHash(hashOf(blocks[n]!)), n);
    }
    assert.equal(ledger.getBlock(blocks.length), undefined);
    assert.equal(ledger.getBlockUnsafe(blocks.length), undefined);
    assert.equal(ledger.getBlock(-1), undefined);
    assert.equal(ledger.numberOfHash(new Uint8Array(32)), undefined);
    // getBlock hands out a copy that later reads do not overwrite.
    const copy = ledger.getBlock(1)!;
    ledger.getBlockUnsafe(2);
    assertBytes(copy, blocks[1]);
    await ledger.close();
  });

  test('reopening gives the same height, last hash and last config number', async () => {
    const { path, ledger, ch } = filledLedger(7);
    await ledger.close();
    const again = openLedger(path, { channel: CHANNEL });
    assert.equal(again.height(), 8);
    assertBytes(again.lastHash(), ch.lastHash());
    assert.equal(again.lastConfigNumber(), 0);
    // Appending continues where the first handle stopped.
    again.append(ch.chain(1), null, 0, 1);
    assert.equal(again.height(), 9);
    await again.close();
  });

  test('a config block moves lastConfigNumber in the same append', async () => {
    const { path, ledger, ch } = filledLedger(2);
    const update = { ...ch.config, sequence: 1 };
    const blocks = [ch.nextBlock(), ch.nextBlock([signConfigEnvelope(update, ch.ordererAdmin)], { flags: FLAG_CONFIG }), ch.nextBlock()];
    ledger.append(blocks, null, 0, 3);
    assert.equal(ledger.lastConfigNumber(), 4);
    await ledger.close();
    const again = openLedger(path, { channel: CHANNEL });
    assert.equal(again.lastConfigNumber(), 4);
    assert.equal(verifyChain(again).ok, true);
    await again.close();
  });

  describe('rejected appends write nothing', () => {
    const cases: { name: string; make(ch: TestChannel): Uint8Array[]; bad: number; reason: RegExp }[] = [
      {
        name: 'wrong number (a block skipped)',
        make: (ch) => { ch.nextBlock(); return [ch.nextBlock()]; },
        bad: 5, reason: /expected block number 4/,
      },
      {
        name: 'wrong previous hash',
        make: (ch) => [ch.forge.badPreviousHash(ch.nextBlock())],
        bad: 4, reason: /previous hash/,
      },
      {
        name: 'garbage bytes',
        make: () => [new Uint8Array(200).fill(0xab)],
        bad: 4, reason: /not a CBOR array/,
      },
      {
        name: 'a run whose 3rd block is bad',
        make: (ch) => { const run = ch.chain(5); run[2] = ch.forge.badPreviousHash(run[2]!); return run; },
        bad: 6, reason: /previous hash does not match the hash of block 5/,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const { path, ledger, ch, blocks } = filledLedger(3);
        const heightBefore = ledger.height();
        const hashBefore = ledger.lastHash().slice();
        const attempt = c.make(ch);
        assertAppendRejected(ledger, attempt, c.bad, c.reason);
        assert.equal(ledger.height(), heightBefore);
        assertBytes(ledger.lastHash(), hashBefore);
        assert.equal(ledger.getBlock(heightBefore), undefined);
        // Garbage has no block hash; everything that has one must not be indexed.
        for (const b of attempt) if (locateBlock(b, new BlockLayout()) === LayoutError.ok) assert.equal(ledger.numberOfHash(hashOf(b)), undefined);
        await ledger.close();

        const again = openLedger(path, { channel: CHANNEL });
        assert.equal(again.height(), heightBefore);
        assertBytes(again.lastHash(), hashBefore);
        assert.equal(again.getBlock(heightBefore), undefined);
        assertBytes(again.getBlock(heightBefore - 1), blocks[heightBefore - 1]);
        await again.close();
      });
    }

    test('the genesis block must be number 0 with a zero previous hash', async () => {
      const ch = makeTestChannel({ channel: CHANNEL });
      const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
      assertAppendRejected(ledger, [ch.nextBlock()], 1, /expected block number 0/);
      assert.equal(ledger.height(), 0);
      await ledger.close();
    });
  });

  test('a second writer handle with a stale height is refused inside the transaction', async () => {
    const { path, ledger, ch } = filledLedger(1);
    const second = openLedger(path, { channel: CHANNEL });
    const block = ch.nextBlock();
    ledger.append([block], null, 0, 1);
    // `second` still believes the height is 2, so its own checks pass; the stored height does not.
    assertAppendRejected(second, [block], 2, /stored height is 3/);
    assert.equal(second.height(), 2);
    await second.close();
    await ledger.close();
  });

  test('opening a file of another channel is an error', async () => {
    const { dir, ledger } = filledLedger(1);
    await ledger.close();
    const path = ledgerPath(dir, CHANNEL);
    assert.throws(() => openLedger(path, { channel: 'other' }), (err: unknown) =>
      err instanceof LedgerOpenError && /belongs to channel 'testchannel', not 'other'/.test(err.message));
  });

  test('read-only: needs an existing file and refuses appends', async () => {
    assert.throws(() => openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL, readOnly: true }), LedgerOpenError);
    const { path, ledger, ch } = filledLedger(2);
    await ledger.close();
    const ro = openLedger(path, { channel: CHANNEL, readOnly: true });
    assert.equal(ro.height(), 3);
    assert.throws(() => ro.append(ch.chain(1), null, 0, 1), /read-only/);
    await ro.close();
  });

  test('ledgerPath and findLedgers', async () => {
    const dir = freshDir();
    assert.equal(ledgerPath(dir, 'ch-1'), join(dir, 'ledger-ch-1.mdb'));
    assert.throws(() => ledgerPath(dir, '../escape'), LedgerOpenError);
    assert.deepEqual(findLedgers(dir), []);
    for (const name of ['beta', 'alpha']) await openLedger(ledgerPath(dir, name), { channel: name }).close();
    assert.deepEqual(findLedgers(dir), ['alpha', 'beta']);
  });

  test('opening a format-1 file is refused with a clear message', async () => {
    const path = ledgerPath(freshDir(), CHANNEL);
    mkdirSync(dirname(path), { recursive: true });
    const env = open(path, { maxDbs: 3, noSubdir: true });
    // Format 1 kept its meta records in msgpack (lmdb's default encoding).
    const meta = env.openDB<unknown, string>('meta', {});
    await meta.put('format', 1);
    await meta.put('channel', CHANNEL);
    await env.close();
    assert.throws(() => openLedger(path, { channel: CHANNEL }), (err: unknown) =>
      err instanceof LedgerOpenError && /has format 1; this build reads format 2 only/.test(err.message));
  });
});

describe('LmdbLedger appendAsync', () => {
  test('height and last hash move when the run is durable, not before; the stored run is what append would store', async () => {
    const { ledger, ch } = filledLedger(0);
    const run = ch.chain(20);
    const committed = ledger.appendAsync(run, run.map(hashOf), 0, 20);
    // The transaction is on the writer thread: the handle still says what is committed.
    assert.equal(ledger.height(), 1);
    await withinLimit(committed, 'appendAsync');
    assert.equal(ledger.height(), 21);
    assertBytes(ledger.lastHash(), ch.lastHash());
    assertBytes(ledger.getBlock(20), run[19]);
    assert.equal(ledger.numberOfHash(hashOf(run[7]!)), 8);
    const verdict = verifyChain(ledger);
    assert.ok(verdict.ok, verdict.ok ? '' : verdict.reason);
    await ledger.close();
  });

  test('a bad run throws at once and writes nothing; one run in flight at a time; a sync append is refused meanwhile too', async () => {
    const { ledger, ch } = filledLedger(0);
    const run = ch.chain(6);
    assert.throws(() => ledger.appendAsync(run, null, 1, 5), (err: unknown) => err instanceof LedgerAppendError && /expected block number 1 /.test(err.message));
    assert.equal(ledger.height(), 1);
    const first = ledger.appendAsync(run, null, 0, 3);
    assert.throws(() => ledger.appendAsync(run, null, 3, 3), /still in flight/);
    assert.throws(() => ledger.append(run, null, 3, 3), /still in flight/);
    await withinLimit(first, 'first run');
    await withinLimit(ledger.appendAsync(run, null, 3, 3), 'second run');
    assert.equal(ledger.height(), 7);
    await ledger.close();
  });

  test('a run in flight when close is called is committed, its promise resolves, and the reopened ledger holds it', async () => {
    const { ledger, ch, path } = filledLedger(0);
    const run = ch.chain(50);
    const committed = ledger.appendAsync(run, null, 0, 50);
    await ledger.close();
    await withinLimit(committed, 'the run in flight at close');
    const reopened = openLedger(path, { channel: CHANNEL });
    assert.equal(reopened.height(), 51);
    assertBytes(reopened.lastHash(), ch.lastHash());
    await reopened.close();
  });
});

describe('LmdbLedger segments', () => {
  /** Segment first numbers and byte lengths, in order. */
  function storedSegments(ledger: LmdbLedger): { first: number; count: number; bytes: number }[] {
    const out: { first: number; count: number; bytes: number }[] = [];
    ledger.forEachSegment((first, seg) => {
      out.push({ first, count: segmentCount(seg, seg.length), bytes: seg.length });
      return true;
    });
    return out;
  }

  test('an append is one segment; a run is split only past maxSegmentBytes; a block larger than that gets its own', async () => {
    const ch = makeTestChannel({ channel: CHANNEL });
    const before = ch.chain(4); // blocks 1-4
    const blockBytes = before[0]!.length;
    // Room for three ordinary blocks per segment, not four.
    const maxSegmentBytes = segmentHeaderBytes(3) + 3 * blockBytes;
    const big = ch.nextBlock([new Uint8Array(maxSegmentBytes)]); // block 5
    const blocks = [ch.genesis, ...before, big, ...ch.chain(4)]; // blocks 0-9
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL, maxSegmentBytes });
    ledger.append(blocks, null, 0, 1);
    ledger.append(blocks, null, 1, 9);
    const stored = storedSegments(ledger);
    assert.deepEqual(stored.map((g) => [g.first, g.count]), [[0, 1], [1, 3], [4, 1], [5, 1], [6, 3], [9, 1]]);
    for (const g of stored) if (g.first !== 5) assert.ok(g.bytes <= maxSegmentBytes, `segment ${g.first} is ${g.bytes} bytes`);
    assert.equal(ledger.segmentCount(), 6);
    // Every segment of the run was assembled in the same scratch within one transaction.
    for (let n = 0; n < blocks.length; n++) {
      assertBytes(ledger.getBlock(n), blocks[n], `block ${n}`);
      assert.equal(ledger.numberOfHash(hashOf(blocks[n]!)), n);
    }
    assert.ok(verifyChain(ledger).ok);
    await ledger.close();
  });

  test('two appends assembled in the same scratch both read back whole', async () => {
    const ch = makeTestChannel({ channel: CHANNEL });
    const blocks = [ch.genesis, ...ch.chain(10)];
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
    ledger.append(blocks, blocks.map(hashOf), 0, 6);
    ledger.append(blocks, blocks.map(hashOf), 6, 5);
    assert.deepEqual(storedSegments(ledger).map((g) => [g.first, g.count]), [[0, 6], [6, 5]]);
    for (let n = 0; n < blocks.length; n++) assertBytes(ledger.getBlock(n), blocks[n], `block ${n}`);
    assert.ok(verifyChain(ledger).ok);
    await ledger.close();
  });

  test('getBlock, getBlockUnsafe and readBlocks across segment boundaries and at the last block', async () => {
    const { ledger, blocks } = filledLedger(15, 4); // segments from 0, 4, 8, 12
    for (const n of [0, 3, 4, 7, 8, 11, 12, 15]) {
      const unsafe = ledger.getBlockUnsafe(n)!;
      assert.equal(unsafe.byteLength, blocks[n]!.length, `the unsafe view of block ${n} must cover exactly the block`);
      assertBytes(unsafe, blocks[n], `unsafe block ${n}`);
      assertBytes(ledger.getBlock(n), blocks[n], `block ${n}`);
    }
    assert.equal(ledger.getBlock(16), undefined);
    assert.equal(ledger.getBlockUnsafe(16), undefined);

    const read = (from: number, to: number, maxBytes: number): { count: number; numbers: number[]; copies: Uint8Array[] } => {
      const numbers: number[] = [];
      const copies: Uint8Array[] = [];
      const count = ledger.readBlocks(from, to, maxBytes, (block, number) => {
        numbers.push(number);
        copies.push(Uint8Array.from(block));
      });
      return { count, numbers, copies };
    };
    const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

    const all = read(2, 13, Infinity);
    assert.equal(all.count, 12);
    assert.deepEqual(all.numbers, range(2, 13));
    all.copies.forEach((c, i) => assertBytes(c, blocks[2 + i], `readBlocks block ${2 + i}`));
    assert.deepEqual(read(15, 15, Infinity).numbers, [15]);
    assertBytes(read(15, 15, Infinity).copies[0], blocks[15]);
    // Stops at the first block not stored.
    assert.deepEqual(read(14, 100, Infinity).numbers, [14, 15]);
    assert.equal(read(16, 20, Infinity).count, 0);
    // Byte budget: whole blocks only, at least one.
    const size = blocks[5]!.length;
    assert.deepEqual(read(3, 15, 3 * size).numbers, [3, 4, 5]);
    assert.deepEqual(read(3, 15, 3 * size - 1).numbers, [3, 4]);
    assert.deepEqual(read(6, 15, 1).numbers, [6]);
    await ledger.close();
  });

  test('a damaged segment makes reads throw a clear error instead of returning stray bytes', async () => {
    const { path, ledger } = filledLedger(7, 4);
    await ledger.close();
    await editStoredSegment(path, 4, (seg) => seg.subarray(0, seg.length - 100));
    const again = openLedger(path, { channel: CHANNEL, readOnly: true });
    assert.ok(again.getBlock(6) !== undefined);
    assert.throws(() => again.getBlock(7), (err: unknown) => err instanceof LedgerCorruptError && /block 7: the segment from block 4 is damaged/.test(err.message));
    assert.throws(() => again.readBlocks(4, 7, Infinity, () => undefined), LedgerCorruptError);
    await again.close();
  });
});

describe('LmdbLedger hash index', () => {
  /** No background indexing during the test: the index moves only on demand. */
  const quiet: LedgerOptions = { hashIndexIdleMs: 3_600_000 };

  test('numberOfHash is exact right after an append: it catches the index up, in slices', async () => {
    const progress: number[] = [];
    const { ledger, blocks } = filledLedger(20, 6, { ...quiet, hashIndexSliceBlocks: 5, onHashIndexProgress: (indexed) => progress.push(indexed) });
    assert.equal(ledger.indexedHeight(), 0, 'append wrote the index');
    assert.equal(ledger.numberOfHash(hashOf(blocks[17]!)), 17);
    assert.equal(ledger.indexedHeight(), 21);
    assert.deepEqual(progress, [5, 10, 15, 20, 21]);
    for (let n = 0; n < blocks.length; n++) assert.equal(ledger.numberOfHash(hashOf(blocks[n]!)), n);
    assert.equal(ledger.numberOfHash(new Uint8Array(32)), undefined);
    assert.equal(ledger.numberOfHash(new Uint8Array(31)), undefined);
    const v = verifyChain(ledger);
    assert.ok(v.ok, v.ok ? '' : v.reason);
    assert.equal(ledger.storedState().indexEntryCount, 21);
    await ledger.close();
  });

  test('after reopening: a read-only handle finds unindexed blocks without writing; a writer indexes them', async () => {
    const { path, ledger, blocks, ch } = filledLedger(12, 5, quiet);
    assert.equal(ledger.numberOfHash(hashOf(blocks[3]!)), 3);
    const more = ch.chain(4);
    ledger.append(more, null, 0, 4);
    blocks.push(...more);
    assert.equal(ledger.indexedHeight(), 13);
    await ledger.close();

    const ro = openLedger(path, { channel: CHANNEL, readOnly: true });
    assert.equal(ro.indexedHeight(), 13);
    for (let n = 0; n < blocks.length; n++) assert.equal(ro.numberOfHash(hashOf(blocks[n]!)), n, `read-only lookup of block ${n}`);
    assert.equal(ro.numberOfHash(new Uint8Array(32)), undefined);
    assert.equal(ro.storedState().indexedHeight, 13);
    assert.ok(verifyChain(ro).ok, 'an index below the height is a correct prefix');
    await ro.close();

    const rw = openLedger(path, { channel: CHANNEL, ...quiet });
    assert.equal(rw.indexedHeight(), 13, 'opening rebuilt the index eagerly');
    assert.equal(rw.numberOfHash(hashOf(blocks[15]!)), 15);
    assert.equal(rw.indexedHeight(), 17);
    await rw.close();
  });

  test('the catch-up takes hashes from memory for blocks this handle appended, from segments for the rest', async () => {
    // Room for 4 hashes in memory: the first append fits, the next ones do not.
    const opts: LedgerOptions = { ...quiet, hashIndexRecentBlocks: 4, hashIndexSliceBlocks: 5 };
    const { path, ledger, blocks, ch } = filledLedger(8, 3, opts);
    assert.equal(ledger.numberOfHash(hashOf(blocks[7]!)), 7);
    assert.equal(ledger.indexedHeight(), 9);
    const more = ch.chain(3);
    ledger.append(more, null, 0, 3);
    blocks.push(...more);
    await ledger.close();
    // Reopened: blocks 9-11 are unindexed and not in memory; the next append (12-13) is.
    const again = openLedger(path, { channel: CHANNEL, ...opts });
    const last = ch.chain(2);
    again.append(last, null, 0, 2);
    blocks.push(...last);
    for (let n = blocks.length - 1; n >= 0; n--) assert.equal(again.numberOfHash(hashOf(blocks[n]!)), n, `block ${n}`);
    assert.equal(again.indexedHeight(), 14);
    const v = verifyChain(again);
    assert.ok(v.ok, v.ok ? '' : v.reason);
    await again.close();
  });

  test('the background indexer brings indexedHeight to the height once appends pause, a slice per transaction', async () => {
    const progress: number[] = [];
    let caughtUp: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { caughtUp = resolve; });
    const { ledger } = filledLedger(30, 5, {
      hashIndexIdleMs: 20,
      hashIndexSliceBlocks: 7,
      onHashIndexProgress: (indexed, height) => {
        progress.push(indexed);
        if (indexed === height) caughtUp();
      },
    });
    assert.equal(ledger.indexedHeight(), 0);
    await withinLimit(done, 'the background indexer catching up');
    assert.deepEqual(progress, [7, 14, 21, 28, 31]);
    assert.equal(ledger.indexedHeight(), 31);
    assert.equal(ledger.storedState().indexedHeight, 31);
    assert.ok(verifyChain(ledger).ok);
    await ledger.close();
  });

  test('the background indexer also catches up a ledger reopened with an index behind', async () => {
    const { path, ledger } = filledLedger(9, 10, quiet);
    await ledger.close();
    let caughtUp: () => void = () => undefined;
    const done = new Promise<void>((resolve) => { caughtUp = resolve; });
    const again = openLedger(path, {
      channel: CHANNEL, hashIndexIdleMs: 10, onHashIndexProgress: (indexed, height) => { if (indexed === height) caughtUp(); },
    });
    await withinLimit(done, 'the background indexer catching up after reopening');
    assert.equal(again.indexedHeight(), 10);
    await again.close();
  });
});

describe('HashIndexScheduler', () => {
  /** A scheduler whose slices report themselves; `more` says whether a slice leaves work behind. */
  function scheduler(more: (slice: number) => boolean): { s: HashIndexScheduler; nextSlice(): Promise<number> } {
    let slices = 0;
    let waiting: ((n: number) => void) | null = null;
    const s = new HashIndexScheduler({
      idleMs: 5,
      runSlice: () => {
        slices++;
        const r = more(slices);
        waiting?.(slices);
        waiting = null;
        return r;
      },
      failed: (err) => { throw err; },
    });
    return { s, nextSlice: () => withinLimit(new Promise<number>((resolve) => { waiting = resolve; }), 'the next slice') };
  }

  test('waits for quiet, runs slices until caught up, then idles', async () => {
    const { s, nextSlice } = scheduler((n) => n < 3);
    assert.equal(s.state, 'idle');
    s.noteAppend();
    assert.equal(s.state, 'waiting');
    assert.equal(await nextSlice(), 1);
    assert.equal(s.state, 'indexing');
    assert.equal(await nextSlice(), 2);
    assert.equal(await nextSlice(), 3);
    assert.equal(s.state, 'idle');
    s.noteAppend();
    assert.equal(await nextSlice(), 4, 'a later append starts it again');
    s.stop();
  });

  test('an append between slices sends it back to waiting; stop() ends it for good', async () => {
    const { s, nextSlice } = scheduler(() => true);
    s.noteAppend();
    assert.equal(await nextSlice(), 1);
    assert.equal(s.state, 'indexing');
    s.noteAppend();
    assert.equal(s.state, 'waiting', 'an append did not pause the catch-up');
    assert.equal(await nextSlice(), 2, 'the catch-up did not resume after the quiet period');
    s.stop();
    assert.equal(s.state, 'stopped');
    s.noteAppend();
    assert.equal(s.state, 'stopped');
  });
});

describe('verifyChain', () => {
  test('a good chain verifies, with height and last hash', async () => {
    const { ledger, ch } = filledLedger(20);
    const v = verifyChain(ledger);
    assert.ok(v.ok);
    assert.equal(v.height, 21);
    assertBytes(v.lastHash, ch.lastHash());
    await ledger.close();
  });

  test('an empty ledger verifies with height 0', async () => {
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
    assert.deepEqual(verifyChain(ledger), { ok: true, height: 0, lastHash: new Uint8Array(32) });
    await ledger.close();
  });

  // Genesis + 15 blocks in appends of 4: segments from blocks 0, 4, 8 and 12.
  const damage: { name: string; bad: number; corrupt(block: Uint8Array, ch: TestChannel): Uint8Array; reason: RegExp }[] = [
    {
      name: 'a flipped data byte', bad: 6, reason: /data hash/,
      corrupt: (b) => {
        const copy = b.slice();
        const layout = new BlockLayout();
        assert.equal(locateBlock(copy, layout), LayoutError.ok);
        const at = layout.dataOffset + layout.dataLength - 1;
        copy[at] = copy[at]! ^ 0xff;
        return copy;
      },
    },
    { name: 'a flipped signature byte', bad: 9, reason: /signatures/, corrupt: (b, ch) => ch.forge.badSignature(b) },
    { name: 'a re-signed header with a wrong data hash', bad: 3, reason: /data hash/, corrupt: (b, ch) => ch.forge.badDataHash(b) },
    { name: 'a re-signed header with a wrong previous hash', bad: 12, reason: /previous hash/, corrupt: (b, ch) => ch.forge.badPreviousHash(b) },
    { name: 'a truncated block', bad: 1, reason: /bad layout/, corrupt: (b) => b.subarray(0, b.length - 10) },
    { name: 'a genesis signature flipped', bad: 0, reason: /signatures/, corrupt: (b, ch) => ch.forge.badSignature(b) },
  ];
  for (const d of damage) {
    test(`names the first bad block after disk damage: ${d.name}`, async () => {
      const { path, ledger, ch, blocks } = filledLedger(15, 4);
      await ledger.close();
      await overwriteStoredBlock(path, d.bad, d.corrupt(blocks[d.bad]!, ch));
      await assertVerdict(path, d.bad, d.reason);
    });
  }

  /** Opens the damaged ledger read-only and expects verifyChain to name `bad` for `reason`. */
  async function assertVerdict(path: string, bad: number, reason: RegExp): Promise<void> {
    const again = openLedger(path, { channel: CHANNEL, readOnly: true });
    try {
      const v = verifyChain(again);
      assert.equal(v.ok, false, 'the damage went unnoticed');
      if (!v.ok) {
        assert.equal(v.badBlock, bad, v.reason);
        assert.equal(v.height, 16);
        assert.match(v.reason, reason);
      }
    } finally {
      await again.close();
    }
  }

  const segmentDamage: { name: string; bad: number; reason: RegExp; edit(seg: Uint8Array): Uint8Array }[] = [
    {
      // Offset of block 6 (index 2 of the segment from 4) pushed past the block area.
      name: 'a broken offsets table', bad: 5, reason: /offsets table/,
      edit: (seg) => {
        const at = SEGMENT_COUNT_BYTES + 4 * HASH_BYTES + 2 * 4;
        seg[at] = 0x7f;
        return seg;
      },
    },
    { name: 'a segment cut short', bad: 7, reason: /offsets table/, edit: (seg) => seg.subarray(0, seg.length - 100) },
    { name: 'a count larger than the segment', bad: 4, reason: /cannot hold/, edit: (seg) => { seg[0] = 0x10; return seg; } },
    {
      name: 'a flipped byte in the hash table', bad: 6, reason: /hash table does not hold this block's hash/,
      edit: (seg) => {
        const at = segmentHashAt(2) + 5;
        seg[at] = seg[at]! ^ 0x01;
        return seg;
      },
    },
  ];
  for (const d of segmentDamage) {
    test(`names the first bad block after segment damage: ${d.name}`, async () => {
      const { path, ledger } = filledLedger(15, 4);
      await ledger.close();
      await editStoredSegment(path, 6, d.edit);
      await assertVerdict(path, d.bad, d.reason);
    });
  }

  test('finds a missing segment, a stray one above the height, and a wrong or stray index entry', async () => {
    const { path, ledger, blocks, ch } = filledLedger(15, 4);
    ledger.catchUpHashIndex();
    assert.equal(ledger.indexedHeight(), 16);
    await ledger.close();
    // Kept to put back after each case.
    let saved = new Uint8Array(0);
    await withRawFile(path, ({ segments }) => { saved = Uint8Array.from(segments.getBinary(8)!); });

    await withRawFile(path, ({ segments }) => { segments.removeSync(8); });
    await assertVerdict(path, 8, /missing below the recorded height/);
    await withRawFile(path, ({ segments }) => { segments.putSync(8, saved); });

    const stray = ch.nextBlock();
    await withRawFile(path, ({ segments }) => { segments.putSync(16, encodeSegment([stray], [hashOf(stray)])); });
    await assertVerdict(path, 16, /stored above the recorded height/);
    await withRawFile(path, ({ segments }) => { segments.removeSync(16); });

    const wrong = new Uint8Array(8);
    wrong[7] = 3;
    await withRawFile(path, ({ hashes }) => { hashes.putSync(hashOf(blocks[10]!), wrong); });
    await assertVerdict(path, 10, /hash index maps this block's hash to block 3/);
    const right = new Uint8Array(8);
    right[7] = 10;
    await withRawFile(path, ({ hashes }) => { hashes.putSync(hashOf(blocks[10]!), right); });

    await withRawFile(path, ({ hashes }) => { hashes.putSync(new Uint8Array(32).fill(9), right); });
    await assertVerdict(path, 15, /hash index holds 17 entries for 16 indexed blocks/);
    await withRawFile(path, ({ hashes }) => { hashes.removeSync(new Uint8Array(32).fill(9)); });

    const healed = openLedger(path, { channel: CHANNEL, readOnly: true });
    assert.ok(verifyChain(healed).ok, 'the test did not put the ledger back together');
    await healed.close();
  });

  test('a later config block replaces the signers; blocks by the old signer then fail', async () => {
    const { ledger, ch } = filledLedger(2);
    const keys = generateKeyPair();
    const nowMs = Date.now();
    const newSigner = issueCertificate(
      { id: 'orderer1', org: 'orderer', role: 'orderer', publicKey: keys.publicKeyRaw, notBefore: nowMs - 1000, notAfter: nowMs + 3_600_000 },
      ch.orgRoots.get('orderer')!.privateKey,
    );
    const rotated = { ...ch.config, sequence: 1, orderer: { ...ch.config.orderer, signers: [newSigner] } };
    const newSigners = [{ index: 0, key: keys.privateKey }];
    const configBlock = ch.nextBlock([signConfigEnvelope(rotated, ch.ordererAdmin)], { flags: FLAG_CONFIG });
    const good = ch.nextBlock(undefined, { signers: newSigners });
    const stale = ch.nextBlock(); // still signed by the old orderer key
    ledger.append([configBlock, good], null, 0, 2);
    const before = verifyChain(ledger);
    assert.ok(before.ok, before.ok ? '' : before.reason);
    assert.equal(before.height, 5);
    assertBytes(before.lastHash, hashOf(good));
    ledger.append([stale], null, 0, 1);
    const v = verifyChain(ledger);
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.badBlock, 5);
      assert.match(v.reason, /signatures.*sequence 1/);
    }
    await ledger.close();
  });
});

describe('edgepeer ledger', () => {
  async function runCli(args: string[]): Promise<{ out: string; exitCode: number }> {
    let out = '';
    const program = new Command().exitOverride().configureOutput({ writeOut: (s) => { out += s; }, writeErr: () => undefined });
    registerLedger(program);
    const saved = process.exitCode;
    process.exitCode = 0;
    try {
      await program.parseAsync(args, { from: 'user' });
      return { out, exitCode: Number(process.exitCode ?? 0) };
    } finally {
      process.exitCode = saved;
    }
  }

  test('info --json prints channel, height, last hash, indexed height and segments', async () => {
    const { dir, ledger, ch } = filledLedger(4, 2, { hashIndexIdleMs: 3_600_000 });
    ledger.append(ch.chain(3), null, 0, 3);
    assert.equal(ledger.numberOfHash(ch.genesisHash), 0);
    ledger.append(ch.chain(1), null, 0, 1);
    await ledger.close();
    const { out, exitCode } = await runCli(['ledger', 'info', '--data', dir, '--json']);
    assert.equal(exitCode, 0);
    const info = JSON.parse(out) as Record<string, unknown>;
    assert.equal(info['channel'], CHANNEL);
    assert.equal(info['height'], 9);
    assert.equal(info['lastHash'], toHex(ch.lastHash()));
    assert.equal(info['indexedHeight'], 8);
    assert.equal(info['segments'], 5);
    const text = await runCli(['ledger', 'info', '--data', dir]);
    assert.match(text.out, /^indexed +8$/m);
    assert.match(text.out, /^segments +5$/m);
  });

  test('info without --channel in a directory of several ledgers lists them', async () => {
    const dir = freshDir();
    for (const name of ['a', 'b']) await openLedger(ledgerPath(dir, name), { channel: name }).close();
    await assert.rejects(runCli(['ledger', 'info', '--data', dir]), /several channels \(a, b\).*--channel/);
    const { out } = await runCli(['ledger', 'info', '--data', dir, '--channel', 'b', '--json']);
    assert.equal((JSON.parse(out) as Record<string, unknown>)['channel'], 'b');
    await assert.rejects(runCli(['ledger', 'info', '--data', freshDir()]), /no ledger in/);
  });

  test('verify prints OK and exits 0 on a good chain, names the bad block and exits 1 on a damaged one', async () => {
    const { dir, path, ledger, ch, blocks } = filledLedger(6);
    await ledger.close();
    const good = await runCli(['ledger', 'verify', '--data', dir]);
    assert.equal(good.exitCode, 0);
    assert.match(good.out, /^OK channel testchannel: 7 blocks verified/);

    await overwriteStoredBlock(path, 4, ch.forge.badSignature(blocks[4]!));
    const bad = await runCli(['ledger', 'verify', '--data', dir, '--channel', CHANNEL]);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.out, /^FAILED channel testchannel: block 4 of 7: orderer signatures/);
  });
});
