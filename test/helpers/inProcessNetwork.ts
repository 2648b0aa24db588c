// An in-process network for integration tests: embedded broker, orderer, and peers as objects in
// this process (child-process fleets live in fleet.ts). Everything it starts, stop() stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastClient } from '../../src/client/broadcastClient.js';
import { createNetwork, type NetworkSummary } from '../../src/network/createNetwork.js';
import { loadBoard, loadClient, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import { openLedger, ledgerPath } from '../../src/ledger/lmdbLedger.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Orderer } from '../../src/orderer/orderer.js';
import type { DeliverLimits } from '../../src/orderer/deliverService.js';
import { Peer } from '../../src/peer/peer.js';
import type { DeliverClientLimits } from '../../src/peer/deliverClient.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { genesisTrust } from '../../src/channel/responderTrust.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import type { BatchConfig } from '../../src/protocol/channelConfig.js';
import { edgepeerChainRules } from '../../src/ledger/edgepeerChainRules.js';

export interface InProcessNetwork {
  dir: string;
  summary: NetworkSummary;
  brokerUrl: string;
  orderer: Orderer;
  startPeer(boardId: string, opts?: { deliver?: Partial<DeliverClientLimits>; channel?: string }): Promise<Peer>;
  stopPeer(peer: Peer): Promise<void>;
  client(org?: string, channel?: string): Promise<BroadcastClient>;
  stop(): Promise<void>;
}

export async function startInProcessNetwork(opts: {
  orgs?: number; boardsPerOrg?: number; channels?: string[]; batch?: Partial<BatchConfig>;
  brokerUrl?: string; deliverLimits?: Partial<DeliverLimits>;
} = {}): Promise<InProcessNetwork> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-net-'));
  const channels = opts.channels ?? ['testchannel'];
  // Set as they start, for the cleanup of a network that fails half way up.
  const held: { broker: EmbeddedBroker | null; orderer: Orderer | null } = { broker: null, orderer: null };
  try {
    return await build();
  } catch (err) {
    // A network that failed half way up leaves no broker, ledger or temp dir behind.
    await held.orderer?.stop().catch(() => undefined);
    await held.broker?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  async function build(): Promise<InProcessNetwork> {
    const summary = await createNetwork({
      dir: join(dir, 'network'), channels, orgs: opts.orgs ?? 1, boardsPerOrg: opts.boardsPerOrg ?? 3,
      batch: { batchTimeoutMs: 50, ...opts.batch },
    });
    const netDir = summary.dir;
    let brokerUrl = opts.brokerUrl;
    if (brokerUrl === undefined) {
      const broker = await startEmbeddedBroker({ port: 0 });
      held.broker = broker;
      brokerUrl = broker.url;
    }
    const ids = loadOrdererIdentities(netDir);
    const started = new Orderer({
      dataDir: join(dir, 'orderer'),
      channels: channels.map((channel) => ({ channel, genesis: loadGenesis(netDir, channel) })),
      signer: ids.node,
      log: silentLogger(),
      limits: opts.deliverLimits,
    });
    held.orderer = started;
    await started.serve(new MqttServerLink({ endpoint: { url: brokerUrl } }));
    const peers = new Map<Peer, { link: MqttClientLink; ledger: { close(): Promise<void> } }>();
    const clients: { client: BroadcastClient; link: MqttClientLink }[] = [];
    const url = brokerUrl;

    const stopPeer = async (peer: Peer): Promise<void> => {
      const p = peers.get(peer);
      if (!p) return;
      peers.delete(peer);
      await peer.stop();
      await p.link.close();
      await p.ledger.close();
    };
    return {
      dir,
      summary,
      brokerUrl: url,
      orderer: started,
      stopPeer,
      async startPeer(boardId, popts = {}) {
        const board = loadBoard(netDir, boardId);
        const channel = popts.channel ?? board.config.channel;
        const link = new MqttClientLink({ endpoint: { url }, credentials: brokerCredentials(board.signer) });
        const ledger = openLedger(ledgerPath(join(dir, 'peers', boardId), channel), { channel });
        const peer = new Peer({
          boardId, ledger, rules: edgepeerChainRules(channel, loadGenesis(netDir, channel)), signer: board.signer, links: [link], log: silentLogger(),
          limits: { deliver: { retryBaseDelayMs: 20, maxRetryDelayMs: 500, ...popts.deliver } },
        });
        peers.set(peer, { link, ledger });
        peer.start();
        return peer;
      },
      async client(org, channel = channels[0]!) {
        const signer = loadClient(netDir, org);
        const link = new MqttClientLink({ endpoint: { url }, credentials: brokerCredentials(signer) });
        await link.open([channel]);
        const client = new BroadcastClient(link, channel, signer, genesisTrust(loadGenesis(netDir, channel)));
        clients.push({ client, link });
        return client;
      },
      async stop() {
        try {
          for (const peer of [...peers.keys()]) await stopPeer(peer);
          for (const c of clients) {
            c.client.close();
            await c.link.close();
          }
          await started.stop();
        } finally {
          // Even when a peer fails to stop, the broker's port and the temp dir are released.
          await held.broker?.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  }
}

/** Resolves once `peer` reaches `height`, rejects after `timeoutMs` naming where it stood. */
export function waitForHeight(peer: Peer, height: number, timeoutMs = 20_000): Promise<void> {
  if (peer.status().height >= height) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      peer.off('committed', onCommit);
      reject(new Error(`peer ${peer.status().board} at height ${peer.status().height}, wanted ${height}`));
    }, timeoutMs);
    const onCommit = (h: number): void => {
      if (h >= height) {
        clearTimeout(timer);
        peer.off('committed', onCommit);
        resolve();
      }
    };
    peer.on('committed', onCommit);
  });
}

/** Resolves once the orderer has cut everything it accepted on `channel`. */
export async function allCut(net: InProcessNetwork, channel = net.summary.channel): Promise<number> {
  const chain = net.orderer.chain(channel);
  while (chain.pendingCount > 0) await chain.waitForBlock(chain.height());
  return chain.height();
}
