// What gossip needs from the world and tells it, as small interfaces, so that the node is tested without
// prom-client, a LAN or a particular election policy. The metrics sink and the block-origin words are
// defined in src/observability (which must not import gossip) and are part of this seam.
import type { UplinkHealth } from '../peer/uplinkHealth.js';
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

/**
 * The network under gossip: TCP between boards (tcpTransport.ts), or an in-memory one in unit tests and
 * the fleet simulator. Lossy by contract: a message may be dropped, and send says so when it knows.
 */
export interface GossipTransport {
  /** Address others reach this board at (host:port for TCP), known once started. */
  readonly endpoint: string;
  /** Sends one message; false when it was dropped (no connection, queue full, too large). */
  send(endpoint: string, message: Uint8Array): boolean;
  /**
   * The member at `endpoint` was just heard from (back, restarted or new): forget the backoff of failed
   * connections to it, so that the next send dials at once instead of when the backoff (up to
   * reconnectMaxDelayMs) would have.
   */
  redial(endpoint: string): void;
  stop(): Promise<void>;
}

/**
 * Starts a transport whose received messages go to `onMessage` (they are authenticated there; it says
 * whether one did, so that a transport can bound what a connection that never authenticates costs it).
 */
export type GossipTransportFactory = (onMessage: (message: Uint8Array) => boolean) => Promise<GossipTransport>;

/** Where the peer says blocks it took came from (its own BlockSource, named here so gossip needs no peer import). */
export type PeerBlockSource = 'orderer' | 'gossip';

/**
 * What gossip needs of the board's peer (src/peer/peer.ts is the real one; the fleet simulator has its
 * own): the height it holds, where its chain continues, a way to offer gossiped blocks (verified there,
 * never trusted here), its Deliver client switched on while this board leads, and two events.
 */
export interface GossipPeer {
  readonly channel: string;
  /** Committed height. */
  readonly height: number;
  /** Whether the Deliver client runs. */
  readonly isDelivering: boolean;
  /** Whether the peer found a fork (src/peer/fork.ts): it then takes no block, so none is fetched for it. */
  readonly isForked: boolean;
  /** The next block number the peer takes (verified tip + 1; may be above `height` while commits are queued). */
  nextNumber(): number;
  setDelivering(on: boolean): Promise<void>;
  /** How its uplink fares (the deliver client's last word from the orderer, the link): the leader yields on it. */
  uplink(): UplinkHealth;
  /** Verifies and buffers blocks[from..]: how many were taken (or already had), -1 when one was rejected. */
  offerFromGossip(blocks: Uint8Array[], from: number): number;
  /** Blocks newly verified and buffered, and where from; the bytes may be reused once committed. */
  on(event: 'accepted', listener: (blocks: Uint8Array[], source: PeerBlockSource) => void): unknown;
  /** The committed height rose. */
  on(event: 'committed', listener: (height: number) => void): unknown;
  off(event: 'accepted', listener: (blocks: Uint8Array[], source: PeerBlockSource) => void): unknown;
  off(event: 'committed', listener: (height: number) => void): unknown;
}
