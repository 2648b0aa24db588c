// One board's gossip for one channel: announces itself (ALIVE), tracks membership, elects its org's
// leader (which alone runs the deliver client), pushes blocks the leader got from the orderer to `fanout`
// random live members, and offers gossiped blocks to the peer, which verifies them like delivered ones.
import { EventEmitter } from 'node:events';
import type { ChannelState } from '../channel/channelState.js';
import type { Clock, TimerHandle } from '../config/clock.js';
import { gossipDefaults } from '../config/constants.js';
import type { Logger } from '../observability/logger.js';
import { HEADER_BYTES, HEADER_OFFSET, blockNumber } from '../protocol/block.js';
import type { Signer } from '../protocol/envelope.js';
import type { BlockSource, Peer } from '../peer/peer.js';
import type { BoardRole, RoleSource } from '../peer/role.js';
import { type Candidate, LeaderElection } from './election.js';
import { Membership } from './membership.js';
import { type AliveBody, type GossipBody, GossipType, type GossipMessage, openGossip, signGossip } from './messages.js';
import { type GossipTransport, startTcpTransport } from './tcpTransport.js';

export type GossipLimits = { -readonly [K in keyof typeof gossipDefaults]: number };

export interface GossipNodeOptions {
  peer: Peer;
  /** The channel's configuration, for authenticating members (the Readers policy and org roots). */
  channelState: ChannelState;
  signer: Signer;
  /** host:port to listen on (port 0: any free port). */
  listen: string;
  /** host:port of other boards to announce ourselves to. */
  bootstrap: string[];
  clock: Clock;
  /** Uniform in [0, 1): which members a block is pushed to. */
  random: () => number;
  log: Logger;
  limits?: Partial<GossipLimits>;
}

export interface GossipNodeEvents {
  /** This board's role changed (the peer's deliver client is started or stopped accordingly). */
  role: [role: BoardRole, leader: string | null];
  /** A gossip message was dropped; says who sent it and why. */
  dropped: [sender: string, reason: string];
}

export class GossipNode extends EventEmitter<GossipNodeEvents> implements RoleSource {
  private readonly limits: GossipLimits;
  private readonly membership: Membership;
  private readonly election: LeaderElection;
  private readonly self: { id: string; org: string };
  private readonly incarnation: number;
  private seq = 0;
  private transport: GossipTransport | null = null;
  private timer: TimerHandle | null = null;
  private stopped = false;
  /** Blocks taken from the orderer and not yet pushed: pushed once committed, as one batch per run. */
  private outbox: Uint8Array[] = [];
  /** Gossiped blocks ahead of the peer's next number, waiting for the gap before them to fill. */
  private readonly pending = new Map<number, { block: Uint8Array; from: string }>();
  private readonly lastDropLog = new Map<string, number>();
  private notTaken = 0;
  private readonly onAccepted = (blocks: Uint8Array[], source: BlockSource): void => {
    if (source === 'orderer') for (const b of blocks) this.outbox.push(b);
  };
  private readonly onCommitted = (): void => {
    this.flushOutbox();
    this.drain();
  };

  constructor(private readonly o: GossipNodeOptions) {
    super();
    this.limits = { ...gossipDefaults, ...o.limits };
    this.self = { id: o.signer.certificate.id, org: o.signer.certificate.org };
    this.membership = new Membership(this.self.id, this.limits.aliveExpirationMs);
    this.election = new LeaderElection(this.self.id, this.limits, o.clock.now());
    // A restarted board must out-number its earlier ALIVEs, which others remember.
    this.incarnation = o.clock.now();
  }

  role(): BoardRole {
    return this.election.isLeader ? 'leader' : 'follower';
  }

  get leader(): string | null {
    return this.election.leader;
  }

  get endpoint(): string {
    return this.transport?.endpoint ?? this.o.listen;
  }

  /** Gossiped blocks that arrived while the pending map was full, and were therefore not taken. */
  get blocksNotTaken(): number {
    return this.notTaken;
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
    this.o.peer.on('accepted', this.onAccepted);
    this.o.peer.on('committed', this.onCommitted);
    this.o.log.info({ channel: this.o.peer.channel, listen: this.transport.endpoint, bootstrap: this.o.bootstrap }, 'gossip started');
    this.tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    this.o.peer.off('accepted', this.onAccepted);
    this.o.peer.off('committed', this.onCommitted);
    await this.transport?.stop();
  }

  private tick(): void {
    if (this.stopped) return;
    this.announce();
    for (const m of this.membership.expire(this.o.clock.now())) {
      this.o.log.warn({ member: `${m.org}/${m.id}`, endpoint: m.endpoint }, 'gossip member dead');
    }
    this.elect();
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.limits.aliveIntervalMs);
    this.timer.unref?.();
  }

  private announce(): void {
    const t = this.transport;
    if (t === null) return;
    this.seq++;
    const msg = this.sign({
      type: GossipType.ALIVE,
      alive: {
        ...this.self, height: this.o.peer.height, incarnation: this.incarnation, seq: this.seq, endpoint: t.endpoint,
        leader: this.election.isLeader,
      },
    });
    const targets = new Set(this.o.bootstrap);
    for (const m of this.membership.live()) targets.add(m.endpoint);
    targets.delete(t.endpoint);
    for (const to of targets) t.send(to, msg);
  }

  private elect(): void {
    const now = this.o.clock.now();
    const live: Candidate[] = this.membership.live().filter((m) => m.org === this.self.org).map((m) => ({ id: m.id, height: m.height, leading: m.leader }));
    live.push({ id: this.self.id, height: this.o.peer.height });
    const wasLeader = this.election.isLeader;
    if (this.election.update(live, now)) {
      this.o.log.info({ org: this.self.org, leader: this.election.leader }, 'gossip leader elected');
    }
    const isLeader = this.election.isLeader;
    // A new leader whose predecessor is alive waits until it says it stopped leading (its next ALIVE),
    // so that the org never has two Deliver streams open across a handover.
    const predecessorLeads = live.some((c) => c.id !== this.self.id && c.leading === true);
    const deliver = isLeader && !predecessorLeads;
    if (deliver !== this.o.peer.isDelivering) void this.o.peer.setDelivering(deliver);
    if (isLeader !== wasLeader) this.emit('role', this.role(), this.election.leader);
  }

  private sign(body: GossipBody): Uint8Array {
    return signGossip(this.o.peer.channel, body, this.o.signer, this.o.clock.now());
  }

  private receive(bytes: Uint8Array): void {
    if (this.stopped) return;
    const r = openGossip(bytes, this.o.channelState, this.o.clock.now(), this.limits.messageTimeWindowMs);
    if (!r.ok) {
      this.drop(r.sender, r.reason);
      return;
    }
    const m = r.message;
    if (m.body.type === GossipType.ALIVE) this.receiveAlive(m, m.body.alive);
    else this.receiveBlocks(m, m.body.blocks);
  }

  private drop(sender: string, reason: string): void {
    this.emit('dropped', sender, reason);
    const key = `${sender}\n${reason}`;
    const now = this.o.clock.now();
    const last = this.lastDropLog.get(key);
    if (last !== undefined && now - last < this.limits.dropLogIntervalMs) return;
    this.lastDropLog.set(key, now);
    this.o.log.warn({ sender, reason }, 'gossip message dropped');
  }

  private receiveAlive(m: GossipMessage, a: AliveBody): void {
    const outcome = this.membership.heard(a, this.o.clock.now());
    if (outcome === 'new' || outcome === 'revived') {
      this.o.log.info({ member: `${m.sender.org}/${m.sender.id}`, endpoint: a.endpoint, height: a.height }, `gossip member ${outcome === 'new' ? 'joined' : 'back'}`);
      this.elect();
    }
  }

  private receiveBlocks(m: GossipMessage, blocks: Uint8Array[]): void {
    const from = m.sender.id;
    const next = this.o.peer.nextNumber();
    for (const b of blocks) {
      if (b.length < HEADER_OFFSET + HEADER_BYTES) {
        this.drop(`${m.sender.org}/${from}`, 'block shorter than a header');
        continue;
      }
      const n = blockNumber(b);
      if (n < next || this.pending.has(n)) continue;
      if (this.pending.size >= this.limits.pendingBlocksMax) {
        // Not taken, not lost: the block stays with the sender and the orderer; pull/catch-up fetch it later.
        this.notTaken++;
        continue;
      }
      this.pending.set(n, { block: b, from });
    }
    this.drain();
  }

  /** Offers the pending run that continues the peer's chain; forwards what it took (infect-and-die). */
  private drain(): void {
    for (;;) {
      const next = this.o.peer.nextNumber();
      for (const n of this.pending.keys()) if (n < next) this.pending.delete(n);
      const run: Uint8Array[] = [];
      const senders = new Set<string>();
      for (let n = next; run.length < this.limits.blocksPerMessageMax; n++) {
        const p = this.pending.get(n);
        if (p === undefined) break;
        run.push(p.block);
        senders.add(p.from);
      }
      if (run.length === 0) return;
      const taken = this.o.peer.offerFromGossip(run, 0);
      const after = this.o.peer.nextNumber();
      const fresh = run.slice(0, after - next);
      for (const b of fresh) this.membership.sawBlock(this.pending.get(blockNumber(b))!.from, blockNumber(b));
      if (fresh.length > 0) this.push(fresh, senders);
      if (taken < 0) {
        const bad = this.pending.get(after);
        this.pending.delete(after);
        this.drop(bad === undefined ? 'unknown' : bad.from, `gossiped block ${after} rejected by verification`);
        continue;
      }
      if (taken < run.length) return;
    }
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
    const t = this.transport;
    if (t === null) return;
    const candidates = this.membership.live().filter((m) => !exclude.has(m.id));
    const k = Math.min(this.limits.fanout, candidates.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.o.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    for (let i = 0; i < blocks.length; i += this.limits.blocksPerMessageMax) {
      const msg = this.sign({ type: GossipType.BLOCKS, blocks: blocks.slice(i, i + this.limits.blocksPerMessageMax) });
      for (const m of candidates.slice(0, k)) t.send(m.endpoint, msg);
    }
  }
}
