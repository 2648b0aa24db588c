// The gossip node's metrics: the sink interface gossip reports to (src/gossip/seams.ts takes it as a
// seam) and its prom-client implementation. Defined here, not in gossip, so that observability depends on
// nothing above it.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { GossipBlockOrigin } from './statusReport.js';

/** Gossip message kinds, as metric labels. */
export type GossipMessageKind = 'alive' | 'blocks' | 'digest' | 'range_request' | 'range_ack';

/** What a gossip node reports; createGossipMetrics makes one over prom-client. */
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

/**
 * The gossip node's metrics over prom-client, registered on `registry` (the peer's).
 * A board without gossip never calls this, so its /metrics has no gossip series at all.
 */
export function createGossipMetrics(registry: Registry): GossipMetricsSink {
  const registers = [registry];
  const leader = new Gauge<'org' | 'leader'>({
    name: 'edgepeer_gossip_leader', help: 'The member this board sees leading the organisation (1; no series while nobody leads)',
    labelNames: ['org', 'leader'], registers,
  });
  const blocksReceived = new Counter<'origin'>({
    name: 'edgepeer_gossip_blocks_received_total', help: 'Blocks this board newly took, by where they came from (orderer, push, pull, catchup)',
    labelNames: ['origin'], registers,
  });
  const duplicates = new Counter({
    name: 'edgepeer_gossip_duplicate_blocks_total', help: 'Gossiped blocks this board already had or already held pending', registers,
  });
  const messages = new Counter<'direction' | 'kind'>({
    name: 'edgepeer_gossip_messages_total', help: 'Gossip messages sent (out) and received (in), by kind', labelNames: ['direction', 'kind'], registers,
  });
  const bytes = new Counter<'direction' | 'kind'>({
    name: 'edgepeer_gossip_bytes_total', help: 'Gossip bytes on the wire, sent (out) and received (in), by message kind',
    labelNames: ['direction', 'kind'], registers,
  });
  const liveMembers = new Gauge({ name: 'edgepeer_gossip_live_members', help: 'Live gossip members this board knows, itself excluded', registers });
  // One series per org: the label set of the leader shown now, so that a change removes the old one
  // (a stale series with value 1 would say two members lead).
  const shownLeader = new Map<string, string>();
  // Called for every gossip message: the children are bound once per (direction, kind), not looked up by
  // a label object each time.
  type MessageCounters = { messages: { inc(n?: number): void }; bytes: { inc(n?: number): void } };
  const perMessage = { in: new Map<GossipMessageKind, MessageCounters>(), out: new Map<GossipMessageKind, MessageCounters>() };
  const bind = (direction: 'in' | 'out', kind: GossipMessageKind): MessageCounters => {
    const c = { messages: messages.labels(direction, kind), bytes: bytes.labels(direction, kind) };
    perMessage[direction].set(kind, c);
    return c;
  };
  return {
    blocksReceived: (origin: GossipBlockOrigin, count: number) => { if (count > 0) blocksReceived.inc({ origin }, count); },
    duplicates: (count: number) => { if (count > 0) duplicates.inc(count); },
    message: (direction: 'in' | 'out', kind: GossipMessageKind, size: number) => {
      const c = perMessage[direction].get(kind) ?? bind(direction, kind);
      c.messages.inc();
      if (size > 0) c.bytes.inc(size);
    },
    leader: (org: string, id: string | null) => {
      const before = shownLeader.get(org);
      if (before === (id ?? undefined)) return;
      if (before !== undefined) leader.remove({ org, leader: before });
      if (id === null) {
        shownLeader.delete(org);
        return;
      }
      shownLeader.set(org, id);
      leader.set({ org, leader: id }, 1);
    },
    liveMembers: (count: number) => liveMembers.set(count),
  };
}

