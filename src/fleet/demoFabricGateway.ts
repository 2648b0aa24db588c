// `npm start -- --fabric FILE`: the demo's boards follow a real Hyperledger Fabric channel read from a
// Fabric block file (or a peer's chains/ folder) instead of the chain the demo's orderer cuts. This
// process plays the gateway: it imports the file into a Fabric-format ledger, verifying every block as
// the gateway verifies a followed one (src/gateway/blockImport.ts), and serves that ledger to the boards
// with edgepeer's Deliver on the embedded broker, judging them under the channel's edge access
// configuration, exactly as `edgepeer gateway` serves a channel it follows from Fabric.
import { ChannelState } from '../channel/channelState.js';
import { configFromBlock } from '../channel/blocks.js';
import { systemClock } from '../config/clock.js';
import { type FabricLedgerSource, findFabricLedgers, ledgerBlocks } from '../fabric/blockFiles.js';
import { FabricChannelRules } from '../fabric/channelRules.js';
import { importBlocks } from '../gateway/blockImport.js';
import { FollowedChain } from '../gateway/followedChain.js';
import { fabricGatewayDefaults } from '../gateway/gatewayDefaults.js';
import { fabricChainRules } from '../ledger/fabricChainRules.js';
import { ledgerPath, openLedger } from '../ledger/lmdbLedger.js';
import { loadChannelAnchor, loadOrdererIdentities } from '../network/loadNetwork.js';
import type { Logger } from '../observability/logger.js';
import { DeliverService } from '../orderer/deliverService.js';
import { ReplayGuard, replayGuardDefaults } from '../orderer/replayGuard.js';
import { ReplyKeys } from '../orderer/replyKeys.js';
import { requestTimeWindowMs } from '../orderer/ordererDefaults.js';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
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

export async function startDemoFabricGateway(o: DemoFabricGatewayOptions): Promise<DemoOrderer> {
  const anchor = loadChannelAnchor(o.networkDir, o.fabric.channel);
  if (anchor.kind !== 'fabric') throw new Error(`the demo network's channel '${o.fabric.channel}' is not a Fabric channel`);
  const rules = fabricChainRules(anchor.channel, anchor.fabricGenesis);
  const ledger = openLedger(ledgerPath(o.dataDir, anchor.channel), { channel: anchor.channel, format: rules.format });
  let chain: FollowedChain;
  let deliver: DeliverService;
  // Answers authenticated as `edgepeer gateway`'s are: a ReplyKey of the edge access configuration's orderer node.
  const seeks = new ReplayGuard(requestTimeWindowMs, systemClock, replayGuardDefaults.deliver);
  try {
    const summary = importBlocks((function* () { for (const b of ledgerBlocks(o.fabric.source)) yield b.block; })(), {
      ledger, verifier: rules.anchor(ledger), reader: rules.format.reader(),
      limits: { runMaxBlocks: fabricGatewayDefaults.runMaxBlocks, runMaxBytes: fabricGatewayDefaults.runMaxBytes },
    });
    o.log.info({ channel: anchor.channel, ...summary }, 'Fabric block file imported');
    chain = new FollowedChain(ledger, new ChannelState(configFromBlock(anchor.access), systemClock.now()));
    deliver = new DeliverService({
      chains: new Map([[anchor.channel, chain]]), clock: systemClock, log: o.log, limits: { ...deliverDefaults, requestTimeWindowMs },
      replyKeys: new ReplyKeys(loadOrdererIdentities(o.networkDir).node, systemClock), replay: seeks,
    });
  } catch (err) {
    seeks.close();
    await ledger.close();
    throw err;
  }
  const link = new MqttServerLink({ endpoint: { url: o.brokerUrl }, onError: (err) => o.log.warn({ err: err.message }, 'MQTT link error') });
  const stopServing = async (): Promise<void> => {
    await deliver.close();
    seeks.close();
    await link.close();
    chain.close();
    await ledger.close();
  };
  try {
    await link.start((req) => {
      // A Fabric channel takes its transactions on the Fabric network: Broadcast requests are not answered here.
      if (req.service === 'deliver') deliver.handle(link, req.channel, req.message);
    });
  } catch (err) {
    await stopServing();
    throw err;
  }
  let stopping: Promise<number> | undefined;
  return {
    height: () => ledger.height(),
    pending: () => 0,
    stop: () => {
      stopping ??= stopServing().then(() => ledger.height());
      return stopping;
    },
  };
}
