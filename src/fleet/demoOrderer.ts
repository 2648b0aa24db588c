// The orderer inside the demo process, on the embedded broker, serving the network's first channel.
import type { ChannelState } from '../channel/channelState.js';
import { loadGenesis, loadOrdererIdentities } from '../network/loadNetwork.js';
import type { Logger } from '../observability/logger.js';
import { Orderer } from '../orderer/orderer.js';
import { brokerCredentials } from '../transport/mqtt/brokerIdentity.js';
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
  /** Transactions accepted and not cut into a block yet. */
  pending(): number;
  /** The channel configurations it serves under now: what the demo's broker judges logins by (§11.3). */
  channelStates(): ChannelState[];
  /** Ends Deliver sessions, cuts what is pending, closes the link and the ledgers; resolves with the final height. */
  stop(): Promise<number>;
}

export async function startDemoOrderer(o: DemoOrdererOptions): Promise<DemoOrderer> {
  const signer = loadOrdererIdentities(o.networkDir).node;
  const orderer = new Orderer({
    dataDir: o.dataDir,
    channels: [{ channel: o.channel, genesis: loadGenesis(o.networkDir, o.channel) }],
    signer,
    log: o.log,
  });
  const link = new MqttServerLink({
    // It logs in as the channel's block signer: the broker lets only that login read requests and reply.
    endpoint: { url: o.brokerUrl, ...brokerCredentials(signer) },
    onError: (err) => o.log.warn({ err: err.message }, 'MQTT link error'),
  });
  try {
    await orderer.serve(link);
  } catch (err) {
    await orderer.stop();
    throw err;
  }
  const chain = orderer.chain(o.channel);
  let stopping: Promise<number> | undefined;
  return {
    height: () => chain.height(),
    pending: () => chain.pendingCount,
    channelStates: () => [...orderer.chains.values()].map((c) => c.state),
    stop: () => {
      stopping ??= (async () => {
        await orderer.stop();
        // The ledger keeps its height after closing; read it after the last cut.
        return chain.height();
      })();
      return stopping;
    },
  };
}
