// Every limit and timing of gossip, each with its unit in its name. A board.json `gossip.limits` section
// overrides them by these names (src/gossip/gossipSettings.ts).

/** Gossip between boards (src/gossip). */
export const gossipDefaults = {
  /** Each member announces itself (and its ledger height) this often. */
  aliveIntervalMs: 1_000,
  /** A member not heard from for this long is dead until heard again (relay mode: see aliveRelayExpirationMs). */
  aliveExpirationMs: 5_000,
  /**
   * Up to this many live members a board sends its ALIVE to every one of them each interval (and to its
   * bootstrap addresses); beyond it, to aliveFanout random ones with relayed ALIVEs of others ("relay mode",
   * docs/protocol.md §12b.3): all-to-all would cost every board a message per member per interval.
   */
  aliveDirectMembersMax: 32,
  /** Relay mode: random live members each ALIVE (with the relayed ones) goes to, each interval. */
  aliveFanout: 4,
  /** Relay mode: others' ALIVEs one message relays at most, besides the sender's own and its org's leader's. */
  aliveRelayedPerMessageMax: 32,
  /** ... and their bytes at most: what one message makes its receiver open. */
  aliveRelayedBytesPerMessageMax: 32 * 1024,
  /** A signed ALIVE larger than this is neither relayed nor taken from a relay (a signed ALIVE is under 1 KiB). */
  aliveRelayedEntryBytesMax: 2 * 1024,
  /**
   * ALIVEs waiting to be relayed at the next send, at most (one per member, the newest); the oldest go
   * first. They are relayed once or dropped at that send, so this is all a relay can make a board hold.
   */
  aliveRelayPendingMax: 1_024,
  /**
   * Relay mode: a member not heard (directly or by relay) for aliveExpirationMs plus this per
   * aliveFanout x aliveRelayedPerMessageMax live members, and once more, is dead (aliveRelay.ts). A
   * relayed ALIVE reaches each board only now and then (each board relays a bounded number per
   * interval), so the silence that proves a death grows with the fleet. The org's leader, which sends its
   * ALIVE to its whole org directly, is expected within aliveExpirationMs by the boards it has reached
   * that way.
   */
  aliveRelayExpirationPerRoundMs: 12_000,
  /**
   * Members remembered (live or dead) at most; a new member's ALIVE beyond it is dropped. Certificates are
   * minted by org admins, so without it one admin's minting (relayed by everyone) would be held by all.
   */
  membersMax: 4_096,
  /** Random live members a new block is pushed to. */
  fanout: 3,
  /** Largest gossip frame accepted or sent. */
  maxFrameBytes: 4 * 1024 * 1024,
  /** Bytes queued for one neighbour at most; beyond that messages to it are dropped (and counted). */
  maxQueuedBytesPerConnection: 8 * 1024 * 1024,
  /** A stopping board waits this long at most for its last messages (the leaving ALIVE) to be written. */
  closeFlushTimeoutMs: 500,
  /** Wait before reconnecting to a neighbour whose connection failed: jittered, growing with each failure in a row... */
  reconnectDelayMs: 1_000,
  /** ...up to this (src/config/backoff.ts). */
  reconnectMaxDelayMs: 30_000,
  /**
   * Connections other boards (or anyone) opened to this board's listener, at most: each live member opens
   * one, so this is the largest fleet a board hears from directly, with room for restarts.
   */
  inboundConnectionsMax: 64,
  /**
   * Bytes of frames not yet whole, all inbound connections together: what strangers can make the board
   * hold before anything is authenticated. Four largest frames.
   */
  inboundBufferedBytesMax: 16 * 1024 * 1024,
  /**
   * Bytes a connection may send before one of its messages authenticates (signed by a board of the
   * channel), then it is closed: what a stranger holds of a board. A member's first message on a new
   * connection is an ALIVE (under 1 KiB) or a push (a message of blocks: 256 KiB, or one larger block).
   */
  inboundUnauthenticatedBytesMax: 2 * 1024 * 1024,
  /**
   * A connection with no traffic for this long is closed: a live member sends an ALIVE on its connection
   * every aliveIntervalMs, so only a dead member's or a stranger's connection stays silent.
   */
  connectionIdleTimeoutMs: 15_000,
  /**
   * A board closes a connection it opened when it has written nothing on it for this long. In relay mode a
   * board writes to a member now and then (a random ALIVE target, a pull), so connections kept for
   * connectionIdleTimeoutMs would pile up at the receiver (about aliveFanout per interval each) against
   * inboundConnectionsMax. Keep it above aliveIntervalMs: up to aliveDirectMembersMax members every
   * member's connection is written every interval and so stays open (below it, it is opened anew each time).
   */
  outboundIdleTimeoutMs: 3_000,
  /** An outgoing connection not established within this long is given up (retried after reconnectDelayMs). */
  connectTimeoutMs: 5_000,
  /** TCP keepalive probes start on a connection silent for this long. */
  tcpKeepaliveMs: 5_000,
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
  /**
   * A streaming leader that has heard nothing from the orderer (no block, no heartbeat) for this long steps
   * down, when another board of its org could lead: Fabric's blocksprovider gives up after its retry
   * budget and its election yields. An idle stream hears a heartbeat every deliverDefaults.heartbeatMs
   * (5 s), so this is at least twice that; the deliver client itself calls a stream this silent stalled.
   */
  leaderUplinkYieldMs: 20_000,
  /** A board that stepped down is no candidate for at least this long, and longer while its link is down. */
  leaderYieldHoldMs: 30_000,
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
  /** Pushed blocks held while the gap before them fills, at most. */
  pendingBlocksMax: 4096,
  /** ... and their bytes at most: what pushes (anyone's) can make a board hold. Sixteen 1 MiB blocks. */
  pendingPushedBytesMax: 16 * 1024 * 1024,
  /**
   * A pushed block this many or more above the next block needed is not held: a board that far behind
   * catches up by a stream (catchUpMinGapBlocks) and pulls the rest, and blocks beyond the chain's end,
   * which a forger may number as it likes, would never drain.
   */
  pendingPushedAheadMaxBlocks: 1024,
  /** A board not leading sends its height (a DIGEST) to one live member that has more, this often. */
  pullIntervalMs: 1_000,
  /** A pushed block past a gap makes its receiver ask the sender for the gap at once, at most this often. */
  gapPullMinIntervalMs: 50,
  /** Blocks one DIGEST answer carries at most; a larger gap is streamed (catch-up). */
  pullBlocksMax: 256,
  /**
   * Block bytes DIGEST answers to one member may carry at once: a full pull answer of ~1 KiB blocks four
   * times over. A DIGEST replayed a thousand times costs this, not a thousand answers.
   */
  digestAnswerBurstBytes: 1024 * 1024,
  /** ... refilled at this rate: pull repairs short gaps (catch-up streams long ones, outside this budget). */
  digestAnswerBytesPerSecond: 1024 * 1024,
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
