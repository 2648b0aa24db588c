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
// This file opens the environment, keeps the head and checks and writes runs; the segments are read and
// written by SegmentStore (src/ledger/segmentStore.ts) and the hash index is kept by HashIndex
// (src/ledger/hashIndex.ts), written after the blocks as Fabric's blockfile manager does.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Database, type RootDatabase, open } from 'lmdb';
import { ledgerDefaults } from './ledgerDefaults.js';
import { edgepeerBlockFormat } from '../channel/edgepeerFormat.js';
import { HASH_BYTES } from '../protocol/block.js';
import { type BlockFormat, type BlockFormatName, type BlockReader, isBlockFormatName } from '../protocol/blockFormat.js';
import { MAX_CHANNEL_NAME_CHARS, isValidChannelName } from '../protocol/names.js';
import { checkLedgerFile } from './fileCheck.js';
import { makeLedgerFolder, openPrivately } from './privateFiles.js';
import { HashIndex } from './hashIndex.js';
import {
  type BlockLedger, type BlockVisitor, type LedgerAudit, LedgerAppendError, LedgerCorruptError, type StoredLedgerState,
} from './ledger.js';
import {
  HEAD_BYTES, LedgerHead, type MetaKey, U64_BYTES, decodeFormat, encodeFormat, headHeight, readHead, readU64, writeHead,
} from './metaRecords.js';
import { SegmentStore } from './segmentStore.js';

/** Bumped when the stored layout changes, so an old binary refuses a file it cannot read. */
export const LEDGER_FORMAT_VERSION = 2;
/** segments, hashes, meta. */
const NAMED_DBS = 3;
const LEDGER_FILE_PREFIX = 'ledger-';
const LEDGER_FILE_SUFFIX = '.mdb';
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
  // Channel names become file names: the one rule (src/protocol/names.ts) has no separators, no leading dot.
  if (!isValidChannelName(channel)) {
    throw new LedgerOpenError(`'${channel}' is not a usable channel name (letters, digits, '.', '_', '-'; up to ${MAX_CHANNEL_NAME_CHARS})`);
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
    if (isValidChannelName(channel)) channels.push(channel);
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
  private readonly meta: Database<Uint8Array, MetaKey>;
  private readonly segments: SegmentStore;
  private readonly hashIndex: HashIndex;
  // height, last config and last hash as last committed (or read at opening).
  private readonly head = new LedgerHead();
  private closed = false;

  // Reused by every append, so that a run allocates a fixed amount whatever its length: the put per
  // segment, the head put and the transaction.
  private readonly reader: BlockReader;
  private runHashes = new Uint8Array(MIN_RUN_HASHES * HASH_BYTES);
  private readonly headValue = new Uint8Array(HEAD_BYTES);
  private pendingBlocks: ArrayLike<Uint8Array> | null = null;
  private pendingStart = 0;
  private pendingCount = 0;
  /** An appendAsync's transaction is queued or committing: runHashes, headValue and the pending run are its. */
  private asyncInFlight = false;
  private readonly writeRunBound = (): void => this.writeRun();
  // Bound once, so that a run allocates no closures: the only per-run object of appendAsync is lmdb-js's promise.
  private readonly asyncCommittedBound = (): void => this.asyncCommitted();
  private readonly asyncRefusedBound = (err: unknown): never => this.asyncRefused(err);

  constructor(path: string, opts: OpenLedgerOptions) {
    assertChannelName(opts.channel);
    this.channel = opts.channel;
    this.format = opts.format ?? edgepeerBlockFormat;
    this.reader = this.format.reader();
    this.path = path;
    this.readOnly = opts.readOnly === true;
    this.maxSegmentBytes = positiveInteger(opts.maxSegmentBytes, ledgerDefaults.maxSegmentBytes, 'maxSegmentBytes');
    this.hashIndexSliceBlocks = positiveInteger(opts.hashIndexSliceBlocks, ledgerDefaults.hashIndexSliceBlocks, 'hashIndexSliceBlocks');
    const recentBlocks = positiveInteger(opts.hashIndexRecentBlocks, ledgerDefaults.hashIndexRecentBlocks, 'hashIndexRecentBlocks');
    const idleMs = opts.hashIndexIdleMs ?? ledgerDefaults.hashIndexIdleMs;
    if (!Number.isFinite(idleMs) || idleMs < 0) throw new RangeError(`hashIndexIdleMs must be a duration in ms, got ${idleMs}`);
    if (!this.readOnly) makeLedgerFolder(dirname(path));
    checkLedgerFile(path, { readOnly: this.readOnly });
    try {
      // Every transactionSync (default flags) is durable when it returns: the data is fdatasync'd, then the
      // meta page written O_DSYNC (test/integration/ledgerDurability.test.ts). overlappingSync (lmdb-js's
      // Linux default) changes nothing for such commits (scripts/benchDurability.ts: the same ~10 ms per
      // commit either way here) but makes LMDB read a third meta page at opening that fileCheck does not
      // vouch for: it is off, so a file is read as classic LMDB reads it.
      const options = { maxDbs: NAMED_DBS, readOnly: this.readOnly, noSubdir: true, overlappingSync: false };
      this.env = this.readOnly ? open(path, options) : openPrivately(path, () => open(path, options));
    } catch (err) {
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
    try {
      this.meta = this.env.openDB<Uint8Array, MetaKey>('meta', { encoding: 'binary' });
      // Checked before the other databases are opened, so that opening an old file changes nothing in it.
      this.checkFormat();
      this.segments = new SegmentStore(this.env.openDB<Uint8Array, number>('segments', { encoding: 'binary' }), path, this.maxSegmentBytes);
      if (!this.readOnly) this.initialiseIfNew();
      const indexedHeight = this.loadMeta();
      this.hashIndex = new HashIndex({
        env: this.env, meta: this.meta, segments: this.segments, path, height: () => this.head.height, indexedHeight,
        scheduling: this.readOnly ? null : { idleMs }, sliceBlocks: this.hashIndexSliceBlocks, recentBlocks,
        ...(opts.onHashIndexProgress && { onProgress: opts.onHashIndexProgress }),
        ...(opts.onHashIndexFailed && { onFailed: opts.onHashIndexFailed }),
      });
    } catch (err) {
      void this.env.close().catch(() => undefined);
      if (err instanceof LedgerOpenError) throw err;
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
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
      if (!this.segments.isEmpty()) {
        throw new LedgerOpenError(`ledger ${this.path} holds blocks but no channel record`);
      }
      const head = new Uint8Array(HEAD_BYTES);
      writeHead(head, 0, -1, new Uint8Array(HASH_BYTES), 0);
      // Inside transactionSync these writes happen at once; the promises they return carry nothing more.
      void this.meta.put('format', encodeFormat(LEDGER_FORMAT_VERSION));
      void this.meta.put('channel', Buffer.from(this.channel, 'utf8'));
      void this.meta.put('blockFormat', Buffer.from(this.format.name, 'utf8'));
      void this.meta.put('head', head);
      void this.meta.put('indexedHeight', new Uint8Array(U64_BYTES));
    });
  }

  /** Reads the meta records into the head; returns the stored indexed height. */
  private loadMeta(): number {
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
    return indexedHeight;
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
    return this.hashIndex.indexedHeight;
  }

  /** Stored segments. */
  segmentCount(): number {
    return this.segments.count();
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
    return this.segments.blockView(n);
  }

  readBlocks(from: number, toInclusive: number, maxBytes: number, visit: BlockVisitor): number {
    return this.segments.readBlocks(from, toInclusive, maxBytes, visit);
  }

  numberOfHash(hash: Uint8Array): number | undefined {
    return this.hashIndex.numberOf(hash, !this.readOnly && !this.closed);
  }

  indexedNumberOf(hash: Uint8Array): number | undefined {
    return this.hashIndex.storedNumberOf(hash);
  }

  /** Brings the hash index up to the height, in slices of hashIndexSliceBlocks blocks per transaction. */
  catchUpHashIndex(): void {
    if (this.readOnly) throw new Error(`ledger ${this.path} is open read-only`);
    if (this.closed) throw new Error(`ledger ${this.path} is closed`);
    this.hashIndex.catchUp();
  }

  storedState(): StoredLedgerState {
    const head = new LedgerHead();
    const headValue = this.meta.getBinary('head');
    if (headValue === undefined || !readHead(headValue, head)) throw new LedgerCorruptError(`ledger ${this.path}: the head record is unreadable`, -1);
    const indexed = this.meta.getBinary('indexedHeight');
    if (indexed?.length !== U64_BYTES) throw new LedgerCorruptError(`ledger ${this.path}: the indexed height record is unreadable`, -1);
    return {
      height: head.height, lastHash: head.lastHash, lastConfigNumber: head.lastConfig, indexedHeight: readU64(indexed, 0),
      indexEntryCount: this.hashIndex.entryCount(),
    };
  }

  forEachSegment(visit: (first: number, segment: Uint8Array) => boolean): void {
    this.segments.forEach(visit);
  }

  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void {
    if (!this.prepareRun(blocks, hashes, start, count)) return;
    try {
      this.env.transactionSync(this.writeRunBound);
    } finally {
      this.pendingBlocks = null;
    }
    this.committedRun();
  }

  appendAsync(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): Promise<void> {
    if (!this.prepareRun(blocks, hashes, start, count)) return Promise.resolve();
    // lmdb-js runs the callback on this thread inside a write transaction its writer thread opened (the
    // puts copy the values then, as in transactionSync), then commits and fsyncs on the writer thread
    // (overlappingSync is off, so "committed" is "durable").
    this.asyncInFlight = true;
    return this.env.transaction(this.writeRunBound).then(this.asyncCommittedBound, this.asyncRefusedBound);
  }

  private asyncCommitted(): void {
    this.asyncInFlight = false;
    this.pendingBlocks = null;
    // A run that was in flight when close was called still committed (lmdb-js's close lets it finish);
    // the closed handle's cache is not moved, the reopened ledger reads the head from the file.
    if (!this.closed) this.committedRun();
  }

  private asyncRefused(err: unknown): never {
    this.asyncInFlight = false;
    this.pendingBlocks = null;
    throw err instanceof Error ? err : new Error(String(err));
  }

  /**
   * The checks of append, before any transaction, so a rejected run writes nothing at all; fills
   * runHashes and headValue for the run. False for an empty run. Per block this allocates nothing: the
   * hashes go into a reused table, the blocks stay where they are.
   */
  private prepareRun(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): boolean {
    if (this.readOnly) throw new Error(`ledger ${this.path} is open read-only`);
    if (this.closed) throw new Error(`ledger ${this.path} is closed`);
    if (this.asyncInFlight) throw new Error(`ledger ${this.path}: an appendAsync is still in flight (one run at a time)`);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > blocks.length) {
      throw new RangeError(`append range [${start}, ${start}+${count}) is outside the ${blocks.length} blocks given`);
    }
    if (hashes !== null && hashes.length < start + count) {
      throw new RangeError(`append got ${hashes.length} hashes for blocks up to index ${start + count}`);
    }
    if (count === 0) return false;

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
    return true;
  }

  /** After a run's transaction committed: only then the cache moves. */
  private committedRun(): void {
    const first = this.head.height;
    readHead(this.headValue, this.head);
    this.hashIndex.noteAppend(first, this.runHashes, this.pendingCount);
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
    this.segments.putRun(first, this.pendingBlocks!, this.pendingStart, this.pendingCount, this.runHashes);
    void this.meta.put('head', this.headValue);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hashIndex.stop();
    // lmdb-js's close waits for a transaction it has queued or is committing: a run in flight is
    // committed first and its promise settles (test/unit/ledger/ledger.test.ts: "a run in flight when close is called").
    await this.env.close();
  }
}

/** The block format a stored 'blockFormat' record names; edgepeer for a ledger older than the record; null for an unknown name. */
function storedBlockFormat(value: Uint8Array | undefined): BlockFormatName | null {
  if (value === undefined) return 'edgepeer';
  const name = Buffer.from(value).toString('utf8');
  return isBlockFormatName(name) ? name : null;
}

/**
 * The block format of the ledger file at `path`, read without opening it as a ledger (so a caller can
 * pick the format to open it with). Opens the file read-only and writes nothing.
 */
export async function readLedgerBlockFormat(path: string): Promise<BlockFormatName> {
  let env: RootDatabase;
  checkLedgerFile(path, { readOnly: true });
  try {
    env = open(path, { maxDbs: NAMED_DBS, readOnly: true, noSubdir: true });
  } catch (err) {
    throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
  }
  try {
    const meta = env.openDB<Uint8Array, MetaKey>('meta', { encoding: 'binary' });
    const name = storedBlockFormat(meta.getBinary('blockFormat'));
    if (name === null) throw new LedgerOpenError(`ledger ${path}: its block format record names no known format`);
    return name;
  } finally {
    await env.close();
  }
}

export function openLedger(path: string, opts: OpenLedgerOptions): LmdbLedger {
  return new LmdbLedger(path, opts);
}
