// The orderer inside the demo process, on the embedded broker, serving the network's first channel.
import { loadGenesis, loadOrdererIdentities } from '../network/loadNetwork.js';
import type { Logger } from '../observability/logger.js';
import { Orderer } from '../orderer/orderer.js';
import { MqttServerLink } from '../transport/mqtt/mqttServerLink.js';

export interface DemoOrdererOptions {
  networkDir: string;
  dataDir: string;
  channel: string;
  brokerUrl: string;
  log: Logger;
}

export interface DemoOrderer {
  /** Blocks in the channel's ledger. */
  height(): number;
  /** Ends Deliver sessions, closes the link and the ledgers. */
  stop(): Promise<void>;
}

export async function startDemoOrderer(o: DemoOrdererOptions): Promise<DemoOrderer> {
  const orderer = new Orderer({
    dataDir: o.dataDir,
    channels: [{ channel: o.channel, genesis: loadGenesis(o.networkDir, o.channel) }],
    signer: loadOrdererIdentities(o.networkDir).node,
    log: o.log,
  });
  const link = new MqttServerLink({
    endpoint: { url: o.brokerUrl },
    onError: (err) => o.log.warn({ err: err.message }, 'MQTT link error'),
  });
  try {
    await orderer.serve(link);
  } catch (err) {
    await orderer.stop();
    throw err;
  }
  const chain = orderer.chain(o.channel);
  return { height: () => chain.height(), stop: () => orderer.stop() };
}
