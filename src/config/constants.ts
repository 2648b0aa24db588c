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

export const mqttDefaults = {
  port: 1883,
  host: '127.0.0.1',
  keepaliveSeconds: 30,
  reconnectPeriodMs: 1_000,
  connectTimeoutMs: 10_000,
  /** A link that lends its payloads (src/transport/mqtt/framedSocket.ts) reads the socket into one buffer of this size. */
  lentReadBufferBytes: 64 * 1024,
  /**
   * ... and assembles packets in a ring of this size: a few Deliver responses, as mqtt.js is done with
   * each within a turn or two; a packet that does not fit gets a buffer of its own.
   */
  lentPacketRingBytes: 1024 * 1024,
} as const;

export const serialDefaults = {
  /** Line speed when an endpoint names none (8N1, no flow control). PTYs ignore it. */
  baudRate: 115_200,
  /** Block bytes per Deliver response on a serial link: a frame lost to noise costs at most this much. */
  maxResponseBytes: 8 * 1024,
  /** Bytes accepted for writing but not yet handed to the OS, per port; a send beyond this is refused. */
  maxQueuedWriteBytes: 2 * maxMessageBytes,
  /** serialport's stream buffer: write() reports "wait for drain" above this. */
  writeHighWaterMarkBytes: 16 * 1024,
  /** A port that will not open, or went away, is retried after min(max, 2^n * base). */
  reopenBaseDelayMs: 100,
  reopenMaxDelayMs: 5_000,
} as const;

/** The board's serial console (status and log lines). */
export const consoleDefaults = {
  baudRate: 115_200,
  /** Lines waiting for a slow or absent console at most; older ones are dropped. */
  maxQueuedBytes: 64 * 1024,
  /** A longer line from a board is cut here by the monitor (a line without an end is noise). */
  maxLineBytes: 4096,
  /** Lines the monitor's panel keeps for its raw log. */
  logLines: 500,
  /** The panel is redrawn at most this often. */
  redrawIntervalMs: 100,
  /** A board's console waits this long at most, when it stops, for its last lines to be written. */
  closeFlushTimeoutMs: 500,
} as const;

/** The board's GPIO LEDs (src/board). */
export const ledDefaults = {
  /** LEDs are recomputed from the peer's status and written at most this often; a profile may slow it. */
  refreshMs: 100,
  /** Bounds of a profile's refreshMs: faster is invisible, slower makes the blinking useless. */
  minRefreshMs: 20,
  maxRefreshMs: 1_000,
  /** A blinking LED is lit for the first half of this period. */
  blinkPeriodMs: 1_000,
  /** The error LED blinks this long after the peer rejected a block. */
  rejectionFlashMs: 5_000,
  /** Height-bar LEDs a profile may have (the bar shows the height modulo 2^count). */
  maxHeightLeds: 16,
  /** IO failures (a GPIO tool that fails) are logged at most this often; the peer runs on regardless. */
  errorLogIntervalMs: 10_000,
} as const;

/** Status lines in the demo and on consoles. */
export const statusIntervalMs = 1_000;

/** Topic prefix, versioned: edgepeer/v1/<channel>/{deliver,broadcast,reply/<client>}. */
export const topicRoot = 'edgepeer/v1';

/** Gossip between boards (src/gossip). */
export const gossipDefaults = {
  /** Each member announces itself (and its ledger height) this often. */
  aliveIntervalMs: 1_000,
  /** A member not heard from for this long is dead until heard again. */
  aliveExpirationMs: 5_000,
  /** Random live members a new block is pushed to. */
  fanout: 3,
  /** Largest gossip frame accepted or sent. */
  maxFrameBytes: 4 * 1024 * 1024,
  /** Bytes queued for one neighbour at most; beyond that messages to it are dropped (and counted). */
  maxQueuedBytesPerConnection: 8 * 1024 * 1024,
  /** A stopping board waits this long at most for its last messages (the leaving ALIVE) to be written. */
  closeFlushTimeoutMs: 500,
  /** Wait before reconnecting to a neighbour whose connection failed. */
  reconnectDelayMs: 1_000,
  /** A challenger takes over only when ahead of the current leader by at least this many blocks. */
  leaderHandoverMinBlocks: 16,
  /**
   * A live leader is replaced for lagging only when a challenger has been ahead by leaderHandoverMinBlocks
   * for this long without a break: longer than an ALIVE's age, so the staleness of the leader's reported
   * height under steady load does not look like lag.
   */
  leaderLagSustainMs: 3_000,
  /** A new leader keeps the role at least this long (unless it dies). */
  leaderMinTermMs: 3_000,
  /**
   * A board that just became leader announces it and waits this long before it opens its Deliver stream,
   * so that a rival who elected itself at the same moment hears the claim and one of them steps down
   * first. Longer than aliveIntervalMs: the rival's own claim then arrives at the latest with its next tick.
   */
  leaderClaimSettleMs: 1_200,
  /** After start, a board listens this long before it elects, so it knows its neighbours first. */
  electionStartupGraceMs: 2_000,
  /** Blocks in one push message at most. */
  blocksPerMessageMax: 256,
  /** Repeated drop warnings are logged at most this often. */
  dropLogIntervalMs: 10_000,
  /** Distinct (sender, reason) pairs whose last warning time is kept; beyond it the old ones are forgotten. */
  dropLogKeysMax: 1_024,
  /** A gossip message whose timestamp is further than this from the local clock is refused. */
  messageTimeWindowMs: 5 * 60 * 1000,
  /** Pushed blocks held while they do not fit the payload buffer yet. */
  pendingBlocksMax: 4096,
  /** A board not leading sends its height (a DIGEST) to one live member that has more, this often. */
  pullIntervalMs: 1_000,
  /** A pushed block past a gap makes its receiver ask the sender for the gap at once, at most this often. */
  gapPullMinIntervalMs: 50,
  /** Blocks one DIGEST answer carries at most; a larger gap is streamed (catch-up). */
  pullBlocksMax: 256,
  /** Block bytes in one BLOCKS message at most (at least one block): as a Deliver response. */
  blocksMessageMaxBytes: 256 * 1024,
  /**
   * A follower this many blocks or more behind the best live member asks it for the whole range as one
   * stream. One pull answer's worth: below it, pull repairs the gap in one round trip.
   */
  catchUpMinGapBlocks: 256,
  /** BLOCKS messages a catch-up stream may have unacknowledged: with blocksMessageMaxBytes, what is in flight. */
  catchUpWindowMessages: 8,
  /** Largest window a board serving a stream grants. */
  catchUpWindowMessagesMax: 64,
  /** A catch-up stream silent this long is abandoned and another source tried. */
  catchUpStallTimeoutMs: 5_000,
  /** A source that stalled, refused or sent a bad block is not asked again for this long. */
  catchUpSourceCooldownMs: 10_000,
  /** Catch-up streams a board serves at once; more are refused (the requester asks someone else). */
  rangeSessionsMax: 4,
  /** A served stream whose requester has not acknowledged for this long is ended. */
  rangeSessionIdleMs: 15_000,
  /** A follower at most this many blocks below the highest live member it knows counts as in sync. */
  followerInSyncSlackBlocks: 8,
} as const;

/** LAN discovery of gossip members by UDP multicast (src/gossip/multicastDiscovery.ts). */
export const gossipMulticastDefaults = {
  /** Datagrams are not routed off the board's own link: discovery is for neighbours on the LAN. */
  ttlHops: 1,
  /**
   * Largest datagram sent or accepted. A signed ALIVE (certificate included) is well under 1 KiB; this
   * leaves room for longer names and stays below the IPv4 UDP maximum, so bigger datagrams are noise.
   */
  maxDatagramBytes: 8 * 1024,
  /** A send that keeps failing (no route, interface down) is logged at most this often. */
  sendErrorLogIntervalMs: 10_000,
} as const;

/** The gateway following a Fabric ordering node or peer over gRPC (src/gateway). */
export const fabricGatewayDefaults = {
  /** Wait after the first failed attempt (Fabric's blocksprovider starts at 100 ms)... */
  retryBaseDelayMs: 100,
  /** ...growing by this factor per failure in a row... */
  retryFactor: 2,
  /** ...up to this. */
  retryMaxDelayMs: 10_000,
  /** Share of each wait that is random, so gateways refused together do not retry in lock-step. */
  retryJitterRatio: 0.5,
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

/** setTimeout's longest delay: a larger one fires at once, so no timing limit may exceed it. */
export const maxTimerDelayMs = 2_147_483_647;
