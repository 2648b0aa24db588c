// What gossip needs from the world and tells it, as small interfaces, so that the node is tested without
// prom-client, a LAN or a particular election policy. The metrics sink and the block-origin words are
// defined in src/observability (which must not import gossip) and are part of this seam.
export { GOSSIP_BLOCK_ORIGINS, type GossipBlockOrigin } from '../observability/statusReport.js';
export { type GossipMessageKind, type GossipMetricsSink, noGossipMetrics } from '../observability/gossipMetrics.js';

/** A second way to reach neighbours besides the bootstrap list: e.g. UDP multicast on the LAN. */
export interface GossipDiscovery {
  /** Sends one (signed) gossip message to everyone listening; best effort. */
  send(message: Uint8Array): void;
  stop(): Promise<void>;
}

/** Starts a discovery channel whose received messages go to `onMessage` (they are authenticated there). */
export type GossipDiscoveryFactory = (onMessage: (message: Uint8Array) => void) => Promise<GossipDiscovery>;

/** A member as the election sees it. */
export interface Candidate {
  id: string;
  height: number;
  /** The member says (in its ALIVE) that it leads: how a board that joins late learns the incumbent. */
  leading?: boolean;
}

/** The leader election of one board's org: dynamic (src/gossip/election.ts) or static. */
export interface Election {
  readonly leader: string | null;
  readonly isLeader: boolean;
  /** Re-evaluates with the live members of the org (self included); returns true when the leader changed. */
  update(live: readonly Candidate[], nowMs: number): boolean;
}
