// `npm start -- --fabric FILE`: the demo's boards follow a real Hyperledger Fabric channel read from a
// Fabric block file (or a peer's chains/ folder) instead of the chain the demo's orderer cuts. This
// process plays the gateway: it imports the file into a Fabric-format ledger, verifying every block as
// the gateway verifies a followed one (src/fabricGateway/blockImport.ts), and serves that ledger to the boards
// with a Gateway that follows nothing (src/fabricGateway/gateway.ts) on the embedded broker, exactly as
// `edgepeer gateway` without --fabric-endpoint serves what `edgepeer fabric import` loaded.
import { systemClock } from '../config/clock.js';
import { type FabricLedgerSource, findFabricLedgers, ledgerBlocks } from '../fabric/blockFiles.js';
import { FabricChannelRules } from '../fabric/channelRules.js';
import { importBlocks } from '../fabricGateway/blockImport.js';
import { Gateway } from '../fabricGateway/gateway.js';
import { fabricGatewayDefaults } from '../fabricGateway/gatewayDefaults.js';
import { fabricChainRules } from '../ledger/fabricChainRules.js';
import { ledgerPath, openLedger } from '../ledger/lmdbLedger.js';
import { loadChannelAnchor, loadOrdererIdentities } from '../network/loadNetwork.js';
import type { Logger } from '../observability/logger.js';
import { brokerCredentials } from '../transport/mqtt/brokerIdentity.js';
import { MqttServerLink } from '../transport/mqtt/mqttServerLink.js';
import type { DemoOrderer } from './demoOrderer.js';

/** The one Fabric channel of a block file or chains/ folder, and its genesis block (its first block). */
export interface DemoFabricSource {
  source: FabricLedgerSource;
  channel: string;
  genesis: Uint8Array;
}

/** Reads what `--fabric PATH` names; refuses a ledger that does not start at its genesis block. */
export function readDemoFabricSource(path: string): DemoFabricSource {
  const found = findFabricLedgers(path);
  if (found.length !== 1) {
    throw new Error(found.length === 0
      ? `--fabric ${path}: no Fabric block file or ledger found`
      : `--fabric ${path}: holds the ledgers of several channels (${found.map((f) => f.channel).join(', ')}): name one channel's folder`);
  }
  const source = found[0]!;
  if (source.snapshot !== undefined) {
    throw new Error(`--fabric ${path}: the ledger starts from a snapshot at block ${source.snapshot.lastBlockNumber + 1}; boards start from the genesis block`);
  }
  const first = ledgerBlocks(source).next();
  if (first.done === true) throw new Error(`--fabric ${path}: the block file is empty`);
  const genesis = first.value.block;
  return { source, channel: FabricChannelRules.fromConfigBlock(genesis).channelId, genesis };
}

export interface DemoFabricGatewayOptions {
  networkDir: string;
  dataDir: string;
  fabric: DemoFabricSource;
  brokerUrl: string;
  log: Logger;
}

/** Imports the file into the gateway's ledger, then serves it with a gateway that follows nothing. */
export async function startDemoFabricGateway(o: DemoFabricGatewayOptions): Promise<DemoOrderer> {
  const anchor = loadChannelAnchor(o.networkDir, o.fabric.channel);
  if (anchor.kind !== 'fabric') throw new Error(`the demo network's channel '${o.fabric.channel}' is not a Fabric channel`);
  const rules = fabricChainRules(anchor.channel, anchor.fabricGenesis);
  const limits = { runMaxBlocks: fabricGatewayDefaults.runMaxBlocks, runMaxBytes: fabricGatewayDefaults.runMaxBytes };
  const ledger = openLedger(ledgerPath(o.dataDir, anchor.channel), { channel: anchor.channel, format: rules.format });
  try {
    const summary = importBlocks((function* () { for (const b of ledgerBlocks(o.fabric.source)) yield b.block; })(), {
      ledger, verifier: rules.anchor(ledger), reader: rules.format.reader(), limits,
    });
    o.log.info({ channel: anchor.channel, ...summary }, 'Fabric block file imported');
  } finally {
    await ledger.close();
  }
  const replySigner = loadOrdererIdentities(o.networkDir).node;
  const gateway = new Gateway({
    dataDir: o.dataDir, channel: anchor.channel, rules, access: anchor.access, endpoints: [],
    replySigner, clock: systemClock, random: Math.random, log: o.log,
    followLimits: { baseDelayMs: fabricGatewayDefaults.retryBaseDelayMs, maxDelayMs: fabricGatewayDefaults.retryMaxDelayMs, ...limits },
  });
  // It logs in as the edge access configuration's block signer, as `edgepeer gateway` does (§11.3).
  const link = new MqttServerLink({
    endpoint: { url: o.brokerUrl, ...brokerCredentials(replySigner) },
    onError: (err) => o.log.warn({ err: err.message }, 'MQTT link error'),
  });
  try {
    await gateway.serve(link);
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  let stopping: Promise<number> | undefined;
  return {
    height: () => gateway.height,
    pending: () => 0,
    channelStates: () => [gateway.chain.state],
    stop: () => {
      stopping ??= gateway.stop().then(() => gateway.height);
      return stopping;
    },
  };
}
