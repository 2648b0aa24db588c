// The crash loop (`npm run crashloop`, and its short version in test/integration/crashloopShort.test.ts):
// real processes (the `edgepeer` CLI, real LMDB files, real MQTT over TCP through the orderer's embedded
// broker) SIGKILLed at seeded random moments and restarted on their own data, checking what a crash may
// never break.
//
// 1. Peer crash loop. The orderer starts with a prepared backlog of blocks (the peer's catch-up) and a
//    client keeps submitting (the live chain). One peer is SIGKILLed in every cycle, at a random delay
//    after its first status line or after a random number of blocks, and restarted: no height a status
//    line reported may be missing after the restart (a reported commit is durable), no block may be
//    rejected. At the end the peer syncs to the orderer's final height, and its ledger must verify
//    against the network's genesis and equal the orderer's, block for block.
// 2. Orderer crash loop. The orderer is SIGKILLed at random moments while a client submits, and
//    restarted. After each kill its ledger is read (the orderer is down, nothing else holds it): every
//    transaction answered SUCCESS more than batchTimeoutMs (and a slack) before the kill must be in a
//    block (docs/protocol.md §10: SUCCESS is "ordered": in a block once the batch is cut, lost with the
//    batch if the orderer dies first; those are counted), no transaction twice, the new blocks chained
//    onto the ones read before and those unchanged.
//    A peer follows throughout and must never reject a block (a block it holds that the restarted
//    orderer cut differently would be refused) and end with the orderer's chain.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { BroadcastClient } from '../../src/client/broadcastClient.js';
import { genesisTrust } from '../../src/channel/responderTrust.js';
import { seededRandom } from '../../src/config/random.js';
import { toHex } from '../../src/crypto/hash.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { readLedger } from '../../src/ledger/readOnlyOpen.js';
import { loadClient, loadGenesis } from '../../src/network/loadNetwork.js';
import { blockEnvelopes, readHeader } from '../../src/protocol/block.js';
import { blockHash } from '../../src/protocol/blockHash.js';
import { decodeEnvelope } from '../../src/protocol/envelope.js';
import { Status, statusName } from '../../src/protocol/status.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { type PreparedChain, extendPreparedChain, prepareChain } from './preparedChain.js';
import {
  type CliProcess, type StatusFields, TestRig, freePort, heightOf, ledgerInfo, readMetric, spawnCli, statusLines, waitForStatus,
} from './processes.js';

export interface CrashLoopTimeouts {
  /** A (re)started peer must print its first status line within this long. */
  peerStartMs: number;
  /** A (re)started orderer must print its ready line within this long. */
  ordererStartMs: number;
  /** The peer must reach the orderer's final height within this long at the end of a phase. */
  syncMs: number;
}

export const CRASH_LOOP_TIMEOUTS: CrashLoopTimeouts = { peerStartMs: 30_000, ordererStartMs: 30_000, syncMs: 180_000 };

export interface CrashLoopOptions {
  seed: number;
  /** Peer lives, each ended by SIGKILL. */
  peerCycles: number;
  /** Orderer lives, each ended by SIGKILL. */
  ordererCycles: number;
  /** Blocks in the orderer's ledger before the first peer starts: the backlog the peer catches up. */
  preparedBlocks: number;
  /** The channel's batch: small, so that a live chain grows by several blocks a second. */
  maxMessageCount: number;
  batchTimeoutMs: number;
  /** The client's steady rate during both loops. */
  txPerSec: number;
  /** A live peer life ends at most this long after its first status line (the delay kills are drawn below it). */
  maxPeerLifeMs: number;
  /**
   * A peer that starts behind the orderer's height catches up thousands of blocks a second: its delay
   * kills are drawn below this, its block-count kills below maxCatchUpKillBlocks, so the backlog lasts.
   */
  maxCatchUpLifeMs: number;
  maxCatchUpKillBlocks: number;
  /** A live block-count kill comes after 1 to this many blocks committed in the life. */
  maxLiveKillBlocks: number;
  /** Blocks of each new backlog, added once the live kills are as many as the catch-up kills (0: none). */
  backlogBlocks: number;
  /** An orderer life ends at a delay drawn from this range after its ready line. */
  ordererLifeMs: readonly [number, number];
  log: (line: string) => void;
  timeouts?: Partial<CrashLoopTimeouts>;
}

export const CRASH_LOOP_DEFAULTS = {
  peerCycles: 1_000, ordererCycles: 200, preparedBlocks: 20_000, maxMessageCount: 10, batchTimeoutMs: 100, txPerSec: 100,
  maxPeerLifeMs: 1_000, maxCatchUpLifeMs: 200, maxCatchUpKillBlocks: 1_000, maxLiveKillBlocks: 20, backlogBlocks: 30_000, ordererLifeMs: [200, 1_500],
} as const;

/** A peer further behind than this at its start is catching up (the live chain grows by a few a second). */
const LIVE_LAG_BLOCKS = 50;
/** Older than the replay window's 3 × 15 min scan bound (docs/protocol.md §4.2). */
const BACKLOG_AGE_MS = 3_600_000;
/** Status lines this often: the kill decisions and the durability check read heights off them. */
const STATUS_INTERVAL_MS = 20;
/** The peer redials a restarted orderer quickly (the default backoff reaches 10 s). */
const PEER_MAX_RETRY_DELAY_MS = 300;
const TX_BYTES = 64;
/**
 * Room on top of batchTimeoutMs for the cut's block to be on disk: the batch timer's lateness and the
 * append's fdatasync on a loaded 2-core machine.
 */
const SUCCESS_CUT_SLACK_MS = 2_000;
/** Unanswered transactions at most; above it the paced client skips a tick (the orderer is down). */
const MAX_IN_FLIGHT = 64;
/** Bytes of blocks read per ledger visit when scanning and comparing chains. */
const READ_BATCH_BYTES = 16 * 1024 * 1024;
/** Cause lines kept per kind of violation (the count is always whole). */
const VIOLATIONS_SHOWN = 20;

export type KillTrigger = 'delay' | 'blocks';

export interface PeerLoopReport {
  cycles: number;
  killsDuringCatchUp: number;
  killsLive: number;
  killsByTrigger: Record<KillTrigger, number>;
  /** Block-count kills whose blocks did not come within maxPeerLifeMs (killed at that deadline). */
  blockKillsAtDeadline: number;
  /** Blocks the peer committed over all its lives (a block committed again after a kill counts again). */
  committed: number;
  /** Blocks a restart found committed above the last status line before the kill (landed, not reported). */
  unreportedButDurable: number;
  /** Backlogs the peer caught up (the prepared chain, then one more each time live kills caught up with catch-up kills). */
  backlogs: number;
  backlogBlocks: number;
  /** SUCCESS answers of the loop's client, and how many of them are in no block at the end. */
  accepted: number;
  lostAfterSuccess: number;
  /** Mean time from spawn to the first status line. */
  meanStartMs: number;
  finalHeight: number;
  lastHash: string;
  durationMs: number;
}

export interface OrdererLoopReport {
  cycles: number;
  accepted: number;
  /** Answers other than SUCCESS, by status (the orderer was down, or killed before answering). */
  refused: Record<string, number>;
  /**
   * SUCCESS answers whose transaction is in no block of the ledger the orderer restarted with: allowed
   * for those answered less than batchTimeoutMs before the kill (docs/protocol.md §10), counted here.
   */
  lostAfterSuccess: number;
  /** Of those, answered longer than that before the kill: each a violation. */
  lostAfterCutWindow: number;
  /** Cycles after which at least one SUCCESS transaction was missing. */
  cyclesLosingSuccess: number;
  /** Transactions in blocks that never got a SUCCESS (killed before answering): allowed. */
  inChainUnanswered: number;
  blocksCut: number;
  /** Mean time from spawn to the ready line. */
  meanStartMs: number;
  finalHeight: number;
  lastHash: string;
  durationMs: number;
}

export interface CrashLoopReport {
  ok: boolean;
  violations: string[];
  seed: number;
  peer: PeerLoopReport;
  orderer: OrdererLoopReport;
  /** The `ledger verify --network` verdicts at the end, one line each. */
  checks: string[];
  durationMs: number;
}

/**
 * Runs both loops and returns the report. Everything it starts is registered on `rig` (processes, temp
 * dirs, the client's link), which the caller closes (a test's t.after, a script's exit and SIGINT paths).
 */
export async function runCrashLoop(o: CrashLoopOptions, rig: TestRig): Promise<CrashLoopReport> {
  const started = Date.now();
  const t: CrashLoopTimeouts = { ...CRASH_LOOP_TIMEOUTS, ...o.timeouts };
  const rng = seededRandom(o.seed);
  const violations = new Violations();
  const root = rig.tempDir('edgepeer-crashloop-');
  const channel = 'crashloop';
  o.log(`preparing ${o.preparedBlocks} blocks`);
  // A backlog an hour old, as a real one would be: the orderer's replay scan at each start stops at its
  // top (docs/protocol.md §4.2) instead of reading every block of it, so restarts stay short.
  const chain = await prepareChain(root, {
    channel, blocks: o.preparedBlocks, boards: 1, batch: { maxMessageCount: o.maxMessageCount, batchTimeoutMs: o.batchTimeoutMs },
    txTimestampMs: Date.now() - BACKLOG_AGE_MS,
  });
  const net = chain.summary;
  const board = net.boards[0]!.id;
  const peerData = join(root, 'peer');
  const mqttPort = await freePort();
  const metricsPort = await freePort();
  const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
  const preparedTxId = decodeEnvelope(chain.tx).payload.txId;
  const env: Env = {
    rig, t, net: net.dir, channel, board, chain, preparedTxId, ordererData: chain.ordererData, peerData, mqttPort, metricsPort, mqttUrl,
  };
  // What the orderer's ledger holds, read incrementally: by the peer loop at its end, then after every orderer kill.
  const scan: ChainScan = { height: 0, lastHash: '', txIds: new Set() };
  const peer = await peerLoop(env, o, rng, violations, scan);
  const orderer = await ordererLoop(env, o, rng, violations, scan);
  const checks: string[] = [];
  for (const [who, dir] of [['orderer', chain.ordererData], ['peer', peerData]] as const) {
    const v = await verifyAgainstNetwork(dir, net.dir);
    checks.push(`${who}: ledger verify --network: ${v.ok ? 'ok' : 'FAILED'} ${v.text}`);
    if (!v.ok) violations.add('verify', `${who} ledger does not verify against the network: ${v.text}`);
  }
  const same = await compareLedgers(ledgerPath(chain.ordererData, channel), ledgerPath(peerData, channel), channel);
  checks.push(`peer = orderer, block by block: ${same ?? 'yes'}`);
  if (same !== null) violations.add('equal', `peer ledger differs from the orderer's: ${same}`);
  const all = violations.list();
  return { ok: all.length === 0, violations: all, seed: o.seed, peer, orderer, checks, durationMs: Date.now() - started };
}

interface Env {
  rig: TestRig;
  t: CrashLoopTimeouts;
  net: string;
  channel: string;
  board: string;
  chain: PreparedChain;
  /** The backlog's blocks all hold this one transaction; duplicates are looked for among the others. */
  preparedTxId: string;
  ordererData: string;
  peerData: string;
  mqttPort: number;
  metricsPort: number;
  mqttUrl: string;
}

/** Violations by kind: every one counted, the first few of each kind kept in words. */
class Violations {
  private readonly byKind = new Map<string, { count: number; shown: string[] }>();

  add(kind: string, text: string): void {
    const v = this.byKind.get(kind) ?? { count: 0, shown: [] };
    v.count++;
    if (v.shown.length < VIOLATIONS_SHOWN) v.shown.push(text);
    this.byKind.set(kind, v);
  }

  list(): string[] {
    const out: string[] = [];
    for (const [kind, v] of this.byKind) {
      out.push(...v.shown);
      if (v.count > v.shown.length) out.push(`… and ${v.count - v.shown.length} more of kind '${kind}'`);
    }
    return out;
  }
}

async function startOrderer(e: Env, life: string): Promise<CliProcess> {
  const p = e.rig.spawn([
    'orderer', '--network', e.net, '--data', e.ordererData, '--mqtt-port', String(e.mqttPort),
    '--metrics-port', String(e.metricsPort), '--ready-json',
  ], { name: `orderer ${life}` });
  await p.waitForLine((l) => l.startsWith('{') && l.includes('"ready":true'), 'the orderer ready line', { timeoutMs: e.t.ordererStartMs });
  return p;
}

function spawnPeer(e: Env, life: string): CliProcess {
  return e.rig.spawn([
    'peer', '--network', e.net, '--board', e.board, '--data', e.peerData, '--mqtt', e.mqttUrl,
    '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(PEER_MAX_RETRY_DELAY_MS),
  ], { name: `peer ${life}` });
}

/** A client submitting at a steady rate over its own MQTT link, keeping the txId of every SUCCESS. */
class PacedLoad {
  /** The txId of each SUCCESS and when it arrived (ms since the epoch): §10's promise is about that moment. */
  readonly accepted = new Map<string, number>();
  readonly refused = new Map<string, number>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  private constructor(private readonly link: MqttClientLink, private readonly client: BroadcastClient) {}

  static async open(e: Env): Promise<PacedLoad> {
    const signer = loadClient(e.net);
    const link = new MqttClientLink({ endpoint: { url: e.mqttUrl }, credentials: brokerCredentials(signer) });
    e.rig.defer(() => link.close());
    await link.open([e.channel]);
    const client = new BroadcastClient(link, e.channel, signer, genesisTrust(loadGenesis(e.net, e.channel)));
    e.rig.defer(() => client.close());
    return new PacedLoad(link, client);
  }

  start(txPerSec: number): void {
    // One submission a tick; the rate is what the orderer sees, whatever its answers' latency.
    const intervalMs = Math.max(1, Math.round(1_000 / txPerSec));
    this.timer = setInterval(() => {
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
      const p = this.client.submit({ seq: this.seq++, body: randomBytes(TX_BYTES) }).then((r) => {
        if (r.status === Status.SUCCESS) {
          this.accepted.set(r.txId, Date.now());
        } else this.refused.set(statusName(r.status), (this.refused.get(statusName(r.status)) ?? 0) + 1);
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }, intervalMs);
  }

  /** Stops submitting and waits for every answer still due. */
  async drain(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
  }

  /** Stops at once: unanswered requests resolve as not accepted (their orderer is gone). */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.client.close();
    await Promise.all([...this.inFlight]);
    await this.link.close();
  }
}

const heightIn = (lines: StatusFields[]): number => lines.reduce((m, s) => Math.max(m, heightOf(s)), -1);

// ---- 1. The peer crash loop ----

async function peerLoop(e: Env, o: CrashLoopOptions, rng: () => number, violations: Violations, scan: ChainScan): Promise<PeerLoopReport> {
  const started = Date.now();
  let orderer = await startOrderer(e, 'backlog 0');
  let load = await PacedLoad.open(e);
  load.start(o.txPerSec);
  const accepted = new Set<string>();
  const r: PeerLoopReport = {
    cycles: 0, killsDuringCatchUp: 0, killsLive: 0, killsByTrigger: { delay: 0, blocks: 0 }, blockKillsAtDeadline: 0,
    committed: 0, unreportedButDurable: 0, backlogs: 1, backlogBlocks: o.preparedBlocks, accepted: 0, lostAfterSuccess: 0,
    meanStartMs: 0, finalHeight: 0, lastHash: '', durationMs: 0,
  };
  let startMsTotal = 0;
  /** The highest height any status line reported: a commit reported before a kill must survive it. */
  let durable = 0;
  let lastLifeLive = false;
  for (let cycle = 0; cycle < o.peerCycles; cycle++) {
    if (lastLifeLive && r.killsLive >= r.killsDuringCatchUp && o.backlogBlocks > 0) {
      // As many kills live as during catch-up so far: a new backlog. The orderer stops cleanly (cutting
      // what is pending), its ledger grows by prepared blocks, it restarts with a fresh client.
      await load.drain();
      await load.close();
      for (const id of load.accepted.keys()) accepted.add(id);
      await orderer.stop();
      await extendPreparedChain(e.chain, o.backlogBlocks);
      r.backlogs++;
      r.backlogBlocks += o.backlogBlocks;
      orderer = await startOrderer(e, `backlog ${r.backlogs - 1}`);
      load = await PacedLoad.open(e);
      load.start(o.txPerSec);
    }
    const ordererHeight = await readMetric(e.metricsPort, 'edgepeer_ledger_height', { channel: e.channel }) ?? 0;
    const spawnedAt = Date.now();
    const peer = spawnPeer(e, `life ${cycle}`);
    const first = await waitForStatus(peer, () => true, 'the first status line', { timeoutMs: e.t.peerStartMs });
    startMsTotal += Date.now() - spawnedAt;
    if (heightOf(first) < durable) {
      violations.add('lost', `peer cycle ${cycle}: restarted at height ${heightOf(first)}, below ${durable} reported before the kill`);
    } else if (cycle > 0 && heightOf(first) > durable) r.unreportedButDurable += heightOf(first) - durable;
    const trigger: KillTrigger = rng() < 0.5 ? 'delay' : 'blocks';
    const catchingUp = ordererHeight - heightOf(first) > LIVE_LAG_BLOCKS;
    if (trigger === 'delay') {
      // The random moment itself, not a wait for something: the kill lands wherever the peer is.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(rng() * (catchingUp ? o.maxCatchUpLifeMs : o.maxPeerLifeMs))));
    } else {
      const target = heightOf(first) + 1 + Math.floor(rng() * (catchingUp ? o.maxCatchUpKillBlocks : o.maxLiveKillBlocks));
      await waitForStatus(peer, (s) => heightOf(s) >= target, `height ${target}`, { timeoutMs: o.maxPeerLifeMs })
        .catch(() => { r.blockKillsAtDeadline++; });
    }
    await peer.kill('SIGKILL');
    r.killsByTrigger[trigger]++;
    const lines = statusLines(peer);
    const reported = heightIn(lines);
    // Still below the orderer's height at its start: it was pulling the backlog, not following.
    lastLifeLive = reported >= ordererHeight;
    if (lastLifeLive) r.killsLive++;
    else r.killsDuringCatchUp++;
    r.committed += Math.max(0, reported - heightOf(first));
    for (const s of lines) {
      if (s['rejected'] !== '0') {
        violations.add('rejected', `peer cycle ${cycle}: rejected=${s['rejected']} (${s['error'] ?? ''})`);
        break;
      }
    }
    durable = Math.max(durable, reported);
    r.cycles++;
    if (cycle % 50 === 49) o.log(`peer cycle ${cycle + 1}/${o.peerCycles}: height ${durable} (orderer ${ordererHeight}), ${r.killsDuringCatchUp} kills in catch-up, ${r.killsLive} live`);
  }
  // The end: the load stops, the orderer stops cleanly (cutting what is pending) so the final height is
  // exact, then a last peer life syncs to it.
  await load.drain();
  await load.close();
  for (const id of load.accepted.keys()) accepted.add(id);
  await orderer.stop();
  const info = await ledgerInfo(e.ordererData);
  orderer = await startOrderer(e, 'peer-loop end');
  const peer = spawnPeer(e, 'final');
  const s = await waitForStatus(peer, (x) => heightOf(x) === info.height, `height=${info.height}`, { timeoutMs: e.t.syncMs });
  if (!info.lastHash.startsWith(s['hash'] ?? '-')) violations.add('equal', `peer tip ${s['hash']} is not the orderer's ${info.lastHash}`);
  if (statusLines(peer).some((x) => x['rejected'] !== '0')) violations.add('rejected', 'final peer life rejected a block');
  r.committed += heightOf(s) - heightOf(statusLines(peer)[0]!);
  await peer.stop();
  await orderer.stop();
  // The orderer was only ever stopped cleanly here (it cuts what is pending): every SUCCESS is in a block.
  scanLedger(await readOrdererLedger(ledgerPath(e.ordererData, e.channel), e.channel, scan, e.preparedTxId), scan, violations, 'peer loop end');
  r.accepted = accepted.size;
  r.lostAfterSuccess = [...accepted].filter((id) => !scan.txIds.has(id)).length;
  if (r.lostAfterSuccess > 0) violations.add('lost-success', `peer loop: ${r.lostAfterSuccess} transactions answered SUCCESS are in no block after clean stops`);
  r.meanStartMs = r.cycles === 0 ? 0 : startMsTotal / r.cycles;
  r.finalHeight = info.height;
  r.lastHash = info.lastHash;
  r.durationMs = Date.now() - started;
  o.log(`peer loop: ${r.cycles} cycles, final height ${r.finalHeight}, ${(r.durationMs / 1000).toFixed(0)} s`);
  return r;
}

// ---- 2. The orderer crash loop ----

/** What the orderer's ledger held when last read: its tip, and every txId in a block above the backlog. */
interface ChainScan {
  height: number;
  lastHash: string;
  txIds: Set<string>;
}

async function ordererLoop(e: Env, o: CrashLoopOptions, rng: () => number, violations: Violations, scan: ChainScan): Promise<OrdererLoopReport> {
  const started = Date.now();
  const path = ledgerPath(e.ordererData, e.channel);
  const startHeight = scan.height;
  const accepted = new Map<string, number>();
  const refused = new Map<string, number>();
  const r: OrdererLoopReport = {
    cycles: 0, accepted: 0, refused: {}, lostAfterSuccess: 0, lostAfterCutWindow: 0, cyclesLosingSuccess: 0, inChainUnanswered: 0, blocksCut: 0, meanStartMs: 0,
    finalHeight: 0, lastHash: '', durationMs: 0,
  };
  // Transactions of the peer loop's client are in the ledger already; this loop's are counted apart.
  const earlierTxIds = scan.txIds.size;
  let startMsTotal = 0;
  let follower = spawnPeer(e, 'follower');
  let followerRestarts = 0;
  const lost = new Set<string>();
  for (let cycle = 0; cycle < o.ordererCycles; cycle++) {
    const spawnedAt = Date.now();
    const orderer = await startOrderer(e, `life ${cycle}`);
    startMsTotal += Date.now() - spawnedAt;
    const load = await PacedLoad.open(e);
    load.start(o.txPerSec);
    const [lo, hi] = o.ordererLifeMs;
    await new Promise((resolve) => setTimeout(resolve, lo + Math.floor(rng() * (hi - lo))));
    const killedAt = Date.now();
    await orderer.kill('SIGKILL');
    await load.close();
    for (const [id, at] of load.accepted) accepted.set(id, at);
    for (const [k, v] of load.refused) refused.set(k, (refused.get(k) ?? 0) + v);
    // The orderer is down: its ledger is all a restart has. Every SUCCESS must be in it now.
    const before = scan.height;
    scanLedger(await readOrdererLedger(path, e.channel, scan, e.preparedTxId), scan, violations, `orderer cycle ${cycle}`);
    r.blocksCut += scan.height - before;
    // §10: a SUCCESS is in a block once batchTimeoutMs have passed (the cut, then its commit); one the
    // orderer was killed sooner after may be lost, and its client must resubmit it. Lost later is a violation.
    let lostNow = 0;
    let lostLate = 0;
    for (const id of accepted.keys()) {
      if (!scan.txIds.has(id) && !lost.has(id)) {
        lost.add(id);
        lostNow++;
        if (killedAt - accepted.get(id)! > o.batchTimeoutMs + SUCCESS_CUT_SLACK_MS) lostLate++;
      }
    }
    if (lostNow > 0) r.cyclesLosingSuccess++;
    if (lostLate > 0) {
      r.lostAfterCutWindow += lostLate;
      violations.add('lost-success', `orderer cycle ${cycle}: ${lostLate} transactions answered SUCCESS more than batchTimeoutMs (${o.batchTimeoutMs} ms) + ${SUCCESS_CUT_SLACK_MS} ms before the SIGKILL are in no block (docs/protocol.md §10)`);
    }
    if (!follower.running) {
      violations.add('follower', `orderer cycle ${cycle}: the follower peer exited\n${follower.describe()}`);
      follower = spawnPeer(e, `follower ${++followerRestarts}`);
    }
    r.cycles++;
    if (cycle % 20 === 19) o.log(`orderer cycle ${cycle + 1}/${o.ordererCycles}: height ${scan.height}, ${accepted.size} accepted, ${lost.size} of them lost`);
  }
  // The end: one more orderer life, no load; the follower must reach its height and tip.
  const orderer = await startOrderer(e, 'final');
  const info = await ledgerInfo(e.ordererData);
  if (info.height !== scan.height) violations.add('equal', `the restarted orderer is at height ${info.height}, its ledger was read at ${scan.height}`);
  const s = await waitForStatus(follower, (x) => heightOf(x) === info.height, `height=${info.height}`, { timeoutMs: e.t.syncMs }).catch((err: Error) => {
    violations.add('sync', `the follower did not reach height ${info.height}: ${err.message}`);
    return null;
  });
  if (s !== null && !info.lastHash.startsWith(s['hash'] ?? '-')) violations.add('equal', `follower tip ${s['hash']} is not the orderer's ${info.lastHash}`);
  for (const x of statusLines(follower)) {
    if (x['rejected'] !== '0') {
      violations.add('rejected', `the follower rejected a block across the orderer's restarts: rejected=${x['rejected']} ${x['error'] ?? ''}`);
      break;
    }
  }
  await follower.stop();
  await orderer.stop();
  for (const id of accepted.keys()) if (!scan.txIds.has(id)) lost.add(id);
  let inChainFromLoad = 0;
  for (const id of scan.txIds) if (accepted.has(id)) inChainFromLoad++;
  r.accepted = accepted.size;
  r.refused = Object.fromEntries(refused);
  r.lostAfterSuccess = lost.size;
  r.inChainUnanswered = scan.txIds.size - earlierTxIds - inChainFromLoad;
  r.meanStartMs = r.cycles === 0 ? 0 : startMsTotal / r.cycles;
  r.finalHeight = info.height;
  r.lastHash = info.lastHash;
  r.durationMs = Date.now() - started;
  if (startHeight > info.height) violations.add('lost', `the orderer's height ${info.height} is below the peer loop's final ${startHeight}`);
  o.log(`orderer loop: ${r.cycles} cycles, final height ${r.finalHeight}, ${(r.durationMs / 1000).toFixed(0)} s`);
  return r;
}

interface ScannedBlocks {
  height: number;
  /** The hash of the block the previous scan ended on, as stored now (it must not have changed). */
  previousTip: string | null;
  blocks: { number: number; previousHash: string; hash: string; txIds: string[] }[];
}

/** Reads the blocks above the last scan, read-only and without writing into the folder (no process holds it). */
async function readOrdererLedger(path: string, channel: string, scan: ChainScan, preparedTxId: string): Promise<ScannedBlocks> {
  const { value } = await readLedger(path, (p) => openLedger(p, { channel, readOnly: true }), (ledger: LmdbLedger): ScannedBlocks => {
    const height = ledger.height();
    const tip = scan.height > 0 ? ledger.getBlock(scan.height - 1) : undefined;
    const out: ScannedBlocks = { height, previousTip: tip === undefined ? null : toHex(blockHash(tip)), blocks: [] };
    for (let from = scan.height; from < height;) {
      from += ledger.readBlocks(from, height - 1, READ_BATCH_BYTES, (block, number) => {
        const h = readHeader(block);
        const txIds = number === 0 ? [] : blockEnvelopes(block).map((b) => decodeEnvelope(b).payload.txId).filter((id) => id !== preparedTxId);
        out.blocks.push({ number: h.number, previousHash: toHex(h.previousHash), hash: toHex(blockHash(block)), txIds });
      });
    }
    return out;
  });
  return value;
}

function scanLedger(read: ScannedBlocks, scan: ChainScan, violations: Violations, when: string): void {
  if (read.height < scan.height) violations.add('lost', `${when}: the orderer's ledger is at height ${read.height}, it was at ${scan.height}`);
  if (scan.height > 0 && read.previousTip !== scan.lastHash) {
    violations.add('conflict', `${when}: block ${scan.height - 1} changed: ${scan.lastHash} then ${read.previousTip}`);
  }
  for (const b of read.blocks) {
    if (b.number !== scan.height) violations.add('gap', `${when}: block ${b.number} where ${scan.height} was due`);
    if (scan.height > 0 && b.previousHash !== scan.lastHash) violations.add('conflict', `${when}: block ${b.number} does not chain onto block ${scan.height - 1}`);
    for (const id of b.txIds) {
      if (scan.txIds.has(id)) violations.add('duplicate', `${when}: transaction ${id} ordered twice (again in block ${b.number})`);
      scan.txIds.add(id);
    }
    scan.height = b.number + 1;
    scan.lastHash = b.hash;
  }
}

// ---- End checks ----

/** `edgepeer ledger verify --network`: the chain, and block 0 being the network's genesis. */
async function verifyAgainstNetwork(dataDir: string, netDir: string): Promise<{ ok: boolean; text: string }> {
  const p = spawnCli(['ledger', 'verify', '--data', dataDir, '--network', netDir, '--json'], { name: `ledger verify ${dataDir}` });
  const x = await p.exited;
  const last = p.lines.at(-1) ?? '(no output)';
  return { ok: x.code === 0, text: last };
}

/** Null when both ledgers hold the same blocks, byte for byte; otherwise the first difference. */
async function compareLedgers(aPath: string, bPath: string, channel: string): Promise<string | null> {
  const open = (p: string): LmdbLedger => openLedger(p, { channel, readOnly: true });
  const a = await readLedger(aPath, open, (l) => ({ height: l.height() }));
  const b = await readLedger(bPath, open, (l) => ({ height: l.height() }));
  if (a.value.height !== b.value.height) return `heights ${a.value.height} and ${b.value.height}`;
  const hashesOf = async (p: string): Promise<string[]> => (await readLedger(p, open, (l) => {
    const out: string[] = [];
    for (let from = 0; from < l.height();) from += l.readBlocks(from, l.height() - 1, READ_BATCH_BYTES, (block) => { out.push(toHex(blockHash(block))); });
    return out;
  })).value;
  // The block hash covers the header and the signatures, the header the data: equal hashes, equal blocks.
  const [ha, hb] = [await hashesOf(aPath), await hashesOf(bPath)];
  for (let n = 0; n < ha.length; n++) if (ha[n] !== hb[n]) return `block ${n}: ${ha[n]} and ${hb[n]}`;
  return null;
}

export function formatCrashLoopReport(r: CrashLoopReport): string[] {
  const p = r.peer;
  const q = r.orderer;
  return [
    `crashloop seed ${r.seed}: ${r.ok ? 'OK' : 'FAILED'} in ${(r.durationMs / 1000).toFixed(0)} s`,
    `peer loop: ${p.cycles} SIGKILLs (${p.killsDuringCatchUp} during catch-up, ${p.killsLive} live; by delay ${p.killsByTrigger.delay}, by block count ${p.killsByTrigger.blocks}, ${p.blockKillsAtDeadline} of those at the life's deadline), ${p.committed} blocks committed over all lives, ${p.backlogs} backlogs of ${p.backlogBlocks} blocks in all, final height ${p.finalHeight}, ${(p.durationMs / 1000).toFixed(0)} s, mean start to first status ${p.meanStartMs.toFixed(0)} ms`,
    `  ${p.accepted} SUCCESS answers under live load, ${p.lostAfterSuccess} of them in no block after the orderer's clean stop`,
    `  blocks found committed after a kill above the last reported height: ${p.unreportedButDurable}`,
    `orderer loop: ${q.cycles} SIGKILLs, ${q.blocksCut} blocks cut, ${q.accepted} SUCCESS answers, ${q.lostAfterSuccess} of them in no block (${q.cyclesLosingSuccess} cycles lost some; ${q.lostAfterCutWindow} answered longer than batchTimeoutMs before the kill), ${q.inChainUnanswered} ordered but unanswered, refused ${JSON.stringify(q.refused)}, final height ${q.finalHeight}, ${(q.durationMs / 1000).toFixed(0)} s, mean start to ready ${q.meanStartMs.toFixed(0)} ms`,
    ...r.checks,
    `final tip ${q.lastHash}`,
    ...(r.violations.length === 0 ? ['violations: none'] : ['violations:', ...r.violations.map((v) => `  ${v}`)]),
  ];
}
