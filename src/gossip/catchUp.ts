// Streamed catch-up, the requester's side: a board that is further behind its neighbours than one pull
// answer repairs asks one neighbour that holds enough for the whole missing range as one RANGE stream, and
// acknowledges each message only once the peer took its blocks, so the stream runs exactly as fast as this
// board verifies and commits (docs/design.md, "Where edgepeer departs from Fabric": Fabric asked for ten
// blocks at a time instead).
import type { Logger } from '../observability/logger.js';
import { type GossipBody, GossipType, type RangePosition } from './messages.js';

export interface CatchUpLimits {
  /** A board this many blocks or more behind the best live member streams instead of pulling. */
  catchUpMinGapBlocks: number;
  /** BLOCKS messages the server may have unacknowledged on the stream. */
  catchUpWindowMessages: number;
  /** No message on the stream for this long: it is abandoned and another source tried. */
  catchUpStallTimeoutMs: number;
  /** A source that stalled, refused or sent a bad block is not asked again for this long. */
  catchUpSourceCooldownMs: number;
}

export interface CatchUpOptions {
  limits: CatchUpLimits;
  send(member: string, body: GossipBody): boolean;
  random: () => number;
  log: Logger;
}

export type CatchUpState =
  | { kind: 'idle' }
  | {
    kind: 'streaming';
    source: string;
    session: number;
    start: number;
    end: number;
    /** The seq the next message must carry (TCP keeps order; a gap means the server gave up). */
    expectSeq: number;
    /** Messages received and not acknowledged yet, with the number of their last block. */
    unacked: { seq: number; lastNumber: number }[];
    lastHeardMs: number;
    /** The server sent its last message. */
    ended: boolean;
  };

export interface SourceCandidate {
  id: string;
  height: number;
}

export class CatchUp {
  private s: CatchUpState = { kind: 'idle' };
  private sessionCounter = 0;
  private readonly cooldownUntil = new Map<string, number>();
  private streams = 0;

  constructor(private readonly o: CatchUpOptions) {}

  get state(): CatchUpState {
    return this.s;
  }

  /** Streams started since start. */
  get streamsStarted(): number {
    return this.streams;
  }

  get active(): boolean {
    return this.s.kind === 'streaming';
  }

  /**
   * Starts a stream when idle and at least catchUpMinGapBlocks behind the best member; the source is a
   * random one among the members that hold the most, not cooling down.
   */
  maybeStart(next: number, members: readonly SourceCandidate[], nowMs: number): boolean {
    if (this.s.kind !== 'idle') return false;
    const usable = members.filter((m) => (this.cooldownUntil.get(m.id) ?? 0) <= nowMs);
    let best = 0;
    for (const m of usable) best = Math.max(best, m.height);
    if (best - next < this.o.limits.catchUpMinGapBlocks) return false;
    const sources = usable.filter((m) => m.height === best);
    const source = sources[Math.floor(this.o.random() * sources.length)]!;
    const session = ++this.sessionCounter;
    const request = { session, start: next, end: best, window: this.o.limits.catchUpWindowMessages };
    if (!this.o.send(source.id, { type: GossipType.RANGE_REQUEST, request })) {
      this.cooldown(source.id, nowMs);
      return false;
    }
    this.streams++;
    this.s = { kind: 'streaming', source: source.id, session, start: next, end: best, expectSeq: 1, unacked: [], lastHeardMs: nowMs, ended: false };
    this.o.log.info({ source: source.id, start: next, end: best }, 'gossip catch-up started');
    return true;
  }

  /**
   * A RANGE message arrived. True when it belongs to the stream in progress (its blocks are to be offered
   * to the peer as catch-up blocks); false when it is stale or unsolicited (its blocks are dropped).
   */
  received(from: string, r: RangePosition, lastNumber: number, nowMs: number): boolean {
    const s = this.s;
    if (s.kind !== 'streaming' || s.source !== from || s.session !== r.session) return false;
    if (r.seq !== s.expectSeq) {
      this.abandon(nowMs, `message ${r.seq} where ${s.expectSeq} was due`);
      return false;
    }
    s.expectSeq++;
    s.lastHeardMs = nowMs;
    if (r.last) s.ended = true;
    if (lastNumber >= 0) s.unacked.push({ seq: r.seq, lastNumber });
    else if (r.last && s.unacked.length === 0 && r.seq === 1) {
      // An empty first-and-last message: refused (busy) or it had nothing after all.
      this.abandon(nowMs, 'refused by the source');
      return false;
    }
    return true;
  }

  /** The peer's next block is now `next`: acknowledge what it took; finish when all of it was taken. */
  progress(next: number): void {
    const s = this.s;
    if (s.kind !== 'streaming') return;
    let ackSeq = 0;
    while (s.unacked.length > 0 && s.unacked[0]!.lastNumber < next) ackSeq = s.unacked.shift()!.seq;
    if (ackSeq > 0 && !s.ended) this.o.send(s.source, { type: GossipType.RANGE_ACK, ack: { session: s.session, seq: ackSeq, cancel: false } });
    if (next >= s.end || (s.ended && s.unacked.length === 0)) {
      this.o.log.info({ source: s.source, start: s.start, end: s.end, next }, 'gossip catch-up finished');
      this.s = { kind: 'idle' };
    }
  }

  /** Abandons a stream that went silent. */
  tick(nowMs: number): void {
    const s = this.s;
    if (s.kind === 'streaming' && nowMs - s.lastHeardMs > this.o.limits.catchUpStallTimeoutMs) this.abandon(nowMs, 'stalled');
  }

  /** A block from `member` failed verification: a stream from it stops, and it is not asked for a while. */
  misbehaved(member: string, nowMs: number): void {
    if (this.s.kind === 'streaming' && this.s.source === member) this.abandon(nowMs, 'sent a block that failed verification');
    else this.cooldown(member, nowMs);
  }

  /** Stops the stream (this board leads now, or stops). */
  cancel(why: string): void {
    const s = this.s;
    if (s.kind !== 'streaming') return;
    this.o.send(s.source, { type: GossipType.RANGE_ACK, ack: { session: s.session, seq: 0, cancel: true } });
    this.o.log.info({ source: s.source, why }, 'gossip catch-up cancelled');
    this.s = { kind: 'idle' };
  }

  private abandon(nowMs: number, why: string): void {
    const s = this.s;
    if (s.kind !== 'streaming') return;
    this.o.log.warn({ source: s.source, start: s.start, end: s.end, why }, 'gossip catch-up abandoned; another source will be tried');
    this.o.send(s.source, { type: GossipType.RANGE_ACK, ack: { session: s.session, seq: 0, cancel: true } });
    this.cooldown(s.source, nowMs);
    this.s = { kind: 'idle' };
  }

  private cooldown(member: string, nowMs: number): void {
    this.cooldownUntil.set(member, nowMs + this.o.limits.catchUpSourceCooldownMs);
  }
}
