// Gossip over TCP (node:net): one listening socket for incoming frames, one outgoing connection per peer
// address for sending. Messages carry their own signature, so a connection needs no handshake, and
// sending only on outgoing connections avoids deciding which of two crossing connections to keep.
// The listener is reachable by anyone on the network before anything is authenticated, so what a
// connection may make the board hold is bounded here: how many connections, how many bytes of frames not
// yet whole, how long a connection may sit idle or take to connect (docs/protocol.md §12b.1).
import net from 'node:net';
import { Backoff } from '../config/backoff.js';
import type { Clock } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import { GossipFrameDecoder, encodeFrame } from './frameCodec.js';
import { RateLimitedLog } from '../observability/rateLimitedLog.js';
import type { GossipTransport } from './seams.js';

export type { GossipTransport } from './seams.js';

export interface GossipTransportLimits {
  maxFrameBytes: number;
  maxQueuedBytesPerConnection: number;
  /** After a failed connection the next attempt to that member waits from this (jittered, growing; src/config/backoff.ts)... */
  reconnectDelayMs: number;
  /** ...up to this. */
  reconnectMaxDelayMs: number;
  /** stop() waits this long at most for what is queued (a leaving ALIVE) to be written. */
  closeFlushTimeoutMs: number;
  /** Connections others opened to this board, at most; one more is closed at once. */
  inboundConnectionsMax: number;
  /**
   * Bytes a connection may send before one of its messages authenticates; past it, it is closed. A stranger
   * holds a connection slot and this many bytes at most, never a whole frame's worth per connection.
   */
  inboundUnauthenticatedBytesMax: number;
  /** Bytes of frames not yet whole, all inbound connections together; the connection that goes past it is closed. */
  inboundBufferedBytesMax: number;
  /** A connection (either way) on which nothing was read or written for this long is closed. */
  connectionIdleTimeoutMs: number;
  /** A connection this board opened and has written nothing on for this long is closed (by this board). */
  outboundIdleTimeoutMs: number;
  /** An outgoing connection not established within this long is given up (and retried after reconnectDelayMs). */
  connectTimeoutMs: number;
  /** TCP keepalive probes start after this long without traffic (a peer that vanished is noticed). */
  tcpKeepaliveMs: number;
  /** Warnings about refused or closed connections are logged at most this often per reason. */
  dropLogIntervalMs: number;
  dropLogKeysMax: number;
}


export interface TcpTransportOptions {
  /** host:port; port 0 picks a free one. */
  listen: string;
  limits: GossipTransportLimits;
  clock: Clock;
  log: Logger;
  /** Handles one received message; true when it authenticated (a member's signature, a board's certificate). */
  onMessage(message: Uint8Array): boolean;
  /** The reconnect backoff's jitter, [0, 1); default Math.random. */
  random?: () => number;
}

export interface HostPort {
  host: string;
  port: number;
}

/** host:port with an IPv4 address or a host name and a port of 0..65535; null when it is not. */
export function parseHostPort(s: string): HostPort | null {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(s);
  if (m === null) return null;
  const port = Number(m[2]);
  return port <= 65_535 ? { host: m[1]!, port } : null;
}

export async function startTcpTransport(o: TcpTransportOptions): Promise<GossipTransport> {
  const at = parseHostPort(o.listen);
  if (at === null) throw new Error(`gossip listen address '${o.listen}' is not host:port`);
  const { host, port } = at;
  const inbound = new Set<net.Socket>();
  const outbound = new Map<string, net.Socket>();
  /** Members whose last connection failed: when the next attempt may be made, and the backoff that said so. */
  const retries = new Map<string, { atMs: number; backoff: Backoff }>();
  const reconnectPolicy = { baseDelayMs: o.limits.reconnectDelayMs, maxDelayMs: Math.max(o.limits.reconnectDelayMs, o.limits.reconnectMaxDelayMs) };
  const warnings = new RateLimitedLog(o.log, o.clock, o.limits.dropLogIntervalMs, o.limits.dropLogKeysMax);
  /** Bytes of incomplete frames held by all inbound connections. */
  let buffered = 0;
  const server = net.createServer((socket) => {
    inbound.add(socket);
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const decoder = new GossipFrameDecoder(o.limits.maxFrameBytes);
    let held = 0;
    /** Bytes read before any frame on this connection authenticated; null once one has. */
    let unauthenticated: number | null = 0;
    const drop = (why: string): void => {
      warnings.warn(`inbound\n${why}`, { remote, why }, 'gossip connection dropped');
      socket.destroy();
    };
    socket.setKeepAlive(true, o.limits.tcpKeepaliveMs);
    socket.setTimeout(o.limits.connectionIdleTimeoutMs, () => drop(`idle for ${o.limits.connectionIdleTimeoutMs} ms`));
    socket.on('data', (chunk: Buffer) => {
      const frames: Buffer[] = [];
      let failure: string | null = null;
      try {
        decoder.push(chunk, (f) => frames.push(f));
      } catch (err) {
        failure = (err as Error).message;
      }
      buffered += decoder.bufferedBytes - held;
      held = decoder.bufferedBytes;
      if (unauthenticated !== null) unauthenticated += chunk.length;
      // The frames before a bad one were whole and are handled; the connection is not.
      for (const f of frames) if (o.onMessage(f)) unauthenticated = null;
      if (failure !== null) drop(failure);
      else if (unauthenticated !== null && unauthenticated > o.limits.inboundUnauthenticatedBytesMax) {
        drop(`${unauthenticated} bytes and no authenticated message (inboundUnauthenticatedBytesMax ${o.limits.inboundUnauthenticatedBytesMax})`);
      }
      else if (buffered > o.limits.inboundBufferedBytesMax) {
        drop(`incomplete frames of all connections above inboundBufferedBytesMax (${o.limits.inboundBufferedBytesMax} bytes)`);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      inbound.delete(socket);
      buffered -= held;
      held = 0;
    });
  });
  server.maxConnections = o.limits.inboundConnectionsMax;
  server.on('drop', (d) => {
    warnings.warn('inbound\nconnections', { remote: `${d?.remoteAddress}:${d?.remotePort}`, inboundConnectionsMax: o.limits.inboundConnectionsMax },
      'gossip connection refused: inboundConnectionsMax connections open');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const bound = server.address() as net.AddressInfo;
  const endpoint = `${host}:${bound.port}`;
  let stopped = false;

  const connection = (to: string): net.Socket | null => {
    const existing = outbound.get(to);
    // A connection closed for idleness is forgotten at its 'close' event, a turn later: a send in between
    // dials anew rather than being dropped.
    if (existing && !existing.destroyed) return existing;
    const retry = retries.get(to);
    if (stopped || (retry !== undefined && o.clock.now() < retry.atMs)) return null;
    const target = parseHostPort(to);
    if (target === null) return null;
    const socket = net.connect(target);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, o.limits.tcpKeepaliveMs);
    outbound.set(to, socket);
    // Without a bound a connect to an address that swallows packets waits for the kernel's SYN retries
    // (minutes), with this member's messages queueing behind it.
    const connectTimer = o.clock.setTimeout(() => {
      socket.destroy(new Error(`not connected within connectTimeoutMs (${o.limits.connectTimeoutMs} ms)`));
    }, o.limits.connectTimeoutMs);
    connectTimer.unref?.();
    socket.once('connect', () => {
      o.clock.clearTimeout(connectTimer);
      retries.delete(to);
      // Nothing is read on a connection this board opened: idle means nothing written.
      socket.setTimeout(Math.min(o.limits.outboundIdleTimeoutMs, o.limits.connectionIdleTimeoutMs), () => socket.destroy());
    });
    socket.on('error', (err) => {
      const r = retries.get(to) ?? { atMs: 0, backoff: new Backoff(reconnectPolicy, o.random) };
      r.atMs = o.clock.now() + r.backoff.next();
      retries.set(to, r);
      o.log.debug({ to, err: err.message }, 'gossip connection failed');
    });
    socket.on('close', () => {
      o.clock.clearTimeout(connectTimer);
      if (outbound.get(to) === socket) outbound.delete(to);
    });
    socket.on('data', () => undefined);
    return socket;
  };

  return {
    endpoint,
    send(to, message) {
      if (message.length > o.limits.maxFrameBytes) return false;
      const socket = connection(to);
      if (socket === null || socket.destroyed) return false;
      // Bytes written before the connection is up are queued by node, and count against the same limit.
      if (socket.writableLength + message.length > o.limits.maxQueuedBytesPerConnection) return false;
      socket.write(encodeFrame(message));
      return true;
    },
    redial(to) {
      retries.delete(to);
    },
    async stop() {
      stopped = true;
      // Ended, not destroyed: what was queued last (the leaving ALIVE) is written first, within a bound.
      await Promise.all([...outbound.values()].map((s) => new Promise<void>((resolve) => {
        if (s.destroyed) {
          resolve();
          return;
        }
        const timer = setTimeout(() => { s.destroy(); resolve(); }, o.limits.closeFlushTimeoutMs);
        s.end(() => { clearTimeout(timer); s.destroy(); resolve(); });
        s.once('close', () => { clearTimeout(timer); resolve(); });
      })));
      for (const s of inbound) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
