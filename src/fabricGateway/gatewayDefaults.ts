// The gateway's limits and timings: how it dials and retries a Fabric node, and what it accepts from one.
import { maxMessageBytes } from '../transport/messageLimits.js';

/** The gateway following a Fabric ordering node or peer over gRPC (src/gateway). */
export const fabricGatewayDefaults = {
  /** Shortest wait after a failed attempt (Fabric's blocksprovider starts at 100 ms); src/config/backoff.ts... */
  retryBaseDelayMs: 100,
  /** ...and the longest. */
  retryMaxDelayMs: 10_000,
  /** An endpoint not connected this long after dialling is a failed attempt (Fabric: deliveryclient.connTimeout 3 s). */
  connectTimeoutMs: 3_000,
  /** HTTP/2 keepalive pings: Fabric's orderer refuses more than one a minute (ServerMinInterval 60 s)... */
  keepaliveTimeMs: 60_000,
  /** ...and a ping unanswered this long closes the connection (Fabric's client default 20 s). */
  keepaliveTimeoutMs: 20_000,
  /**
   * Largest Deliver response (one block) accepted from Fabric. No larger than the largest message the
   * boards' links carry: a block the boards could not receive is refused where it enters.
   */
  maxBlockBytes: maxMessageBytes,
  /** Blocks verified and stored in one ledger transaction at most... */
  runMaxBlocks: 512,
  /** ...and their bytes at most (a run always takes one block). */
  runMaxBytes: 4 * 1024 * 1024,
} as const;
