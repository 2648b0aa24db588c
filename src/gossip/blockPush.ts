// Push (docs/protocol.md §12b.5): blocks new to the fleet go to `fanout` random live members, batched. The
// leader's blocks from the orderer wait in an outbox until committed (a board pushes only what it holds,
// so whoever gets a push can pull the blocks before it from the same sender); blocks a board took from a
// push travel on once, when they were new to it (infect-and-die).
import type { BlockReader } from '../protocol/blockFormat.js';
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
  endpoint: string;
}

export interface BlockPushOptions {
  limits: BlockPushLimits;
  /** Reads the numbers of the orderer's blocks waiting in the outbox. */
  reader: BlockReader;
  random: () => number;
  /** Live members, self excluded. */
  members(): readonly PushTarget[];
  /** Signs once; the same bytes go to every target. */
  seal(body: GossipBody): Uint8Array;
  sendBytes(endpoint: string, message: Uint8Array, kind: GossipMessageKind): boolean;
}

interface OutboxEntry {
  block: Uint8Array;
  number: number;
}

export class BlockPush {
  /**
   * Blocks taken from the orderer and not yet pushed: pushed once committed, as one batch per run. They are
   * views into the deliver client's ingress ring, whose space is reused only after the peer's 'committed'
   * listeners ran, and committed() encodes (copies) them there.
   */
  private outbox: OutboxEntry[] = [];

  constructor(private readonly o: BlockPushOptions) {}

  /** The peer took these blocks from the orderer (verified, not committed yet). */
  fromOrderer(blocks: readonly Uint8Array[]): void {
    const r = this.o.reader;
    for (const block of blocks) {
      // Verified by the peer before it said 'accepted': the layout is known good.
      r.locate(block);
      this.outbox.push({ block, number: r.number(block) });
    }
  }

  /** The peer committed up to `height`: the outbox's blocks below it go out. */
  committed(height: number): void {
    if (this.outbox.length === 0) return;
    const ready: Uint8Array[] = [];
    const waiting: OutboxEntry[] = [];
    for (const e of this.outbox) {
      if (e.number < height) ready.push(e.block);
      else waiting.push(e);
    }
    this.outbox = waiting;
    if (ready.length > 0) this.forward(ready, new Set());
  }

  /** Sends blocks to `fanout` random live members other than `exclude`. */
  forward(blocks: readonly Uint8Array[], exclude: ReadonlySet<string>): void {
    const candidates = this.o.members().filter((m) => !exclude.has(m.key));
    const k = Math.min(this.o.limits.fanout, candidates.length);
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(this.o.random() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
    if (k === 0) return;
    for (let i = 0; i < blocks.length;) {
      const batch = this.batch(blocks, i);
      i += batch.length;
      const msg = this.o.seal({ type: GossipType.BLOCKS, blocks: batch });
      for (const m of candidates.slice(0, k)) this.o.sendBytes(m.endpoint, msg, 'blocks');
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
