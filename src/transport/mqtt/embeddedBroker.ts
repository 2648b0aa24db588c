// The MQTT broker the orderer embeds by default (Aedes, MQTT 3.1.1 only), on a plain TCP listener.

import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { mqttDefaults } from './mqttDefaults.js';

export interface EmbeddedBrokerOptions {
  /** Listen address; default 127.0.0.1 (give 0.0.0.0 to serve boards on the network). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
}

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Disconnects every client, closes the listener and stops the broker's timers. */
  close(): Promise<void>;
}

export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const host = options.host ?? mqttDefaults.host;
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    // The broker relays every request and reply; Nagle would add up to ~40 ms to each hop.
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
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

  return { url: `mqtt://${urlHost}:${port}`, port, close };
}
