// The fleet simulator (`npm run simulate`, scripts/simulate.ts): one run of a SimFleet through the phases
// a fleet lives through, measured on virtual time.
//   1. start: every board starts at once; the orgs elect (until one stream per org, or settleTimeoutMs);
//   2. steady load: `blocks` blocks at `blocksPerSec`, with optional churn (boards stopped and started
//      again with their ledgers, at random times); measured: cut -> committed latencies, messages, bytes
//      and duplicates per block per board, leader changes, Deliver streams;
//   3. partition: the boards split into two random halves for `partitionMs` while blocks go on; measured:
//      the time from the heal until every board holds every block, and until one stream per org again;
//   4. restart: `restartFraction` of the boards restart with empty ledgers; measured: the time until they
//      hold every block again.
// Every figure is a function of the options alone (seeded): the same options give the same JSON.
import { type GossipLimits } from '../../../src/gossip/gossipNode.js';
import { seededRandom } from '../../../src/config/random.js';
import { type BoardCounters, SimFleet, type SimFleetOptions, simFleetDefaults } from './simFleet.js';

export interface FleetSimOptions {
  boards: number;
  orgs: number;
  seed: number;
  /** One-way delay of a board-to-board link, and its jitter and loss. */
  latencyMs: number;
  jitterMs: number;
  loss: number;
  ordererLatencyMs: number;
  commitMs: number;
  blocks: number;
  blocksPerSec: number;
  /** Fraction of the boards stopped (ledger kept) once during the steady load, each for churnDownMs. */
  churn: number;
  churnDownMs: number;
  /** 0: no partition phase. */
  partitionMs: number;
  /** 0: no restart phase. */
  restartFraction: number;
  limits: Partial<GossipLimits>;
  txDataBytes: number;
  /** Each board's bootstrap list: every board (LAN discovery's view), or this many random ones. */
  bootstrap: 'all' | number;
  codec: SimFleetOptions['codec'];
  verifier: SimFleetOptions['verifier'];
  /** Give up on a phase after this much virtual time. */
  phaseTimeoutMs: number;
  /** Progress lines (stderr in the script). */
  say?: (line: string) => void;
}

export const fleetSimDefaults: Omit<FleetSimOptions, 'boards' | 'orgs' | 'seed'> = {
  latencyMs: 5,
  jitterMs: 0,
  loss: 0,
  ordererLatencyMs: 5,
  commitMs: 2,
  blocks: 300,
  blocksPerSec: 50,
  churn: 0,
  churnDownMs: 5_000,
  partitionMs: 10_000,
  restartFraction: 0.1,
  limits: {},
  txDataBytes: 256,
  bootstrap: 'all',
  codec: 'stand-in',
  verifier: 'chain',
  phaseTimeoutMs: 120_000,
};

export interface Latency { p50Ms: number; p99Ms: number; maxMs: number }

export interface FleetSimResult {
  boards: number;
  orgs: number;
  seed: number;
  settings: Record<string, unknown>;
  /** Virtual time from start until one stream per org (null: not within phaseTimeoutMs). */
  settleMs: number | null;
  /** Blocks of the steady load committed on the boards running at its end ÷ (blocks × those boards). */
  deliveryRatio: number;
  /** Deliver streams open at the end of the steady load (one per org is the goal). */
  ordererStreams: number;
  /** Most streams one org had open at once during the steady load. */
  maxStreamsPerOrg: number;
  /** Cut -> committed on the last board, per block. */
  latencyAllBoards: Latency;
  /** Cut -> committed, every (block, board). */
  latencyEveryBoard: Latency;
  /** The first leader's commit -> committed on the last board, per block: what gossip adds. */
  latencyAfterLeader: Latency;
  /** latencyAfterLeader's p99 in link delays (latencyMs), against log3(boards) + 2. */
  linkDelaysP99: number;
  linkDelaysBudget: number;
  messagesPerBlockPerBoard: Record<string, number>;
  bytesPerBlockPerBoard: Record<string, number>;
  /** Mean size of a block of the load. */
  blockBytes: number;
  /** Bytes sent per block per board, in blocks: bytesPerBlockPerBoard.total / blockBytes. */
  blockBytesSentPerBlockPerBoard: number;
  duplicatesPerBlockPerBoard: number;
  /** TCP connections the boards would have opened during the steady load, per board per second (simNetwork.ts). */
  connectionsOpenedPerBoardPerSecond: number;
  /** Most connections open to one board, sampled every second of the steady load (against inboundConnectionsMax). */
  inboundConnectionsMax: number;
  /** Board role changes (leader <-> follower) during the steady load, all boards. */
  roleChanges: number;
  /** Deliver streams opened during the steady load beyond one per org (a leader replaced, or a second one). */
  leaderChanges: number;
  /** Heal -> every running board holds every block (null: no partition phase, or not within the timeout). */
  convergeAfterHealMs: number | null;
  /** Heal -> one stream per org again. */
  settleAfterHealMs: number | null;
  /** Most streams one org had open during the partition (its halves elect apart). */
  maxStreamsPerOrgPartitioned: number | null;
  /** Restart of restartFraction of the boards with empty ledgers -> they hold every block again. */
  convergeAfterRestartMs: number | null;
  restartedBoards: number;
  simulatedSeconds: number;
  eventsRun: number;
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function latency(values: Float64Array | number[]): Latency {
  const s = Float64Array.from(values).sort();
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return { p50Ms: r(percentile(s, 50)), p99Ms: r(percentile(s, 99)), maxMs: r(s.length > 0 ? s[s.length - 1]! : Number.NaN) };
}

function snapshot(c: BoardCounters): BoardCounters {
  return { ...c, messagesOut: { ...c.messagesOut }, bytesOut: { ...c.bytesOut }, messagesIn: { ...c.messagesIn } };
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;

export async function runFleetSim(opts: FleetSimOptions): Promise<FleetSimResult> {
  const o = opts;
  const say = o.say ?? (() => undefined);
  const fleet = new SimFleet({
    ...simFleetDefaults, boards: o.boards, orgs: o.orgs, seed: o.seed,
    link: { latencyMs: o.latencyMs, jitterMs: o.jitterMs, loss: o.loss }, ordererLatencyMs: o.ordererLatencyMs, commitMs: o.commitMs,
    limits: o.limits, codec: o.codec, verifier: o.verifier, txDataBytes: o.txDataBytes, bootstrap: o.bootstrap,
  });
  const clock = fleet.clock;
  const scenario = seededRandom(o.seed * 7 + 3);
  const t0 = clock.exactNow();
  const elapsed = (): string => `${((clock.exactNow() - t0) / 1000).toFixed(1)} s simulated`;

  // 1. Start and settle.
  await fleet.startAll();
  const settled = await clock.runUntil(() => fleet.settled(), o.phaseTimeoutMs);
  const settleMs = settled ? clock.exactNow() - t0 : null;
  say(`settled: ${settled ? `${settleMs} ms` : 'no'} (${elapsed()})`);
  // Connections are warm and the election long past its grace, as in the bench's warm-up.
  await clock.runFor(1_000);

  // 2. Steady load.
  const first = fleet.orderer.height;
  const last = first + o.blocks - 1;
  const loadStart = clock.exactNow();
  const before = fleet.boards.map((b) => snapshot(b.counters));
  const streamsBefore = fleet.orderer.streamLog.length;
  const connectionsBefore = fleet.network.counters.connectionsOpened;
  fleet.scheduleLoad(o.blocks, o.blocksPerSec, loadStart);
  const loadMs = (1000 * o.blocks) / o.blocksPerSec;
  let inboundConnectionsMax = 0;
  // Sampled from the run's own events (a sampling event of its own would shift where the phase ends).
  let nextConnectionSampleMs = loadStart + 1_000;
  const sampleConnections = (): void => {
    if (clock.exactNow() < nextConnectionSampleMs || clock.exactNow() > loadStart + loadMs) return;
    nextConnectionSampleMs += 1_000;
    inboundConnectionsMax = Math.max(inboundConnectionsMax, fleet.network.inboundConnectionsMax());
  };
  const churned = Math.round(o.churn * o.boards);
  for (let k = 0; k < churned; k++) {
    const i = Math.floor(scenario() * o.boards);
    const at = loadStart + scenario() * Math.max(0, loadMs - o.churnDownMs);
    clock.schedule(at, () => fleet.stopBoard(i));
    clock.schedule(at + o.churnDownMs, async () => {
      const b = fleet.boards[i]!;
      if (!b.running) {
        // Back with its ledger: a new node over the same peer, as a restarted process over its data folder.
        await fleet.resumeBoard(i);
      }
    });
  }
  let maxStreamsPerOrg = 0;
  const sampleStreams = (): number => {
    let m = 0;
    for (const v of fleet.orderer.streamsByOrg().values()) m = Math.max(m, v);
    return m;
  };
  const allHave = (n: number): boolean => fleet.boards.every((b) => !b.running || b.peer.height > n);
  const loaded = await clock.run(loadStart + loadMs + o.phaseTimeoutMs, () => {
    maxStreamsPerOrg = Math.max(maxStreamsPerOrg, sampleStreams());
    sampleConnections();
    return fleet.orderer.height > last && allHave(last) && clock.exactNow() >= loadStart + loadMs + o.churnDownMs * (churned > 0 ? 1 : 0);
  });
  say(`steady load: ${o.blocks} blocks ${loaded ? 'on every board' : 'NOT on every board'} (${elapsed()})`);
  const ordererStreams = fleet.orderer.openStreams;
  const connectionsOpened = fleet.network.counters.connectionsOpened - connectionsBefore;
  const running = fleet.running();
  // Latencies of the measured blocks, over the boards running now.
  const allBoards: number[] = [];
  const afterLeader: number[] = [];
  const every = new Float64Array(o.blocks * running.length);
  let everyN = 0;
  let committed = 0;
  const leaderCommit = (n: number): number => {
    let t = Infinity;
    for (const e of fleet.orderer.streamLog) {
      const b = fleet.boards.find((x) => x.id === e.board)!;
      const at = b.peer.committedAt[n];
      if (at !== undefined && e.openedMs <= at && (e.closedMs === null || e.closedMs >= at)) t = Math.min(t, at);
    }
    return t;
  };
  for (let n = first; n <= last; n++) {
    const cut = fleet.orderer.cutAt[n]!;
    let lastAt = -Infinity;
    let all = true;
    for (const b of running) {
      const at = b.peer.committedAt[n];
      if (at === undefined) {
        all = false;
        continue;
      }
      committed++;
      every[everyN++] = at - cut;
      lastAt = Math.max(lastAt, at);
    }
    if (!all) continue;
    allBoards.push(lastAt - cut);
    const lc = leaderCommit(n);
    if (Number.isFinite(lc)) afterLeader.push(lastAt - lc);
  }
  const sumKinds = (pick: (c: BoardCounters) => Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    fleet.boards.forEach((b, i) => {
      for (const [k, v] of Object.entries(pick(b.counters))) out[k] = (out[k] ?? 0) + v - (pick(before[i]!)[k] ?? 0);
    });
    return out;
  };
  const perBlockPerBoard = (m: Record<string, number>): Record<string, number> => {
    const out: Record<string, number> = {};
    let total = 0;
    for (const [k, v] of Object.entries(m).sort(([a], [b]) => a.localeCompare(b))) {
      out[k] = round(v / o.blocks / o.boards);
      total += v;
    }
    out['total'] = round(total / o.blocks / o.boards);
    return out;
  };
  const messages = perBlockPerBoard(sumKinds((c) => c.messagesOut));
  const bytes = perBlockPerBoard(sumKinds((c) => c.bytesOut));
  let blockBytes = 0;
  for (let n = first; n <= last; n++) blockBytes += fleet.orderer.chain[n]!.length;
  blockBytes /= o.blocks;
  const duplicates = fleet.boards.reduce((t, b, i) => t + b.counters.duplicates - before[i]!.duplicates, 0);
  const roleChanges = fleet.boards.reduce((t, b, i) => t + b.counters.roleChanges - before[i]!.roleChanges, 0);
  const leaderChanges = fleet.orderer.streamLog.length - streamsBefore;
  const afterLeaderLatency = latency(afterLeader);

  // 3. Partition and heal.
  let convergeAfterHealMs: number | null = null;
  let settleAfterHealMs: number | null = null;
  let maxStreamsPerOrgPartitioned: number | null = null;
  if (o.partitionMs > 0) {
    const ids = fleet.boards.map((b) => b.endpoint);
    const a: string[] = [];
    const b: string[] = [];
    for (const e of ids) (scenario() < 0.5 ? a : b).push(e);
    fleet.network.partition([a, b]);
    fleet.scheduleLoad(Math.round((o.blocksPerSec * o.partitionMs) / 1000), o.blocksPerSec);
    maxStreamsPerOrgPartitioned = 0;
    await clock.run(clock.exactNow() + o.partitionMs, () => {
      maxStreamsPerOrgPartitioned = Math.max(maxStreamsPerOrgPartitioned!, sampleStreams());
      return false;
    });
    fleet.network.heal();
    const healedAt = clock.exactNow();
    let convergedAt: number | null = null;
    let settledAt: number | null = null;
    await clock.run(healedAt + o.phaseTimeoutMs, () => {
      if (convergedAt === null && fleet.converged()) convergedAt = clock.exactNow();
      if (settledAt === null && fleet.settled()) settledAt = clock.exactNow();
      return convergedAt !== null && settledAt !== null;
    });
    convergeAfterHealMs = convergedAt === null ? null : round(convergedAt - healedAt, 3);
    settleAfterHealMs = settledAt === null ? null : round(settledAt - healedAt, 3);
    say(`partition ${o.partitionMs} ms: converged ${convergeAfterHealMs} ms, one stream per org ${settleAfterHealMs} ms after the heal (${elapsed()})`);
  }

  // 4. Restart a fraction with empty ledgers.
  let convergeAfterRestartMs: number | null = null;
  const restartCount = Math.round(o.restartFraction * o.boards);
  if (restartCount > 0) {
    const chosen = new Set<number>();
    while (chosen.size < restartCount) chosen.add(Math.floor(scenario() * o.boards));
    const restartAt = clock.exactNow();
    for (const i of [...chosen].sort((x, y) => x - y)) await fleet.restartEmpty(i);
    const ok = await clock.run(restartAt + o.phaseTimeoutMs, () => [...chosen].every((i) => fleet.boards[i]!.peer.height >= fleet.orderer.height));
    convergeAfterRestartMs = ok ? round(clock.exactNow() - restartAt, 3) : null;
    say(`restart of ${restartCount} boards with empty ledgers: converged ${convergeAfterRestartMs} ms after (${elapsed()})`);
  }
  const simulatedSeconds = round((clock.exactNow() - t0) / 1000, 3);
  const eventsRun = clock.eventsRun;
  await fleet.stop();
  const limits: Record<string, number> = {};
  for (const k of ['aliveIntervalMs', 'fanout', 'pullIntervalMs'] as const) limits[k] = fleet.limits[k];
  for (const [k, v] of Object.entries(o.limits)) limits[k] = v as number;
  return {
    boards: o.boards,
    orgs: o.orgs,
    seed: o.seed,
    settings: {
      latencyMs: o.latencyMs, jitterMs: o.jitterMs, loss: o.loss, ordererLatencyMs: o.ordererLatencyMs, commitMs: o.commitMs,
      blocks: o.blocks, blocksPerSec: o.blocksPerSec, churn: o.churn, partitionMs: o.partitionMs, restartFraction: o.restartFraction,
      txDataBytes: o.txDataBytes, bootstrap: o.bootstrap, codec: o.codec, verifier: o.verifier, limits,
    },
    settleMs: settleMs === null ? null : round(settleMs, 3),
    deliveryRatio: round(committed / (o.blocks * running.length), 6),
    ordererStreams,
    maxStreamsPerOrg,
    latencyAllBoards: latency(allBoards),
    latencyEveryBoard: latency(every.subarray(0, everyN)),
    latencyAfterLeader: afterLeaderLatency,
    linkDelaysP99: round(afterLeaderLatency.p99Ms / o.latencyMs, 2),
    linkDelaysBudget: round(Math.log(o.boards) / Math.log(3) + 2, 2),
    messagesPerBlockPerBoard: messages,
    bytesPerBlockPerBoard: bytes,
    blockBytes: round(blockBytes, 1),
    blockBytesSentPerBlockPerBoard: round((bytes['total'] ?? 0) / blockBytes, 3),
    duplicatesPerBlockPerBoard: round(duplicates / o.blocks / o.boards),
    connectionsOpenedPerBoardPerSecond: round(connectionsOpened / o.boards / (loadMs / 1000)),
    inboundConnectionsMax,
    roleChanges,
    leaderChanges,
    convergeAfterHealMs,
    settleAfterHealMs,
    maxStreamsPerOrgPartitioned,
    convergeAfterRestartMs,
    restartedBoards: restartCount,
    simulatedSeconds,
    eventsRun,
  };
}
