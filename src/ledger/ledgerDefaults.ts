/** The LMDB ledger (src/ledger/lmdbLedger.ts). */
export const ledgerDefaults = {
  /** A run of blocks is stored as segments of at most this many bytes (a larger block gets one of its own). */
  maxSegmentBytes: 1024 * 1024,
  /** The hash index is caught up in the background once no block has been appended for this long. */
  hashIndexIdleMs: 250,
  /** Blocks indexed per background transaction; other work runs between two. */
  hashIndexSliceBlocks: 10_000,
  /**
   * Hashes of appended, not yet indexed blocks kept in memory (32 bytes each) so the index catches up
   * without reading segments back; beyond this many, it reads them (as after a restart).
   */
  hashIndexRecentBlocks: 65_536,
} as const;
