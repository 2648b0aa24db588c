// The peer's limits and timings: its deliver client and its block pipeline (payload buffer, commit runs).

export const deliverClientDefaults = {
  /** Backoff before reconnecting (src/config/backoff.ts): jittered waits from retryBaseDelayMs up to maxRetryDelayMs. */
  retryBaseDelayMs: 100,
  maxRetryDelayMs: 10_000,
  /** BAD_REQUEST/FORBIDDEN answers in a row after which the client stops for good. */
  wrongStatusThreshold: 10,
  /** The client acknowledges at least this often, which also tells the orderer it is alive. */
  keepaliveMs: 5_000,
  /** No response at all (not even a heartbeat) for this long on an open stream: reconnect. */
  streamStallTimeoutMs: 20_000,
  /** Window asked for in SeekInfo: with maxResponseBytes this bounds what is in flight to a board. */
  windowMessages: 16,
  /** An endpoint that is not up this long after asking is given up for the next one. */
  connectTimeoutMs: 10_000,
  /**
   * Responses are copied into a ring of this many bytes and their blocks used in place until committed
   * (src/peer/ingressRing.ts): room for the window in flight plus what the payload buffer holds of
   * ~1 KiB blocks; a response that does not fit gets a buffer of its own.
   */
  ingressRingBytes: 8 * 1024 * 1024,
} as const;

export const peerDefaults = {
  /** Slots of the payload buffer ring: blocks held ahead of the ledger height. */
  payloadBufferSlots: 4096,
  /** Largest block a slot holds; a larger block is rejected. */
  maxBlockBytes: 1024 * 1024 + 4096,
  /** Blocks committed in one LMDB transaction at most. */
  commitRunMaxBlocks: 2048,
} as const;
