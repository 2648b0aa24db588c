// One board's gossip for one channel: announces itself (ALIVE), tracks membership, elects its org's
// leader (which alone runs the deliver client), pushes blocks the leader got from the orderer to `fanout`
// random live members, repairs what push missed by pull (DIGEST), streams long gaps from a neighbour
// (catch-up), serves its own blocks to others, and offers every gossiped block to the peer, which
// verifies it like a delivered one.
import { EventEmitter } from 'node:events';
import { configFromBlock } from '../channel/blocks.js';
import { ChannelState } from '../channel/channelState.js';
import type { Clock, TimerHandle } from '../config/clock.js';
import { gossipDefaults } from './gossipDefaults.js';
import type { BlockLedger } from '../ledger/ledger.js';
import type { Logger } from '../observability/logger.js';
import { HEADER_BYTES, HEADER_OFFSET, blockNumber } from '../protocol/block.js';
import type { Signer } from '../protocol/envelope.js';
import type { BlockSource, Peer } from '../peer/peer.js';
import type { BoardRole, RoleSource } from '../peer/role.js';
import type { SyncState } from '../peer/syncTracker.js';
import { BlockServer } from './blockServer.js';
import { CatchUp } from './catchUp.js';
import { LeaderElection } from './election.js';
import { Membership } from './membership.js';
import { type GossipedOrigin, PendingBlocks } from './pendingBlocks.js';
import { RateLimitedLog } from './rateLimitedLog.js';
import {
  type AliveBody, BlocksKind, type BlocksKindValue, type GossipBody, GossipType, type GossipMessage, type RangePosition, openGossip, signGossip,
} from './messages.js';
import {
  type Candidate, type Election, type GossipBlockOrigin, type GossipDiscovery, type GossipDiscoveryFactory,
  type GossipMessageKind, type GossipMetricsSink, noGossipMetrics,
} from './seams.js';
import { type GossipTransport, startTcpTransport } from './tcpTransport.js';

export type GossipLimits = { -readonly [K in keyof typeof gossipDefaults]: number };

/** What gossip reads of the board's own ledger: to serve blocks, and to follow configuration blocks. */
export type GossipLedger = Pick<BlockLedger, 'height' | 'readBlocks' | 'lastConfigNumber' | 'getBlock'>;

export interface GossipNodeOptions {
  peer: Peer;
  /** The board's ledger (the peer's): blocks served to neighbours come from it. */
  ledger: GossipLedger;
  /** The channel's configuration, for authenticating members (the Readers policy and org roots). */
  channelState: ChannelState;
  signer: Signer;
  /** host:port to listen on (port 0: any free port). */
  listen: string;
  /** host:port others reach this board at, when not the listen address (0.0.0.0, NAT, a proxy). */
  advertise?: string;
  /** host:port of other boards to announce ourselves to. */
  bootstrap: string[];
  clock: Clock;
  /** Uniform in [0, 1): which members a block is pushed to, pulled from, streamed from. */
  random: () => number;
  log: Logger;
  limits?: Partial<GossipLimits>;
  /** Who leads the org; default: the dynamic, height-aware election (src/gossip/election.ts). */
  election?: Election;
  /** A second way to find neighbours (UDP multicast on the LAN); ALIVEs go out on it too. */
  discovery?: GossipDiscoveryFactory;
  metrics?: GossipMetricsSink;
}

export interface GossipNodeEvents {
  /** This board's role changed (the peer's deliver client is started or stopped accordingly). */
  role: [role: BoardRole, leader: string | null];
  /** A gossip message was dropped; says who sent it and why. */
  dropped: [sender: string, reason: string];
}


const KIND_OF_TYPE: Record<number, GossipMessageKind> = {
  [GossipType.ALIVE]: 'alive', [GossipType.BLOCKS]: 'blocks', [GossipType.DIGEST]: 'digest',
  [GossipType.RANGE_REQUEST]: 'range_request', [GossipType.RANGE_ACK]: 'range_ack',
};

const GOSSIPED_ORIGINS: readonly GossipedOrigin[] = ['push', 'pull', 'catchup'];

const ORIGIN_OF_KIND: Record<BlocksKindValue, GossipedOrigin> = {
  [BlocksKind.PUSH]: 'push', [BlocksKind.PULL]: 'pull', [BlocksKind.RANGE]: 'catchup',
};

export class GossipNode extends EventEmitter<GossipNodeEvents> implements RoleSource {
  private readonly limits: GossipLimits;
  private readonly membership: Membership;
  private readonly election: Election;
  private readonly self: { id: string; org: string };
  private readonly incarnation: number;
  private readonly metrics: GossipMetricsSink;
  private readonly server: BlockServer;
  private readonly catchUp: CatchUp;
  private channelState: ChannelState;
  private configNumber: number;
  private seq = 0;
  private transport: GossipTransport | null = null;
  private discovery: GossipDiscovery | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private lastPullMs = 0;
  private lastGapPullMs = 0;
  /** When this board last became (or stopped being) its org's leader. */
  private leaderSinceMs = 0;
  private settleTimer: TimerHandle | null = null;
  /** Since when another org member has claimed leadership while this board leads; null: none does. */
  private rivalClaimSinceMs: number | null = null;
  /** Members sent a DIGEST, and when: only their PULL answers are taken. */
  private readonly pullAsked = new Map<string, number>();
  /**
   * Blocks taken from the orderer and not yet pushed: pushed once committed, as one batch per run. They are
   * views into the deliver client's ingress ring, whose space is reused only after the peer's 'committed'
   * listeners ran, and flushOutbox encodes (copies) them there.
   */
  private outbox: Uint8Array[] = [];
  /** Gossiped blocks ahead of the peer's next number, waiting for the gap before them to fill. */
  private readonly pending: PendingBlocks;
  private readonly warnings: RateLimitedLog;
  private readonly bySource: Record<GossipBlockOrigin, number> = { orderer: 0, push: 0, pull: 0, catchup: 0 };
  /** Blocks one drain() took, by origin (reused). */
  private readonly tookByOrigin: Record<GossipedOrigin, number> = { push: 0, pull: 0, catchup: 0 };
  private lastLeaderReported: string | null | undefined = undefined;
  private readonly onAccepted = (blocks: Uint8Array[], source: BlockSource): void => {
    if (source !== 'orderer') return;
    for (const b of blocks) this.outbox.push(b);
    this.bySource.orderer += blocks.length;
    this.metrics.blocksReceived('orderer', blocks.length);
  };
  private readonly onCommitted = (): void => {
    this.followConfig();
    this.flushOutbox();
    this.drain();
  };

  constructor(private readonly o: GossipNodeOptions) {
    super();
    this.limits = { ...gossipDefaults, ...o.limits };
    this.self = { id: o.signer.certificate.id, org: o.signer.certificate.org };
    this.metrics = o.metrics ?? noGossipMetrics;
    this.membership = new Membership(this.self.id, this.limits.aliveExpirationMs);
    this.election = o.election ?? new LeaderElection(this.self.id, this.limits, o.clock.now());
    // A restarted board must out-number its earlier ALIVEs, which others remember.
    this.incarnation = o.clock.now();
    this.pending = new PendingBlocks(this.limits.pendingBlocksMax);
    this.warnings = new RateLimitedLog(o.log, o.clock, this.limits.dropLogIntervalMs, this.limits.dropLogKeysMax);
    this.channelState = o.channelState;
    this.configNumber = o.ledger.lastConfigNumber();
    const send = (member: string, body: GossipBody): boolean => this.sendTo(member, body);
    this.server = new BlockServer({ ledger: o.ledger, limits: this.limits, send, log: o.log });
    this.catchUp = new CatchUp({ limits: this.limits, send, random: o.random, log: o.log });
  }

  role(): BoardRole {
    return this.election.isLeader ? 'leader' : 'follower';
  }

  /** A follower's sync state: level with the best live member (heights from ALIVEs and blocks seen). */
  followerSync(): SyncState {
    const live = this.membership.live();
    if (live.length === 0) return 'offline';
    let best = 0;
    for (const m of live) best = Math.max(best, m.height);
    return !this.catchUp.active && best - this.o.peer.height <= this.limits.followerInSyncSlackBlocks ? 'in-sync' : 'syncing';
  }

  get leader(): string | null {
    return this.election.leader;
  }

  get endpoint(): string {
    return this.o.advertise ?? this.transport?.endpoint ?? this.o.listen;
  }

  /** Blocks the peer took, by where they came from. */
  blocksBySource(): Record<GossipBlockOrigin, number> {
    return { ...this.bySource };
  }

  /** Catch-up streams this board started, and blocks it served to others (pull answers and streams). */
  get transfers(): { catchUpStreams: number; blocksServed: number; servingStreams: number } {
    return { catchUpStreams: this.catchUp.streamsStarted, blocksServed: this.server.blocksServed, servingStreams: this.server.openSessions };
  }

  liveMembers(): { id: string; org: string; height: number }[] {
    return this.membership.live().map((m) => ({ id: m.id, org: m.org, height: m.height }));
  }

  async start(): Promise<void> {
    this.transport = await startTcpTransport({
      listen: this.o.listen,
      limits: this.limits,
      clock: this.o.clock,
      log: this.o.log,
      onMessage: (bytes) => this.receive(bytes),
    });
    if (this.o.discovery !== undefined) {
      try {
        this.discovery = await this.o.discovery((bytes) => this.receive(bytes));
      } catch (err) {
        // A board that cannot join its configured group stops with the reason (docs/operations.md),
        // without leaving its gossip listener open.
        await this.transport.stop();
        this.transport = null;
        throw err;
      }
    }
    this.o.peer.on('accepted', this.onAccepted);
    this.o.peer.on('committed', this.onCommitted);
    this.o.log.info({ channel: this.o.peer.channel, listen: this.transport.endpoint, advertise: this.endpoint, bootstrap: this.o.bootstrap }, 'gossip started');
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    if (this.settleTimer !== null) this.o.clock.clearTimeout(this.settleTimer);
    this.timer = null;
    this.settleTimer = null;
    this.catchUp.cancel('stopping');
    // Said before going: the org elects a successor now instead of after aliveExpirationMs of silence
    // (a leader's redeploy would otherwise leave its org without a Deliver stream that long).
    this.announce(true);
    this.server.stop();
    this.o.peer.off('accepted', this.onAccepted);
    this.o.peer.off('committed', this.onCommitted);
    await this.discovery?.stop();
    await this.transport?.stop();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    this.announce();
    for (const m of this.membership.expire(now)) {
      this.o.log.warn({ member: `${m.org}/${m.id}`, endpoint: m.endpoint }, 'gossip member dead');
    }
    this.elect();
    this.server.expire(now);
    this.catchUp.tick(now);
    this.repair(now);
    this.metrics.liveMembers(this.membership.live().length);
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.limits.aliveIntervalMs);
    this.timer.unref?.();
  }

  /** A follower behind its neighbours: a stream for a long gap, a DIGEST now and then for a short one. */
  private repair(now: number): void {
    if (this.o.peer.isDelivering) return;
    const next = this.o.peer.nextNumber();
    const live = this.membership.live();
    if (this.catchUp.maybeStart(next, live, now)) return;
    if (this.catchUp.active || now - this.lastPullMs < this.limits.pullIntervalMs) return;
    const ahead = live.filter((m) => m.height > next);
    if (ahead.length === 0) return;
    this.lastPullMs = now;
    const to = ahead[Math.floor(this.o.random() * ahead.length)]!;
    if (this.sendTo(to.id, { type: GossipType.DIGEST, height: next })) this.pullAsked.set(to.id, now);
  }

  private announce(leaving = false): void {
    const t = this.transport;
    if (t === null) return;
    this.seq++;
    const msg = this.sign({
      type: GossipType.ALIVE,
      alive: {
        ...this.self, height: this.o.peer.height, incarnation: this.incarnation, seq: this.seq, endpoint: this.endpoint,
        leader: this.election.isLeader && !leaving, ...(leaving ? { leaving: true } : {}),
      },
    });
    const targets = new Set(this.o.bootstrap);
    for (const m of this.membership.live()) targets.add(m.endpoint);
    targets.delete(this.endpoint);
    targets.delete(t.endpoint);
    for (const to of targets) this.sendBytes(to, msg, 'alive');
    if (this.discovery !== null) {
      this.discovery.send(msg);
      this.metrics.message('out', 'alive', msg.length);
    }
  }

  private elect(): void {
    const now = this.o.clock.now();
    const live: Candidate[] = this.membership.live().filter((m) => m.org === this.self.org).map((m) => ({ id: m.id, height: m.height, leading: m.leader }));
    live.push({ id: this.self.id, height: this.o.peer.height });
    const wasLeader = this.election.isLeader;
    if (this.election.update(live, now)) {
      this.o.log.info({ org: this.self.org, leader: this.election.leader }, 'gossip leader elected');
    }
    if (this.lastLeaderReported !== this.election.leader) {
      this.lastLeaderReported = this.election.leader;
      this.metrics.leader(this.self.org, this.election.leader);
    }
    const isLeader = this.election.isLeader;
    if (isLeader !== wasLeader) {
      this.leaderSinceMs = now;
      // Said at once rather than at the next tick: a rival that elected itself too hears the claim, and
      // a successor learns that its predecessor stepped down, one aliveIntervalMs sooner.
      this.announce();
    }
    const rivals = live.filter((c) => c.id !== this.self.id && c.leading === true).map((c) => c.id);
    if (!isLeader || rivals.length === 0) this.rivalClaimSinceMs = null;
    else if (this.rivalClaimSinceMs === null) this.rivalClaimSinceMs = now;
    if (this.rivalClaimSinceMs !== null && now - this.rivalClaimSinceMs > this.limits.leaderMinTermMs) {
      // A rival steps down within an ALIVE or two of hearing this board's claim (the election's rival
      // rule); one that goes on claiming never gives way: two static orgLeaders.
      this.warnings.warn('rival-leader', { org: this.self.org, rivals }, 'another board of this org keeps claiming leadership (two static orgLeaders?)');
    }
    // A new leader waits for a predecessor that still claims the role to step down (its next ALIVE), and
    // for leaderClaimSettleMs for a rival's claim, so that a handover or boards electing themselves at the
    // same moment open no second Deliver stream. A leader already streaming goes on while a rival (a board
    // back from a partition, which led its island) claims: the rival rule makes one of them step down, and
    // stopping here too would leave the org without a stream in between.
    const settled = now - this.leaderSinceMs >= this.limits.leaderClaimSettleMs;
    const deliver = isLeader && settled && (this.o.peer.isDelivering || rivals.length === 0);
    if (deliver) this.catchUp.cancel('leading: the orderer is the source now');
    if (deliver !== this.o.peer.isDelivering) void this.o.peer.setDelivering(deliver);
    if (isLeader && !settled && this.settleTimer === null) {
      this.settleTimer = this.o.clock.setTimeout(() => {
        this.settleTimer = null;
        if (!this.stopped) this.elect();
      }, this.leaderSinceMs + this.limits.leaderClaimSettleMs - now);
      this.settleTimer.unref?.();
    }
    if (isLeader !== wasLeader) this.emit('role', this.role(), this.election.leader);
  }

  private sign(body: GossipBody): Uint8Array {
    return signGossip(this.o.peer.channel, body, this.o.signer, this.o.clock.now());
  }

  /** Signs and sends to a live (or once heard) member, by id. */
  private sendTo(member: string, body: GossipBody): boolean {
    const m = this.membership.get(member);
    if (m === undefined) return false;
    return this.sendBytes(m.endpoint, this.sign(body), KIND_OF_TYPE[body.type]!);
  }

  private sendBytes(endpoint: string, msg: Uint8Array, kind: GossipMessageKind): boolean {
    const t = this.transport;
    if (t === null || !t.send(endpoint, msg)) return false;
    this.metrics.message('out', kind, msg.length);
    return true;
  }

  private receive(bytes: Uint8Array): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const r = openGossip(bytes, this.channelState, now, this.limits.messageTimeWindowMs);
    if (!r.ok) {
      this.drop(r.sender, r.reason);
      return;
    }
    const m = r.message;
    const from = m.sender.id;
    this.metrics.message('in', KIND_OF_TYPE[m.body.type]!, bytes.length);
    switch (m.body.type) {
      case GossipType.ALIVE:
        this.receiveAlive(m, m.body.alive);
        return;
      case GossipType.BLOCKS:
        this.receiveBlocks(m, m.body.blocks, m.body.kind ?? BlocksKind.PUSH, m.body.range);
        return;
      case GossipType.DIGEST:
        this.membership.sawHeight(from, m.body.height);
        this.server.digest(from, m.body.height);
        return;
      case GossipType.RANGE_REQUEST:
        this.server.request(from, m.body.request, now);
        return;
      case GossipType.RANGE_ACK:
        this.server.ack(from, m.body.ack, now);
        return;
    }
  }

  private drop(sender: string, reason: string): void {
    this.emit('dropped', sender, reason);
    this.warnings.warn(`${sender}\n${reason}`, { sender, reason }, 'gossip message dropped');
  }

  private receiveAlive(m: GossipMessage, a: AliveBody): void {
    const outcome = this.membership.heard(a, this.o.clock.now());
    if (a.leaving === true && outcome !== 'stale') {
      if (this.membership.left(a.id) !== undefined) {
        this.o.log.info({ member: `${m.sender.org}/${m.sender.id}` }, 'gossip member left');
        this.elect();
      }
      return;
    }
    if (outcome === 'new' || outcome === 'revived') {
      this.o.log.info({ member: `${m.sender.org}/${m.sender.id}`, endpoint: a.endpoint, height: a.height }, `gossip member ${outcome === 'new' ? 'joined' : 'back'}`);
      this.elect();
    }
  }

  private receiveBlocks(m: GossipMessage, blocks: Uint8Array[], kind: BlocksKindValue, range: RangePosition | undefined): void {
    const from = m.sender.id;
    const now = this.o.clock.now();
    for (const b of blocks) {
      if (b.length < HEADER_OFFSET + HEADER_BYTES) {
        this.drop(`${m.sender.org}/${from}`, 'block shorter than a header');
        return;
      }
    }
    if (kind === BlocksKind.RANGE) {
      const lastNumber = blocks.length > 0 ? blockNumber(blocks[blocks.length - 1]!) : -1;
      if (range === undefined || !this.catchUp.received(from, range, lastNumber, now)) return;
    } else if (kind === BlocksKind.PULL) {
      const asked = this.pullAsked.get(from);
      if (asked === undefined || now - asked > 2 * this.limits.pullIntervalMs + this.limits.aliveIntervalMs) {
        this.drop(`${m.sender.org}/${from}`, 'pull answer nobody asked for');
        return;
      }
    }
    const origin = ORIGIN_OF_KIND[kind];
    const next = this.o.peer.nextNumber();
    let duplicates = 0;
    let notTaken = 0;
    for (const b of blocks) {
      const outcome = this.pending.hold(blockNumber(b), next, { block: b, from, origin });
      // A full pending set does not lose the block: it stays with its sender and the orderer, and pull
      // or a catch-up stream fetches it once the gap before it is filled.
      if (outcome === 'duplicate') duplicates++;
      else if (outcome === 'full') notTaken++;
    }
    if (duplicates > 0) this.metrics.duplicates(duplicates);
    if (notTaken > 0) {
      this.drop(`${m.sender.org}/${from}`, `pushed blocks far ahead not held (${this.limits.pendingBlocksMax} pending): left to pull and catch-up`);
    }
    if (blocks.length > 0) this.membership.sawBlock(from, blockNumber(blocks[blocks.length - 1]!));
    this.drain();
    if (origin === 'push' && blocks.length > 0) this.pullGap(from, blockNumber(blocks[0]!), now);
  }

  /**
   * A pushed block arrived past a gap: ask its sender for what lies before it now, not at the next pull
   * tick, because in-order commits hold every later block behind the gap. A board forwards only blocks
   * its peer took, which continue its chain, so the sender holds the gap's blocks.
   */
  private pullGap(from: string, firstNumber: number, now: number): void {
    const next = this.o.peer.nextNumber();
    if (firstNumber <= next || this.pending.has(next) || this.o.peer.isDelivering || this.catchUp.active) return;
    if (now - this.lastGapPullMs < this.limits.gapPullMinIntervalMs) return;
    this.lastGapPullMs = now;
    if (this.sendTo(from, { type: GossipType.DIGEST, height: next })) this.pullAsked.set(from, now);
  }

  /** Offers the pending run that continues the peer's chain; forwards pushed blocks it took (infect-and-die). */
  private drain(): void {
    // Blocks the peer got another way (the orderer, while leading) are dropped once; those taken below
    // are deleted as they are taken.
    this.pending.dropBelow(this.o.peer.nextNumber());
    const took = this.tookByOrigin;
    took.push = took.pull = took.catchup = 0;
    for (;;) {
      const next = this.o.peer.nextNumber();
      const run = this.pending.run(next, this.limits.blocksPerMessageMax);
      if (run.length === 0) break;
      const taken = this.o.peer.offerFromGossip(run, 0);
      const after = this.o.peer.nextNumber();
      const pushed: Uint8Array[] = [];
      const senders = new Set<string>();
      for (let n = next; n < after; n++) {
        const p = this.pending.delete(n)!;
        took[p.origin]++;
        if (p.origin === 'push') {
          pushed.push(p.block);
          senders.add(p.from);
        }
      }
      // Only blocks new to the fleet travel on; pulled and streamed ones are repairs of this board.
      if (pushed.length > 0) this.push(pushed, senders);
      if (taken < 0) {
        const bad = this.pending.delete(after);
        if (bad !== undefined) this.catchUp.misbehaved(bad.from, this.o.clock.now());
        this.drop(bad === undefined ? 'unknown' : bad.from, `gossiped block ${after} rejected by verification`);
        continue;
      }
      if (taken < run.length) break;
    }
    // Counted per drain, not per block: a metric update builds a label object each time.
    for (const origin of GOSSIPED_ORIGINS) {
      if (took[origin] === 0) continue;
      this.bySource[origin] += took[origin];
      this.metrics.blocksReceived(origin, took[origin]);
    }
    this.catchUp.progress(this.o.peer.nextNumber());
  }

  /** A configuration block was committed: members are authenticated against the new configuration. */
  private followConfig(): void {
    const n = this.o.ledger.lastConfigNumber();
    if (n === this.configNumber) return;
    const block = this.o.ledger.getBlock(n);
    if (block === undefined) return;
    this.configNumber = n;
    this.channelState = new ChannelState(configFromBlock(block));
    this.o.log.info({ block: n }, 'gossip follows a new channel configuration');
  }

  private flushOutbox(): void {
    if (this.outbox.length === 0) return;
    const height = this.o.peer.height;
    const ready = this.outbox.filter((b) => blockNumber(b) < height);
    this.outbox = this.outbox.filter((b) => blockNumber(b) >= height);
    if (ready.length > 0) this.push(ready, new Set());
  }

  /** Sends blocks to `fanout` random live members other than self and `exclude`. */
  private push(blocks: Uint8Array[], exclude: ReadonlySet<string>): void {
    const candidates = this.membership.live().filter((m) => !exclude.has(m.id));
    const k = Math.min(this.limits.fanout, candidates.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.o.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    if (k === 0) return;
    for (let i = 0; i < blocks.length;) {
      const batch = this.batch(blocks, i);
      i += batch.length;
      const msg = this.sign({ type: GossipType.BLOCKS, blocks: batch });
      for (const m of candidates.slice(0, k)) this.sendBytes(m.endpoint, msg, 'blocks');
    }
  }

  /** blocks[from..] as far as one message holds (blocksPerMessageMax, blocksMessageMaxBytes; one at least). */
  private batch(blocks: Uint8Array[], from: number): Uint8Array[] {
    let bytes = 0;
    let end = from;
    while (end < blocks.length && end - from < this.limits.blocksPerMessageMax) {
      bytes += blocks[end]!.length;
      if (end > from && bytes > this.limits.blocksMessageMaxBytes) break;
      end++;
    }
    return blocks.slice(from, end);
  }

}
