// One Deliver stream (docs/design.md, "Deliver, step by step", steps 6–9; docs/protocol.md §9.4), with
// credit-based flow control: at most `window` responses unacknowledged, each carrying consecutive blocks up
// to `maxResponseBytes`. Every response carries the session's MAC, and only ACKs and CANCELs with a valid
// one are taken.
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Certificate } from '../protocol/certificate.js';
import type { CborMap } from '../protocol/cbor.js';
import { DeliverBlocksBuilder, encodeDeliverBlocks, encodeDeliverStatus } from '../protocol/frames.js';
import { type MessageMac, macEquals } from '../protocol/messageAuth.js';
import { SeekBehavior, type SeekBehaviorCode } from '../protocol/seek.js';
import { Status, type StatusCode } from '../protocol/status.js';
import type { ServerLink } from '../transport/link.js';
import type { ServedChain } from './servedChain.js';
import { SessionAccess } from './sessionAccess.js';

export type SessionState = 'waitingForBlock' | 'waitingForCredit' | 'sending' | 'done';

export interface DeliverSessionParams {
  id: string;
  chain: ServedChain;
  link: ServerLink;
  replyTo: string;
  creator: Certificate;
  start: number;
  stop: number;
  behavior: SeekBehaviorCode;
  windowMessages: number;
  maxResponseBytes: number;
  /** While waiting for blocks, an empty response this often tells the client the stream is alive. */
  heartbeatMs: number;
  clock: Clock;
  /** The session's MAC key, agreed from the SEEK's key share. */
  mac: MessageMac;
  /** The ReplyKey (wire form) it was agreed under: carried by response 1 and the final status. */
  replyKey: CborMap;
}

/** How a session ended: the final status sent (null when none could be or should be sent) and why. */
export interface SessionEnd {
  status: StatusCode | null;
  reason: string;
  blocksSent: number;
}

export class DeliverSession {
  private stateValue: SessionState = 'sending';
  private sentSeq = 0;
  private ackedSeq = 0;
  /** Highest ACK count `n` taken: an ACK must count above it (a repeated one is a replay). */
  private ackCount = 0;
  private blocksSent = 0;
  private cancelReason: string | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly cancelled: Promise<void>;
  private resolveCancelled!: () => void;
  private readonly access: SessionAccess;
  /** The pending wait for block `blockWaitFor`, reused across heartbeats so waits do not pile up. */
  private blockWait: Promise<'block'> | null = null;
  private blockWaitFor = -1;
  lastHeardMs: number;

  constructor(private readonly p: DeliverSessionParams) {
    this.cancelled = new Promise((r) => (this.resolveCancelled = r));
    this.access = new SessionAccess(p.chain, p.creator, p.clock);
    this.lastHeardMs = p.clock.now();
  }

  get id(): string {
    return this.p.id;
  }

  get state(): SessionState {
    return this.stateValue;
  }

  get channel(): string {
    return this.p.chain.channel;
  }

  get creatorId(): string {
    return this.p.creator.id;
  }

  /**
   * Every response up to `seq` has been taken by the client. Also proves the client is alive. False
   * (and nothing changes) unless the MAC verifies and `n` counts above the last ACK taken.
   */
  ack(seq: number, n: number, mac: Uint8Array): boolean {
    if (n <= this.ackCount || !macEquals(this.p.mac.ack(this.p.id, seq, n), mac)) return false;
    this.ackCount = n;
    this.lastHeardMs = this.p.clock.now();
    if (seq > this.ackedSeq) this.ackedSeq = Math.min(seq, this.sentSeq);
    this.poke();
    return true;
  }

  /** The client ends the session; false (and the session goes on) unless the MAC verifies. */
  cancelAuthenticated(mac: Uint8Array): boolean {
    if (!macEquals(this.p.mac.cancel(this.p.id), mac)) return false;
    this.cancel('cancelled by client');
    return true;
  }

  cancel(reason: string): void {
    if (this.cancelReason !== null) return;
    this.cancelReason = reason;
    this.resolveCancelled();
    this.poke();
  }

  private poke(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private transition(next: SessionState): void {
    this.stateValue = next;
  }

  async run(): Promise<SessionEnd> {
    try {
      return await this.loop();
    } catch (err) {
      return this.end(null, `link failed: ${(err as Error).message}`);
    }
  }

  private async loop(): Promise<SessionEnd> {
    const { chain, stop } = this.p;
    let next = this.p.start;
    for (;;) {
      if (this.cancelReason !== null) return this.end(null, this.cancelReason);
      if (chain.isClosed) return this.finish(Status.SERVICE_UNAVAILABLE, 'channel closed');
      const height = chain.height();
      if (next >= height) {
        if (this.p.behavior === SeekBehavior.FAIL_IF_NOT_READY) {
          return this.finish(Status.NOT_FOUND, `block ${next} is not cut yet (height ${height})`);
        }
        this.transition('waitingForBlock');
        if (this.blockWaitFor !== next || this.blockWait === null) {
          this.blockWaitFor = next;
          this.blockWait = chain.waitForBlock(next).then(() => 'block' as const);
        }
        let timer: TimerHandle | null = null;
        const heartbeat = new Promise<'heartbeat'>((resolve) => {
          timer = this.p.clock.setTimeout(() => resolve('heartbeat'), this.p.heartbeatMs);
        });
        const woke = await Promise.race([this.blockWait, this.cancelled.then(() => 'cancel' as const), heartbeat]);
        if (timer !== null) this.p.clock.clearTimeout(timer);
        if (woke === 'heartbeat') await this.send([]);
        continue;
      }
      const denied = this.access.check();
      if (denied !== null) return this.finish(Status.FORBIDDEN, denied);
      if (this.sentSeq - this.ackedSeq >= this.p.windowMessages) {
        this.transition('waitingForCredit');
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        continue;
      }
      this.transition('sending');
      const last = Math.min(stop, height - 1);
      // readBlocks' views are overwritten by its next read: each block is copied, once, into the frame.
      const response = new DeliverBlocksBuilder(this.p.id, this.sentSeq + 1, this.p.maxResponseBytes);
      const got = chain.ledger.readBlocks(next, last, this.p.maxResponseBytes, (block) => response.add(block));
      if (got === 0) return this.finish(Status.INTERNAL_SERVER_ERROR, `block ${next} missing from the ledger`);
      next += got;
      await this.sendBuilt(response);
      this.blocksSent += got;
      if (next > stop) return this.finish(Status.SUCCESS, 'stop block sent');
    }
  }

  /** The next DeliverBlocks (a heartbeat when empty); the first response of the session carries the ReplyKey. */
  private send(blocks: Uint8Array[]): Promise<void> {
    const seq = ++this.sentSeq;
    const mac = this.p.mac.deliverBlocks(this.p.id, seq, blocks);
    return this.p.link.reply(this.p.replyTo, encodeDeliverBlocks(this.p.id, seq, blocks, mac, seq === 1 ? this.p.replyKey : undefined));
  }

  /** As send(), for a response built as its blocks were read (numbered the next seq when it was begun). */
  private sendBuilt(response: DeliverBlocksBuilder): Promise<void> {
    const seq = ++this.sentSeq;
    if (response.seq !== seq) throw new Error(`response built as ${response.seq}, sent as ${seq}`);
    const mac = this.p.mac.deliverBlocks(this.p.id, seq, response.blocks());
    return this.p.link.reply(this.p.replyTo, response.finish(mac, seq === 1 ? this.p.replyKey : undefined));
  }

  private async finish(status: StatusCode, reason: string): Promise<SessionEnd> {
    const seq = ++this.sentSeq;
    const mac = this.p.mac.deliverStatus(this.p.id, seq, status);
    await this.p.link.reply(this.p.replyTo, encodeDeliverStatus(this.p.id, seq, status, mac, this.p.replyKey));
    return this.end(status, reason);
  }

  private end(status: StatusCode | null, reason: string): SessionEnd {
    this.transition('done');
    return { status, reason, blocksSent: this.blocksSent };
  }
}
