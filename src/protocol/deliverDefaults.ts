// The Deliver service's defaults. Both ends rely on them (the window, the response packing limit, the
// heartbeat cadence: docs/protocol.md §9), and links pick their packing limit from them, so they sit in the
// protocol layer rather than in the orderer.

export const deliverDefaults = {
  /** Responses a Deliver session may have unacknowledged at once, unless the SeekInfo asks for fewer. */
  windowMessages: 16,
  /**
   * Upper bound of the window a client may ask for: with maxSessionsPerIdentity and the response size,
   * what one member can make the broker queue for a reply topic it stops reading (docs/protocol.md §13).
   */
  maxWindowMessages: 64,
  /** A Deliver response carries consecutive blocks up to this many bytes (at least one block). */
  maxResponseBytes: 256 * 1024,
  /** An open session that sends no ACK for this long is ended (its client has gone away). */
  sessionIdleTimeoutMs: 30_000,
  /** Open Deliver sessions the orderer keeps at most, all channels together. */
  maxSessions: 1024,
  /** Open sessions of one identity (org and id) at most; its next SEEK ends its oldest (fair share). */
  maxSessionsPerIdentity: 4,
  /** A session waiting for new blocks sends an empty response this often, so clients can tell it is alive. */
  heartbeatMs: 5_000,
} as const;
