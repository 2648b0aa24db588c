// The ledger seam: the chain of blocks of one channel, append-only, height and last hash kept in the
// same transaction as the blocks.
import type { BlockFormat } from '../protocol/blockFormat.js';

export class LedgerAppendError extends Error {
  override readonly name = 'LedgerAppendError';
  constructor(message: string, readonly blockNumber: number) {
    super(message);
  }
}

/** The stored bytes contradict themselves (disk damage, or a file written by something else). */
export class LedgerCorruptError extends Error {
  override readonly name = 'LedgerCorruptError';
  constructor(message: string, readonly blockNumber: number) {
    super(message);
  }
}

/** Receives consecutive blocks from readBlocks. `block` is valid only during the call (see readBlocks). */
export type BlockVisitor = (block: Uint8Array, number: number) => void;

export interface BlockLedger {
  readonly channel: string;
  /** How its blocks are encoded; every block appended must be of this format. */
  readonly format: BlockFormat;
  /** Number of blocks; the next block to append has this number. */
  height(): number;
  /** Hash of the last block (32 bytes), or 32 zero bytes when empty. Do not keep: may be reused. */
  lastHash(): Uint8Array;
  /**
   * Number of the newest configuration block (BlockReader.isConfig) in the ledger, kept in the same
   * transaction as the blocks so a restarted orderer or board knows its channel config without a scan.
   * 0 for a ledger holding only the genesis block; -1 when empty.
   */
  lastConfigNumber(): number;
  /** A copy of block n, or undefined. */
  getBlock(n: number): Uint8Array | undefined;
  /**
   * Block n without a copy. The bytes live in a buffer the store reuses: they are valid only until the
   * next read of the store (any ledger, any read in this process), and must not be modified.
   */
  getBlockUnsafe(n: number): Uint8Array | undefined;
  /**
   * Visits blocks from, from+1, ... up to toInclusive, stopping before the block that would take the
   * bytes visited past maxBytes (the first block is always visited) or at the first block not stored.
   * Returns how many blocks were visited. Each stored group of blocks is read once, so this is the way
   * to read many consecutive blocks. `block` is a view into the store's read buffer: valid only during
   * the call, not to be modified, and the visitor must not read this or any other ledger (that would
   * overwrite it). Copy what must outlive the call.
   */
  readBlocks(from: number, toInclusive: number, maxBytes: number, visit: BlockVisitor): number;
  /** Block number for a block hash, or undefined. Exact: blocks appended just before are found. */
  numberOfHash(hash: Uint8Array): number | undefined;
  /**
   * Appends blocks[start .. start+count) in one durable transaction. Each block must have
   * number == height and previousHash == lastHash (checked before the transaction); otherwise throws
   * LedgerAppendError and writes nothing. `hashes[i]`, when given, is blocks[i]'s block hash (already
   * computed by the verifier, so the hot path does not hash twice); otherwise the ledger hashes.
   * Signatures are the caller's business (verified before append).
   */
  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void;
  /**
   * append, with the commit and its fsync off the JS thread: the checks run at once (a bad run throws
   * here and writes nothing), the run is written and made durable on the store's writer thread, and the
   * promise resolves once it is (height and lastHash move then, not before). The blocks must stay
   * unchanged until it settles. One at a time: a second call, or an append, while one is in flight
   * throws. For the board's commit loop, which verifies the next run while this one is synced.
   */
  appendAsync(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): Promise<void>;
  close(): Promise<void>;
}

/** What the store holds, as of one read snapshot. */
export interface StoredLedgerState {
  height: number;
  lastHash: Uint8Array;
  lastConfigNumber: number;
  /** Blocks [0, indexedHeight) have their hash in the hash index; the blocks above are not indexed yet. */
  indexedHeight: number;
  /** Entries in the hash index. */
  indexEntryCount: number;
}

/**
 * The stored layout as it is, for the audit (verifyChain). Calls made in one synchronous stretch read
 * one snapshot of the store, so an audit beside a running writer sees one consistent state.
 */
export interface LedgerAudit {
  storedState(): StoredLedgerState;
  /**
   * Visits every stored segment (a group of consecutive blocks, src/ledger/segment.ts) in order of its
   * first block number, with a copy of its bytes; stops when `visit` returns false.
   */
  forEachSegment(visit: (first: number, segment: Uint8Array) => boolean): void;
  /** The hash index's entry for `hash` as stored, without bringing the index up to date first. */
  indexedNumberOf(hash: Uint8Array): number | undefined;
}
