// Every limit and timing in one place, each with its unit in its name. Operators override the ones that
// matter to them through the board config or CLI flags; the rest are protocol constants.

/** Batch parameters written into a new channel's genesis block by `edgepeer init`. */
export const defaultBatch = {
  maxMessageCount: 100,
  preferredMaxBytes: 256 * 1024,
  absoluteMaxBytes: 1024 * 1024,
  batchTimeoutMs: 250,
} as const;

/** Validity of certificates made by `edgepeer init`. */
export const certificateValidityMs = 365 * 24 * 3600 * 1000;

/** A signed request whose timestamp is further than this from the orderer's clock is refused. */
export const requestTimeWindowMs = 15 * 60 * 1000;

/** Largest single message accepted on any link (a Deliver response, a Broadcast request). */
export const maxMessageBytes = 4 * 1024 * 1024;

export const deliverDefaults = {
  /** Responses a Deliver session may have unacknowledged at once, unless the SeekInfo asks for fewer. */
  windowMessages: 16,
  /** Upper bound of the window a client may ask for. */
  maxWindowMessages: 1024,
  /** A Deliver response carries consecutive blocks up to this many bytes (at least one block). */
  maxResponseBytes: 256 * 1024,
  /** An open session that sends no ACK for this long is ended (its client has gone away). */
  sessionIdleTimeoutMs: 30_000,
  /** Open Deliver sessions the orderer keeps at most, all channels together. */
  maxSessions: 1024,
  /** A session waiting for new blocks sends an empty response this often, so clients can tell it is alive. */
  heartbeatMs: 5_000,
} as const;

export const deliverClientDefaults = {
  /** Backoff before reconnecting: min(maxRetryDelayMs, 2^n * retryBaseDelayMs). */
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
} as const;

export const peerDefaults = {
  /** Slots of the payload buffer ring: blocks held ahead of the ledger height. */
  payloadBufferSlots: 4096,
  /** Largest block a slot holds; a larger block is rejected. */
  maxBlockBytes: 1024 * 1024 + 4096,
  /** Blocks committed in one LMDB transaction at most. */
  commitRunMaxBlocks: 2048,
} as const;

export const mqttDefaults = {
  port: 1883,
  host: '127.0.0.1',
  keepaliveSeconds: 30,
  reconnectPeriodMs: 1_000,
  connectTimeoutMs: 10_000,
} as const;

/** Status lines in the demo and on consoles. */
export const statusIntervalMs = 1_000;

/** Topic prefix, versioned: edgepeer/v1/<channel>/{deliver,broadcast,reply/<client>}. */
export const topicRoot = 'edgepeer/v1';
