// The board's deliver client (docs/design.md, "The deliver client"): one never-ending seek from the next
// block it needs, sent again after every (re)connection, with Fabric's status handling, backoff and
// endpoint failover, plus edgepeer's flow control (ACK a response once its blocks are taken) and stream
// heartbeats. Only responses authenticated for the session (docs/protocol.md §4.1) are acted on: anything
// else on the reply route is dropped and counted, and never stops, ends or delays the stream.
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../config/clock.js';
import { type KeyShare, newKeyShare } from '../crypto/keyAgreement.js';
import { toHex } from '../crypto/hash.js';
import type { Logger } from '../observability/logger.js';
import { MessageType, type Signer, signEnvelope } from '../protocol/envelope.js';
import {
  type DeliverResponse, decodeDeliverResponse, encodeAckFrame, encodeCancelFrame, encodeSeekFrame,
} from '../protocol/frames.js';
import { MessageMac, type ReplyKey, ReplyKeyVerifier, type ResponderTrust, macEquals } from '../protocol/messageAuth.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, seekInfoToWire, seekSpecified } from '../protocol/seek.js';
import { Status, type StatusCode, statusName } from '../protocol/status.js';
import type { ClientLink, LinkState } from '../transport/link.js';
import { Backoff } from '../config/backoff.js';
import { type IngressRegion, IngressRing } from './ingressRing.js';

export type DeliverClientState = 'idle' | 'connecting' | 'streaming' | 'backoff' | 'stopped';

export interface DeliverClientLimits {
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
  wrongStatusThreshold: number;
  keepaliveMs: number;
  streamStallTimeoutMs: number;
  windowMessages: number;
  connectTimeoutMs: number;
  /** Ring the responses are copied into until their blocks are committed (src/peer/ingressRing.ts); 0: none. */
  ingressRingBytes?: number;
}

/** Where verified blocks go. */
export interface BlockSink {
  /** Number of the next block the board needs (where a new seek starts). */
  nextNumber(): number;
  /**
   * Offers blocks[from..]; returns how many were taken (verified and buffered, or already had), or -1
   * when one was rejected (the stream is then restarted). Taking fewer than offered means the buffer
   * is full: the client waits for `resume()`.
   */
  offer(blocks: Uint8Array[], from: number): number;
}

export interface DeliverClientEvents {
  state?(state: DeliverClientState, detail: string): void;
  linkUp?(endpoint: string, up: boolean): void;
  status?(status: StatusCode): void;
  /** A response of the open stream arrived (a heartbeat has no blocks); for the sync judgement, not for data. */
  response?(blocks: readonly Uint8Array[]): void;
  /** The client stopped for good (wrongStatusThreshold exceeded); says why. */
  gaveUp?(reason: string): void;
  /** A message on the reply route was not acted on, and why. */
  dropped?(reason: DeliverDropReason): void;
}

/**
 * Why a message on the reply route was dropped: it does not decode; it carries no MAC (an answer to a
 * request without key share); its MAC or ReplyKey does not verify (forged); or it repeats a response
 * already taken (replayed). Responses of other sessions (old ones, or another process of the same
 * identity) are ignored without being counted.
 */
export type DeliverDropReason = 'malformed' | 'unauthenticated' | 'forged' | 'replayed';

export const DELIVER_DROP_REASONS: readonly DeliverDropReason[] = ['malformed', 'unauthenticated', 'forged', 'replayed'];

export interface DeliverClientOptions {
  channel: string;
  links: ClientLink[];
  signer: Signer;
  sink: BlockSink;
  clock: Clock;
  log: Logger;
  limits: DeliverClientLimits;
  /** Whose ReplyKeys authenticate responses: the orderers of the channel's current configuration. */
  responderTrust: ResponderTrust;
  events?: DeliverClientEvents;
  /** The ledger height: a response's place in the ingress ring is reused once its blocks are below it. */
  committedHeight: () => number;
  /** The backoff's jitter, [0, 1); default Math.random (src/config/backoff.ts). */
  random?: () => number;
}

/** ReplyKeys remembered from earlier sessions (an orderer renews its key every few hours; a few endpoints). */
const KNOWN_REPLY_KEYS_MAX = 4;

type StreamEnd =
  | { kind: 'status'; status: StatusCode }
  | { kind: 'rejected' }
  | { kind: 'link-down' }
  | { kind: 'stalled' }
  | { kind: 'gap'; expected: number; got: number }
  | { kind: 'stopped' };

interface PendingResponse {
  seq: number;
  blocks: Uint8Array[];
  taken: number;
  region: IngressRegion | null;
}

export class DeliverClient {
  private stateValue: DeliverClientState = 'idle';
  private endpointIndex = 0;
  private readonly retry: Backoff;
  private wrongStatusCount = 0;
  private stopped = false;
  private session: string | null = null;
  /** The key share of the open session's SEEK; its private half checks and makes the session's MACs. */
  private keyShare: KeyShare | null = null;
  /** The session's MAC key, once a response carrying a trusted ReplyKey authenticated, and that key (hex). */
  private mac: MessageMac | null = null;
  private macKey = '';
  /** ACKs sent on the session (the `n` of the next one is one more). */
  private acksSent = 0;
  /** ReplyKeys that authenticated a response, newest first: a response whose session's first was lost is checked with them. */
  private knownReplyKeys: ReplyKey[] = [];
  private readonly replyKeys: ReplyKeyVerifier;
  readonly dropped: Record<DeliverDropReason, number> = { malformed: 0, unauthenticated: 0, forged: 0, replayed: 0 };
  private endStream: ((end: StreamEnd) => void) | null = null;
  private pending: PendingResponse[] = [];
  private ackedSeq = 0;
  /** Highest response seq taken on the current session: a jump past it means a response was lost. */
  private lastSeq = 0;
  private lastHeardMs = 0;
  private keepaliveTimer: TimerHandle | null = null;
  private sleepTimer: TimerHandle | null = null;
  private wakeSleep: (() => void) | null = null;
  private loopDone: Promise<void> | null = null;
  private readonly opened = new Set<ClientLink>();
  /** Links may lend their message buffers (MQTT lendPayloads): every response is copied before use. */
  private readonly ingress: IngressRing;
  private readonly onMessage = (channel: string, bytes: Uint8Array): void => this.handleMessage(channel, bytes);
  private readonly onLinkState: ((s: LinkState) => void)[];

  constructor(private readonly o: DeliverClientOptions) {
    if (o.links.length === 0) throw new Error('a deliver client needs at least one orderer endpoint');
    this.onLinkState = o.links.map((l) => (s: LinkState): void => this.handleLinkState(l, s));
    this.ingress = new IngressRing(o.limits.ingressRingBytes ?? 0);
    this.retry = new Backoff({ baseDelayMs: o.limits.retryBaseDelayMs, maxDelayMs: o.limits.maxRetryDelayMs }, o.random);
    this.replyKeys = new ReplyKeyVerifier(o.responderTrust);
  }

  /** Responses that did not fit the ingress ring and were copied into buffers of their own. */
  get responsesOutsideRing(): number {
    return this.ingress.outsideRing;
  }

  /** Responses copied into the ingress ring. */
  get responsesInRing(): number {
    return this.ingress.inRing;
  }

  private releaseIngress(): void {
    this.ingress.release(this.o.committedHeight());
  }

  /**
   * The client lets go of a response: its region is reused once every block the sink may hold from it is
   * committed. The sink's tip bounds them all, also when an offer was rejected after buffering the blocks
   * before the bad one (those are not counted in `taken`).
   */
  private letGo(p: PendingResponse): void {
    if (p.region === null) return;
    p.region.lastTaken = this.o.sink.nextNumber() - 1;
    p.region.held = false;
  }

  private dropPending(): void {
    for (const p of this.pending) this.letGo(p);
    this.pending = [];
  }

  get state(): DeliverClientState {
    return this.stateValue;
  }

  get endpoint(): string {
    return this.link.endpoint;
  }

  private get link(): ClientLink {
    return this.o.links[this.endpointIndex]!;
  }

  private transition(next: DeliverClientState, detail: string): void {
    if (this.stateValue === next) return;
    this.stateValue = next;
    this.o.log.debug({ channel: this.o.channel, state: next, detail }, 'deliver client state');
    this.o.events?.state?.(next, detail);
  }

  /** Starts streaming; after stop() it may be started again (a board that regains leadership). */
  start(): void {
    if (this.loopDone) throw new Error('deliver client already started');
    this.stopped = false;
    this.retry.reset();
    this.o.links.forEach((l, i) => {
      l.on('message', this.onMessage);
      l.on('state', this.onLinkState[i]!);
    });
    this.loopDone = this.run();
  }

  /** Called by the sink's owner when buffer space was freed: offers what is still pending. */
  resume(): void {
    this.releaseIngress();
    if (this.pending.length > 0) this.offerPending();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endStream?.({ kind: 'stopped' });
    this.wakeSleep?.();
    await this.loopDone;
    this.loopDone = null;
    this.o.links.forEach((l, i) => {
      l.off('message', this.onMessage);
      l.off('state', this.onLinkState[i]!);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.transition('connecting', this.link.endpoint);
      const up = await this.connect();
      if (this.stopped) break;
      if (!up) {
        await this.failover('link did not come up');
        continue;
      }
      const end = await this.stream();
      if (this.stopped || end.kind === 'stopped') break;
      await this.afterStream(end);
    }
    this.transition('stopped', 'stopped');
  }

  private async connect(): Promise<boolean> {
    const link = this.link;
    if (link.state === 'up') return true;
    let settle: ((ok: boolean) => void) | null = null;
    const onState = (s: LinkState): void => { if (s === 'up') settle?.(true); };
    link.on('state', onState);
    try {
      // open() once per link: the link reconnects and resubscribes by itself after that, and each
      // further open() would leave one more waiter behind while the broker is away.
      const opened = this.opened.has(link)
        ? new Promise<boolean>(() => undefined)
        : link.open([this.o.channel]).then(() => true, (err: Error) => {
          this.opened.delete(link);
          this.o.log.warn({ endpoint: link.endpoint, err: err.message }, 'orderer endpoint unreachable');
          return false;
        });
      this.opened.add(link);
      const timedOut = new Promise<boolean>((resolve) => {
        settle = resolve;
        this.sleepTimer = this.o.clock.setTimeout(() => resolve(false), this.o.limits.connectTimeoutMs);
        this.wakeSleep = () => resolve(false);
      });
      const ok = await Promise.race([opened, timedOut]);
      return ok && (link.state as LinkState) === 'up';
    } finally {
      link.off('state', onState);
      if (this.sleepTimer) this.o.clock.clearTimeout(this.sleepTimer);
      this.sleepTimer = null;
      this.wakeSleep = null;
    }
  }

  /** Opens one session and processes its responses until it ends. */
  private async stream(): Promise<StreamEnd> {
    const link = this.link;
    const session = randomBytes(12).toString('hex');
    const start = this.o.sink.nextNumber();
    const keyShare = newKeyShare();
    const envelope = signEnvelope({
      type: MessageType.DELIVER_SEEK,
      channel: this.o.channel,
      replyTo: link.replyRoute(this.o.channel),
      session,
      keyShare: keyShare.publicRaw,
      data: seekInfoToWire({
        start: seekSpecified(start),
        stop: seekSpecified(MAX_BLOCK_NUMBER),
        behavior: SeekBehavior.BLOCK_UNTIL_READY,
        window: this.o.limits.windowMessages,
      }),
    }, this.o.signer);
    const ended = new Promise<StreamEnd>((resolve) => (this.endStream = resolve));
    this.session = session;
    this.keyShare = keyShare;
    this.mac = null;
    this.acksSent = 0;
    this.dropPending();
    this.ackedSeq = 0;
    this.lastSeq = 0;
    this.lastHeardMs = this.o.clock.now();
    try {
      await link.send(this.o.channel, 'deliver', encodeSeekFrame(envelope.bytes));
    } catch (err) {
      this.o.log.warn({ endpoint: link.endpoint, err: (err as Error).message }, 'could not send deliver request');
      this.endStream?.({ kind: 'link-down' });
    }
    this.transition('streaming', `${link.endpoint} from block ${start}`);
    this.o.log.info({ channel: this.o.channel, endpoint: link.endpoint, start, session }, 'deliver stream requested');
    this.armKeepalive();
    const end = await ended;
    // Set by the response handler while the stream ran (the narrowing from above does not hold).
    const mac = this.mac as MessageMac | null;
    this.session = null;
    this.keyShare = null;
    this.mac = null;
    this.endStream = null;
    this.dropPending();
    if (this.keepaliveTimer) this.o.clock.clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = null;
    // A session that never authenticated a response cannot send a CANCEL the orderer would take: the
    // orderer's idle timeout ends it.
    if (end.kind !== 'status' && mac !== null && link.state === 'up') {
      link.send(this.o.channel, 'deliver', encodeCancelFrame(session, mac.cancel(session))).catch(() => undefined);
    }
    return end;
  }

  /** Fabric's status handling after a stream ends, then the backoff before the next attempt. */
  private async afterStream(end: StreamEnd): Promise<void> {
    let switchEndpoint = true;
    let why: string;
    if (end.kind === 'status') {
      this.o.events?.status?.(end.status);
      why = `orderer answered ${statusName(end.status)}`;
      if (end.status === Status.BAD_REQUEST || end.status === Status.FORBIDDEN) {
        this.wrongStatusCount++;
        if (this.wrongStatusCount > this.o.limits.wrongStatusThreshold) {
          const reason = `stopping: ${this.wrongStatusCount} ${statusName(end.status)} answers in a row (wrongStatusThreshold ${this.o.limits.wrongStatusThreshold})`;
          this.o.log.error({ channel: this.o.channel, endpoint: this.link.endpoint }, reason);
          this.stopped = true;
          this.o.events?.gaveUp?.(reason);
          return;
        }
        switchEndpoint = end.status !== Status.BAD_REQUEST;
      } else {
        this.wrongStatusCount = 0;
        // SUCCESS is impossible for a never-ending seek: an error like any other.
      }
    } else {
      why = end.kind === 'rejected' ? 'a delivered block was rejected'
        : end.kind === 'stalled' ? 'stream stalled'
          : end.kind === 'gap' ? `response ${end.expected} lost (got ${end.got})` : 'link down';
    }
    this.o.log.warn({ channel: this.o.channel, endpoint: this.link.endpoint, attempt: this.retry.attempts }, `deliver stream ended: ${why}`);
    await this.backoff(why);
    if (switchEndpoint && this.o.links.length > 1) this.endpointIndex = (this.endpointIndex + 1) % this.o.links.length;
  }

  private async failover(why: string): Promise<void> {
    await this.backoff(why);
    if (this.o.links.length > 1) this.endpointIndex = (this.endpointIndex + 1) % this.o.links.length;
  }

  private async backoff(why: string): Promise<void> {
    const delay = this.retry.next();
    this.transition('backoff', `${why}; retrying in ${delay} ms`);
    await new Promise<void>((resolve) => {
      this.wakeSleep = resolve;
      this.sleepTimer = this.o.clock.setTimeout(resolve, delay);
    });
    // stop() may have cut the sleep short: the timer must not outlive the client.
    if (this.sleepTimer !== null) this.o.clock.clearTimeout(this.sleepTimer);
    this.wakeSleep = null;
    this.sleepTimer = null;
  }

  private handleLinkState(link: ClientLink, s: LinkState): void {
    // Only the link in use matters: an idle endpoint reconnecting by itself must not end the stream.
    if (s !== 'up' && link === this.link) this.endStream?.({ kind: 'link-down' });
  }

  private handleMessage(channel: string, bytes: Uint8Array): void {
    if (channel !== this.o.channel || this.session === null) return;
    this.releaseIngress();
    // The link may reuse `bytes` once this returns; the blocks are views into the copy.
    const copy = this.ingress.copy(bytes);
    // A response not kept for its blocks frees its place in the ring at once.
    if (!this.handleResponse(copy.bytes, copy.region) && copy.region !== null) copy.region.held = false;
  }

  /** Handles one (copied) response; true when it was kept as pending, its region then let go by letGo(). */
  private handleResponse(bytes: Uint8Array, region: IngressRegion | null): boolean {
    let r: DeliverResponse;
    try {
      r = decodeDeliverResponse(bytes);
    } catch (err) {
      this.drop('malformed', (err as Error).message);
      return false;
    }
    if (r.session !== this.session) return false;
    // Nothing of the response counts before it is authenticated: not even as a sign of life.
    const why = this.authenticate(r);
    if (why !== null) {
      this.drop(r.mac === undefined ? 'unauthenticated' : 'forged', why);
      return false;
    }
    // Each response is taken once: one already taken (or older) is a replay, whatever it says.
    if (r.seq <= this.lastSeq) {
      this.drop('replayed', `response ${r.seq} of the session again (last taken ${this.lastSeq})`);
      return false;
    }
    this.lastHeardMs = this.o.clock.now();
    // A final status ends the session whatever came (or did not come) before it.
    if ('status' in r) {
      this.endStream?.({ kind: 'status', status: r.status });
      return false;
    }
    // Responses are numbered 1, 2, 3 ... on a session. On a lossy link (serial) one can vanish; the
    // stream is then restarted from the next block needed rather than waiting on a hole forever.
    if (r.seq !== this.lastSeq + 1) {
      this.endStream?.({ kind: 'gap', expected: this.lastSeq + 1, got: r.seq });
      return false;
    }
    this.lastSeq = r.seq;
    this.o.events?.response?.(r.blocks);
    this.pending.push({ seq: r.seq, blocks: r.blocks, taken: 0, region });
    this.offerPending();
    return true;
  }

  /**
   * Why `r` is not authenticated for the open session, or null when it is. The session's MAC key comes
   * from the first response that carries a trusted ReplyKey; one whose predecessors were lost is checked
   * with the ReplyKeys that authenticated earlier sessions (the orderer keeps its key for hours).
   */
  private authenticate(r: DeliverResponse): string | null {
    if (r.mac === undefined) return 'response without a MAC';
    const share = this.keyShare!;
    const now = this.o.clock.now();
    const candidates: MessageMac[] = [];
    if (r.replyKey !== undefined) {
      const denied = this.replyKeys.check(r.replyKey, now);
      if (denied !== null) return denied;
      candidates.push(this.mac !== null && this.macKey === toHex(r.replyKey.key) ? this.mac : MessageMac.agree(share.privateKey, r.replyKey.key, r.replyKey.key, share.publicRaw));
    } else if (this.mac !== null) {
      candidates.push(this.mac);
    } else {
      for (const k of this.knownReplyKeys) {
        if (this.replyKeys.check(k, now) === null) candidates.push(MessageMac.agree(share.privateKey, k.key, k.key, share.publicRaw));
      }
    }
    for (const mac of candidates) {
      const expected = 'status' in r ? mac.deliverStatus(r.session, r.seq, r.status) : mac.deliverBlocks(r.session, r.seq, r.blocks);
      if (!macEquals(expected, r.mac)) continue;
      if (this.mac !== mac) {
        this.mac = mac;
        const key = r.replyKey ?? this.knownReplyKeys[candidates.indexOf(mac)]!;
        this.macKey = toHex(key.key);
        this.knownReplyKeys = [key, ...this.knownReplyKeys.filter((k) => toHex(k.key) !== this.macKey)].slice(0, KNOWN_REPLY_KEYS_MAX);
      }
      return null;
    }
    return 'MAC does not verify';
  }

  private drop(reason: DeliverDropReason, why: string): void {
    this.dropped[reason]++;
    this.o.events?.dropped?.(reason);
    this.o.log.debug({ channel: this.o.channel, reason, why }, 'deliver response dropped');
  }

  private offerPending(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      if (head.taken < head.blocks.length) {
        const n = this.o.sink.offer(head.blocks, head.taken);
        if (n < 0) {
          this.endStream?.({ kind: 'rejected' });
          return;
        }
        if (n > 0) {
          this.retry.reset();
          this.wrongStatusCount = 0;
        }
        head.taken += n;
        if (head.taken < head.blocks.length) return;
      }
      this.pending.shift();
      this.letGo(head);
      this.ack(head.seq);
    }
  }

  private ack(seq: number): void {
    if (this.session === null || seq <= this.ackedSeq) return;
    this.ackedSeq = seq;
    this.sendAck(this.session, seq);
  }

  /** An ACK the orderer can authenticate: none before the session's MAC key is known. */
  private sendAck(session: string, seq: number): void {
    if (this.mac === null) return;
    const n = ++this.acksSent;
    this.link.send(this.o.channel, 'deliver', encodeAckFrame(session, seq, n, this.mac.ack(session, seq, n))).catch(() => undefined);
  }

  /** Acknowledges at a steady rate (proof of life for the orderer) and detects a silent stream. */
  private armKeepalive(): void {
    this.keepaliveTimer = this.o.clock.setTimeout(() => {
      if (this.session === null) return;
      if (this.o.clock.now() - this.lastHeardMs > this.o.limits.streamStallTimeoutMs) {
        this.endStream?.({ kind: 'stalled' });
        return;
      }
      this.sendAck(this.session, this.ackedSeq);
      this.armKeepalive();
    }, this.o.limits.keepaliveMs);
    this.keepaliveTimer.unref?.();
  }
}
