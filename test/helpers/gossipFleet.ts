// A gossip fleet of real processes for the fleet tests: `edgepeer init --gossip`, the orderer (embedded
// Aedes) with its Deliver log read line by line, and `edgepeer peer` board processes with short gossip
// limits written into their board.json. Everything starts through the TestRig, which stops it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { findFreePortRange } from '../../src/fleet/freePorts.js';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import type { BlockSources } from '../../src/observability/statusReport.js';
import {
  type CliProcess, type StatusFields, type TestRig, freePort, heightOf, lastStatus, ledgerInfo, ledgerVerify, readMetric, runCliJson, waitForStatus,
} from './processes.js';
import { POLL_INTERVAL_MS, pollUntil } from './wait.js';

// Shared with the in-process tests; re-exported for the fleet tests that took it from here.
export { pollUntil };

/** Status lines every this often: takeover times are read from them. */
export const FLEET_STATUS_INTERVAL_MS = 100;
/** How often a fleet-wide condition (statuses of several boards, the Deliver log) is re-checked (pollUntil's). */
export const FLEET_POLL_INTERVAL_MS = POLL_INTERVAL_MS;
/** A `submit` of a fleet test's load must be accepted within this long. */
const SUBMIT_TIMEOUT_MS = 120_000;

export type FleetLimits = Partial<Record<keyof typeof gossipDefaults, number>>;

/** Whole-second-free gossip timings for tests on a loaded 2-core machine: short, but not so short that a
 *  busy event loop (8 boards, the orderer and a load generator on 2 cores) makes members look dead. */
export const FLEET_LIMITS: FleetLimits = {
  aliveIntervalMs: 150,
  aliveExpirationMs: 1_500,
  // Long enough that a board hears the boards started before it (one ALIVE round) before it elects.
  electionStartupGraceMs: 1_500,
  leaderMinTermMs: 1_000,
  // Three ALIVE rounds for a rival's claim to arrive before a new leader streams.
  leaderClaimSettleMs: 450,
  reconnectDelayMs: 100,
  pullIntervalMs: 250,
  catchUpStallTimeoutMs: 3_000,
  catchUpSourceCooldownMs: 2_000,
};

/** A limit as a board with `limits` in its board.json runs it (undefined: this build has no such key). */
export function limitInUse(limits: FleetLimits, key: string): number | undefined {
  return (limits as Record<string, number | undefined>)[key] ?? (gossipDefaults as Record<string, number | undefined>)[key];
}

/**
 * From a leader's death to its successor's Deliver stream: the death is noticed aliveExpirationMs after
 * its last ALIVE (sent up to aliveIntervalMs before it died), at the next tick (up to aliveIntervalMs
 * later); a new leader then waits leaderClaimSettleMs for a rival's claim (where this build has it)
 * before it streams; plus scheduling slack on a shared machine.
 */
export function takeoverBoundMs(limits: FleetLimits, slackMs: number): number {
  return limitInUse(limits, 'aliveExpirationMs')! + 2 * limitInUse(limits, 'aliveIntervalMs')!
    + (limitInUse(limits, 'leaderClaimSettleMs') ?? 0) + slackMs;
}

// ---- The orderer's Deliver log ----

export interface DeliverLogEvent {
  kind: 'opened' | 'ended';
  requester: string;
  org: string;
  session: string;
  /** First block of the stream. */
  start: number;
  /** On 'ended': blocks sent, start .. start + blocksSent - 1. */
  blocksSent: number;
  /** Position in the log: events are in the order the orderer wrote them (one process, one stream). */
  index: number;
  time: number;
}

/** pino's numeric level of `warn`. */
export const PINO_WARN_LEVEL = 40;
const KEPT_WARNINGS = 20;
/** pino's warn, error and fatal lines (levels 40, 50, 60). */
const WARN_OR_WORSE = /"level":[456]0[,}]/;

/** The orderer's 'deliver stream opened' / 'deliver stream ended' lines (src/orderer/deliverService.ts). */
export class DeliverLog {
  readonly events: DeliverLogEvent[] = [];
  /** The orderer's latest warnings and errors (a refused SEEK, a broker login denied), for describe(). */
  private readonly warnings: string[] = [];

  /** Feed every orderer stderr line (pino JSON); other lines are ignored. */
  readonly ingest = (line: string): void => {
    // Only the lines kept are parsed: the orderer writes many others under load.
    if (!line.includes('deliver stream') && !WARN_OR_WORSE.test(line)) return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof o['level'] === 'number' && o['level'] >= PINO_WARN_LEVEL) {
      this.warnings.push(line);
      if (this.warnings.length > KEPT_WARNINGS) this.warnings.shift();
    }
    const kind = o['msg'] === 'deliver stream opened' ? 'opened' : o['msg'] === 'deliver stream ended' ? 'ended' : null;
    if (kind === null) return;
    this.events.push({
      kind, requester: String(o['requester']), org: String(o['org']), session: String(o['session']),
      start: Number(o['start']), blocksSent: Number(o['blocksSent'] ?? 0), index: this.events.length, time: Number(o['time']),
    });
  };

  /** The next event's index: pass as `since` to look only at what comes after now. */
  get mark(): number {
    return this.events.length;
  }

  /** Streams open right after event `at - 1` (before event `at`), by org: session → requester. */
  openAt(at: number): Map<string, Map<string, string>> {
    const open = new Map<string, Map<string, string>>();
    for (const e of this.events.slice(0, at)) apply(open, e);
    return open;
  }

  /**
   * The most streams each org had open at any instant from `since` on (streams open at `since` count),
   * leaving out the streams of `except` (e.g. a SIGKILLed board, whose session the orderer ends only when
   * it notices).
   */
  maxOpenPerOrg(since = 0, except: readonly string[] = []): Map<string, number> {
    const open = new Map<string, Map<string, string>>();
    const max = new Map<string, number>();
    const record = (): void => { for (const [org, s] of open) max.set(org, Math.max(max.get(org) ?? 0, s.size)); };
    // The streams open at `since` count even when no event comes after it.
    let recordedAtSince = false;
    for (const e of this.events.filter((x) => !except.includes(x.requester))) {
      if (!recordedAtSince && e.index >= since) {
        record();
        recordedAtSince = true;
      }
      apply(open, e);
      if (e.index >= since) record();
    }
    if (!recordedAtSince) record();
    return max;
  }

  opened(requester: string, since = 0): DeliverLogEvent[] {
    return this.events.filter((e) => e.index >= since && e.kind === 'opened' && e.requester === requester);
  }

  /** Block numbers a requester was sent by streams that ended from `since` on (or are still open: not counted). */
  blocksSentTo(requester: string, since = 0): number {
    return this.events.filter((e) => e.index >= since && e.kind === 'ended' && e.requester === requester)
      .reduce((n, e) => n + e.blocksSent, 0);
  }

  describe(since = 0): string {
    const events = this.events.slice(since).map((e) => `  #${e.index} ${e.kind} ${e.org}/${e.requester} session ${e.session} start ${e.start}`
      + (e.kind === 'ended' ? ` sent ${e.blocksSent}` : '')).join('\n') || '  (none)';
    return this.warnings.length === 0 ? events : `${events}\n  orderer's last warnings:\n${this.warnings.map((w) => `    ${w}`).join('\n')}`;
  }
}

function apply(open: Map<string, Map<string, string>>, e: DeliverLogEvent): void {
  const s = open.get(e.org) ?? new Map<string, string>();
  open.set(e.org, s);
  if (e.kind === 'opened') s.set(e.session, e.requester);
  else s.delete(e.session);
}

// ---- The fleet ----

export interface FleetOptions {
  channel?: string;
  orgs: number;
  boardsPerOrg: number;
  maxMessageCount: number;
  batchTimeoutMs: number;
  limits?: FleetLimits;
  /** Host each board's gossip listens on (and is reached at), by board index; default 127.0.0.1. */
  gossipHost?: (index: number, boardId: string) => string;
  /** Host the orderer's embedded broker binds (and boards reach it at); default 127.0.0.1. */
  mqttHost?: string;
  /** An external broker for the orderer (and the test's clients) instead of its embedded one. */
  ordererMqtt?: string;
  /** The broker each board logs in to; default the orderer's. */
  boardMqtt?: (boardId: string) => string;
  /** Runs once the network folder is written, before the orderer starts (e.g. to start its broker). */
  beforeOrderer?: (net: NetworkSummary) => Promise<void>;
  /** Whether `boardId` bootstraps its gossip to `otherId`; default every other board. */
  bootstrapsTo?: (boardId: string, otherId: string) => boolean;
}

export interface FleetBoard {
  id: string;
  org: string;
  index: number;
  data: string;
  /** host:port its gossip listens on (and other boards reach it at). */
  endpoint: string;
  metricsPort: number;
  /** The running process, or null while stopped. */
  proc: CliProcess | null;
  /**
   * Every JSON log record it wrote on stderr, all its process lives in order (read whole from each line,
   * not from the process's kept stderr tail). `records.length` is a mark for logRecords' `since`.
   */
  records: Record<string, unknown>[];
}

export class GossipFleet {
  readonly boards = new Map<string, FleetBoard>();
  readonly deliverLog = new DeliverLog();
  private orderer: CliProcess | null = null;

  private constructor(
    private readonly rig: TestRig,
    readonly net: NetworkSummary,
    readonly root: string,
    readonly mqtt: string,
    readonly ordererMetricsPort: number,
    readonly limits: FleetLimits,
    private readonly boardMqtt: (boardId: string) => string,
  ) {}

  /** Makes the network, writes the gossip limits into every board.json and starts the orderer. */
  static async create(rig: TestRig, o: FleetOptions): Promise<GossipFleet> {
    const root = rig.tempDir('edgepeer-gossip-');
    const gossipBase = await findFreePortRange('0.0.0.0', o.orgs * o.boardsPerOrg);
    const net = await runCliJson<NetworkSummary>([
      'init', '--dir', join(root, 'network'), '--channel', o.channel ?? 'gossip', '--orgs', String(o.orgs),
      '--boards-per-org', String(o.boardsPerOrg), '--json', '--max-message-count', String(o.maxMessageCount),
      '--batch-timeout-ms', String(o.batchTimeoutMs), '--gossip', '--gossip-base-port', String(gossipBase),
    ], { name: 'init' });
    const limits = o.limits ?? FLEET_LIMITS;
    // Only keys this build knows: board.json's gossip.limits refuses unknown ones.
    const known = Object.fromEntries(Object.entries(limits).filter(([k]) => k in gossipDefaults));
    const host = o.gossipHost ?? (() => '127.0.0.1');
    const endpoint = (i: number): string => `${host(i, net.boards[i]!.id)}:${gossipBase + i}`;
    net.boards.forEach((b, i) => {
      const path = b.config;
      const cfg = JSON.parse(readFileSync(path, 'utf8')) as { gossip: Record<string, unknown> };
      cfg.gossip['listen'] = endpoint(i);
      const bootstrapsTo = o.bootstrapsTo ?? (() => true);
      cfg.gossip['bootstrap'] = net.boards.map((_, j) => j).filter((j) => j !== i && bootstrapsTo(b.id, net.boards[j]!.id)).map(endpoint);
      cfg.gossip['limits'] = known;
      writeFileSync(path, `${JSON.stringify(cfg, null, 2)}\n`);
    });
    // init gave the boards gossip ports base .. base + boards - 1: every other port is chosen outside them.
    const otherPort = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (p < gossipBase || p >= gossipBase + net.boards.length) return p;
      }
    };
    const mqttHost = o.mqttHost ?? '127.0.0.1';
    const mqttPort = await otherPort();
    const metricsPort = await otherPort();
    await o.beforeOrderer?.(net);
    const ordererMqtt = o.ordererMqtt ?? `mqtt://${mqttHost}:${mqttPort}`;
    const fleet = new GossipFleet(rig, net, root, ordererMqtt, metricsPort, limits, o.boardMqtt ?? (() => ordererMqtt));
    const { proc } = await rig.orderer([
      '--network', net.dir, '--data', join(root, 'orderer'), '--metrics-port', String(metricsPort),
      ...(o.ordererMqtt !== undefined ? ['--mqtt', o.ordererMqtt] : ['--mqtt-host', mqttHost, '--mqtt-port', String(mqttPort)]),
    ], { logLevel: 'info', onStderrLine: fleet.deliverLog.ingest });
    fleet.orderer = proc;
    for (const [index, b] of net.boards.entries()) {
      fleet.boards.set(b.id, { id: b.id, org: b.org, index, data: join(root, 'peers', b.id), endpoint: endpoint(index), metricsPort: await otherPort(), proc: null, records: [] });
    }
    return fleet;
  }

  get ordererData(): string {
    return join(this.root, 'orderer');
  }

  get ordererProc(): CliProcess {
    return this.orderer!;
  }

  board(id: string): FleetBoard {
    const b = this.boards.get(id);
    if (b === undefined) throw new Error(`no board ${id}`);
    return b;
  }

  proc(id: string): CliProcess {
    const p = this.board(id).proc;
    if (p === null) throw new Error(`board ${id} is not running`);
    return p;
  }

  ids(org?: string): string[] {
    return [...this.boards.values()].filter((b) => org === undefined || b.org === org).map((b) => b.id);
  }

  running(org?: string): FleetBoard[] {
    return [...this.boards.values()].filter((b) => b.proc !== null && (org === undefined || b.org === org));
  }

  get orgs(): string[] {
    return [...new Set(this.net.boards.map((b) => b.org))];
  }

  /**
   * Starts (or restarts, on the same data) a board process; `prefix` e.g. runs it in a network namespace,
   * `args` are more `edgepeer peer` flags (e.g. --gossip-seed), `onStderrLine` sees its whole log.
   */
  startBoard(id: string, opts: { prefix?: readonly string[]; args?: readonly string[]; onStderrLine?: (line: string) => void } = {}): CliProcess {
    const b = this.board(id);
    if (b.proc !== null) throw new Error(`board ${id} is already running`);
    const more = opts.onStderrLine;
    b.proc = this.rig.spawn([
      'peer', '--network', this.net.dir, '--board', id, '--data', b.data, '--mqtt', this.boardMqtt(id),
      '--status-interval-ms', String(FLEET_STATUS_INTERVAL_MS), '--metrics-port', String(b.metricsPort), ...(opts.args ?? []),
    ], {
      name: `peer ${id}`,
      // Info: a failure's description then shows each board's leadership transitions and deliver client.
      logLevel: 'info',
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
      onStderrLine: (line) => {
        if (line.startsWith('{')) {
          try {
            b.records.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // Not a log record.
          }
        }
        more?.(line);
      },
    });
    return b.proc;
  }

  /** The next log record's index for a board: pass as `since` to logRecords to count only what comes after. */
  logMark(id: string): number {
    return this.board(id).records.length;
  }

  /** A board's log records (pino JSON on stderr, warnings and up by default) whose message is `msg`, from record `since` on. */
  logRecords(id: string, msg: string, since = 0): Record<string, unknown>[] {
    return this.board(id).records.slice(since).filter((o) => o['msg'] === msg);
  }

  /** The 'gossip message dropped' warnings a board logged from record `since` on: sender and reason. */
  gossipDrops(id: string, since = 0): { sender: string; reason: string }[] {
    return this.logRecords(id, 'gossip message dropped', since).map((o) => ({ sender: String(o['sender']), reason: String(o['reason']) }));
  }

  startAll(except: readonly string[] = []): void {
    for (const id of this.ids()) if (!except.includes(id)) this.startBoard(id);
  }

  /** SIGTERM (must exit 0) or SIGKILL. */
  async stopBoard(id: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const b = this.board(id);
    const p = b.proc;
    if (p === null) return;
    b.proc = null;
    if (signal === 'SIGTERM') await p.stop();
    else await p.kill('SIGKILL');
  }

  async ordererHeight(): Promise<number> {
    const h = await readMetric(this.ordererMetricsPort, 'edgepeer_ledger_height', { channel: this.net.channel });
    if (h === undefined) throw new Error('the orderer reports no ledger height');
    return h;
  }

  /**
   * `submit` of `count` transactions through the rig (a test that fails before awaiting it still has it
   * killed); resolves when all are accepted. Often not awaited at once (a background load): the promise
   * is marked handled where it is made, so a failure while the test is elsewhere is not an unhandled
   * rejection, and it still rejects for whoever awaits it.
   */
  submit(count: number, size = 64): Promise<void> {
    const p = this.rig.spawn([
      'submit', '--network', this.net.dir, '--mqtt', this.mqtt, '--count', String(count), '--size', String(size), '--json',
    ], { name: `submit ${count}` });
    const done = (async (): Promise<void> => {
      await p.succeeded(SUBMIT_TIMEOUT_MS);
      const last = p.lines.at(-1);
      if (last === undefined) throw new Error(`submit ${count}: no output\n${p.describe()}`);
      const r = JSON.parse(last) as { accepted: number };
      if (r.accepted !== count) throw new Error(`the orderer accepted ${r.accepted} of ${count} transactions`);
    })();
    done.catch(() => undefined);
    return done;
  }

  /** Latest status of every running board (null: none printed yet). */
  statuses(): Map<string, StatusFields | null> {
    return new Map(this.running().map((b) => [b.id, lastStatus(b.proc!)]));
  }

  /** The one leader per org, when every running board's latest status agrees there is exactly one. */
  leaders(): Map<string, string> | null {
    const out = new Map<string, string>();
    for (const org of this.orgs) {
      const inOrg = this.running(org).map((b) => lastStatus(b.proc!));
      if (inOrg.some((s) => s === null)) return null;
      const leading = inOrg.filter((s) => s!['role'] === 'leader');
      if (leading.length !== 1) return null;
      out.set(org, leading[0]!['board']!);
    }
    return out;
  }

  /** Waits until every running board (or `ids`) prints a status at `height`; returns those statuses. */
  async allAt(height: number, timeoutMs: number, ids = this.running().map((b) => b.id)): Promise<StatusFields[]> {
    return Promise.all(ids.map((id) => waitForStatus(this.proc(id), (s) => heightOf(s) === height, `height=${height}`, { timeoutMs })));
  }

  describe(): string {
    return [...this.running().map((b) => b.proc!.describe()), `orderer Deliver log:\n${this.deliverLog.describe()}`].join('\n');
  }

  /**
   * Asserts that the orderer is at `height` and that every board of `ids` has a ledger that verifies
   * block by block (`ledger verify`, read-only: a running board's too) and ends on the orderer's last block.
   */
  async assertConverged(ids: readonly string[], height: number): Promise<void> {
    const orderer = await ledgerInfo(this.ordererData);
    assert.equal(orderer.height, height, 'the orderer is at the height the boards are checked against');
    const verified = await Promise.all(ids.map((id) => ledgerVerify(this.board(id).data)));
    for (const [i, v] of verified.entries()) {
      assert.deepEqual(v, { ok: true, channel: this.net.channel, height, lastHash: orderer.lastHash },
        `${ids[i]}'s ledger verifies and ends on the orderer's last block`);
    }
  }
}

/**
 * Waits until every org has one leader by the boards' status lines and the Deliver log shows exactly one
 * stream open per org, opened by that leader; returns the leaders by org.
 */
export function untilSettled(fleet: GossipFleet, log: DeliverLog, timeoutMs: number): Promise<Map<string, string>> {
  return pollUntil(() => {
    const l = fleet.leaders();
    if (l === null) return null;
    const open = log.openAt(log.mark);
    for (const [org, leader] of l) {
      const streams = [...(open.get(org)?.values() ?? [])];
      if (streams.length !== 1 || streams[0] !== leader) return null;
    }
    return l;
  }, 'one leader per org, streaming alone', timeoutMs, () => fleet.describe());
}

/** A board's blocks by origin from its metrics (edgepeer_gossip_blocks_received_total{origin}; its current process life). */
export async function blocksByOrigin(b: FleetBoard): Promise<BlockSources> {
  const out: BlockSources = { orderer: 0, push: 0, pull: 0, catchup: 0 };
  for (const origin of Object.keys(out) as (keyof BlockSources)[]) {
    out[origin] = (await readMetric(b.metricsPort, 'edgepeer_gossip_blocks_received_total', { origin })) ?? 0;
  }
  return out;
}
