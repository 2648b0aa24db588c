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
  /**
   * Number of the newest configuration block (header flag FLAG_CONFIG) in the ledger, kept in the same
   * transaction as the blocks so a restarted orderer or board knows its channel config without a scan.
   * 0 for a ledger holding only the genesis block; -1 when empty.
   */
  lastConfigNumber(): number;
  /** A copy of block n, or undefined. */
  getBlock(n: number): Uint8Array | undefined;
  /** Block number for a block hash, or undefined. */
  numberOfHash(hash: Uint8Array): number | undefined;
  /**
   * Appends blocks[start .. start+count) in one durable transaction. Each block must have
   * number == height and previousHash == lastHash (checked inside the transaction); otherwise throws
   * LedgerAppendError and writes nothing. `hashes[i]`, when given, is the SHA-256 of blocks[i]'s header
   * (already computed by the verifier, so the hot path does not hash twice); otherwise the ledger hashes.
   * Signatures are the caller's business (verified before append).
   */
  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void;
  close(): Promise<void>;
}
