// The MQTT broker the orderer embeds by default (Aedes, MQTT 3.1.1 only), on a plain TCP listener. Given a
// BrokerAccess it enforces docs/protocol.md §11.3: logins are members' identities, members read only their
// own reply topics and write only request topics, only the orderer writes replies, nothing is retained,
// and a client that stops reading is disconnected instead of holding up the others.

import { createServer, type Socket } from 'node:net';
import { Aedes, type Client } from 'aedes';
import { type BrokerAccess, type BrokerPrincipal, publishDenial, subscribeDenial } from './brokerAccess.js';
import { maxMessageBytes } from '../messageLimits.js';
import { MQTT_PACKET_OVERHEAD_MAX_BYTES } from './framedSocket.js';
import { mqttDefaults } from './mqttDefaults.js';
import { PacketSizeGuard } from './packetSizeGuard.js';

/** MQTT 3.1.1 CONNACK return code 4: bad user name or password. */
const CONNACK_BAD_CREDENTIALS = 4;

export const embeddedBrokerDefaults = {
  /**
   * Bytes written to a client's socket and not yet taken by it. A subscriber that stops reading reaches it
   * and is disconnected (a few of the largest messages, 4 MiB each, fit below it).
   */
  maxQueuedBytesPerClient: 16 * 1024 * 1024,
  /** Messages buffered for a client still connecting (Aedes' queueLimit). */
  maxQueuedMessagesPerClient: 64,
  /** Longest MQTT client id accepted (ours are edgepeer-<username>-<16 hex>: at most 89). */
  maxClientIdChars: 128,
  /** Time to send CONNECT after opening the TCP connection. */
  connectTimeoutMs: 10_000,
  /** Largest MQTT packet a client may send: the largest message and a PUBLISH's headers around it. */
  maxPacketBytes: maxMessageBytes + MQTT_PACKET_OVERHEAD_MAX_BYTES,
} as const;

export interface EmbeddedBrokerOptions {
  /** Listen address; default 127.0.0.1 (give 0.0.0.0 to serve boards on the network). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Who may connect and what each may do; without it the broker is open (tests of the transport alone). */
  access?: BrokerAccess;
  /** Overrides embeddedBrokerDefaults.maxQueuedBytesPerClient. */
  maxQueuedBytesPerClient?: number;
  /** Overrides embeddedBrokerDefaults.maxPacketBytes. */
  maxPacketBytes?: number;
  /** A refused login, subscription or publish, or a client cut off, and why. */
  onRefused?: (what: string, clientId: string | undefined, reason: string) => void;
  now?: () => number;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /**
   * Judges every connected login again (after a configuration change): a client whose certificate is
   * no longer valid (revoked, expired) is disconnected. Returns how many were.
   */
  recheck(): number;
  /** Disconnects every client, closes the listener and stops the broker's timers. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? mqttDefaults.host;
  const access = options.access;
  const now = options.now ?? Date.now;
  const refused = options.onRefused ?? (() => undefined);
  const maxQueuedBytes = options.maxQueuedBytesPerClient ?? embeddedBrokerDefaults.maxQueuedBytesPerClient;
  const maxPacketBytes = options.maxPacketBytes ?? embeddedBrokerDefaults.maxPacketBytes;
  const principals = new Map<Client, BrokerPrincipal>();
  const sockets = new Set<Socket>();

  const cutOff = (client: Client, reason: string): void => {
    refused('connection', client.id, reason);
    principals.delete(client);
    client.close();
  };

  const aedes = await Aedes.createBroker({
    queueLimit: embeddedBrokerDefaults.maxQueuedMessagesPerClient,
    maxClientsIdLength: embeddedBrokerDefaults.maxClientIdChars,
    connectTimeout: embeddedBrokerDefaults.connectTimeoutMs,
    ...(access !== undefined && {
      authenticate: (client, username, password, done) => {
        const verdict = username === undefined ? 'no username' : access.login(username, password, now());
        if (typeof verdict === 'string') {
          refused('login', client.id, verdict);
          const err = Object.assign(new Error(verdict), { returnCode: CONNACK_BAD_CREDENTIALS });
          done(err as Parameters<typeof done>[0], false);
          return;
        }
        principals.set(client, verdict);
        done(null, true);
      },
      authorizeSubscribe: (client, sub, done) => {
        const principal = client === null ? undefined : principals.get(client);
        const denial = principal === undefined ? 'not logged in' : subscribeDenial(principal, sub.topic);
        if (denial !== null) {
          refused('subscribe', client?.id, denial);
          done(null, null); // Aedes answers a null subscription with SUBACK failure (0x80)
          return;
        }
        done(null, sub);
      },
      authorizePublish: (client, packet, done) => {
        const principal = client === null ? undefined : principals.get(client);
        const denial = principal === undefined ? 'not logged in' : publishDenial(principal, packet.topic, packet.retain);
        if (denial !== null) {
          refused('publish', client?.id, denial);
          done(new Error(denial));
          return;
        }
        done(null);
      },
    }),
    authorizeForward: (client, packet) => {
      // A client that does not read its socket would make Aedes wait on it for everyone: cut it off.
      const conn = (client as Client & { conn?: { writableLength?: number } }).conn;
      if (conn?.writableLength !== undefined && conn.writableLength > maxQueuedBytes) {
        cutOff(client, `more than ${maxQueuedBytes} bytes waiting to be read`);
        return null;
      }
      return packet;
    },
  });
  aedes.on('clientDisconnect', (client) => principals.delete(client));

  const server = createServer((socket) => {
    // The broker relays every request and reply; Nagle would add up to ~40 ms to each hop.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const client = aedes.handle(socket);
    // Aedes' parser would buffer any announced length: the guard sees each chunk as Aedes reads it
    // ('readable' keeps control of the flow, 'data' only observes) and cuts the client off at the header.
    const guard = new PacketSizeGuard(maxPacketBytes);
    socket.on('data', (chunk: Buffer) => {
      const verdict = guard.feed(chunk);
      if (verdict.kind === 'ok') return;
      cutOff(client, verdict.kind === 'too-large'
        ? `packet of ${verdict.packetBytes} bytes announced, more than the ${maxPacketBytes} allowed`
        : `malformed MQTT packet: ${verdict.reason}`);
      // Aedes' close ends the session but leaves the socket to drain: the rest of the packet must not come in.
      socket.destroy();
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    throw err;
  }

  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('embedded broker: no TCP address');
  const port = address.port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      // Aedes ends its clients' streams; a client that does not answer the FIN would keep the listener open.
      for (const socket of sockets) socket.destroy();
      await serverClosed;
    })();
    return closing;
  };

  const recheck = (): number => {
    if (access === undefined) return 0;
    let closed = 0;
    for (const [client, principal] of [...principals]) {
      const why = access.stillAllowed(principal, now());
      if (why !== null) {
        cutOff(client, why);
        closed++;
      }
    }
    return closed;
  };

  return { url: `mqtt://${urlHost}:${port}`, port, recheck, close };
}
