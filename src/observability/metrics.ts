// Prometheus metrics. Each process (and each test) makes its own Registry instead of using prom-client's
// global one, so several orderers and peers can live in one test process without name clashes.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type { Counter, Gauge, Registry } from 'prom-client';
export { type MetricsServer, startMetricsServer } from './metricsServer.js';

export type MetricsRole = 'orderer' | 'peer' | 'gateway';

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

/** The gateway: it serves boards as the orderer does, and follows a Fabric ordering node or peer. */
export interface GatewayMetrics extends CommonMetrics {
  readonly role: 'gateway';
  readonly deliverStreamsOpen: Gauge;
  readonly deliverRequests: Counter<'status'>;
  /** Deliver statuses a Fabric endpoint answered the gateway with (FORBIDDEN, NOT_FOUND, ...). */
  readonly fabricDeliverStatus: Counter<'endpoint' | 'status'>;
  /** Attempts to follow that ended, by why (transport, hung-up, status, rejected, unexpected). */
  readonly fabricAttemptsFailed: Counter<'endpoint' | 'failure'>;
  /** 1 while the gateway streams from that Fabric endpoint, 0 otherwise. */
  readonly fabricEndpointStreaming: Gauge<'endpoint'>;
}

export interface PeerMetrics extends CommonMetrics {
  readonly role: 'peer';
  /** 1 while the link to that orderer endpoint is up, 0 otherwise. */
  readonly ordererLinkUp: Gauge<'endpoint'>;
  /** 1 while the board's deliver client should be pulling (started: leading, or without gossip), 0 otherwise. */
  readonly deliverActive: Gauge<'channel'>;
  /** 1 once the deliver client has given up for good (wrongStatusThreshold), 0 otherwise. */
  readonly deliverStopped: Gauge<'channel'>;
  /** Unix time (s) of the last Deliver response (blocks or heartbeat) of the open stream; 0 before the first. */
  readonly deliverLastResponse: Gauge<'channel'>;
  /** 1 once the board found an orderer-signed block that conflicts with its chain (a fork), 0 before. */
  readonly forkDetected: Gauge<'channel'>;
  /** The number of the block the board's chain and the orderer-signed one disagree on; absent before a fork. */
  readonly forkBlock: Gauge<'channel'>;
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
export function createMetrics(role: 'gateway'): GatewayMetrics;
export function createMetrics(role: MetricsRole): OrdererMetrics | PeerMetrics | GatewayMetrics;
export function createMetrics(role: MetricsRole): OrdererMetrics | PeerMetrics | GatewayMetrics {
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
      deliverActive: new Gauge({
        name: 'edgepeer_deliver_active', help: 'Whether the deliver client should be pulling from the orderer (1) or not (0)', labelNames: ['channel'], registers,
      }),
      deliverStopped: new Gauge({
        name: 'edgepeer_deliver_stopped', help: 'Whether the deliver client has given up for good (1) or not (0)', labelNames: ['channel'], registers,
      }),
      deliverLastResponse: new Gauge({
        name: 'edgepeer_deliver_last_response_seconds', help: 'Unix time of the last Deliver response (blocks or heartbeat); 0 before the first', labelNames: ['channel'], registers,
      }),
      forkDetected: new Gauge({
        name: 'edgepeer_fork_detected', help: 'Whether the board found an orderer-signed block that conflicts with its chain (1) or not (0)', labelNames: ['channel'], registers,
      }),
      forkBlock: new Gauge({
        name: 'edgepeer_fork_block', help: 'Number of the block on which the board and an orderer-signed chain disagree', labelNames: ['channel'], registers,
      }),
    };
  }
  const deliverStreamsOpen = new Gauge({ name: 'edgepeer_deliver_streams_open', help: 'Open Deliver sessions', registers });
  const deliverRequests = new Counter({
    name: 'edgepeer_deliver_requests_total', help: 'Deliver requests answered, by final status', labelNames: ['status'], registers,
  });
  if (role === 'gateway') {
    return {
      ...common,
      role,
      deliverStreamsOpen,
      deliverRequests,
      fabricDeliverStatus: new Counter({
        name: 'edgepeer_fabric_deliver_status_total', help: 'Deliver statuses a Fabric endpoint answered the gateway with',
        labelNames: ['endpoint', 'status'], registers,
      }),
      fabricAttemptsFailed: new Counter({
        name: 'edgepeer_fabric_attempts_failed_total', help: 'Attempts to follow a Fabric endpoint that ended, by why',
        labelNames: ['endpoint', 'failure'], registers,
      }),
      fabricEndpointStreaming: new Gauge({
        name: 'edgepeer_fabric_endpoint_streaming', help: 'Whether the gateway streams from that Fabric endpoint (1) or not (0)',
        labelNames: ['endpoint'], registers,
      }),
    };
  }
  return {
    ...common,
    role,
    deliverStreamsOpen,
    deliverRequests,
    broadcastRequests: new Counter({
      name: 'edgepeer_broadcast_requests_total', help: 'Broadcast requests answered, by status', labelNames: ['status'], registers,
    }),
    blocksCut: new Counter({
      name: 'edgepeer_blocks_cut_total', help: 'Blocks cut by the orderer', labelNames: ['channel'], registers,
    }),
  };
}
