// LAN discovery: every board of a LAN joins one multicast group and sends its (signed) ALIVEs there as
// well, so boards find each other without a bootstrap list. Nothing here is trusted: every datagram goes
// to `onMessage`, which authenticates it like a gossip message from TCP. UDP is best effort, so failures
// to send are logged (rate-limited) and never stop the channel; the TCP bootstrap list still works.
import { type Socket, createSocket } from 'node:dgram';
import { type Clock, systemClock } from '../config/clock.js';
import { gossipMulticastDefaults } from './gossipDefaults.js';
import type { GossipMulticastConfig } from './gossipSettings.js';
import type { Logger } from '../observability/logger.js';
import type { GossipDiscovery } from './seams.js';
import { RateLimitedLog } from '../observability/rateLimitedLog.js';

export type MulticastLimits = { -readonly [K in keyof typeof gossipMulticastDefaults]: number };

export interface MulticastDiscoveryOptions extends GossipMulticastConfig {
  log: Logger;
  /** Times the rate limit of warnings. */
  clock?: Clock;
  /**
   * Whether sockets on this host hear what this host sends (default true): several boards on one host
   * (emulated fleets) find each other only so. A board hears its own ALIVEs too; membership ignores them.
   */
  loopback?: boolean;
  limits?: Partial<MulticastLimits>;
}

/** The discovery channel, with what it counted (for logs and tests). */
export interface MulticastDiscovery extends GossipDiscovery {
  /** group:port, and the interface joined (null: the one the routing table picks). */
  readonly group: string;
  readonly port: number;
  readonly interface: string | null;
  /** Sends the OS refused or that failed. */
  readonly sendErrors: number;
  /** Datagrams ignored for being larger than maxDatagramBytes (received), or not sent for it. */
  readonly oversizeReceived: number;
  readonly oversizeNotSent: number;
}

/** Joining the group failed: no such interface, no multicast route, the port taken without SO_REUSEADDR. */
export class MulticastDiscoveryError extends Error {
  override readonly name = 'MulticastDiscoveryError';
}

function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

/** A GossipDiscoveryFactory (src/gossip/seams.ts) over UDP multicast on group:port. */
export function multicastDiscovery(o: MulticastDiscoveryOptions): (onMessage: (message: Uint8Array) => void) => Promise<MulticastDiscovery> {
  const limits: MulticastLimits = { ...gossipMulticastDefaults, ...o.limits };
  const clock = o.clock ?? systemClock;
  const itf = o.interface ?? null;
  const where = `${o.group}:${o.port}${itf === null ? '' : ` on ${itf}`}`;
  return async (onMessage) => {
    // SO_REUSEADDR: every board on this host listens on the same group:port. Bound to the group address
    // (not 0.0.0.0), Linux hands this socket only that group's datagrams, not unicast to the port or
    // other groups another socket on the port joined.
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await bindSocket(socket, o.port, o.group);
      socket.addMembership(o.group, itf ?? undefined);
      socket.setMulticastTTL(limits.ttlHops);
      socket.setMulticastLoopback(o.loopback ?? true);
      if (itf !== null) socket.setMulticastInterface(itf);
    } catch (err) {
      await closeSocket(socket);
      throw new MulticastDiscoveryError(`multicast discovery: cannot join ${where}: ${(err as Error).message}`);
    }
    const log = o.log.child({ multicast: where });
    const warnings = new RateLimitedLog(log, clock, limits.sendErrorLogIntervalMs);
    let stopped = false;
    let stopping: Promise<void> | null = null;
    const counts = { sendErrors: 0, oversizeReceived: 0, oversizeNotSent: 0 };
    // After a successful bind, errors are the socket's own (ENOBUFS, an interface going away): logged,
    // and the channel stays open for when the network comes back.
    socket.on('error', (err) => warnings.warn('socket', { err: err.message }, 'multicast discovery socket error'));
    socket.on('message', (msg) => {
      if (stopped) return;
      if (msg.length > limits.maxDatagramBytes) {
        counts.oversizeReceived++;
        return;
      }
      onMessage(msg);
    });
    log.info({ ttlHops: limits.ttlHops, loopback: o.loopback ?? true }, 'multicast discovery joined');
    const discovery: MulticastDiscovery = {
      group: o.group,
      port: o.port,
      interface: itf,
      get sendErrors() {
        return counts.sendErrors;
      },
      get oversizeReceived() {
        return counts.oversizeReceived;
      },
      get oversizeNotSent() {
        return counts.oversizeNotSent;
      },
      send(message: Uint8Array): void {
        if (stopped) return;
        if (message.length > limits.maxDatagramBytes) {
          counts.oversizeNotSent++;
          warnings.warn('oversize', { bytes: message.length, maxDatagramBytes: limits.maxDatagramBytes }, 'gossip message too large for multicast; not sent');
          return;
        }
        try {
          socket.send(message, o.port, o.group, (err) => {
            if (err === null || err === undefined) return;
            counts.sendErrors++;
            warnings.warn('send', { err: err.message }, 'multicast discovery send failed');
          });
        } catch (err) {
          counts.sendErrors++;
          warnings.warn('send', { err: (err as Error).message }, 'multicast discovery send failed');
        }
      },
      stop(): Promise<void> {
        stopped = true;
        stopping ??= closeSocket(socket);
        return stopping;
      },
    };
    return discovery;
  };
}
