// Prometheus metrics. Each process (and each test) makes its own Registry instead of using prom-client's
// global one, so several orderers and peers can live in one test process without name clashes.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GossipBlockOrigin, GossipMessageKind, GossipMetricsSink } from '../gossip/seams.js';

export type { Counter, Gauge, Registry } from 'prom-client';
export { type MetricsServer, startMetricsServer } from './metricsServer.js';

export type MetricsRole = 'orderer' | 'peer';

/** Metrics every role has: each one keeps a ledger and talks over links. */
export interface CommonMetrics {
  readonly registry: Registry;
  /** Blocks in the channel's ledger (the next block number). */
  readonly ledgerHeight: Gauge<'channel'>;
  readonly blocksCommitted: Counter<'channel'>;
  /** `reason` is a short fixed word (bad_signature, bad_hash_chain, malformed, too_large, ...), never free text. */
  readonly blocksRejected: Counter<'channel' | 'reason'>;
  readonly linkMessagesDropped: Counter<'reason'>;
}

export interface OrdererMetrics extends CommonMetrics {
  readonly role: 'orderer';
  readonly deliverStreamsOpen: Gauge;
  /** `status` is the status name (SUCCESS, FORBIDDEN, ...), as statusName() gives it. */
  readonly deliverRequests: Counter<'status'>;
  readonly broadcastRequests: Counter<'status'>;
  readonly blocksCut: Counter<'channel'>;
}

export interface PeerMetrics extends CommonMetrics {
  readonly role: 'peer';
  /** 1 while the link to that orderer endpoint is up, 0 otherwise. */
  readonly ordererLinkUp: Gauge<'endpoint'>;
}

function commonMetrics(registry: Registry): CommonMetrics {
  const registers = [registry];
  return {
    registry,
    ledgerHeight: new Gauge({
      name: 'edgepeer_ledger_height', help: 'Blocks in the ledger of the channel', labelNames: ['channel'], registers,
    }),
    blocksCommitted: new Counter({
      name: 'edgepeer_blocks_committed_total', help: 'Blocks committed to the ledger', labelNames: ['channel'], registers,
    }),
    blocksRejected: new Counter({
      name: 'edgepeer_blocks_rejected_total', help: 'Blocks refused by validation, by reason', labelNames: ['channel', 'reason'], registers,
    }),
    linkMessagesDropped: new Counter({
      name: 'edgepeer_link_messages_dropped_total', help: 'Link messages dropped before handling, by reason', labelNames: ['reason'], registers,
    }),
  };
}

export function createMetrics(role: 'orderer'): OrdererMetrics;
export function createMetrics(role: 'peer'): PeerMetrics;
export function createMetrics(role: MetricsRole): OrdererMetrics | PeerMetrics;
export function createMetrics(role: MetricsRole): OrdererMetrics | PeerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const common = commonMetrics(registry);
  if (role === 'peer') {
    return {
      ...common,
      role,
      ordererLinkUp: new Gauge({
        name: 'edgepeer_orderer_link_up', help: 'Whether the link to the orderer endpoint is up (1) or not (0)', labelNames: ['endpoint'], registers,
      }),
    };
  }
  return {
    ...common,
    role,
    deliverStreamsOpen: new Gauge({ name: 'edgepeer_deliver_streams_open', help: 'Open Deliver sessions', registers }),
    deliverRequests: new Counter({
      name: 'edgepeer_deliver_requests_total', help: 'Deliver requests answered, by final status', labelNames: ['status'], registers,
    }),
    broadcastRequests: new Counter({
      name: 'edgepeer_broadcast_requests_total', help: 'Broadcast requests answered, by status', labelNames: ['status'], registers,
    }),
    blocksCut: new Counter({
      name: 'edgepeer_blocks_cut_total', help: 'Blocks cut by the orderer', labelNames: ['channel'], registers,
    }),
  };
}

/**
 * The gossip node's metrics (src/gossip/seams.ts) over prom-client, registered on `registry` (the peer's).
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

