// Push (docs/protocol.md §12b.5): blocks new to the fleet travel down a tree of the org's live boards,
// batched. A board pushes what its peer verified and took into its commit buffer, without waiting for the
// commit (the leader the orderer's blocks, the others what they took by push), and in order, so whoever
// gets a push past a gap can pull the blocks before it from the same sender (which serves them once they
// are committed, within a commit's time; a pull answered short is asked again, §12b.6). The tree is the
// org's boards sorted by key with the leader first, each board's children the next `fanout` of that
// order (a heap): every board computes it from its own view of the membership, so in a settled org each
// board gets each block once, in about log_fanout(boards) hops, where random pushes to `fanout` members
// gave each about `fanout` copies. An org with no live leader (between leaders) gets each run from every
// other org's leader at one of its boards, which pushes it on at random within its org. A board whose
// view differs misses a block or gets it twice now and then: pull (§12b.6) repairs what push missed.
import { randomSubset } from '../config/random.js';
import { type GossipBody, GossipType } from './messages.js';
import type { GossipMessageKind } from './seams.js';

export interface BlockPushLimits {
  fanout: number;
  blocksPerMessageMax: number;
  /** Block bytes in one message at most (at least one block). */
  blocksMessageMaxBytes: number;
}

export interface PushTarget {
  /** org/id (membership.ts memberKey). */
  key: string;
  org: string;
  endpoint: string;
  /** Only boards ('peer') are in the tree. */
  role: string;
  /** Its last ALIVE said it leads its org. */
  leader: boolean;
}

/** Boards of each leaderless org that get a copy of each run a leader pushes. */
export const LEADERLESS_ORG_PUSH_TARGETS = 1;

export interface BlockPushOptions {
  limits: BlockPushLimits;
  random: () => number;
  self: { key: string; org: string };
  /** Whether this board leads its org now. */
  isLeader(): boolean;
  /** Live members, self excluded. */
  members(): readonly PushTarget[];
  /** Signs once; the same bytes go to every target. */
  seal(body: GossipBody): Uint8Array;
  sendBytes(endpoint: string, message: Uint8Array, kind: GossipMessageKind): boolean;
}

export class BlockPush {
  constructor(private readonly o: BlockPushOptions) {}

  /**
   * The peer took these blocks from the orderer: verified and in its commit buffer, not committed yet.
   * This board took them from the orderer, so it is the root of its org's tree for them. They go out now,
   * not after the commit: a board's commit (an fsync) would otherwise sit on the path of every block to
   * every board, where the boards below the leader already forward what they verified (forward()). The
   * blocks are views into the deliver client's ingress ring; seal() encodes (copies) them before this
   * returns, and the ring's space is reused only after the commit.
   */
  fromOrderer(blocks: readonly Uint8Array[]): void {
    if (blocks.length === 0 || this.o.limits.fanout === 0) return;
    this.send(blocks, [...this.ownChildren(this.o.self.key), ...this.leaderlessOrgBoards()]);
  }

  /**
   * Blocks this board took by push from `senders`: on to its children in its org's tree, once, whoever
   * sent them (a copy from another org's leader may come before the one from its parent here).
   */
  forward(blocks: readonly Uint8Array[], senders: ReadonlySet<string>): void {
    if (this.o.limits.fanout === 0) return;
    const root = this.rootKey();
    const targets = root !== null
      ? this.ownChildren(root)
      // No leader known here: on to random boards of the org, as far as they reach (infect-and-die).
      : this.randomOf(this.orgBoards(), this.o.limits.fanout);
    this.send(blocks, targets.filter((m) => !senders.has(m.key)));
  }

  private orgBoards(): PushTarget[] {
    return this.o.members().filter((m) => m.org === this.o.self.org && m.role === 'peer');
  }

  /** LEADERLESS_ORG_PUSH_TARGETS random boards of each other org none of whose live boards says it leads. */
  private leaderlessOrgBoards(): PushTarget[] {
    const byOrg = new Map<string, PushTarget[]>();
    const led = new Set<string>();
    for (const m of this.o.members()) {
      if (m.org === this.o.self.org || m.role !== 'peer') continue;
      if (m.leader) led.add(m.org);
      const boards = byOrg.get(m.org);
      if (boards === undefined) byOrg.set(m.org, [m]);
      else boards.push(m);
    }
    return [...byOrg].filter(([org]) => !led.has(org)).flatMap(([, boards]) => this.randomOf(boards, LEADERLESS_ORG_PUSH_TARGETS));
  }

  /** The org's leader as this board knows it: itself, or the live board whose ALIVE says it leads (the lowest key of several). */
  private rootKey(): string | null {
    if (this.o.isLeader()) return this.o.self.key;
    let root: string | null = null;
    for (const m of this.orgBoards()) if (m.leader && (root === null || m.key < root)) root = m.key;
    return root;
  }

  /**
   * This board's children in its org's tree rooted at `root` (itself or a board of its org): the keys of
   * the org's boards, this one's included, `root` first and the rest in order, as a heap of degree fanout.
   */
  private ownChildren(root: string): PushTarget[] {
    const boards = new Map(this.orgBoards().map((m) => [m.key, m]));
    const order = [root, ...[...boards.keys(), this.o.self.key].filter((k) => k !== root).sort()];
    const i = order.indexOf(this.o.self.key);
    const k = this.o.limits.fanout;
    return order.slice(k * i + 1, k * i + k + 1).map((key) => boards.get(key)!);
  }

  /** Up to `k` of `candidates`, chosen uniformly. */
  private randomOf(candidates: PushTarget[], k: number): PushTarget[] {
    return randomSubset(candidates, k, this.o.random);
  }

  private send(blocks: readonly Uint8Array[], targets: readonly PushTarget[]): void {
    if (targets.length === 0) return;
    for (let i = 0; i < blocks.length;) {
      const batch = this.batch(blocks, i);
      i += batch.length;
      const msg = this.o.seal({ type: GossipType.BLOCKS, blocks: batch });
      for (const m of targets) this.o.sendBytes(m.endpoint, msg, 'blocks');
    }
  }

  /** blocks[from..] as far as one message holds (blocksPerMessageMax, blocksMessageMaxBytes; one at least). */
  private batch(blocks: readonly Uint8Array[], from: number): Uint8Array[] {
    let bytes = 0;
    let end = from;
    while (end < blocks.length && end - from < this.o.limits.blocksPerMessageMax) {
      bytes += blocks[end]!.length;
      if (end > from && bytes > this.o.limits.blocksMessageMaxBytes) break;
      end++;
    }
    return blocks.slice(from, end);
  }
}
