// The seam between a chain's block encoding and everything that stores, verifies, serves or gossips
// blocks (docs/design.md, "Block formats"). Two formats exist: edgepeer's own (src/protocol/block.ts) and
// Hyperledger Fabric's serialized common.Block (src/fabric/). The ledger, the peer pipeline, the Deliver
// service and gossip see a block only through a BlockReader, so they hold either kind byte for byte.
//
// A reader is the hot path's view of a block: every call reads the bytes in place and allocates nothing.
// It keeps the located parts of the last block given to `locate` in its own scratch, so one reader
// belongs to one consumer and is never shared across an await.
import { toHex } from '../crypto/hash.js';

export type BlockFormatName = 'edgepeer' | 'fabric';

export const BLOCK_FORMAT_NAMES: readonly BlockFormatName[] = ['edgepeer', 'fabric'];

export function isBlockFormatName(v: unknown): v is BlockFormatName {
  return (BLOCK_FORMAT_NAMES as readonly unknown[]).includes(v);
}

export interface BlockReader {
  /**
   * Finds the parts of `block`; true when the bytes are a block of this format. The calls below read
   * the block last located and are only valid after `locate` returned true for it.
   */
  locate(block: Uint8Array): boolean;
  /** Why the last `locate` returned false: a constant text (no allocation). */
  readonly locateError: string;
  /** The block's number (at most 2^53-1: `locate` refuses larger ones). */
  number(block: Uint8Array): number;
  /**
   * Whether the block's previous-hash field equals the 32 bytes of `hash` at `offset`. An empty
   * previous hash (Fabric's genesis block has none) equals 32 zero bytes, the hash before block 0.
   */
  previousHashEquals(block: Uint8Array, hash: Uint8Array, offset: number): boolean;
  /** Recomputes the data hash from the block's data and compares it with the header's. */
  dataHashValid(block: Uint8Array): boolean;
  /** Writes the block's hash (what the next block's previous hash holds) into `out` at `offset`. */
  hashInto(block: Uint8Array, out: Uint8Array, offset: number): void;
  /** Whether the block carries a channel configuration (verified on its own, changes the rules after it). */
  isConfig(block: Uint8Array): boolean;
}

export interface BlockFormat {
  readonly name: BlockFormatName;
  /** A new reader with its own scratch (one per consumer). */
  reader(): BlockReader;
}

/** Bytes of a block hash in either format (SHA-256). */
const FORK_HASH_BYTES = 32;

/** Outcome of one RunVerifier.verifyRun call; one instance is reused by its owner. */
export class RunResult {
  /** Leading blocks at or below the verified tip (already had), skipped. */
  duplicates = 0;
  /** Blocks verified good, starting at index `duplicates`. */
  good = 0;
  /** Index of the first bad block, or -1. */
  badIndex = -1;
  reason: RejectReason | null = null;
  detail = '';
  /** Number of the first bad block, or -1. */
  badNumber = -1;
  /**
   * When reason is 'fork': the number of the block the two chains disagree on (the board's hash for it
   * in `heldHash`, the orderer-signed block's in `conflictingHash`), else -1. The arrays are reused.
   */
  forkNumber = -1;
  readonly heldHash = new Uint8Array(FORK_HASH_BYTES);
  readonly conflictingHash = new Uint8Array(FORK_HASH_BYTES);

  reset(): void {
    this.duplicates = 0;
    this.good = 0;
    this.badIndex = -1;
    this.reason = null;
    this.detail = '';
    this.badNumber = -1;
    this.forkNumber = -1;
  }

  /**
   * Records that blocks[index] (number `badNumber`) is validly signed but conflicts with the chain
   * verified so far at block `forkNumber`: a fork, not a forged block. Off the hot path (rare).
   */
  markFork(index: number, badNumber: number, forkNumber: number, held: Uint8Array, heldOffset: number, conflicting: Uint8Array, conflictingOffset: number): void {
    this.badIndex = index;
    this.badNumber = badNumber;
    this.reason = 'fork';
    this.forkNumber = forkNumber;
    this.heldHash.set(held.subarray(heldOffset, heldOffset + FORK_HASH_BYTES));
    this.conflictingHash.set(conflicting.subarray(conflictingOffset, conflictingOffset + FORK_HASH_BYTES));
    this.detail = `block ${forkNumber}: this board holds ${toHex(this.heldHash)}, a block ${badNumber} signed by the orderer ` +
      `${badNumber === forkNumber ? 'hashes to' : 'follows'} ${toHex(this.conflictingHash)}`;
  }
}


/**
 * Why a run stopped. All but 'fork' mean a block that is not the orderer's (garbled, forged, out of
 * order): the board drops it and asks again. 'fork' is a block the orderer did sign that conflicts with
 * the board's chain (a different previous hash at tip + 1, or a different hash at a height it holds):
 * asking again cannot help (docs/operations.md, "Forks").
 */
export type RejectReason = 'layout' | 'number' | 'previous-hash' | 'data-hash' | 'signature' | 'config' | 'fork';

/**
 * Verifies runs of consecutive blocks before they are buffered (the peer's hot path): layout, number,
 * previous-hash link and data hash of every block, the orderer signatures on the newest block of each
 * contiguous segment (design: amortised verification), a configuration block on its own, after which
 * its configuration governs the blocks that follow.
 */
export interface RunVerifier {
  /** Number of the newest verified block. */
  readonly tipNumber: number;
  /** Hash of the newest verified block (do not keep: it is overwritten). */
  readonly tipHash: Uint8Array;
  /**
   * Verifies blocks[from..from+count) as a run continuing the verified tip. Writes each block's hash to
   * `hashOut` at ((index - from) * 32) and advances the tip past the good blocks.
   */
  verifyRun(blocks: ArrayLike<Uint8Array>, from: number, count: number, hashOut: Uint8Array, r: RunResult): void;
}

/**
 * The audit's checks of one block beyond what a BlockReader checks (src/ledger/verifyChain.ts), called
 * for every block in order from the first: signatures, configuration. Each block on its own.
 */
export interface ChainAuditRules {
  /** Why block n (a configuration block when `isConfig`) is bad, or null. */
  check(block: Uint8Array, n: number, isConfig: boolean): string | null;
}
