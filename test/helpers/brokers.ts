// The brokers every MQTT integration test runs against: the embedded Aedes and a real Mosquitto.

import { startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { startMosquitto } from './mosquitto.js';

export interface RunningBroker {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface BrokerCase {
  name: 'aedes' | 'mosquitto';
  /** Starts the broker (on `port` when given, e.g. to restart it where clients expect it). */
  start(opts?: { port?: number }): Promise<RunningBroker | { skip: string }>;
}

export function brokerCases(): BrokerCase[] {
  return [
    {
      name: 'aedes',
      async start(opts = {}) {
        const broker = await startEmbeddedBroker(opts.port === undefined ? {} : { port: opts.port });
        return { url: broker.url, port: broker.port, stop: () => broker.close() };
      },
    },
    {
      name: 'mosquitto',
      async start(opts = {}) {
        const handle = await startMosquitto(opts);
        if ('skip' in handle) return handle;
        return { url: handle.url, port: handle.port, stop: () => handle.stop() };
      },
    },
  ];
}

/** One of brokerCases() by name. */
export function brokerCase(name: 'aedes' | 'mosquitto'): BrokerCase {
  const found = brokerCases().find((c) => c.name === name);
  if (found === undefined) throw new Error(`no broker case '${name}'`);
  return found;
}
