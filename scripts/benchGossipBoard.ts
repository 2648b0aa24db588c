// One board of the gossip bench (scripts/benchGossip.ts), run as a worker thread: a Peer with its
// GossipNode, its own LMDB ledger, MQTT link and gossip TCP, on its own event loop (its durable commits
// block only it, as on a real board). Tells the bench when it commits what, and on request how it stands.
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { ChannelState } from '../src/channel/channelState.js';
import { configFromBlock } from '../src/channel/blocks.js';
import { seededRandom } from '../src/config/random.js';
import { systemClock } from '../src/config/clock.js';
import { GossipNode, type GossipLimits } from '../src/gossip/gossipNode.js';
import type { GossipMessageKind } from '../src/gossip/seams.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { loadBoard, loadGenesis } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Peer } from '../src/peer/peer.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';
import { edgepeerChainRules } from '../src/ledger/edgepeerChainRules.js';
import { brokerCredentials } from '../src/transport/mqtt/brokerIdentity.js';

export interface BoardWorkerData {
  netDir: string;
  boardId: string;
  channel: string;
  dataDir: string;
  brokerUrl: string;
  bootstrap: string[];
  limits: Partial<GossipLimits>;
  seed: number;
}

/** From the bench to a board. */
export type ToBoard = { type: 'snapshot' } | { type: 'stop' };

export interface BoardSnapshot {
  height: number;
  delivering: boolean;
  leader: string | null;
  live: number;
  /** Gossip messages and bytes sent since start, by kind. */
  messages: Record<string, number>;
  bytes: Record<string, number>;
  sources: Record<string, number>;
  /** Times this board's role changed (leader ↔ follower) since start. */
  roleChanges: number;
}

/** From a board to the bench. Times are performance.timeOrigin + performance.now(): one clock for all threads. */
export type FromBoard =
  | { type: 'ready'; endpoint: string }
  | { type: 'commit'; from: number; to: number; at: number; delivering: boolean }
  /** Blocks [from, to) verified and taken into the commit buffer (the peer's 'accepted'), before their commit. */
  | { type: 'taken'; from: number; to: number; at: number }
  | ({ type: 'snapshot' } & BoardSnapshot)
  | { type: 'stopped' };

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('benchGossipBoard runs as a worker thread of scripts/benchGossip.ts');
  const d = workerData as BoardWorkerData;
  const post = (m: FromBoard): void => port.postMessage(m);
  const board = loadBoard(d.netDir, d.boardId);
  const genesis = loadGenesis(d.netDir, d.channel);
  const link = new MqttClientLink({ endpoint: { url: d.brokerUrl }, credentials: brokerCredentials(board.signer), lendPayloads: true }); // as a board's orderer link
  const ledger = openLedger(ledgerPath(join(d.dataDir, d.boardId), d.channel), { channel: d.channel });
  let node: GossipNode | null = null;
  const peer = new Peer({
    boardId: d.boardId, ledger, rules: edgepeerChainRules(ledger.channel, genesis), signer: board.signer, links: [link], log: silentLogger(), deliverAtStart: false,
    role: { role: () => node?.role() ?? 'follower' },
  });
  const messages: Record<string, number> = {};
  const bytes: Record<string, number> = {};
  let committedTo = ledger.height();
  let takenTo = ledger.height();
  peer.on('accepted', () => {
    const to = peer.nextNumber();
    if (to <= takenTo) return;
    post({ type: 'taken', from: takenTo, to, at: performance.timeOrigin + performance.now() });
    takenTo = to;
  });
  peer.on('committed', (h) => {
    if (h <= committedTo) return;
    post({ type: 'commit', from: committedTo, to: h, at: performance.timeOrigin + performance.now(), delivering: peer.isDelivering });
    committedTo = h;
  });
  node = new GossipNode({
    peer, ledger, channelState: new ChannelState(configFromBlock(genesis)), signer: board.signer, listen: '127.0.0.1:0',
    bootstrap: d.bootstrap, clock: systemClock, random: seededRandom(d.seed), log: silentLogger(), limits: d.limits,
    metrics: {
      blocksReceived: () => undefined,
      duplicates: () => undefined,
      message: (direction: 'in' | 'out', kind: GossipMessageKind, size: number) => {
        if (direction !== 'out') return;
        messages[kind] = (messages[kind] ?? 0) + 1;
        bytes[kind] = (bytes[kind] ?? 0) + size;
      },
      leader: () => undefined,
      liveMembers: () => undefined,
    },
  });
  let roleChanges = 0;
  node.on('role', () => { roleChanges++; });
  peer.start();
  await node.start();
  const n = node;
  port.on('message', (m: ToBoard) => {
    if (m.type === 'snapshot') {
      post({
        type: 'snapshot', height: peer.height, delivering: peer.isDelivering, leader: n.leader, live: n.liveMembers().length,
        messages: { ...messages }, bytes: { ...bytes }, sources: { ...n.blocksBySource() }, roleChanges,
      });
      return;
    }
    void (async () => {
      await n.stop();
      await peer.stop();
      await link.close();
      await ledger.close();
      post({ type: 'stopped' });
      port.close();
    })();
  });
  post({ type: 'ready', endpoint: n.endpoint });
}

// A failure rejects here and ends the worker with an 'error' event, which the bench reports.
await main();
