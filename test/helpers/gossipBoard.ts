// One gossiping board in this process, wired as `edgepeer peer` wires it: an MQTT link to the orderer,
// an LMDB ledger, a Peer whose role (and follower sync state) comes from its GossipNode, and the node on
// real TCP. For the in-process gossip tests (test/integration/gossip.test.ts, gossipRepair.test.ts,
// test/unit/gossip/lanDiscovery.test.ts); child-process fleets are in gossipFleet.ts.
import { join } from 'node:path';
import { ChannelState } from '../../src/channel/channelState.js';
import { configFromBlock } from '../../src/channel/blocks.js';
import { systemClock } from '../../src/config/clock.js';
import { seededRandom } from '../../src/config/random.js';
import { GossipNode, type GossipNodeOptions } from '../../src/gossip/gossipNode.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { loadBoard, loadGenesis } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Peer, type PeerOptions } from '../../src/peer/peer.js';
import type { Signer } from '../../src/protocol/envelope.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import type { InProcessNetwork } from './inProcessNetwork.js';
import { withTimeout } from './wait.js';
import { edgepeerChainRules } from '../../src/ledger/edgepeerChainRules.js';

/** Where boards run: their channel, the broker their links use, a folder for their ledgers, their keys. */
export interface GossipBoardSite {
  genesis: Uint8Array;
  channelState: ChannelState;
  brokerUrl: string;
  /** Each board's ledger is under dir/peers/<id>. */
  dir: string;
  signer(id: string): Signer;
}

/** The site of an in-process network's boards (its channel, broker, folder and board keys). */
export function networkSite(net: InProcessNetwork): GossipBoardSite {
  const genesis = loadGenesis(net.summary.dir, net.summary.channel);
  return {
    genesis, channelState: new ChannelState(configFromBlock(genesis)), brokerUrl: net.brokerUrl, dir: net.dir,
    signer: (id) => loadBoard(net.summary.dir, id).signer,
  };
}

export interface GossipBoardOptions {
  bootstrap: readonly string[];
  limits: NonNullable<GossipNodeOptions['limits']>;
  /** Seeds the node's random choices (push targets, pull and catch-up sources): a run repeats. */
  seed: number;
  election?: GossipNodeOptions['election'];
  discovery?: GossipNodeOptions['discovery'];
  metrics?: GossipNodeOptions['metrics'];
  /** host:port to listen on; default 127.0.0.1:0 (any free port). */
  listen?: string;
  peerLimits?: PeerOptions['limits'];
  /** Called with the peer and the node before either starts (to attach listeners that must miss nothing). */
  beforeStart?: (peer: Peer, node: GossipNode) => void;
  /** The node's log (default silent): e.g. recordingLogger, to assert what the node noticed and in what order. */
  log?: GossipNodeOptions['log'];
}

export { recordingLogger } from './recordingLogger.js';

export interface GossipBoard {
  id: string;
  org: string;
  peer: Peer;
  node: GossipNode;
  ledger: LmdbLedger;
  /**
   * Stops the node, the peer, the link and the ledger, in that order; every step runs even when an
   * earlier one throws (the failures are rethrown together). A second call does nothing more.
   */
  stop(): Promise<void>;
}

export async function startGossipBoard(where: InProcessNetwork | GossipBoardSite, id: string, o: GossipBoardOptions): Promise<GossipBoard> {
  const site = 'summary' in where ? networkSite(where) : where;
  const signer = site.signer(id);
  const channel = site.channelState.config.channel;
  const link = new MqttClientLink({ endpoint: { url: site.brokerUrl }, credentials: brokerCredentials(signer) });
  const ledger = openLedger(ledgerPath(join(site.dir, 'peers', id), channel), { channel });
  let node: GossipNode | null = null;
  const peer = new Peer({
    boardId: id, ledger, rules: edgepeerChainRules(ledger.channel, site.genesis), signer, links: [link], log: silentLogger(), deliverAtStart: false,
    role: { role: () => node?.role() ?? 'follower', followerSync: () => node?.followerSync() ?? 'offline' },
    ...(o.peerLimits !== undefined ? { limits: o.peerLimits } : {}),
  });
  node = new GossipNode({
    peer, ledger, channelState: site.channelState, signer, listen: o.listen ?? '127.0.0.1:0', bootstrap: [...o.bootstrap],
    clock: systemClock, random: seededRandom(o.seed), log: o.log ?? silentLogger(), limits: o.limits,
    ...(o.election !== undefined ? { election: o.election } : {}),
    ...(o.discovery !== undefined ? { discovery: o.discovery } : {}),
    ...(o.metrics !== undefined ? { metrics: o.metrics } : {}),
  });
  const n = node;
  let stopping: Promise<void> | null = null;
  const stopAll = async (started: { peer: boolean; node: boolean }): Promise<void> => {
    const errors: unknown[] = [];
    const step = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    };
    if (started.node) await step(() => n.stop());
    if (started.peer) await step(() => peer.stop());
    await step(() => link.close());
    await step(() => ledger.close());
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, `${id}: ${errors.length} steps of its stop failed`);
  };
  o.beforeStart?.(peer, n);
  const started = { peer: false, node: false };
  try {
    peer.start();
    started.peer = true;
    await n.start();
    started.node = true;
  } catch (err) {
    // Half started: what did start is stopped, the link and the ledger closed, before the failure is thrown.
    await stopAll(started).catch(() => undefined);
    throw err;
  }
  return {
    id, org: signer.certificate.org, peer, node: n, ledger,
    stop: () => (stopping ??= stopAll(started)),
  };
}

/**
 * Resolves once `done()` holds, re-checking it at every `event` of any of the boards' nodes (no polling);
 * fails after `timeoutMs` naming `what`.
 */
export async function untilNodeEvent(
  boards: readonly GossipBoard[], event: 'role' | 'dropped', done: () => boolean, what: string, timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    let on: () => void = () => undefined;
    const fired = new Promise<void>((resolve) => {
      on = resolve;
      for (const b of boards) b.node.on(event, on);
    });
    try {
      await withTimeout(fired, what, Math.max(0, deadline - Date.now()));
    } finally {
      for (const b of boards) b.node.off(event, on);
    }
  }
}
