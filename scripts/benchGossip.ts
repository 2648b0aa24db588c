// The gossip part of `npm run bench` (also alone: `npm run bench -- --gossip-only`, or
// `node dist/scripts/benchGossip.js [--quick] [--json]`): 16 boards in 2 orgs, each a Peer with its
// GossipNode, all in this one process (one event loop, shared with the orderer and its Aedes broker; real
// MQTT, real LMDB ledgers, real TCP on loopback between the boards). The orderer cuts a steady load of
// one-transaction blocks; every block's cut is timed at the orderer, its commit on every board.
// Reports the latency from cut to committed, over every (block, board) and per block to the last board
// (p50, p99, max), and the gossip messages and bytes each board sends per block, by kind.
//
// In one process the 16 boards take turns on one thread, so the latency includes waiting for the other
// boards' work: an upper bound of what 16 separate boards would see, on 2 shared cores a loose one.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ChannelState } from '../src/channel/channelState.js';
import { configFromBlock } from '../src/channel/blocks.js';
import { BroadcastClient } from '../src/client/broadcastClient.js';
import { systemClock } from '../src/config/clock.js';
import { gossipDefaults } from '../src/config/constants.js';
import { GossipNode, type GossipLimits } from '../src/gossip/gossipNode.js';
import type { GossipMessageKind, GossipMetricsSink } from '../src/gossip/seams.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadBoard, loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Orderer } from '../src/orderer/orderer.js';
import { Peer } from '../src/peer/peer.js';
import { startEmbeddedBroker } from '../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';
import { MqttServerLink } from '../src/transport/mqtt/mqttServerLink.js';

export const gossipBenchSettings = {
  full: { blocks: 1_500 },
  quick: { blocks: 300 },
} as const;
const orgs = 2;
const boardsPerOrg = 8;
/** Transactions submitted per second, one per block: a steady load well below what one board takes. */
const loadBlocksPerSec = 50;
/** Random bytes per transaction (a block is a little larger: envelope, signature, header). */
const txDataBytes = 256;
/** Blocks cut and gossiped before measuring, so connections are open and the election is long settled. */
const warmUpBlocks = 20;
/** Start-up: 16 boards find each other (ALIVEs) and each org elects; the defaults take a few seconds. */
const settleTimeoutMs = 60_000;
/** After the last block is cut, every board has it within this long, or the run fails. */
const drainTimeoutMs = 60_000;
/** A Broadcast answer slower than this counts as lost (the load is steady, not a backlog). */
const broadcastTimeoutMs = 10_000;
const pollIntervalMs = 20;
const channel = 'gossipbench';
/**
 * The gossip limits of the run: the defaults a deployment runs with. Only the startup grace is shortened,
 * which affects nothing measured, and the pull interval is left as is so its DIGESTs count in the figures.
 */
const benchLimits: Partial<GossipLimits> = { electionStartupGraceMs: 1_000 };

export interface LatencyFigures { p50Ms: number; p99Ms: number; maxMs: number; samples: number }

export interface GossipBenchResult {
  settings: {
    boards: number; orgs: number; blocks: number; loadBlocksPerSec: number; txDataBytes: number;
    setup: string; limits: Record<string, number>;
  };
  /** Cut at the orderer → committed, every (block, board) pair. */
  latency: LatencyFigures;
  /** Cut at the orderer → committed on the last of the boards, per block. */
  latencyAllBoards: LatencyFigures;
  /** Gossip messages one board sends per block, on average, by kind and in all. */
  messagesPerBlockPerBoard: Record<string, number>;
  bytesPerBlockPerBoard: Record<string, number>;
  /** Blocks the boards took during the measured load, by where they came from, summed over boards. */
  blocksBySource: Record<string, number>;
  /** Deliver streams the orderer had open at the end (one per org when gossip works). */
  ordererStreams: number;
  seconds: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function figures(values: number[]): LatencyFigures {
  const s = [...values].sort((a, b) => a - b);
  return { p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.at(-1) ?? Number.NaN, samples: s.length };
}

async function until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gossip bench: timed out after ${timeoutMs} ms awaiting ${what}`);
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

/** Seeded uniform [0, 1): which members get a push is reproducible from run to run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Board {
  id: string;
  org: string;
  peer: Peer;
  node: GossipNode;
  stop(): Promise<void>;
}

export async function runGossipBench(o: { blocks: number; say: (s: string) => void }): Promise<GossipBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-gossip-'));
  const boards: Board[] = [];
  const clientLinks: MqttClientLink[] = [];
  let orderer: Orderer | null = null;
  let broker: Awaited<ReturnType<typeof startEmbeddedBroker>> | null = null;
  try {
    const summary = await createNetwork({
      dir: join(dir, 'network'), channels: [channel], orgs, boardsPerOrg, batch: { maxMessageCount: 1, batchTimeoutMs: 50 },
    });
    broker = await startEmbeddedBroker({ port: 0 });
    const genesis = loadGenesis(summary.dir, channel);
    orderer = new Orderer({
      dataDir: join(dir, 'orderer'), channels: [{ channel, genesis }], signer: loadOrdererIdentities(summary.dir).node, log: silentLogger(),
    });
    await orderer.serve(new MqttServerLink({ endpoint: { url: broker.url } }));
    const chain = orderer.chain(channel);

    // Cut times, by block number, taken as the orderer appends (waitForBlock resolves in the same tick).
    const cutAt: number[] = [];
    let watching = true;
    void (async () => {
      for (let n = 1; watching; n++) {
        await chain.waitForBlock(n);
        cutAt[n] = performance.now();
      }
    })();

    let measuring = false;
    let firstMeasured = Number.POSITIVE_INFINITY;
    const latencies: number[] = [];
    const lastCommit: number[] = [];
    const messages = new Map<string, number>();
    const bytes = new Map<string, number>();
    const sink = (): GossipMetricsSink => ({
      blocksReceived: () => undefined,
      duplicates: () => undefined,
      message: (direction: 'in' | 'out', kind: GossipMessageKind, size: number) => {
        if (!measuring || direction !== 'out') return;
        messages.set(kind, (messages.get(kind) ?? 0) + 1);
        bytes.set(kind, (bytes.get(kind) ?? 0) + size);
      },
      leader: () => undefined,
      liveMembers: () => undefined,
    });
    const state = new ChannelState(configFromBlock(genesis));
    const endpoints: string[] = [];
    o.say(`  starting ${summary.boards.length} boards in ${orgs} orgs (in process) ...`);
    for (const [i, b] of summary.boards.entries()) {
      const board = loadBoard(summary.dir, b.id);
      const link = new MqttClientLink({ endpoint: { url: broker.url }, clientId: b.id });
      const ledger = openLedger(ledgerPath(join(dir, 'peers', b.id), channel), { channel });
      let node: GossipNode | null = null;
      const peer = new Peer({
        boardId: b.id, ledger, genesis, signer: board.signer, links: [link], log: silentLogger(), deliverAtStart: false,
        role: { role: () => node?.role() ?? 'follower' },
      });
      let committedTo = ledger.height();
      peer.on('committed', (h) => {
        const now = performance.now();
        for (let k = committedTo; k < h; k++) {
          if (!measuring || k < firstMeasured || cutAt[k] === undefined) continue;
          latencies.push(now - cutAt[k]!);
          lastCommit[k] = Math.max(lastCommit[k] ?? 0, now);
        }
        committedTo = Math.max(committedTo, h);
      });
      node = new GossipNode({
        peer, ledger, channelState: state, signer: board.signer, listen: '127.0.0.1:0', bootstrap: [...endpoints],
        clock: systemClock, random: mulberry32(i + 1), log: silentLogger(), limits: benchLimits, metrics: sink(),
      });
      peer.start();
      await node.start();
      endpoints.push(node.endpoint);
      const n = node;
      boards.push({
        id: b.id, org: b.org, peer, node: n,
        async stop() { await n.stop(); await peer.stop(); await link.close(); await ledger.close(); },
      });
    }
    const settled = (): boolean => boards.every((b) => b.node.liveMembers().length === boards.length - 1)
      && [...new Set(boards.map((b) => b.org))].every((org) => {
        const inOrg = boards.filter((b) => b.org === org);
        return inOrg.filter((b) => b.peer.isDelivering).length === 1 && new Set(inOrg.map((b) => b.node.leader)).size === 1;
      });
    await until(settled, 'every board to know the others and one leader per org to stream', settleTimeoutMs);

    const link = new MqttClientLink({ endpoint: { url: broker.url }, clientId: `bench-gossip-client-${process.pid}` });
    clientLinks.push(link);
    await link.open([channel]);
    const client = new BroadcastClient(link, channel, loadClient(summary.dir));
    const allAt = (h: number): boolean => boards.every((b) => b.peer.height >= h);
    const submitPaced = async (count: number): Promise<void> => {
      const periodMs = 1000 / loadBlocksPerSec;
      const t0 = performance.now();
      const answers: Promise<unknown>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = t0 + i * periodMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        answers.push(client.submit({ seq: i, body: randomBytes(txDataBytes) }, undefined, broadcastTimeoutMs));
      }
      await Promise.all(answers);
    };
    o.say(`  warm-up: ${warmUpBlocks} blocks ...`);
    await submitPaced(warmUpBlocks);
    await until(() => allAt(chain.height()), 'the warm-up blocks on every board', drainTimeoutMs);

    o.say(`  steady load: ${o.blocks} blocks at ${loadBlocksPerSec} blocks/s ...`);
    firstMeasured = chain.height();
    const sourcesBefore = boards.map((b) => b.node.blocksBySource());
    measuring = true;
    const started = performance.now();
    await submitPaced(o.blocks);
    const lastBlock = firstMeasured + o.blocks - 1;
    await until(() => chain.height() > lastBlock && allAt(lastBlock + 1), 'the measured blocks on every board', drainTimeoutMs);
    measuring = false;
    const seconds = (performance.now() - started) / 1000;
    watching = false;
    client.close();

    const perBlock: number[] = [];
    for (let k = firstMeasured; k <= lastBlock; k++) if (lastCommit[k] !== undefined) perBlock.push(lastCommit[k]! - cutAt[k]!);
    const per = (m: Map<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      let total = 0;
      for (const [k, v] of [...m].sort()) {
        out[k] = v / o.blocks / boards.length;
        total += v;
      }
      out['total'] = total / o.blocks / boards.length;
      return out;
    };
    const sources: Record<string, number> = {};
    for (const [i, b] of boards.entries()) {
      const before = sourcesBefore[i]!;
      for (const [k, v] of Object.entries(b.node.blocksBySource())) sources[k] = (sources[k] ?? 0) + v - before[k as keyof typeof before];
    }
    const limits: Record<string, number> = {};
    for (const k of ['aliveIntervalMs', 'aliveExpirationMs', 'fanout', 'pullIntervalMs', 'blocksPerMessageMax', 'catchUpMinGapBlocks'] as const) {
      limits[k] = (benchLimits as Record<string, number>)[k] ?? gossipDefaults[k];
    }
    return {
      settings: {
        boards: boards.length, orgs, blocks: o.blocks, loadBlocksPerSec, txDataBytes, limits,
        setup: 'in process: 16 Peer + GossipNode, orderer and Aedes on one event loop; MQTT, LMDB and gossip TCP on loopback',
      },
      latency: figures(latencies),
      latencyAllBoards: figures(perBlock),
      messagesPerBlockPerBoard: per(messages),
      bytesPerBlockPerBoard: per(bytes),
      blocksBySource: sources,
      ordererStreams: orderer.openDeliverSessions,
      seconds,
    };
  } finally {
    for (const b of boards) await b.stop().catch(() => undefined);
    for (const l of clientLinks) await l.close().catch(() => undefined);
    await orderer?.stop().catch(() => undefined);
    await broker?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatGossipBench(r: GossipBenchResult): string {
  const n = (x: number, d = 1): string => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
  const lat = (f: LatencyFigures): string => `p50 ${n(f.p50Ms)} ms   p99 ${n(f.p99Ms)} ms   max ${n(f.maxMs)} ms   (${f.samples.toLocaleString('en-US')} samples)`;
  const kinds = (m: Record<string, number>, d: number): string => Object.entries(m).map(([k, v]) => `${k} ${n(v, d)}`).join(', ');
  const s = r.settings;
  return [
    'edgepeer bench: gossip',
    `  settings  ${s.boards} boards in ${s.orgs} orgs, ${s.blocks} blocks of 1 tx (${s.txDataBytes} B) at ${s.loadBlocksPerSec} blocks/s; ${s.setup}`,
    `            gossip limits ${JSON.stringify(s.limits)}`,
    `  cut → committed, every board and block   ${lat(r.latency)}`,
    `  cut → committed on all ${s.boards} boards, per block   ${lat(r.latencyAllBoards)}`,
    `  gossip messages sent / block / board     ${kinds(r.messagesPerBlockPerBoard, 2)}`,
    `  gossip bytes sent / block / board        ${kinds(r.bytesPerBlockPerBoard, 0)}`,
    `  blocks by source (all boards, measured)  ${Object.entries(r.blocksBySource).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  orderer Deliver streams at the end       ${r.ordererStreams} (one per org)`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, blocks: { type: 'string' } } });
  const blocks = values.blocks !== undefined ? Number(values.blocks) : values.quick ? gossipBenchSettings.quick.blocks : gossipBenchSettings.full.blocks;
  runGossipBench({ blocks, say: (s) => { if (!values.json) process.stderr.write(`${s}\n`); } }).then((r) => {
    process.stdout.write(values.json ? `${JSON.stringify({ gossip: r })}\n` : formatGossipBench(r));
    // Timers of closed sockets may linger a moment; the run is over.
    process.exit(0);
  }, (err: unknown) => {
    process.stderr.write(`bench gossip: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
