// The gossip part of `npm run bench` (also alone: `npm run bench -- --gossip-only`, or
// `node dist/scripts/benchGossip.js [--quick] [--json] [--blocks N] [--boards-per-org N] [--limits JSON]`): 16 boards in
// 2 orgs, each a Peer with its GossipNode in its own worker thread (scripts/benchGossipBoard.ts: its own
// event loop, LMDB ledger, MQTT link and gossip TCP), the orderer and its Aedes broker in the main thread;
// everything on loopback. The orderer cuts a steady load of one-transaction blocks; every block's cut is
// timed at the orderer, its commit on every board, on one clock (timeOrigin + now in every thread).
// Reports the latency from cut to committed over every (block, board), on the leaders (their blocks
// come by Deliver) and per block to the last board (p50, p99, max), and the gossip messages and bytes
// each board sends per block, by kind.
//
// Threads rather than processes: a board's durable LMDB commits block only its own thread, as on a real
// board (in one thread 16 boards' commits queue behind each other and the figure measures that queue),
// at a fraction of 16 processes' memory. The 2 cores are still shared by all 16 boards and the orderer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { atLeast, wholeNumber } from '../src/cli/options.js';
import { BroadcastClient } from '../src/client/broadcastClient.js';
import { gossipDefaults } from '../src/gossip/gossipDefaults.js';
import type { GossipLimits } from '../src/gossip/gossipNode.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Orderer } from '../src/orderer/orderer.js';
import { startEmbeddedBroker } from '../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';
import { genesisTrust } from '../src/channel/responderTrust.js';
import { brokerCredentials } from '../src/transport/mqtt/brokerIdentity.js';
import { MqttServerLink } from '../src/transport/mqtt/mqttServerLink.js';
import type { BoardSnapshot, BoardWorkerData, FromBoard, ToBoard } from './benchGossipBoard.js';

const boardWorkerPath = fileURLToPath(new URL('./benchGossipBoard.js', import.meta.url));

export const gossipBenchSettings = {
  full: { blocks: 1_500 },
  quick: { blocks: 300 },
} as const;
const orgs = 2;
/** 16 boards in all; standalone, `--boards-per-org` changes it (1: a baseline without gossip hops). */
const defaultBoardsPerOrg = 8;
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
/** A board worker answers a request (ready, snapshot, stop) within this long, or the run fails. */
const workerReplyTimeoutMs = 30_000;
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
  /** Cut at the orderer → committed on the org leaders (their blocks come by Deliver): gossip's starting line. */
  latencyLeaders: LatencyFigures;
  /** Cut at the orderer → committed on the last of the boards, per block. */
  latencyAllBoards: LatencyFigures;
  /**
   * Cut at the orderer → verified and taken (before its commit) on the last of the boards, per block: the
   * part of latencyAllBoards that gossip decides; the rest is the boards' own commits (an fsync each).
   */
  latencyTakenAllBoards: LatencyFigures;
  /** Taken → committed on a board, every (block, board) pair: what one board's commit adds. */
  commitLatency: LatencyFigures;
  /** Gossip messages one board sends per block, on average, by kind and in all. */
  messagesPerBlockPerBoard: Record<string, number>;
  bytesPerBlockPerBoard: Record<string, number>;
  /** Blocks the boards took during the measured load, by where they came from, summed over boards. */
  blocksBySource: Record<string, number>;
  /** Deliver streams the orderer had open at the end (one per org while every org's leader streams). */
  ordererStreams: number;
  /** Role changes (leader ↔ follower) on all boards during the measured load: 0 when leadership held. */
  roleChanges: number;
  seconds: number;
  /** CPU time of the bench (all threads: orderer, broker, every board) over the measured load, in % of one core. */
  cpuPercentOfOneCore: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function figures(values: number[]): LatencyFigures {
  const s = [...values].sort((a, b) => a - b);
  return { p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s.at(-1) ?? Number.NaN, samples: s.length };
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, explain?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gossip bench: timed out after ${timeoutMs} ms awaiting ${what}${explain ? `\n${explain()}` : ''}`);
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}

/** The bench's handle on one board worker: its latest snapshot, refreshed on request. */
class BoardWorker {
  snapshot: BoardSnapshot | null = null;
  endpoint = '';
  private readonly worker: Worker;
  private failure: Error | null = null;
  private waiters: { type: FromBoard['type']; resolve: () => void }[] = [];

  constructor(
    readonly id: string, readonly org: string, data: BoardWorkerData,
    onCommit: (board: number, m: Extract<FromBoard, { type: 'commit' }>) => void,
    onTaken: (board: number, m: Extract<FromBoard, { type: 'taken' }>) => void,
    index: number,
  ) {
    this.worker = new Worker(boardWorkerPath, { workerData: data });
    this.worker.on('message', (m: FromBoard) => {
      if (m.type === 'commit') onCommit(index, m);
      else if (m.type === 'taken') onTaken(index, m);
      else if (m.type === 'snapshot') this.snapshot = m;
      else if (m.type === 'ready') this.endpoint = m.endpoint;
      this.waiters = this.waiters.filter((w) => (w.type === m.type ? (w.resolve(), false) : true));
    });
    this.worker.on('error', (err) => { this.failure = err; });
  }

  check(): void {
    if (this.failure !== null) throw new Error(`board ${this.id}: ${this.failure.message}`);
  }

  private next(type: FromBoard['type'], timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`board ${this.id}: no '${type}' within ${timeoutMs} ms${this.failure ? `: ${this.failure.message}` : ''}`)), timeoutMs);
      this.waiters.push({ type, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }

  ready(): Promise<void> {
    return this.next('ready', workerReplyTimeoutMs);
  }

  async refresh(): Promise<BoardSnapshot> {
    this.check();
    const got = this.next('snapshot', workerReplyTimeoutMs);
    this.worker.postMessage({ type: 'snapshot' } satisfies ToBoard);
    await got;
    return this.snapshot!;
  }

  async stop(): Promise<void> {
    if (this.failure === null) {
      const stopped = this.next('stopped', workerReplyTimeoutMs).catch(() => undefined);
      this.worker.postMessage({ type: 'stop' } satisfies ToBoard);
      await stopped;
    }
    await this.worker.terminate();
  }
}

/** One clock for every thread (each worker has its own timeOrigin). */
const nowMs = (): number => performance.timeOrigin + performance.now();

export async function runGossipBench(o: {
  blocks: number; boardsPerOrg?: number; limits?: Partial<GossipLimits>; say: (s: string) => void;
}): Promise<GossipBenchResult> {
  const boardsPerOrg = o.boardsPerOrg ?? defaultBoardsPerOrg;
  const runLimits = { ...benchLimits, ...o.limits };
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-gossip-'));
  const boards: BoardWorker[] = [];
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
    void (async () => {
      // waitForBlock resolves at once on a closed chain: the loop ends with it (on success or failure).
      for (let n = 1; ; n++) {
        await chain.waitForBlock(n);
        if (chain.isClosed) return;
        cutAt[n] = nowMs();
      }
    })();

    let firstMeasured = Number.POSITIVE_INFINITY;
    let lastMeasured = Number.NEGATIVE_INFINITY;
    const latencies: number[] = [];
    const leaderLatencies: number[] = [];
    const lastCommit: number[] = [];
    const lastTaken: number[] = [];
    const commitLatencies: number[] = [];
    /** takenAt[board][block]: when that board took that block (verified, not yet committed). */
    const takenAt: number[][] = [];
    const onCommit = (board: number, m: Extract<FromBoard, { type: 'commit' }>): void => {
      for (let k = Math.max(m.from, firstMeasured); k < m.to && k <= lastMeasured; k++) {
        const cut = cutAt[k];
        if (cut === undefined) continue;
        latencies.push(m.at - cut);
        if (m.delivering) leaderLatencies.push(m.at - cut);
        lastCommit[k] = Math.max(lastCommit[k] ?? 0, m.at);
        const taken = takenAt[board]?.[k];
        if (taken !== undefined) commitLatencies.push(m.at - taken);
      }
    };
    const onTaken = (board: number, m: Extract<FromBoard, { type: 'taken' }>): void => {
      const mine = (takenAt[board] ??= []);
      for (let k = Math.max(m.from, firstMeasured); k < m.to && k <= lastMeasured; k++) {
        mine[k] = m.at;
        lastTaken[k] = Math.max(lastTaken[k] ?? 0, m.at);
      }
    };
    const endpoints: string[] = [];
    o.say(`  starting ${summary.boards.length} boards in ${orgs} orgs (one worker thread each) ...`);
    for (const [i, b] of summary.boards.entries()) {
      const w = new BoardWorker(b.id, b.org, {
        netDir: summary.dir, boardId: b.id, channel, dataDir: join(dir, 'peers'), brokerUrl: broker.url,
        bootstrap: [...endpoints], limits: runLimits, seed: i + 1,
      }, onCommit, onTaken, i);
      boards.push(w);
      await w.ready();
      endpoints.push(w.endpoint);
    }
    const refreshAll = (): Promise<BoardSnapshot[]> => Promise.all(boards.map((b) => b.refresh()));
    const settled = async (): Promise<boolean> => {
      const snaps = await refreshAll();
      return snaps.every((x) => x.live === boards.length - 1) && [...new Set(boards.map((b) => b.org))].every((org) => {
        const inOrg = snaps.filter((_, i) => boards[i]!.org === org);
        return inOrg.filter((x) => x.delivering).length === 1 && new Set(inOrg.map((x) => x.leader)).size === 1;
      });
    };
    const standing = (): string => boards.map((b) => {
      const x = b.snapshot;
      return `  ${b.id}: ${x === null ? 'no snapshot' : `height ${x.height}, live ${x.live}, leader ${x.leader}, delivering ${x.delivering}`}`;
    }).join('\n');
    await until(settled, 'every board to know the others and one leader per org to stream', settleTimeoutMs, standing);

    const loadSigner = loadClient(summary.dir);
    const link = new MqttClientLink({ endpoint: { url: broker.url }, credentials: brokerCredentials(loadSigner) });
    clientLinks.push(link);
    await link.open([channel]);
    const client = new BroadcastClient(link, channel, loadSigner, genesisTrust(loadGenesis(summary.dir, channel)));
    const allAt = async (h: number): Promise<boolean> => (await refreshAll()).every((x) => x.height >= h);
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
    const before = await refreshAll();
    firstMeasured = chain.height();
    lastMeasured = firstMeasured + o.blocks - 1;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await submitPaced(o.blocks);
    await until(async () => chain.height() > lastMeasured && allAt(lastMeasured + 1), 'the measured blocks on every board', drainTimeoutMs);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const afterSnaps = await refreshAll();
    client.close();

    const perBlock: number[] = [];
    for (let k = firstMeasured; k <= lastMeasured; k++) if (lastCommit[k] !== undefined) perBlock.push(lastCommit[k]! - cutAt[k]!);
    const perBlockTaken: number[] = [];
    for (let k = firstMeasured; k <= lastMeasured; k++) if (lastTaken[k] !== undefined) perBlockTaken.push(lastTaken[k]! - cutAt[k]!);
    const delta = (pick: (x: BoardSnapshot) => Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      afterSnaps.forEach((a, i) => {
        for (const [k, v] of Object.entries(pick(a))) out[k] = (out[k] ?? 0) + v - (pick(before[i]!)[k] ?? 0);
      });
      return out;
    };
    const per = (m: Record<string, number>): Record<string, number> => {
      const out: Record<string, number> = {};
      let total = 0;
      for (const [k, v] of Object.entries(m).sort()) {
        out[k] = v / o.blocks / boards.length;
        total += v;
      }
      out['total'] = total / o.blocks / boards.length;
      return out;
    };
    const limits: Record<string, number> = {};
    for (const k of ['aliveIntervalMs', 'aliveExpirationMs', 'fanout', 'pullIntervalMs', 'blocksPerMessageMax', 'catchUpMinGapBlocks'] as const) {
      limits[k] = runLimits[k] ?? gossipDefaults[k];
    }
    for (const [k, v] of Object.entries(o.limits ?? {})) limits[k] = v;
    return {
      settings: {
        boards: boards.length, orgs, blocks: o.blocks, loadBlocksPerSec, txDataBytes, limits,
        setup: `${boards.length} boards, each a Peer + GossipNode in its own worker thread (own event loop, LMDB, MQTT link, gossip TCP), `
          + 'the orderer and Aedes in the main thread; loopback',
      },
      latency: figures(latencies),
      latencyLeaders: figures(leaderLatencies),
      latencyAllBoards: figures(perBlock),
      latencyTakenAllBoards: figures(perBlockTaken),
      commitLatency: figures(commitLatencies),
      messagesPerBlockPerBoard: per(delta((x) => x.messages)),
      bytesPerBlockPerBoard: per(delta((x) => x.bytes)),
      blocksBySource: delta((x) => x.sources),
      ordererStreams: orderer.openDeliverSessions,
      roleChanges: afterSnaps.reduce((t, a, i) => t + a.roleChanges - before[i]!.roleChanges, 0),
      seconds,
      cpuPercentOfOneCore: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
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
    `  cut → committed on the org leaders (Deliver)   ${lat(r.latencyLeaders)}`,
    `  cut → verified and taken on all ${s.boards}, per block   ${lat(r.latencyTakenAllBoards)}`,
    `  a board's commit (taken → committed)   ${lat(r.commitLatency)}`,
    `  gossip messages sent / block / board     ${kinds(r.messagesPerBlockPerBoard, 2)}`,
    `  gossip bytes sent / block / board        ${kinds(r.bytesPerBlockPerBoard, 0)}`,
    `  blocks by source (all boards, measured)  ${Object.entries(r.blocksBySource).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `  orderer Deliver streams at the end       ${r.ordererStreams} (${s.orgs} orgs: one each when every org's leader streams)`,
    `  role changes during the load (all boards) ${r.roleChanges}`,
    `  CPU, all threads                         ${n(r.cpuPercentOfOneCore, 0)} % of one core`,
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const values = new Command('bench-gossip')
    .option('--quick', `${gossipBenchSettings.quick.blocks} blocks instead of ${gossipBenchSettings.full.blocks}`)
    .option('--json', 'one JSON object on stdout')
    .option('--blocks <n>', 'blocks of the measured load', atLeast(1, wholeNumber))
    .option('--boards-per-org <n>', `boards in each of the ${orgs} orgs (1: a baseline without gossip hops)`, atLeast(1, wholeNumber), defaultBoardsPerOrg)
    .option('--limits <json>', 'gossip limits to try instead of the defaults, e.g. \'{"fanout":5,"pullIntervalMs":200}\'')
    .parse().opts<{ quick?: boolean; json?: boolean; blocks?: number; boardsPerOrg: number; limits?: string }>();
  const blocks = values.blocks ?? (values.quick === true ? gossipBenchSettings.quick.blocks : gossipBenchSettings.full.blocks);
  const { boardsPerOrg } = values;
  const limits = values.limits !== undefined ? JSON.parse(values.limits) as Partial<GossipLimits> : {};
  runGossipBench({ blocks, boardsPerOrg, limits, say: (s) => { if (values.json !== true) process.stderr.write(`${s}\n`); } }).then((r) => {
    process.stdout.write(values.json === true ? `${JSON.stringify({ gossip: r })}\n` : formatGossipBench(r));
    // Timers of closed sockets may linger a moment; the run is over.
    process.exit(0);
  }, (err: unknown) => {
    process.stderr.write(`bench gossip: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
