// What gossip needs from the world and tells it, as small interfaces, so that the node is tested without
// prom-client, a LAN or a particular election policy.

/** Where a block the peer took came from. */
export type GossipBlockOrigin = 'orderer' | 'push' | 'pull' | 'catchup';

export const GOSSIP_BLOCK_ORIGINS: readonly GossipBlockOrigin[] = ['orderer', 'push', 'pull', 'catchup'];

/** Gossip message kinds, as metric labels. */
export type GossipMessageKind = 'alive' | 'blocks' | 'digest' | 'range_request' | 'range_ack';

/** What a gossip node reports; src/observability/metrics.ts makes one over prom-client. */
export interface GossipMetricsSink {
  /** Blocks the peer newly took, by where they came from. */
  blocksReceived(origin: GossipBlockOrigin, count: number): void;
  /** Gossiped blocks this board already had (or already held pending). */
  duplicates(count: number): void;
  /** One gossip message sent or received (received: authenticated or not), with its size on the wire. */
  message(direction: 'in' | 'out', kind: GossipMessageKind, bytes: number): void;
  /** Who this board sees leading `org` (null: nobody yet). */
  leader(org: string, leader: string | null): void;
  /** Live members this board knows, itself excluded. */
  liveMembers(count: number): void;
}

export const noGossipMetrics: GossipMetricsSink = {
  blocksReceived: () => undefined,
  duplicates: () => undefined,
  message: () => undefined,
  leader: () => undefined,
  liveMembers: () => undefined,
};

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
