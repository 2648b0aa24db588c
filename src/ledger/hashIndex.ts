// The ledger's hash index: block hash (32 bytes) -> block number (u64 BE), in the 'hashes' database.
//
// It is written after the blocks, as Fabric's blockfile manager does: blocks [0, indexedHeight) are
// indexed, and indexedHeight (a meta record) moves only in the transaction that writes the entries it
// covers. Appends never touch it (one put per segment is what keeps the hot path's garbage per block
// small); it is caught up from the segments' hash tables, or from the hashes the appender had in hand
// (RecentHashes), with no re-hashing: on demand before it answers, and in the background once appends
// have paused (HashIndexScheduler).
import type { Database, RootDatabase } from 'lmdb';
import { HASH_BYTES, bytesEqualAt } from '../protocol/block.js';
import { HashIndexScheduler } from './hashIndexScheduler.js';
import { LedgerCorruptError } from './ledger.js';
import { type MetaKey, U64_BYTES, headHeight, readU64, writeU64 } from './metaRecords.js';
import { RecentHashes } from './recentHashes.js';
import { segmentHashAt } from './segment.js';
import type { SegmentStore } from './segmentStore.js';

export interface HashIndexOptions {
  env: RootDatabase;
  meta: Database<Uint8Array, MetaKey>;
  segments: SegmentStore;
  path: string;
  /** The height this handle has committed (or read at opening). */
  height(): number;
  /** The stored indexed height read at opening. */
  indexedHeight: number;
  /** Null for a read-only handle: no background catch-up, no writes. */
  scheduling: { idleMs: number } | null;
  sliceBlocks: number;
  recentBlocks: number;
  onProgress?(indexedHeight: number, height: number): void;
  onFailed?(err: Error): void;
}

export class HashIndex {
  private readonly db: Database<Uint8Array, Uint8Array>;
  private indexedHeightValue: number;
  private readonly scheduler: HashIndexScheduler | null;
  private failure: Error | null = null;
  private readonly recent: RecentHashes;
  private readonly key = new Uint8Array(HASH_BYTES);
  private readonly value = new Uint8Array(U64_BYTES);
  private sliceIndexedTo = 0;
  private readonly sliceTxnBound = (): void => this.sliceTxn();

  constructor(private readonly o: HashIndexOptions) {
    this.db = o.env.openDB<Uint8Array, Uint8Array>('hashes', { encoding: 'binary', keyEncoding: 'binary' });
    this.indexedHeightValue = o.indexedHeight;
    this.recent = new RecentHashes(o.recentBlocks);
    this.scheduler = o.scheduling === null ? null : new HashIndexScheduler({
      idleMs: o.scheduling.idleMs,
      runSlice: () => this.slice(),
      failed: (err) => {
        this.failure = err;
        this.o.onFailed?.(err);
      },
    });
    // Not rebuilt here: a restart after a crash costs nothing until the ledger is quiet or asked.
    if (this.scheduler !== null && this.indexedHeightValue < o.height()) this.scheduler.noteAppend();
  }

  /** Blocks whose hashes are in the index (the rest are found by catching it up). */
  get indexedHeight(): number {
    return this.indexedHeightValue;
  }

  /** Entries stored. */
  entryCount(): number {
    return this.db.getKeysCount();
  }

  /** A committed run [first, first + count) whose hashes are `hashes` (32 bytes each, from 0). */
  noteAppend(first: number, hashes: Uint8Array, count: number): void {
    this.recent.add(first, hashes, count);
    this.scheduler?.noteAppend();
  }

  /** BlockLedger.numberOfHash: exact, blocks appended just before are found. */
  numberOf(hash: Uint8Array, writable: boolean): number | undefined {
    if (hash.length !== HASH_BYTES) return undefined;
    if (writable) this.catchUp();
    const stored = this.storedNumberOf(hash);
    if (stored !== undefined) return stored;
    // A read-only handle cannot write the index: it looks through the segments not yet indexed.
    const height = this.o.height();
    return this.indexedHeightValue < height ? this.scan(hash, this.indexedHeightValue, height) : undefined;
  }

  /** The index's entry for `hash` as stored, without catching up first. */
  storedNumberOf(hash: Uint8Array): number | undefined {
    if (hash.length !== HASH_BYTES) return undefined;
    const value = this.db.getBinaryFast(hash);
    if (value === undefined) return undefined;
    if (value.length !== U64_BYTES) throw new LedgerCorruptError(`ledger ${this.o.path}: a hash index entry is ${value.length} bytes, not ${U64_BYTES}`, -1);
    return readU64(value, 0);
  }

  /** Brings the index up to the height, in slices of sliceBlocks blocks per transaction. */
  catchUp(): void {
    if (this.failure !== null) throw this.failure;
    while (this.indexedHeightValue < this.o.height()) this.slice();
  }

  stop(): void {
    this.scheduler?.stop();
  }

  /** Looks for `hash` in the segments' hash tables of blocks [from, to); allocates nothing per block. */
  private scan(hash: Uint8Array, from: number, to: number): number | undefined {
    const segments = this.o.segments;
    let n = from;
    while (n < to) {
      const seg = segments.find(n);
      if (seg === undefined) return undefined;
      const first = segments.foundFirst;
      const end = Math.min(to, first + segments.foundCount);
      for (; n < end; n++) if (bytesEqualAt(seg, segmentHashAt(n - first), hash, 0, HASH_BYTES)) return n;
    }
    return undefined;
  }

  /** One transaction of catch-up; returns true while blocks remain unindexed. */
  private slice(): boolean {
    const height = this.o.height();
    if (this.indexedHeightValue >= height) return false;
    this.o.env.transactionSync(this.sliceTxnBound);
    this.indexedHeightValue = this.sliceIndexedTo;
    this.recent.dropBelow(this.indexedHeightValue);
    this.o.onProgress?.(this.indexedHeightValue, height);
    return this.indexedHeightValue < height;
  }

  private sliceTxn(): void {
    const { meta, segments, path } = this.o;
    // Read inside the transaction: another handle on the file may have indexed or appended.
    const indexed = meta.getBinaryFast('indexedHeight');
    const from = indexed?.length === U64_BYTES ? readU64(indexed, 0) : -1;
    const storedHead = meta.getBinaryFast('head');
    const height = storedHead === undefined ? -1 : headHeight(storedHead);
    if (from < 0 || height < 0) throw new LedgerCorruptError(`ledger ${path}: the head or indexed height record is unreadable`, -1);
    const to = Math.min(height, from + this.o.sliceBlocks);
    const ownHeight = this.o.height();
    if (to <= from && from < ownHeight) {
      throw new LedgerCorruptError(`ledger ${path}: the stored height ${height} is below this handle's height ${ownHeight}`, height);
    }
    const recent = this.recent;
    let n = from;
    while (n < to) {
      if (n >= recent.from && n < recent.end) {
        const end = Math.min(to, recent.end);
        for (; n < end; n++) {
          recent.copyHash(n, this.key);
          writeU64(this.value, 0, n);
          void this.db.put(this.key, this.value);
        }
        continue;
      }
      // The puts below do not read, so the segment stays in lmdb's read buffer while they run.
      const seg = segments.find(n);
      if (seg === undefined) throw new LedgerCorruptError(`ledger ${path}: block ${n} is missing below the recorded height ${height}`, n);
      const first = segments.foundFirst;
      const end = Math.min(to, first + segments.foundCount, n < recent.from ? recent.from : Infinity);
      for (; n < end; n++) {
        const at = segmentHashAt(n - first);
        for (let b = 0; b < HASH_BYTES; b++) this.key[b] = seg[at + b]!;
        writeU64(this.value, 0, n);
        void this.db.put(this.key, this.value);
      }
    }
    writeU64(this.value, 0, to);
    void meta.put('indexedHeight', this.value);
    this.sliceIndexedTo = to;
  }
}
