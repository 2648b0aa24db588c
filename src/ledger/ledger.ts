// The ledger seam: the chain of blocks of one channel, append-only, height and last hash kept in the
// same transaction as the blocks.

export class LedgerAppendError extends Error {
  override readonly name = 'LedgerAppendError';
  constructor(message: string, readonly blockNumber: number) {
    super(message);
  }
}

export interface BlockLedger {
  readonly channel: string;
  /** Number of blocks; the next block to append has this number. */
  height(): number;
  /** Hash of the last block (32 bytes), or 32 zero bytes when empty. Do not keep: may be reused. */
  lastHash(): Uint8Array;
  /** A copy of block n, or undefined. */
  getBlock(n: number): Uint8Array | undefined;
  /** Block number for a block hash, or undefined. */
  numberOfHash(hash: Uint8Array): number | undefined;
  /**
   * Appends blocks[start .. start+count) in one durable transaction. Each block must have
   * number == height and previousHash == lastHash (checked inside the transaction); otherwise throws
   * LedgerAppendError and writes nothing. Block bytes are assumed already verified for signatures.
   */
  append(blocks: ArrayLike<Uint8Array>, start: number, count: number): void;
  close(): Promise<void>;
}
