// Serves this board's committed blocks to neighbours that lack them: a bounded answer to a DIGEST (pull),
// and RANGE streams (catch-up) with credit-based flow control: at most `window` BLOCKS messages sent and
// not acknowledged per session, so a slow requester holds the server back instead of its queues growing.
// A DIGEST is a few bytes that make the server send up to pullBlocksMax blocks, and anyone who saw one on
// the wire can replay it within the message time window: what DIGESTs make this board send is budgeted
// per requester (a token bucket of block bytes), so one replayed or repeated DIGEST cannot make it send
// more than that budget allows.
import type { BlockLedger } from '../ledger/ledger.js';
import type { Logger } from '../observability/logger.js';
import { BlocksKind, type GossipBody, GossipType, type RangeAckBody, type RangeRequestBody } from './messages.js';

/** What the server reads: the board's own ledger. */
export type BlockReader = Pick<BlockLedger, 'height' | 'readBlocks'>;

export interface BlockServerLimits {
  /** Block bytes in one BLOCKS message at most (at least one block). */
  blocksMessageMaxBytes: number;
  blocksPerMessageMax: number;
  /** Blocks one DIGEST answer carries at most; more than that is what range catch-up is for. */
  pullBlocksMax: number;
  /** Range sessions served at once; a request beyond that is refused (an empty last message). */
  rangeSessionsMax: number;
  /** Window asked for is capped here. */
  catchUpWindowMessagesMax: number;
  /** A session whose requester sends no ACK for this long is ended. */
  rangeSessionIdleMs: number;
  /** Block bytes DIGEST answers to one requester may carry at once (the bucket's size). */
  digestAnswerBurstBytes: number;
  /** ... refilled at this many bytes per second. */
  digestAnswerBytesPerSecond: number;
}

export interface BlockServerOptions {
  ledger: BlockReader;
  limits: BlockServerLimits;
  /**
   * Signs and sends to a member (by id); false when it could not be queued. Must encode `body` before it
   * returns: its blocks are views into a buffer the next message reuses.
   */
  send(member: string, body: GossipBody): boolean;
  log: Logger;
}

type SessionState = 'streaming' | 'waiting-for-credit';

interface Session {
  requester: string;
  id: number;
  next: number;
  /** One past the last block this session sends: the request's end, capped by the height at the start. */
  end: number;
  window: number;
  sentSeq: number;
  ackedSeq: number;
  lastAckMs: number;
  state: SessionState;
}

/** What one requester's DIGESTs may still make this board send. */
interface DigestBudget {
  /** Block bytes left; may go below 0 by one block (a message carries at least one). */
  bytes: number;
  atMs: number;
  /** Answers cut short since the bucket was last full (logged once per such episode). */
  cut: number;
}

export class BlockServer {
  private readonly sessions = new Map<string, Session>();
  private readonly budgets = new Map<string, DigestBudget>();
  private served = 0;
  private digestsCut = 0;
  /** Blocks of the message being built (see read()). */
  private scratch: Buffer;

  constructor(private readonly o: BlockServerOptions) {
    this.scratch = Buffer.allocUnsafe(o.limits.blocksMessageMaxBytes);
  }

  /** Range sessions open now. */
  get openSessions(): number {
    return this.sessions.size;
  }

  /** Blocks sent in answers and streams since start. */
  get blocksServed(): number {
    return this.served;
  }

  /** Requesters whose DIGEST budget is not full (those with a full one need no entry). */
  get digestBudgetsTracked(): number {
    return this.budgets.size;
  }

  /** DIGEST answers cut short by the requester's budget since start. */
  get digestAnswersCut(): number {
    return this.digestsCut;
  }

  /**
   * A member told us its height: it gets the blocks above it that we hold, up to pullBlocksMax, as far as
   * its budget goes (digestAnswerBurstBytes, refilled at digestAnswerBytesPerSecond). An answer cut short
   * is not resumed: the requester asks again (its next pull) or streams the range (catch-up).
   */
  digest(from: string, height: number, nowMs: number): void {
    const own = this.o.ledger.height();
    if (height >= own) return;
    const budget = this.budget(from, nowMs);
    const to = Math.min(own, height + this.o.limits.pullBlocksMax);
    let next = height;
    while (next < to) {
      if (budget.bytes <= 0) {
        this.digestsCut++;
        if (budget.cut++ === 0) {
          this.o.log.warn({ requester: from, burstBytes: this.o.limits.digestAnswerBurstBytes, bytesPerSecond: this.o.limits.digestAnswerBytesPerSecond },
            'gossip DIGEST answers to this member cut short: its budget is spent (repeated or replayed DIGESTs?)');
        }
        return;
      }
      // No message carries more than what is left (one block at least): the budget is overdrawn by a block at most.
      const blocks = this.read(next, to, Math.min(this.o.limits.blocksMessageMaxBytes, budget.bytes));
      if (blocks.length === 0) return;
      if (!this.o.send(from, { type: GossipType.BLOCKS, blocks, kind: BlocksKind.PULL })) return;
      for (const b of blocks) budget.bytes -= b.length;
      next += blocks.length;
    }
  }

  /** The requester's bucket, refilled for the time since it was last used. */
  private budget(from: string, nowMs: number): DigestBudget {
    const l = this.o.limits;
    let b = this.budgets.get(from);
    if (b === undefined) {
      b = { bytes: l.digestAnswerBurstBytes, atMs: nowMs, cut: 0 };
      this.budgets.set(from, b);
      return b;
    }
    const elapsedMs = Math.max(0, nowMs - b.atMs);
    b.bytes = Math.min(l.digestAnswerBurstBytes, b.bytes + (elapsedMs * l.digestAnswerBytesPerSecond) / 1000);
    b.atMs = nowMs;
    return b;
  }

  request(from: string, r: RangeRequestBody, nowMs: number): void {
    const key = `${from}\n${r.session}`;
    if (this.sessions.has(key)) return;
    const end = Math.min(r.end, this.o.ledger.height());
    if (this.sessions.size >= this.o.limits.rangeSessionsMax || r.start >= end) {
      // Refused or nothing to give: one empty last message, so the requester turns to someone else now.
      this.o.send(from, { type: GossipType.BLOCKS, blocks: [], kind: BlocksKind.RANGE, range: { session: r.session, seq: 1, last: true } });
      return;
    }
    const s: Session = {
      requester: from, id: r.session, next: r.start, end, window: Math.min(r.window, this.o.limits.catchUpWindowMessagesMax),
      sentSeq: 0, ackedSeq: 0, lastAckMs: nowMs, state: 'streaming',
    };
    this.sessions.set(key, s);
    this.o.log.info({ requester: from, session: r.session, start: r.start, end }, 'gossip range stream opened');
    this.pump(s);
  }

  ack(from: string, a: RangeAckBody, nowMs: number): void {
    const s = this.sessions.get(`${from}\n${a.session}`);
    if (s === undefined) return;
    if (a.cancel) {
      this.close(s, 'cancelled by the requester');
      return;
    }
    if (a.seq > s.sentSeq || a.seq <= s.ackedSeq) return;
    s.ackedSeq = a.seq;
    s.lastAckMs = nowMs;
    s.state = 'streaming';
    this.pump(s);
  }

  /** Ends sessions whose requester went silent; forgets budgets that have refilled (a new one is full too). */
  expire(nowMs: number): void {
    for (const s of this.sessions.values()) {
      if (nowMs - s.lastAckMs > this.o.limits.rangeSessionIdleMs) this.close(s, 'no acknowledgement');
    }
    for (const from of this.budgets.keys()) {
      if (this.budget(from, nowMs).bytes >= this.o.limits.digestAnswerBurstBytes) this.budgets.delete(from);
    }
  }

  stop(): void {
    this.sessions.clear();
    this.budgets.clear();
  }

  /** Sends while the session has credit; the last message says so. */
  private pump(s: Session): void {
    while (s.state === 'streaming') {
      if (s.sentSeq - s.ackedSeq >= s.window) {
        s.state = 'waiting-for-credit';
        return;
      }
      const blocks = this.read(s.next, s.end);
      s.next += blocks.length;
      const last = s.next >= s.end || blocks.length === 0;
      s.sentSeq++;
      const ok = this.o.send(s.requester, { type: GossipType.BLOCKS, blocks, kind: BlocksKind.RANGE, range: { session: s.id, seq: s.sentSeq, last } });
      if (!ok) {
        // The requester sees the gap in seq (or silence) and asks again, from wherever its chain then is.
        this.close(s, 'send queue full or no connection');
        return;
      }
      if (last) {
        this.close(s, 'complete');
        return;
      }
    }
  }

  private close(s: Session, why: string): void {
    this.sessions.delete(`${s.requester}\n${s.id}`);
    this.o.log.info({ requester: s.requester, session: s.id, next: s.next, end: s.end, why }, 'gossip range stream closed');
  }

  /**
   * Consecutive blocks [from, to), as many as fit one message, as views into one reused scratch buffer:
   * valid until the next read, which is enough because every caller signs (encodes, copies) the message
   * before reading again. One copy out of the store's read buffer per block, and no allocation per block.
   */
  private read(from: number, to: number, maxBytes = this.o.limits.blocksMessageMaxBytes): Uint8Array[] {
    const last = Math.min(to, from + this.o.limits.blocksPerMessageMax) - 1;
    if (last < from) return [];
    const offsets: number[] = [];
    let used = 0;
    this.o.ledger.readBlocks(from, last, maxBytes, (b) => {
      // At least one block is visited even when it alone exceeds the message size: the scratch grows.
      if (used + b.length > this.scratch.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * this.scratch.length, used + b.length));
        bigger.set(this.scratch.subarray(0, used));
        this.scratch = bigger;
      }
      this.scratch.set(b, used);
      offsets.push(used);
      used += b.length;
    });
    offsets.push(used);
    const out: Uint8Array[] = [];
    for (let i = 0; i + 1 < offsets.length; i++) out.push(this.scratch.subarray(offsets[i], offsets[i + 1]));
    this.served += out.length;
    return out;
  }
}
