// One board's gossip for one channel, wired: announces itself (ALIVE) and tracks membership, and hands
// the rest to one part per job: the org's leadership (leadership.ts: who streams from the orderer), push
// (blockPush.ts), blocks coming in and their repair (blockIntake.ts, with catchUp.ts), and blocks served
// to others (blockServer.ts). The network, the clock, randomness, the peer that verifies and commits, the
// message codec and the block format are all injected (seams.ts), so the node's logic runs without TCP.
import { EventEmitter } from 'node:events';
import { configFromBlock } from '../channel/blocks.js';
import { ChannelState } from '../channel/channelState.js';
import type { Clock, TimerHandle } from '../config/clock.js';
import { gossipDefaults } from './gossipDefaults.js';
import { edgepeerBlockFormat } from '../channel/edgepeerFormat.js';
import type { BlockLedger } from '../ledger/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { BlockFormat } from '../protocol/blockFormat.js';
import type { Signer } from '../protocol/envelope.js';
import type { BoardRole, RoleSource } from '../peer/role.js';
import type { SyncState } from '../peer/syncTracker.js';
import { BlockIntake } from './blockIntake.js';
import { BlockPush } from './blockPush.js';
import { BlockServer } from './blockServer.js';
import { CatchUp } from './catchUp.js';
import { LeaderElection, StaticElection } from './election.js';
import { Leadership } from './leadership.js';
import { type Member, Membership, memberKey } from './membership.js';
import { randomSubset } from '../config/random.js';
import { AliveRelayQueue, aliveExpiryRule, alivesTaken, expectsDirect, relayMode } from './aliveRelay.js';
import { RateLimitedLog } from '../observability/rateLimitedLog.js';
import {
  type AliveBody, BlocksKind, type GossipBody, type GossipCodec, GossipType, type GossipMessage, type OpenFailure, decodeForOpen, openWith,
  signedGossipCodec,
} from './messages.js';
import {
  type Election, type GossipBlockOrigin, type GossipDiscovery, type GossipDiscoveryFactory, type GossipMessageKind,
  type GossipMetricsSink, type GossipPeer, type GossipTransport, type GossipTransportFactory, type PeerBlockSource,
  noGossipMetrics,
} from './seams.js';
import { startTcpTransport } from './tcpTransport.js';

export type GossipLimits = { -readonly [K in keyof typeof gossipDefaults]: number };

/** What gossip reads of the board's own ledger: to serve blocks, and to follow configuration blocks. */
export type GossipLedger = Pick<BlockLedger, 'height' | 'readBlocks' | 'lastConfigNumber' | 'getBlock'>;

export interface GossipNodeOptions {
  /** The board's peer: verifies and commits what gossip offers, runs the Deliver client while leading. */
  peer: GossipPeer;
  /** The board's ledger (the peer's): blocks served to neighbours come from it. */
  ledger: GossipLedger;
  /** The channel's configuration, for authenticating members (the Readers policy and org roots). */
  channelState: ChannelState;
  signer: Signer;
  /** host:port to listen on (port 0: any free port); with `transport`, what that transport is told. */
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
  /** The network between boards; default TCP on `listen` (tcpTransport.ts). */
  transport?: GossipTransportFactory;
  /** Signs and authenticates messages; default Ed25519 by `signer`, senders judged by the channel's configuration. */
  codec?: GossipCodec;
  /** How the channel's blocks are read (their numbers); default edgepeer's own format. */
  format?: BlockFormat;
}

/**
 * Whether members are judged by the newest configuration block of the ledger. So for edgepeer chains;
 * a Fabric channel's configuration blocks name Fabric identities, which boards do not have, so its
 * boards are judged by the channel's edge access configuration given as `channelState` (docs/design.md,
 * "Fabric channels").
 */
function followsLedgerConfig(format: BlockFormat): boolean {
  return format.name === 'edgepeer';
}

export interface GossipNodeEvents {
  /** This board's role changed (the peer's deliver client is started or stopped accordingly). */
  role: [role: BoardRole, leader: string | null];
  /** A gossip message was dropped; says who sent it and why. */
  dropped: [sender: string, reason: string];
}

const KIND_OF_TYPE: Record<number, GossipMessageKind> = {
  [GossipType.ALIVE]: 'alive', [GossipType.BLOCKS]: 'blocks', [GossipType.DIGEST]: 'digest',
  [GossipType.RANGE_REQUEST]: 'range_request', [GossipType.RANGE_ACK]: 'range_ack', [GossipType.ALIVES]: 'alive',
};

export class GossipNode extends EventEmitter<GossipNodeEvents> implements RoleSource {
  private readonly limits: GossipLimits;
  private readonly membership: Membership;
  private readonly leadership: Leadership;
  private readonly self: { id: string; org: string };
  private readonly incarnation: number;
  private readonly metrics: GossipMetricsSink;
  private readonly codec: GossipCodec;
  private readonly server: BlockServer;
  private readonly catchUp: CatchUp;
  private readonly push: BlockPush;
  private readonly intake: BlockIntake;
  private configNumber: number;
  private readonly followsConfig: boolean;
  private seq = 0;
  /** Others' ALIVEs accepted since the last send, to relay once (relay mode, aliveRelay.ts). */
  private readonly relay: AliveRelayQueue;
  /** Relayed ALIVEs left unopened as copies of what this board holds (their signatures not checked). */
  private staleRelayed = 0;
  private openedRelayed = 0;
  /** Whether the last ALIVE went out in relay mode: the first one that does also goes to every member. */
  private wasRelaying = false;
  /** This board's last ALIVE as sent: what a bare answer to a newcomer carries. */
  private lastOwnAlive: Uint8Array | null = null;
  /** Leaders of this org this board introduced itself to, by key: the leaderSinceMs it did so for. */
  private readonly introduced = new Map<string, number>();
  private transport: GossipTransport | null = null;
  private discovery: GossipDiscovery | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly warnings: RateLimitedLog;
  private readonly onAccepted = (blocks: Uint8Array[], source: PeerBlockSource): void => {
    if (source !== 'orderer') return;
    this.push.fromOrderer(blocks);
    this.intake.fromOrderer(blocks.length);
  };
  private readonly onCommitted = (): void => {
    this.followConfig();
    this.intake.drain();
  };

  constructor(private readonly o: GossipNodeOptions) {
    super();
    const limits: GossipLimits = { ...gossipDefaults, ...o.limits };
    this.limits = limits;
    this.self = { id: o.signer.certificate.id, org: o.signer.certificate.org };
    this.metrics = o.metrics ?? noGossipMetrics;
    this.codec = o.codec ?? signedGossipCodec(o.peer.channel, o.signer, o.channelState, limits.messageTimeWindowMs);
    this.membership = new Membership(this.self, limits.aliveExpirationMs, limits.messageTimeWindowMs, limits.membersMax);
    this.relay = new AliveRelayQueue(limits);
    // A restarted board must out-number its earlier ALIVEs, which others remember.
    this.incarnation = o.clock.now();
    this.warnings = new RateLimitedLog(o.log, o.clock, limits.dropLogIntervalMs, limits.dropLogKeysMax);
    this.configNumber = o.ledger.lastConfigNumber();
    const format = o.format ?? edgepeerBlockFormat;
    this.followsConfig = followsLedgerConfig(format);
    const send = (member: string, body: GossipBody): boolean => this.sendTo(member, body);
    this.server = new BlockServer({ ledger: o.ledger, limits, send, log: o.log });
    this.catchUp = new CatchUp({ limits, send, random: o.random, log: o.log });
    this.push = new BlockPush({
      limits, random: o.random, members: () => this.membership.live(),
      self: { key: memberKey(this.self.org, this.self.id), org: this.self.org }, isLeader: () => this.leadership.isLeader,
      seal: (body) => this.seal(body), sendBytes: (endpoint, msg, kind) => this.sendBytes(endpoint, msg, kind),
    });
    this.intake = new BlockIntake({
      peer: o.peer, membership: this.membership, catchUp: this.catchUp, push: this.push, reader: format.reader(), limits,
      clock: o.clock, random: o.random, metrics: this.metrics, send, drop: (sender, reason) => this.drop(sender, reason),
    });
    this.leadership = new Leadership({
      self: this.self,
      election: o.election ?? new LeaderElection(this.self.id, limits, o.clock.now()),
      // A static leader has nobody to yield to; a static follower never leads.
      canYield: !(o.election instanceof StaticElection),
      limits, clock: o.clock, log: o.log, warnings: this.warnings,
      // Boards of this org only: a client's or an admin's certificate is never elected (it would not stream).
      orgMembers: () => this.membership.live().filter((m) => m.org === this.self.org && m.role === 'peer')
        .map((m) => ({ id: m.id, height: m.height, leading: m.leader, ...(m.yielding ? { yielding: true } : {}) })),
      ownHeight: () => o.peer.height,
      uplink: o.peer,
      leaderSeen: (org, leader) => this.metrics.leader(org, leader),
      claimChanged: () => this.announce(false, true),
      streaming: () => this.catchUp.cancel('leading: the orderer is the source now'),
      roleChanged: (role, leader) => this.emit('role', role, leader),
    });
  }

  role(): BoardRole {
    return this.leadership.role();
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
    return this.leadership.leader;
  }

  get endpoint(): string {
    return this.o.advertise ?? this.transport?.endpoint ?? this.o.listen;
  }

  /** Relayed ALIVEs opened (authenticated) and left unopened as stale copies, since start. */
  get relayedAlives(): { opened: number; stale: number } {
    return { opened: this.openedRelayed, stale: this.staleRelayed };
  }

  /** Blocks the peer took, by where they came from. */
  blocksBySource(): Record<GossipBlockOrigin, number> {
    return this.intake.blocksBySource();
  }

  /** Pushed blocks held waiting for a gap to fill, and their bytes (bounded: pendingBlocks.ts). */
  get pushedHeld(): { blocks: number; bytes: number } {
    return this.intake.pushedHeld;
  }

  /** Catch-up streams this board started, and blocks it served to others (pull answers and streams). */
  get transfers(): { catchUpStreams: number; blocksServed: number; servingStreams: number } {
    return { catchUpStreams: this.catchUp.streamsStarted, blocksServed: this.server.blocksServed, servingStreams: this.server.openSessions };
  }

  liveMembers(): { id: string; org: string; height: number }[] {
    return this.membership.live().map((m) => ({ id: m.id, org: m.org, height: m.height }));
  }

  async start(): Promise<void> {
    const onMessage = (bytes: Uint8Array): boolean => this.receive(bytes);
    this.transport = await (this.o.transport ?? ((on) => startTcpTransport({
      listen: this.o.listen, limits: this.limits, clock: this.o.clock, log: this.o.log, onMessage: on,
    })))(onMessage);
    if (this.o.discovery !== undefined) {
      try {
        this.discovery = await this.o.discovery(onMessage);
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
    this.timer = null;
    this.leadership.stop();
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
    const liveMembers = this.membership.liveCount();
    for (const m of this.membership.expire(now, aliveExpiryRule({ org: this.self.org, liveMembers, limits: this.limits }))) {
      this.o.log.warn({ member: `${m.org}/${m.id}`, endpoint: m.endpoint }, 'gossip member dead');
    }
    this.leadership.evaluate();
    this.server.expire(now);
    this.catchUp.tick(now);
    this.intake.repair(now);
    this.metrics.liveMembers(this.membership.liveCount());
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.limits.aliveIntervalMs);
    this.timer.unref?.();
  }

  /**
   * Sends this board's ALIVE. Up to aliveDirectMembersMax live members: to every one of them and to every
   * bootstrap address, as ever (a board that starts knows nobody, so it says itself to all of them). Beyond it
   * (relay mode, §12b.3): with the ALIVEs to relay, to aliveFanout random members; alone to every board of
   * its org while it leads, and once when its claim changes (`toOrg`) or it leaves; alone to every member
   * the first time.
   */
  private announce(leaving = false, toOrg = false): void {
    const t = this.transport;
    if (t === null) return;
    this.seq++;
    const own = this.seal({
      type: GossipType.ALIVE,
      alive: {
        ...this.self, height: this.o.peer.height, incarnation: this.incarnation, seq: this.seq, endpoint: this.endpoint,
        leader: this.leadership.isLeader && !leaving, ...(leaving ? { leaving: true } : {}),
        ...(this.leadership.yielding && !leaving ? { yielding: true } : {}),
      },
    });
    this.lastOwnAlive = own;
    const live = this.membership.live();
    const notSelf = (e: string): boolean => e !== this.endpoint && e !== t.endpoint;
    const relaying = relayMode(live.length, this.limits);
    const entering = relaying && !this.wasRelaying;
    this.wasRelaying = relaying;
    if (!relaying) {
      this.relay.clear();
      const targets = new Set(this.o.bootstrap);
      for (const m of live) targets.add(m.endpoint);
      for (const to of targets) if (notSelf(to)) this.sendBytes(to, own, 'alive');
    } else {
      const direct = new Set<string>();
      if (entering) {
        // The last all-to-all round: members learnt while this board sent to every member may not have
        // heard it yet (a board that started after its ALIVE went out), and relays reach them only slowly.
        for (const m of live) if (notSelf(m.endpoint)) direct.add(m.endpoint);
      } else if (leaving || toOrg || this.leadership.isLeader) {
        for (const m of live) if (m.org === this.self.org && m.role === 'peer' && notSelf(m.endpoint)) direct.add(m.endpoint);
      }
      for (const to of direct) this.sendBytes(to, own, 'alive');
      const others = live.filter((m) => !direct.has(m.endpoint) && notSelf(m.endpoint));
      const slot = this.leaderSlot(this.self.org);
      const skip = new Set<Uint8Array>(slot === null ? [] : [slot]);
      const alives = [own, ...(slot === null ? [] : [slot]), ...this.relay.take(skip)];
      const msg = this.seal({ type: GossipType.ALIVES, alives });
      for (const m of randomSubset(others, this.limits.aliveFanout, this.o.random)) this.sendBytes(m.endpoint, msg, 'alive');
    }
    if (this.discovery !== null) {
      this.discovery.send(own);
      this.metrics.message('out', 'alive', own.length);
    }
  }

  /**
   * The "leader slot": the last signed ALIVE of the live board of `org` that says it leads (the lowest key
   * if several do), other than this one; null when none is known. Every relay-mode ALIVES carries its
   * sender's org's, so whoever hears from a member of an org learns who leads it, however busy the relays.
   */
  private leaderSlot(org: string): Uint8Array | null {
    let best: Member | null = null;
    for (const m of this.membership.live()) {
      if (m.org === org && m.leader && m.aliveBytes !== null && (best === null || m.key < best.key)) best = m;
    }
    return best?.aliveBytes ?? null;
  }

  private seal(body: GossipBody): Uint8Array {
    return this.codec.seal(body, this.o.clock.now());
  }

  /** Signs and sends to a live (or once heard) member, by key (org/id). */
  private sendTo(member: string, body: GossipBody): boolean {
    const m = this.membership.get(member);
    if (m === undefined) return false;
    return this.sendBytes(m.endpoint, this.seal(body), KIND_OF_TYPE[body.type]!);
  }

  private sendBytes(endpoint: string, msg: Uint8Array, kind: GossipMessageKind): boolean {
    const t = this.transport;
    if (t === null || !t.send(endpoint, msg)) return false;
    this.metrics.message('out', kind, msg.length);
    return true;
  }

  /** Handles one received message; true when it authenticated (signed by a member, a board's certificate). */
  private receive(bytes: Uint8Array): boolean {
    if (this.stopped) return false;
    const now = this.o.clock.now();
    const r = openWith(this.codec, bytes, now);
    if (!r.ok) {
      this.drop(r.sender, r.reason);
      return false;
    }
    const m = r.message;
    const from = memberKey(m.sender.org, m.sender.id);
    if (m.sender.role !== 'peer') {
      // The Readers policy admits clients and admins (they may read blocks from the orderer), but only
      // boards gossip: a client's ALIVE claiming a huge height must not make it a leader or a source.
      this.drop(from, `a ${m.sender.role} certificate: only boards (role 'peer') gossip`);
      return false;
    }
    this.metrics.message('in', KIND_OF_TYPE[m.body.type]!, bytes.length);
    switch (m.body.type) {
      case GossipType.ALIVE:
        this.receiveAlive(m, m.body.alive, bytes, true);
        return true;
      case GossipType.ALIVES:
        this.receiveAlives(from, m.body.alives, now);
        return true;
      case GossipType.BLOCKS:
        this.intake.receive(m.sender, m.body.blocks, m.body.kind ?? BlocksKind.PUSH, m.body.range);
        return true;
      case GossipType.DIGEST:
        if (!this.membership.fresh(from, 'digest', m.timestamp)) {
          this.drop(from, 'DIGEST not newer than its last one (a replay) or from a member not heard');
          return true;
        }
        this.membership.sawHeight(from, m.body.height);
        this.server.digest(from, m.body.height, now);
        return true;
      case GossipType.RANGE_REQUEST:
        if (!this.membership.fresh(from, 'range_request', m.timestamp)) {
          this.drop(from, 'RANGE_REQUEST not newer than its last one (a replay) or from a member not heard');
          return true;
        }
        this.server.request(from, m.body.request, now);
        return true;
      case GossipType.RANGE_ACK:
        this.server.ack(from, m.body.ack, now);
        return true;
    }
  }

  private drop(sender: string, reason: string): void {
    this.emit('dropped', sender, reason);
    this.warnings.warn(`${sender}\n${reason}`, { sender, reason }, 'gossip message dropped');
  }

  /**
   * An ALIVES message from `from` (authenticated): its first entry must be the sender's own ALIVE, the
   * others are relayed ALIVEs of others. Each is opened as a message that came alone (the originator's
   * certificate and signature, the timestamp window, a board's role) and then taken as an ALIVE; what the
   * bounds leave out (alivesTaken) is not opened.
   */
  private receiveAlives(from: string, entries: readonly Uint8Array[], now: number): void {
    const taken = alivesTaken(entries, this.limits);
    if (taken.cut !== null) this.drop(from, taken.cut);
    for (let i = 0; i < taken.count; i++) {
      const e = entries[i]!;
      const entry = this.openAlivesEntry(from, e, i, now);
      if (entry === null) continue;
      if ('reason' in entry) {
        this.drop(entry.sender, entry.reason);
        // Without its sender's own ALIVE first, the message is nobody's: the rest is not taken either.
        if (i === 0) return;
        continue;
      }
      this.receiveAlive(entry.message, entry.alive, e, i === 0);
    }
  }

  /**
   * Entry `i` of an ALIVES from `from`, opened as a message that came alone: the ALIVE to take, a refusal
   * (who to blame and why), or null for nothing to take and no fault (a relayed copy of what this board
   * holds, or the sender's own ALIVE relayed back to it).
   */
  private openAlivesEntry(
    from: string, e: Uint8Array, i: number, now: number,
  ): { message: GossipMessage; alive: AliveBody } | OpenFailure | null {
    if (e.length > this.limits.aliveRelayedEntryBytesMax) {
      return { ok: false, sender: from, reason: `ALIVES entry of ${e.length} bytes (aliveRelayedEntryBytesMax ${this.limits.aliveRelayedEntryBytesMax})` };
    }
    const d = decodeForOpen(e);
    if ('ok' in d) return { ...d, reason: `relayed by ${from}: ${d.reason}` };
    const body = d.message.body;
    // Most relayed entries are copies of what this board holds: known stale once decoded, they are not
    // worth the two signature checks (certificate, message) authenticating costs. Ignoring one changes
    // nothing, so deciding before authenticating is safe; anything that would be taken is checked in full.
    if (i > 0 && body.type === GossipType.ALIVE && this.membership.isStale(body.alive)) {
      this.staleRelayed++;
      return null;
    }
    if (i > 0) this.openedRelayed++;
    const r = this.codec.authenticate(d, now);
    if (!r.ok) return { ...r, reason: `relayed by ${from}: ${r.reason}` };
    const m = r.message;
    const signer = memberKey(m.sender.org, m.sender.id);
    if (m.body.type !== GossipType.ALIVE) return { ok: false, sender: from, reason: `ALIVES entry ${i} is not an ALIVE (type ${m.body.type})` };
    if (i === 0 && signer !== from) return { ok: false, sender: from, reason: `ALIVES whose first entry is ${signer}'s ALIVE, not its sender's` };
    if (i > 0 && signer === from) return null;
    // A client's ALIVE is no board's, relayed or not: it is neither taken nor relayed on.
    if (m.sender.role !== 'peer') return { ok: false, sender: signer, reason: `a ${m.sender.role} certificate relayed by ${from}: only boards (role 'peer') gossip` };
    return { message: m, alive: m.body.alive };
  }

  /** An authenticated ALIVE, straight from its signer (`direct`) or relayed; `bytes`: its signed envelope. */
  private receiveAlive(m: GossipMessage, a: AliveBody, bytes: Uint8Array, direct: boolean): void {
    const small = bytes.length <= this.limits.aliveRelayedEntryBytesMax;
    // A copy: the received frame may be a view into a larger buffer, and relaying keeps these bytes.
    const copy = small ? new Uint8Array(bytes) : null;
    const key = memberKey(a.org, a.id);
    const outcome = this.membership.heard(a, m.sender.role, this.o.clock.now(), { direct, bytes: copy });
    if (outcome === 'full') {
      this.drop(key, `a new member while membersMax (${this.limits.membersMax}) are remembered`);
      return;
    }
    if (outcome === 'stale') return;
    const relaying = relayMode(this.membership.liveCount(), this.limits);
    // Newer than anything held: relayed once at the next send (an ALIVE not newer goes no further). Out of
    // relay mode nothing is relayed (announce() would only clear it).
    if (copy !== null && relaying) this.relay.offer(key, copy);
    if (a.leaving === true) {
      if (this.membership.left(key) !== undefined) {
        this.o.log.info({ member: `${m.sender.org}/${m.sender.id}` }, 'gossip member left');
        this.leadership.evaluate();
      }
      return;
    }
    if (outcome === 'new' || outcome === 'revived' || outcome === 'restarted') {
      const what = outcome === 'new' ? 'joined' : outcome === 'revived' ? 'back' : 'restarted';
      this.o.log.info({ member: `${m.sender.org}/${m.sender.id}`, endpoint: a.endpoint, height: a.height }, `gossip member ${what}`);
      // Its ALIVE came over its own connection; this board's connection to it may be deep in backoff from
      // the time it was down. A restarted board must hear its org within electionStartupGraceMs, or it
      // elects itself and opens a Deliver stream it has no business opening.
      this.transport?.redial(a.endpoint);
      // A newcomer that dialled this board hears back at once, with its org's leader: in relay mode it
      // would otherwise learn the fleet only as relays happen to reach it.
      if (relaying && direct) this.answer(a);
      this.leadership.evaluate();
    }
    if (relaying && !direct && a.org === this.self.org && a.leader) this.introduce(key);
  }

  /** The bare answer to a newcomer: this board's last ALIVE, and the newcomer's org's leader's if known. */
  private answer(a: AliveBody): void {
    const own = this.lastOwnAlive;
    if (own === null) return;
    const slot = this.leaderSlot(a.org);
    const msg = slot === null ? own : this.seal({ type: GossipType.ALIVES, alives: [own, slot] });
    this.sendBytes(a.endpoint, msg, 'alive');
  }

  /**
   * A board of this org leads and this board has heard it only by relay since: it says itself straight to
   * it once, so that the leader (which sends its ALIVE to every board of its org it knows) knows it and
   * answers. Once per leader and term.
   */
  private introduce(key: string): void {
    const m = this.membership.get(key);
    const own = this.lastOwnAlive;
    if (m === undefined || own === null || m.leaderSinceMs === null || expectsDirect(m, this.self.org)) return;
    if (this.introduced.get(key) === m.leaderSinceMs) return;
    this.introduced.set(key, m.leaderSinceMs);
    if (this.introduced.size > this.limits.membersMax) this.introduced.delete(this.introduced.keys().next().value!);
    this.sendBytes(m.endpoint, own, 'alive');
  }

  /** A configuration block was committed: members are authenticated against the new configuration. */
  private followConfig(): void {
    if (!this.followsConfig) return;
    const n = this.o.ledger.lastConfigNumber();
    if (n === this.configNumber) return;
    const block = this.o.ledger.getBlock(n);
    if (block === undefined) return;
    this.configNumber = n;
    this.codec.follow(new ChannelState(configFromBlock(block)));
    this.o.log.info({ block: n }, 'gossip follows a new channel configuration');
  }
}
