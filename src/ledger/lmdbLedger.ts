// The BlockLedger on LMDB (ledger format 2): one environment (one file) per channel. A run of blocks is
// written as segments (src/ledger/segment.ts), one put each, together with the new height, last hash and
// last config number in one synchronous, durable transaction, so a crash leaves either all of a run or
// none of it, and never a height that lies.
//
//   segments : first block number -> segment (count, block hashes, offsets, blocks)
//   hashes   : block hash (32 bytes) -> block number (8 bytes, big-endian)
//   meta     : 'format', 'channel', 'blockFormat', 'head' (height, last config, last hash), 'indexedHeight'
//              (binary records, src/ledger/metaRecords.ts)
//
// The blocks are those of one BlockFormat (src/protocol/blockFormat.ts: edgepeer's own, or Fabric's),
// named in 'blockFormat' so a ledger is never read under the other format's rules; a ledger written
// before that record existed holds edgepeer blocks.
//
// The hash index is written after the blocks, as Fabric's blockfile manager does: blocks
// [0, indexedHeight) are indexed, and indexedHeight moves only in the transaction that writes the
// entries it covers. The index is caught up from the segments' hash tables (no re-hashing) by
// numberOfHash before it answers, and in the background once appends have paused. Appends never
// touch it: one put per segment is what keeps the hot path's garbage per block small.
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Database, type RootDatabase, open } from 'lmdb';
import { ledgerDefaults } from '../config/constants.js';
import { edgepeerBlockFormat } from '../channel/edgepeerFormat.js';
import { HASH_BYTES, bytesEqualAt } from '../protocol/block.js';
import { type BlockFormat, type BlockFormatName, type BlockReader, isBlockFormatName } from '../protocol/blockFormat.js';
import { MAX_ID_CHARS } from '../protocol/envelope.js';
import { HashIndexScheduler } from './hashIndexScheduler.js';
import { RecentHashes } from './recentHashes.js';
import {
  type BlockLedger, type BlockVisitor, type LedgerAudit, LedgerAppendError, LedgerCorruptError, type StoredLedgerState,
} from './ledger.js';
import {
  HEAD_BYTES, LedgerHead, type MetaKey, U64_BYTES, decodeFormat, encodeFormat, headHeight, readHead, readU64, writeHead,
  writeU64,
} from './metaRecords.js';
import {
  SEGMENT_FIXED_BYTES, SEGMENT_PER_BLOCK_BYTES, SegmentSlot, locateInSegment, segmentCount, segmentHashAt, writeSegment,
} from './segment.js';

/** Bumped when the stored layout changes, so an old binary refuses a file it cannot read. */
export const LEDGER_FORMAT_VERSION = 2;
/** segments, hashes, meta. */
const NAMED_DBS = 3;
const LEDGER_FILE_PREFIX = 'ledger-';
const LEDGER_FILE_SUFFIX = '.mdb';
/** Channel names become file names: no separators, no leading dot. */
const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
/** First size of the segment scratch; it doubles from here as larger runs come. */
const MIN_SEGMENT_SCRATCH_BYTES = 64 * 1024;
/** Hashes the run-hash scratch holds at first. */
const MIN_RUN_HASHES = 256;

export class LedgerOpenError extends Error {
  override readonly name = 'LedgerOpenError';
}

export interface OpenLedgerOptions {
  channel: string;
  /** The blocks' format (default edgepeer's own); must match the one the ledger was created with. */
  format?: BlockFormat;
  /** Opens without a write lock; the file must exist. Height and last hash are those seen at opening. */
  readOnly?: boolean;
  /** A run is split into segments of at most this many bytes (a larger block gets a segment of its own). */
  maxSegmentBytes?: number;
  /** The hash index is caught up in the background once no append has come for this long. */
  hashIndexIdleMs?: number;
  /** Blocks indexed per transaction when catching the index up (in the background and on demand). */
  hashIndexSliceBlocks?: number;
  /** Hashes of appended blocks the index has not caught up with, kept in memory at most (32 bytes each). */
  hashIndexRecentBlocks?: number;
  /** After each committed index slice. */
  onHashIndexProgress?(indexedHeight: number, height: number): void;
  /** The background indexer hit damaged storage and stopped; numberOfHash will throw the same error. */
  onHashIndexFailed?(err: Error): void;
}

export function assertChannelName(channel: string): void {
  if (channel.length === 0 || channel.length > MAX_ID_CHARS || !CHANNEL_NAME_PATTERN.test(channel)) {
    throw new LedgerOpenError(`'${channel}' is not a usable channel name (letters, digits, '.', '_', '-'; up to ${MAX_ID_CHARS})`);
  }
}

/** Where the ledger of `channel` lives inside a data directory. */
export function ledgerPath(dataDir: string, channel: string): string {
  assertChannelName(channel);
  return join(dataDir, `${LEDGER_FILE_PREFIX}${channel}${LEDGER_FILE_SUFFIX}`);
}

/** Channels that have a ledger file in `dataDir`, sorted; empty when the directory does not exist. */
export function findLedgers(dataDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const channels: string[] = [];
  for (const name of names) {
    if (!name.startsWith(LEDGER_FILE_PREFIX) || !name.endsWith(LEDGER_FILE_SUFFIX)) continue;
    const channel = name.slice(LEDGER_FILE_PREFIX.length, name.length - LEDGER_FILE_SUFFIX.length);
    if (CHANNEL_NAME_PATTERN.test(channel)) channels.push(channel);
  }
  return channels.sort();
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
}

/** Why one block of a run cannot be appended; 0 when it can. Codes, not exceptions: the check allocates nothing. */
const RunCheck = { ok: 0, layout: 1, number: 2, link: 3 } as const;

/**
 * Checks block `expected` of a run: layout, number, and link to the previous hash (prev at prevAt).
 * A function of its own, not a loop body in append: inlined there, V8 boxed a double once per block.
 */
function checkRunBlock(block: Uint8Array, expected: number, prev: Uint8Array, prevAt: number, reader: BlockReader): number {
  if (!reader.locate(block)) return RunCheck.layout;
  if (reader.number(block) !== expected) return RunCheck.number;
  if (!reader.previousHashEquals(block, prev, prevAt)) return RunCheck.link;
  return RunCheck.ok;
}

/** The error for a block that checkRunBlock refused (off the hot path: it may allocate). */
function runCheckError(code: number, block: Uint8Array, expected: number, reader: BlockReader): LedgerAppendError {
  if (code === RunCheck.layout) {
    reader.locate(block);
    return new LedgerAppendError(`block ${expected}: ${reader.locateError}`, expected);
  }
  if (code === RunCheck.number) {
    const number = reader.number(block);
    return new LedgerAppendError(`block ${number}: expected block number ${expected} (ledger height ${expected})`, number);
  }
  return new LedgerAppendError(`block ${expected}: previous hash does not match the hash of block ${expected - 1}`, expected);
}

export class LmdbLedger implements BlockLedger, LedgerAudit {
  readonly channel: string;
  readonly format: BlockFormat;
  readonly path: string;
  readonly readOnly: boolean;
  readonly maxSegmentBytes: number;
  readonly hashIndexSliceBlocks: number;
  private readonly env: RootDatabase;
  private readonly segments: Database<Uint8Array, number>;
  private readonly hashIndex: Database<Uint8Array, Uint8Array>;
  private readonly meta: Database<Uint8Array, MetaKey>;
  private readonly opts: OpenLedgerOptions;
  // height, last config and last hash as last committed (or read at opening).
  private readonly head = new LedgerHead();
  private cachedIndexedHeight = 0;
  private closed = false;
  private readonly indexer: HashIndexScheduler | null;
  private indexFailure: Error | null = null;

  // Reused by every append, so that a run allocates a fixed amount whatever its length: the put per
  // segment, the head put and the transaction. lmdb copies a value during a put inside
  // transactionSync, so the scratch may be refilled for the next segment straight away.
  private readonly reader: BlockReader;
  private runHashes = new Uint8Array(MIN_RUN_HASHES * HASH_BYTES);
  private segmentScratch = new Uint8Array(0);
  private readonly headValue = new Uint8Array(HEAD_BYTES);
  private pendingBlocks: ArrayLike<Uint8Array> | null = null;
  private pendingStart = 0;
  private pendingCount = 0;
  private readonly writeRunBound = (): void => this.writeRun();

  private readonly recent: RecentHashes;
  private readonly indexKey = new Uint8Array(HASH_BYTES);
  private readonly indexValue = new Uint8Array(U64_BYTES);
  private sliceIndexedTo = 0;
  private readonly indexSliceTxnBound = (): void => this.indexSliceTxn();

  // The segment found by the last lookup; segments are never rewritten, so it stays right, and
  // consecutive reads of one segment skip the range lookup.
  private foundFirst = -1;
  private foundCount = 0;
  private readonly slot = new SegmentSlot();

  constructor(path: string, opts: OpenLedgerOptions) {
    assertChannelName(opts.channel);
    this.channel = opts.channel;
    this.format = opts.format ?? edgepeerBlockFormat;
    this.reader = this.format.reader();
    this.path = path;
    this.opts = opts;
    this.readOnly = opts.readOnly === true;
    this.maxSegmentBytes = positiveInteger(opts.maxSegmentBytes, ledgerDefaults.maxSegmentBytes, 'maxSegmentBytes');
    this.hashIndexSliceBlocks = positiveInteger(opts.hashIndexSliceBlocks, ledgerDefaults.hashIndexSliceBlocks, 'hashIndexSliceBlocks');
    this.recent = new RecentHashes(positiveInteger(opts.hashIndexRecentBlocks, ledgerDefaults.hashIndexRecentBlocks, 'hashIndexRecentBlocks'));
    const idleMs = opts.hashIndexIdleMs ?? ledgerDefaults.hashIndexIdleMs;
    if (!Number.isFinite(idleMs) || idleMs < 0) throw new RangeError(`hashIndexIdleMs must be a duration in ms, got ${idleMs}`);
    if (!this.readOnly) mkdirSync(dirname(path), { recursive: true });
    try {
      // Default sync settings on purpose: every transactionSync is durable when it returns.
      this.env = open(path, { maxDbs: NAMED_DBS, readOnly: this.readOnly, noSubdir: true });
    } catch (err) {
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
    try {
      this.meta = this.env.openDB<Uint8Array, MetaKey>('meta', { encoding: 'binary' });
      // Checked before the other databases are opened, so that opening an old file changes nothing in it.
      this.checkFormat();
      this.segments = this.env.openDB<Uint8Array, number>('segments', { encoding: 'binary' });
      this.hashIndex = this.env.openDB<Uint8Array, Uint8Array>('hashes', { encoding: 'binary', keyEncoding: 'binary' });
      if (!this.readOnly) this.initialiseIfNew();
      this.loadMeta();
    } catch (err) {
      void this.env.close().catch(() => undefined);
      if (err instanceof LedgerOpenError) throw err;
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
    this.indexer = this.readOnly ? null : new HashIndexScheduler({
      idleMs,
      runSlice: () => this.indexSlice(),
      failed: (err) => {
        this.indexFailure = err;
        this.opts.onHashIndexFailed?.(err);
      },
    });
    // Not rebuilt here: a restart after a crash costs nothing until the ledger is quiet or asked.
    if (this.indexer !== null && this.cachedIndexedHeight < this.head.height) this.indexer.noteAppend();
  }

  private checkFormat(): void {
    const stored = this.meta.getBinary('format');
    if (stored === undefined) return;
    const format = decodeFormat(stored);
    if (format === LEDGER_FORMAT_VERSION) return;
    throw new LedgerOpenError(
      `ledger ${this.path} has format ${format ?? 'unknown'}; this build reads format ${LEDGER_FORMAT_VERSION} only `
      + '(older ledgers are not converted: move the file away and let the node sync the chain again)',
    );
  }

  private initialiseIfNew(): void {
    this.env.transactionSync(() => {
      if (this.meta.getBinary('channel') !== undefined) return;
      if (this.segments.getKeysCount({ limit: 1 }) > 0) {
        throw new LedgerOpenError(`ledger ${this.path} holds blocks but no channel record`);
      }
      const head = new Uint8Array(HEAD_BYTES);
      writeHead(head, 0, -1, new Uint8Array(HASH_BYTES), 0);
      this.meta.put('format', encodeFormat(LEDGER_FORMAT_VERSION));
      this.meta.put('channel', Buffer.from(this.channel, 'utf8'));
      this.meta.put('blockFormat', Buffer.from(this.format.name, 'utf8'));
      this.meta.put('head', head);
      this.meta.put('indexedHeight', new Uint8Array(U64_BYTES));
    });
  }

  private loadMeta(): void {
    const channelBytes = this.meta.getBinary('channel');
    if (channelBytes === undefined) throw new LedgerOpenError(`${this.path} is not an edgepeer ledger (no channel record)`);
    const channel = Buffer.from(channelBytes).toString('utf8');
    if (channel !== this.channel) {
      throw new LedgerOpenError(`ledger ${this.path} belongs to channel '${channel}', not '${this.channel}'`);
    }
    const format = this.meta.getBinary('format');
    if (format === undefined || decodeFormat(format) !== LEDGER_FORMAT_VERSION) {
      throw new LedgerOpenError(`ledger ${this.path} has no format ${LEDGER_FORMAT_VERSION} record`);
    }
    const blockFormat = storedBlockFormat(this.meta.getBinary('blockFormat'));
    if (blockFormat === null) throw new LedgerOpenError(`ledger ${this.path}: its block format record names no known format`);
    if (blockFormat !== this.format.name) {
      throw new LedgerOpenError(`ledger ${this.path} holds ${blockFormat} blocks, not ${this.format.name} blocks`);
    }
    const head = this.meta.getBinary('head');
    if (head === undefined || !readHead(head, this.head)) {
      throw new LedgerOpenError(`ledger ${this.path}: the stored height, last config number and last hash are unreadable`);
    }
    const indexed = this.meta.getBinary('indexedHeight');
    const indexedHeight = indexed?.length === U64_BYTES ? readU64(indexed, 0) : -1;
    if (!Number.isSafeInteger(indexedHeight) || indexedHeight < 0 || indexedHeight > this.head.height) {
      throw new LedgerOpenError(`ledger ${this.path}: stored indexed height is not a block count up to the height`);
    }
    this.cachedIndexedHeight = indexedHeight;
  }

  height(): number {
    return this.head.height;
  }

  lastHash(): Uint8Array {
    return this.head.lastHash;
  }

  lastConfigNumber(): number {
    return this.head.lastConfig;
  }

  /** Blocks whose hashes are in the hash index (the rest are found by catching the index up). */
  indexedHeight(): number {
    return this.cachedIndexedHeight;
  }

  /** Stored segments. */
  segmentCount(): number {
    // lmdb's typings leave getStats() untyped; mdb_stat's entry count is what it returns.
    const { entryCount } = this.segments.getStats() as { entryCount?: unknown };
    return typeof entryCount === 'number' ? entryCount : this.segments.getKeysCount();
  }

  /**
   * A copy of block n. A multi-block segment is read whole (LMDB has no partial reads), so reading
   * many consecutive blocks this way costs a segment per block: use readBlocks for that.
   */
  getBlock(n: number): Uint8Array | undefined {
    const view = this.getBlockUnsafe(n);
    return view === undefined ? undefined : Buffer.from(view);
  }

  /**
   * Block n without a copy, for the orderer's Deliver path. The bytes live in lmdb's process-wide read
   * buffer: they are valid only until the next read of ANY lmdb database in this process (any ledger,
   * any get), and must not be modified. Copy what must outlive that, or send it first.
   */
  getBlockUnsafe(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    const seg = this.findSegment(n);
    if (seg === undefined) return undefined;
    // lmdb hands back its whole 16 MiB shared buffer with only `length` patched; byteLength, slice()
    // and socket writes would see all of it. A view of exactly the block costs an object, not a copy.
    return seg.subarray(this.slot.start, this.slot.end);
  }

  readBlocks(from: number, toInclusive: number, maxBytes: number, visit: BlockVisitor): number {
    if (!Number.isSafeInteger(from) || from < 0) return 0;
    let n = from;
    let bytes = 0;
    let visited = 0;
    while (n <= toInclusive) {
      const seg = this.findSegment(n);
      if (seg === undefined) break;
      const first = this.foundFirst;
      const count = this.foundCount;
      const end = Math.min(toInclusive + 1, first + count);
      for (; n < end; n++) {
        if (!locateInSegment(seg, seg.length, count, n - first, this.slot)) throw this.damaged(n, first);
        const length = this.slot.end - this.slot.start;
        if (visited > 0 && bytes + length > maxBytes) return visited;
        visit(seg.subarray(this.slot.start, this.slot.end), n);
        bytes += length;
        visited++;
      }
    }
    return visited;
  }

  numberOfHash(hash: Uint8Array): number | undefined {
    if (hash.length !== HASH_BYTES) return undefined;
    if (!this.readOnly && !this.closed) this.catchUpHashIndex();
    const stored = this.indexedNumberOf(hash);
    if (stored !== undefined) return stored;
    // A read-only handle cannot write the index: it looks through the segments not yet indexed.
    return this.cachedIndexedHeight < this.head.height ? this.scanForHash(hash, this.cachedIndexedHeight, this.head.height) : undefined;
  }

  indexedNumberOf(hash: Uint8Array): number | undefined {
    if (hash.length !== HASH_BYTES) return undefined;
    const value = this.hashIndex.getBinaryFast(hash);
    if (value === undefined) return undefined;
    if (value.length !== U64_BYTES) throw new LedgerCorruptError(`ledger ${this.path}: a hash index entry is ${value.length} bytes, not ${U64_BYTES}`, -1);
    return readU64(value, 0);
  }

  /** Brings the hash index up to the height, in slices of hashIndexSliceBlocks blocks per transaction. */
  catchUpHashIndex(): void {
    if (this.readOnly) throw new Error(`ledger ${this.path} is open read-only`);
    if (this.closed) throw new Error(`ledger ${this.path} is closed`);
    if (this.indexFailure !== null) throw this.indexFailure;
    while (this.cachedIndexedHeight < this.head.height) this.indexSlice();
  }

  storedState(): StoredLedgerState {
    const head = new LedgerHead();
    const headValue = this.meta.getBinary('head');
    if (headValue === undefined || !readHead(headValue, head)) throw new LedgerCorruptError(`ledger ${this.path}: the head record is unreadable`, -1);
    const indexed = this.meta.getBinary('indexedHeight');
    if (indexed?.length !== U64_BYTES) throw new LedgerCorruptError(`ledger ${this.path}: the indexed height record is unreadable`, -1);
    return {
      height: head.height, lastHash: head.lastHash, lastConfigNumber: head.lastConfig, indexedHeight: readU64(indexed, 0),
      indexEntryCount: this.hashIndex.getKeysCount(),
    };
  }

  forEachSegment(visit: (first: number, segment: Uint8Array) => boolean): void {
    for (const { key, value } of this.segments.getRange({})) {
      if (!visit(key, Buffer.from(value))) return;
    }
  }

  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void {
    if (this.readOnly) throw new Error(`ledger ${this.path} is open read-only`);
    if (this.closed) throw new Error(`ledger ${this.path} is closed`);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > blocks.length) {
      throw new RangeError(`append range [${start}, ${start}+${count}) is outside the ${blocks.length} blocks given`);
    }
    if (hashes !== null && hashes.length < start + count) {
      throw new RangeError(`append got ${hashes.length} hashes for blocks up to index ${start + count}`);
    }
    if (count === 0) return;

    // Every check runs before the transaction opens, so a rejected call writes nothing at all. Per block
    // this allocates nothing: the hashes go into a reused table, the blocks stay where they are.
    if (this.runHashes.length < count * HASH_BYTES) this.runHashes = new Uint8Array(Math.max(count, 2 * this.runHashes.length / HASH_BYTES) * HASH_BYTES);
    const runHashes = this.runHashes;
    const reader = this.reader;
    const height = this.head.height;
    let lastConfig = this.head.lastConfig;
    for (let i = 0; i < count; i++) {
      const block = blocks[start + i]!;
      const expected = height + i;
      const code = i === 0
        ? checkRunBlock(block, expected, this.head.lastHash, 0, reader)
        : checkRunBlock(block, expected, runHashes, (i - 1) * HASH_BYTES, reader);
      if (code !== RunCheck.ok) throw runCheckError(code, block, expected, reader);
      if (hashes !== null) {
        const hash = hashes[start + i]!;
        if (hash.length !== HASH_BYTES) throw new LedgerAppendError(`block ${expected}: given hash is not ${HASH_BYTES} bytes`, expected);
        runHashes.set(hash, i * HASH_BYTES);
      } else {
        reader.hashInto(block, runHashes, i * HASH_BYTES);
      }
      if (reader.isConfig(block)) lastConfig = expected;
    }
    writeHead(this.headValue, height + count, lastConfig, runHashes, (count - 1) * HASH_BYTES);

    this.pendingBlocks = blocks;
    this.pendingStart = start;
    this.pendingCount = count;
    try {
      this.env.transactionSync(this.writeRunBound);
    } finally {
      this.pendingBlocks = null;
    }
    // Only a committed transaction moves the cache.
    readHead(this.headValue, this.head);
    this.recent.add(height, runHashes, count);
    this.indexer?.noteAppend();
  }

  /** The body of append's transaction: the run as segments, then the meta records. */
  private writeRun(): void {
    const first = this.head.height;
    // The cache is authoritative only while this handle is the sole writer; catch a second one here.
    const storedHead = this.meta.getBinaryFast('head');
    const stored = storedHead === undefined ? -1 : headHeight(storedHead);
    if (stored !== first) {
      throw new LedgerAppendError(`block ${first}: the stored height is ${stored} (another writer?)`, first);
    }
    const blocks = this.pendingBlocks!;
    const start = this.pendingStart;
    const count = this.pendingCount;
    let i = 0;
    while (i < count) {
      let bytes = SEGMENT_FIXED_BYTES + SEGMENT_PER_BLOCK_BYTES + blocks[start + i]!.length;
      let j = i + 1;
      for (; j < count; j++) {
        const more = SEGMENT_PER_BLOCK_BYTES + blocks[start + j]!.length;
        if (bytes + more > this.maxSegmentBytes) break;
        bytes += more;
      }
      const scratch = this.segmentScratchOf(bytes);
      writeSegment(scratch, blocks, start + i, j - i, this.runHashes, i);
      void this.segments.put(first + i, scratch.subarray(0, bytes));
      i = j;
    }
    void this.meta.put('head', this.headValue);
  }

  private segmentScratchOf(bytes: number): Uint8Array {
    if (this.segmentScratch.length < bytes) {
      this.segmentScratch = new Uint8Array(Math.max(bytes, MIN_SEGMENT_SCRATCH_BYTES, 2 * this.segmentScratch.length));
    }
    return this.segmentScratch;
  }

  /**
   * The segment holding block n, in lmdb's read buffer, with n's bounds in `slot` and the segment's
   * first number and count in foundFirst/foundCount; undefined when no stored segment holds n.
   */
  private findSegment(n: number): Uint8Array | undefined {
    let first: number;
    let seg: Uint8Array | undefined;
    if (n >= this.foundFirst && n < this.foundFirst + this.foundCount) {
      first = this.foundFirst;
      seg = this.segments.getBinaryFast(first);
    } else {
      // The orderer stores one block per segment, so its reads hit here at once.
      first = n;
      seg = this.segments.getBinaryFast(n);
      if (seg === undefined) {
        const below = this.segmentKeyAtOrBelow(n);
        if (below === undefined) return undefined;
        first = below;
        seg = this.segments.getBinaryFast(first);
      }
    }
    if (seg === undefined) return undefined;
    const count = segmentCount(seg, seg.length);
    if (count === 0) throw this.damaged(n, first);
    if (n >= first + count) return undefined;
    if (!locateInSegment(seg, seg.length, count, n - first, this.slot)) throw this.damaged(n, first);
    this.foundFirst = first;
    this.foundCount = count;
    return seg;
  }

  private segmentKeyAtOrBelow(n: number): number | undefined {
    for (const key of this.segments.getKeys({ start: n, reverse: true, limit: 1 })) return key;
    return undefined;
  }

  private damaged(n: number, first: number): LedgerCorruptError {
    return new LedgerCorruptError(`ledger ${this.path}: block ${n}: the segment from block ${first} is damaged (run \`edgepeer ledger verify\`)`, n);
  }

  /** Looks for `hash` in the segments' hash tables of blocks [from, to); allocates nothing per block. */
  private scanForHash(hash: Uint8Array, from: number, to: number): number | undefined {
    let n = from;
    while (n < to) {
      const seg = this.findSegment(n);
      if (seg === undefined) return undefined;
      const first = this.foundFirst;
      const end = Math.min(to, first + this.foundCount);
      for (; n < end; n++) if (bytesEqualAt(seg, segmentHashAt(n - first), hash, 0, HASH_BYTES)) return n;
    }
    return undefined;
  }

  /** One transaction of index catch-up; returns true while blocks remain unindexed. */
  private indexSlice(): boolean {
    if (this.cachedIndexedHeight >= this.head.height) return false;
    this.env.transactionSync(this.indexSliceTxnBound);
    this.cachedIndexedHeight = this.sliceIndexedTo;
    this.recent.dropBelow(this.cachedIndexedHeight);
    this.opts.onHashIndexProgress?.(this.cachedIndexedHeight, this.head.height);
    return this.cachedIndexedHeight < this.head.height;
  }

  private indexSliceTxn(): void {
    // Read inside the transaction: another handle on the file may have indexed or appended.
    const indexed = this.meta.getBinaryFast('indexedHeight');
    const from = indexed?.length === U64_BYTES ? readU64(indexed, 0) : -1;
    const storedHead = this.meta.getBinaryFast('head');
    const height = storedHead === undefined ? -1 : headHeight(storedHead);
    if (from < 0 || height < 0) throw new LedgerCorruptError(`ledger ${this.path}: the head or indexed height record is unreadable`, -1);
    const to = Math.min(height, from + this.hashIndexSliceBlocks);
    if (to <= from && from < this.head.height) {
      throw new LedgerCorruptError(`ledger ${this.path}: the stored height ${height} is below this handle's height ${this.head.height}`, height);
    }
    const recent = this.recent;
    let n = from;
    while (n < to) {
      if (n >= recent.from && n < recent.end) {
        const end = Math.min(to, recent.end);
        for (; n < end; n++) {
          recent.copyHash(n, this.indexKey);
          writeU64(this.indexValue, 0, n);
          void this.hashIndex.put(this.indexKey, this.indexValue);
        }
        continue;
      }
      // The puts below do not read, so the segment stays in lmdb's read buffer while they run.
      const seg = this.findSegment(n);
      if (seg === undefined) throw new LedgerCorruptError(`ledger ${this.path}: block ${n} is missing below the recorded height ${height}`, n);
      const first = this.foundFirst;
      const end = Math.min(to, first + this.foundCount, n < recent.from ? recent.from : Infinity);
      for (; n < end; n++) {
        const at = segmentHashAt(n - first);
        for (let b = 0; b < HASH_BYTES; b++) this.indexKey[b] = seg[at + b]!;
        writeU64(this.indexValue, 0, n);
        void this.hashIndex.put(this.indexKey, this.indexValue);
      }
    }
    writeU64(this.indexValue, 0, to);
    void this.meta.put('indexedHeight', this.indexValue);
    this.sliceIndexedTo = to;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.indexer?.stop();
    await this.env.close();
  }
}

/** The block format a stored 'blockFormat' record names; edgepeer for a ledger older than the record; null for an unknown name. */
function storedBlockFormat(value: Uint8Array | undefined): BlockFormatName | null {
  if (value === undefined) return 'edgepeer';
  const name = Buffer.from(value).toString('utf8');
  return isBlockFormatName(name) ? name : null;
}

export function openLedger(path: string, opts: OpenLedgerOptions): LmdbLedger {
  return new LmdbLedger(path, opts);
}
