// What `edgepeer init` writes into a new network: batch parameters of its channels, validity of its certificates.

/** Batch parameters written into a new channel's genesis block by `edgepeer init`. */
export const defaultBatch = {
  maxMessageCount: 100,
  preferredMaxBytes: 256 * 1024,
  absoluteMaxBytes: 1024 * 1024,
  batchTimeoutMs: 250,
} as const;

/** Validity of certificates made by `edgepeer init`. */
export const certificateValidityMs = 365 * 24 * 3600 * 1000;
