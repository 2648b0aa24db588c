// Blocks coming in from other boards (docs/protocol.md §12b.5-§12b.7): pushed, pulled and streamed blocks
// are held until they continue the peer's chain, then offered to it (it verifies them, never trusting
// gossip); pushed ones it took travel on. What push missed is repaired here too: a DIGEST now and then to
// a member that holds more, one at once for a gap a push revealed, a catch-up stream for a long gap.
import type { Clock } from '../config/clock.js';
import type { BlockReader } from '../protocol/blockFormat.js';
import type { BlockPush } from './blockPush.js';
import type { CatchUp } from './catchUp.js';
import { type Membership, memberKey } from './membership.js';
import { BlocksKind, type BlocksKindValue, type GossipBody, GossipType, type RangePosition } from './messages.js';
import { type GossipedOrigin, PendingBlocks, type PendingBlocksLimits } from './pendingBlocks.js';
import type { GossipBlockOrigin, GossipMetricsSink, GossipPeer } from './seams.js';

export interface BlockIntakeLimits extends PendingBlocksLimits {
  blocksPerMessageMax: number;
  pullIntervalMs: number;
  aliveIntervalMs: number;
  gapPullMinIntervalMs: number;
}

export interface BlockIntakeOptions {
  peer: GossipPeer;
  membership: Membership;
  catchUp: CatchUp;
  push: BlockPush;
  /** Reads the numbers of received blocks (one reader of the channel's block format, for this intake only). */
  reader: BlockReader;
  limits: BlockIntakeLimits;
  clock: Clock;
  random: () => number;
  metrics: Pick<GossipMetricsSink, 'blocksReceived' | 'duplicates'>;
  /** Signs and sends to a member by key (org/id); false when not sent. */
  send(member: string, body: GossipBody): boolean;
  /** A message (or part of one) not taken: `sender` is org/id, `reason` says why. */
  drop(sender: string, reason: string): void;
}

const GOSSIPED_ORIGINS: readonly GossipedOrigin[] = ['push', 'pull', 'catchup'];

const ORIGIN_OF_KIND: Record<BlocksKindValue, GossipedOrigin> = {
  [BlocksKind.PUSH]: 'push', [BlocksKind.PULL]: 'pull', [BlocksKind.RANGE]: 'catchup',
};

export class BlockIntake {
  /** Gossiped blocks ahead of the peer's next number, waiting for the gap before them to fill. */
  private readonly pending: PendingBlocks;
  /** Members sent a DIGEST, and when: only their PULL answers are taken. */
  private readonly pullAsked = new Map<string, number>();
  private lastPullMs = 0;
  private lastGapPullMs = 0;
  private readonly bySource: Record<GossipBlockOrigin, number> = { orderer: 0, push: 0, pull: 0, catchup: 0 };
  /** Blocks one drain() took, by origin (reused). */
  private readonly tookByOrigin: Record<GossipedOrigin, number> = { push: 0, pull: 0, catchup: 0 };
  /** Numbers of the blocks of the message being received (reused). */
  private numbers: number[] = [];

  constructor(private readonly o: BlockIntakeOptions) {
    this.pending = new PendingBlocks(o.limits);
  }

  /** Pushed blocks held waiting for a gap to fill, and their bytes. */
  get pushedHeld(): { blocks: number; bytes: number } {
    return this.pending.pushedHeld;
  }

  /** Blocks the peer took, by where they came from. */
  blocksBySource(): Record<GossipBlockOrigin, number> {
    return { ...this.bySource };
  }

  /** The peer took blocks from the orderer (counted here with the gossiped ones). */
  fromOrderer(count: number): void {
    this.bySource.orderer += count;
    this.o.metrics.blocksReceived('orderer', count);
  }

  /** An authenticated BLOCKS message from `sender`. */
  receive(sender: { id: string; org: string }, blocks: Uint8Array[], kind: BlocksKindValue, range: RangePosition | undefined): void {
    const from = memberKey(sender.org, sender.id);
    const o = this.o;
    // A forked peer takes nothing: holding blocks for it would only fill the pending store.
    if (o.peer.isForked) return;
    const now = o.clock.now();
    const numbers = this.numbers;
    numbers.length = 0;
    for (const b of blocks) {
      if (!o.reader.locate(b)) {
        o.drop(from, `not a block: ${o.reader.locateError}`);
        return;
      }
      numbers.push(o.reader.number(b));
    }
    if (kind === BlocksKind.RANGE) {
      const lastNumber = blocks.length > 0 ? numbers[blocks.length - 1]! : -1;
      if (range === undefined || !o.catchUp.received(from, range, lastNumber, now)) return;
    } else if (kind === BlocksKind.PULL) {
      const asked = this.pullAsked.get(from);
      if (asked === undefined || now - asked > 2 * o.limits.pullIntervalMs + o.limits.aliveIntervalMs) {
        o.drop(from, 'pull answer nobody asked for');
        return;
      }
    }
    const origin = ORIGIN_OF_KIND[kind];
    const next = o.peer.nextNumber();
    let duplicates = 0;
    let full = 0;
    let tooFar = 0;
    for (let i = 0; i < blocks.length; i++) {
      const outcome = this.pending.hold(numbers[i]!, next, { block: blocks[i]!, from, origin });
      // A block not held is not lost: it stays with its sender and the orderer, and pull or a catch-up
      // stream fetches it once the gap before it is filled.
      if (outcome === 'duplicate') duplicates++;
      else if (outcome === 'full') full++;
      else if (outcome === 'too-far') tooFar++;
    }
    if (duplicates > 0) o.metrics.duplicates(duplicates);
    if (full > 0) {
      const l = o.limits;
      o.drop(from, `pushed blocks not held: ${l.pendingBlocksMax} blocks or ${l.pendingPushedBytesMax} bytes pending (left to pull and catch-up)`);
    }
    if (tooFar > 0) {
      const ahead = origin === 'push' ? o.limits.pendingPushedAheadMaxBlocks : o.limits.pullBlocksMax;
      o.drop(from, `${origin === 'push' ? 'pushed' : 'pulled'} blocks ${ahead} or more ahead of block ${next} not held`);
    }
    if (blocks.length === 0) {
      this.drain();
      return;
    }
    const first = numbers[0]!;
    o.membership.sawBlock(from, numbers[blocks.length - 1]!);
    this.drain();
    if (origin === 'push') this.pullGap(from, first, now);
  }

  /** A follower behind its neighbours: a stream for a long gap, a DIGEST now and then for a short one. */
  repair(now: number): void {
    const o = this.o;
    // Nor is anything fetched for it: a catch-up or a pull would bring blocks it refuses, again and again.
    if (o.peer.isDelivering || o.peer.isForked) return;
    const next = o.peer.nextNumber();
    const live = o.membership.live();
    if (o.catchUp.maybeStart(next, live.map((m) => ({ id: m.key, height: m.height })), now)) return;
    if (o.catchUp.active || now - this.lastPullMs < o.limits.pullIntervalMs) return;
    const ahead = live.filter((m) => m.height > next);
    if (ahead.length === 0) return;
    this.lastPullMs = now;
    const to = ahead[Math.floor(o.random() * ahead.length)]!;
    if (o.send(to.key, { type: GossipType.DIGEST, height: next })) this.pullAsked.set(to.key, now);
  }

  /** Offers the pending run that continues the peer's chain; forwards pushed blocks it took down its org's tree (blockPush.ts). */
  drain(): void {
    const o = this.o;
    // Blocks the peer got another way (the orderer, while leading) are dropped once; those taken below
    // are deleted as they are taken.
    this.pending.dropBelow(o.peer.nextNumber());
    const took = this.tookByOrigin;
    took.push = took.pull = took.catchup = 0;
    for (;;) {
      const next = o.peer.nextNumber();
      const run = this.pending.run(next, o.limits.blocksPerMessageMax);
      if (run.length === 0) break;
      const taken = o.peer.offerFromGossip(run, 0);
      const after = o.peer.nextNumber();
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
      if (pushed.length > 0) o.push.forward(pushed, senders);
      if (taken < 0 && o.peer.isForked) {
        // Not the sender's misbehaviour: it holds an orderer-signed chain this board's conflicts with.
        this.pending.dropBelow(Number.MAX_SAFE_INTEGER);
        break;
      }
      if (taken < 0) {
        const bad = this.pending.delete(after);
        if (bad !== undefined) o.catchUp.misbehaved(bad.from, o.clock.now());
        o.drop(bad === undefined ? 'unknown' : bad.from, `gossiped block ${after} rejected by verification`);
        continue;
      }
      if (taken < run.length) break;
    }
    // Counted per drain, not per block: a metric update builds a label object each time.
    for (const origin of GOSSIPED_ORIGINS) {
      if (took[origin] === 0) continue;
      this.bySource[origin] += took[origin];
      o.metrics.blocksReceived(origin, took[origin]);
    }
    o.catchUp.progress(o.peer.nextNumber());
  }

  /**
   * A pushed block arrived past a gap: ask its sender for what lies before it now, not at the next pull
   * tick, because in-order commits hold every later block behind the gap. A board forwards only blocks
   * its peer took, which continue its chain, so the sender holds the gap's blocks.
   */
  private pullGap(from: string, firstNumber: number, now: number): void {
    const o = this.o;
    const next = o.peer.nextNumber();
    if (firstNumber <= next || this.pending.has(next) || o.peer.isDelivering || o.catchUp.active) return;
    if (now - this.lastGapPullMs < o.limits.gapPullMinIntervalMs) return;
    this.lastGapPullMs = now;
    if (o.send(from, { type: GossipType.DIGEST, height: next })) this.pullAsked.set(from, now);
  }
}
