// The Deliver service: turns deliver-route frames into sessions, routes authenticated ACK and CANCEL to
// them, keeps each identity to its share of sessions, and ends sessions whose client has gone silent.
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import { WireError } from '../protocol/cbor.js';
import { MessageType } from '../protocol/envelope.js';
import { type DeliverRequestFrame, FrameKind, decodeDeliverRequestFrame, encodeDeliverStatus } from '../protocol/frames.js';
import { seekInfoFromWire } from '../protocol/seek.js';
import { Status, type StatusCode, statusName } from '../protocol/status.js';
import type { ServerLink } from '../transport/link.js';
import type { ServedChain } from './servedChain.js';
import { DeliverSession } from './deliverSession.js';
import type { ReplayGuard } from './replayGuard.js';
import type { ReplyKeys } from './replyKeys.js';
import { checkRequest, identityOf } from './requestChecks.js';
import { resolveSeek } from './seekResolution.js';

export interface DeliverLimits {
  windowMessages: number;
  maxWindowMessages: number;
  maxResponseBytes: number;
  sessionIdleTimeoutMs: number;
  maxSessions: number;
  /**
   * Open sessions one identity (org and id) holds at most: its next SEEK ends its oldest one, so one
   * member cannot take the others' sessions and a board whose old session lingers is not refused.
   */
  maxSessionsPerIdentity: number;
  requestTimeWindowMs: number;
  heartbeatMs: number;
}

export interface DeliverObserver {
  request(status: string): void;
  streamsOpen(count: number): void;
  dropped(reason: string): void;
}

export interface DeliverServiceOptions {
  chains: ReadonlyMap<string, ServedChain>;
  clock: Clock;
  log: Logger;
  limits: DeliverLimits;
  /** Makes the MAC key of each session from the client's key share. */
  replyKeys: ReplyKeys;
  /** SEEK txIds taken. */
  replay: ReplayGuard;
  observer?: DeliverObserver;
}

export class DeliverService {
  private readonly sessions = new Map<string, DeliverSession>();
  /** Open sessions per identity, oldest first. */
  private readonly byIdentity = new Map<string, DeliverSession[]>();
  private sweepTimer: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly o: DeliverServiceOptions) {
    this.armSweep();
  }

  get openSessions(): number {
    return this.sessions.size;
  }

  /** Handles one frame from the deliver route of `channel` on `link`. Never throws. */
  handle(link: ServerLink, channel: string, message: Uint8Array): void {
    let frame: DeliverRequestFrame;
    try {
      frame = decodeDeliverRequestFrame(message);
    } catch (err) {
      // Without a decodable signed payload there is no reply route to answer on.
      this.drop('malformed', `deliver request on channel '${channel}' dropped: ${(err as Error).message}`);
      return;
    }
    switch (frame.kind) {
      case FrameKind.ACK: {
        const s = this.sessionOn(channel, frame.session);
        if (s !== undefined && !s.ack(frame.seq, frame.n, frame.mac)) this.drop('bad-mac', `ACK for session ${frame.session} dropped: MAC or count does not verify`);
        return;
      }
      case FrameKind.CANCEL: {
        const s = this.sessionOn(channel, frame.session);
        if (s !== undefined && !s.cancelAuthenticated(frame.mac)) this.drop('bad-mac', `CANCEL for session ${frame.session} dropped: MAC does not verify`);
        return;
      }
      case FrameKind.SEEK: this.open(link, channel, frame); return;
    }
  }

  private open(link: ServerLink, channel: string, frame: Extract<DeliverRequestFrame, { kind: 1 }>): void {
    const p = frame.envelope.payload;
    const { replyTo, session } = p;
    if (replyTo === undefined || session === undefined || !link.replyRouteAllowed(channel, replyTo, p.creator)) {
      this.drop('no-reply-route', `deliver request from ${p.creator.id} dropped: missing or foreign reply route '${replyTo ?? ''}'`);
      return;
    }
    // Answers are authenticated with the key agreed from the request's key share: only its signer (who
    // holds the private half) can check them, so a forged SEEK cannot make a status its victim believes.
    const key = this.o.replyKeys.agree(p.keyShare);
    const answer = (status: StatusCode, reason: string): void => {
      this.o.log.warn({ channel, requester: p.creator.id, status: statusName(status), reason }, 'deliver request refused');
      this.o.observer?.request(statusName(status));
      const bytes = typeof key === 'string'
        ? encodeDeliverStatus(session, 1, status)
        : encodeDeliverStatus(session, 1, status, key.mac.deliverStatus(session, 1, status), key.replyKey);
      link.reply(replyTo, bytes).catch((err: Error) =>
        this.o.log.debug({ err: err.message }, 'could not send deliver status'));
    };
    if (typeof key === 'string') return answer(Status.BAD_REQUEST, `no usable key share: ${key}`);
    if (this.closed) return answer(Status.SERVICE_UNAVAILABLE, 'orderer is stopping');
    const verdict = checkRequest(
      { chains: this.o.chains, clock: this.o.clock, requestTimeWindowMs: this.o.limits.requestTimeWindowMs, replay: this.o.replay },
      channel, frame.envelope, [MessageType.DELIVER_SEEK], (c) => c.state.config.readers,
    );
    if (!verdict.ok) {
      if (verdict.status === null) return this.drop('replayed', `deliver request from ${p.creator.id} dropped: ${verdict.reason}`);
      return answer(verdict.status, verdict.reason);
    }
    let seek;
    try {
      seek = seekInfoFromWire(p.data);
    } catch (err) {
      return answer(Status.BAD_REQUEST, err instanceof WireError ? err.message : String(err));
    }
    const range = resolveSeek(seek, verdict.chain.height());
    if (!range.ok) return answer(range.status, range.reason);
    if (this.sessions.has(session)) return answer(Status.BAD_REQUEST, `session id '${session}' is already open`);
    const identity = identityOf(p.creator);
    const own = this.byIdentity.get(identity) ?? [];
    // The identity's own oldest session makes room first: a member can only ever push out its own.
    if (own.length >= this.o.limits.maxSessionsPerIdentity) own[0]!.cancel(`${p.creator.org}/${p.creator.id} opened more than ${this.o.limits.maxSessionsPerIdentity} sessions`);
    else if (this.sessions.size >= this.o.limits.maxSessions) return answer(Status.SERVICE_UNAVAILABLE, 'too many open deliver sessions');

    const s = new DeliverSession({
      id: session,
      chain: verdict.chain,
      link,
      replyTo,
      creator: p.creator,
      start: range.start,
      stop: range.stop,
      behavior: seek.behavior,
      windowMessages: Math.min(seek.window ?? this.o.limits.windowMessages, this.o.limits.maxWindowMessages),
      maxResponseBytes: Math.min(this.o.limits.maxResponseBytes, link.maxResponseBytes ?? Number.POSITIVE_INFINITY),
      heartbeatMs: this.o.limits.heartbeatMs,
      clock: this.o.clock,
      mac: key.mac,
      replyKey: key.replyKey,
    });
    this.sessions.set(session, s);
    this.byIdentity.set(identity, [...own, s]);
    this.o.observer?.streamsOpen(this.sessions.size);
    // The opened and ended lines together are the orderer's Deliver log: who (requester, org) had which
    // session open from when to when, and which blocks it was sent (start .. start + blocksSent - 1, a
    // session sends a contiguous run), so streams per org and blocks per board can be rebuilt from them.
    const who = { channel, requester: p.creator.id, org: p.creator.org, session, start: range.start };
    this.o.log.info({ ...who, stop: range.stop }, 'deliver stream opened');
    void s.run().then((end) => {
      this.sessions.delete(session);
      const left = (this.byIdentity.get(identity) ?? []).filter((x) => x !== s);
      if (left.length > 0) this.byIdentity.set(identity, left);
      else this.byIdentity.delete(identity);
      this.o.observer?.streamsOpen(this.sessions.size);
      if (end.status !== null) this.o.observer?.request(statusName(end.status));
      this.o.log.info({
        ...who, status: end.status === null ? 'none' : statusName(end.status), reason: end.reason, blocksSent: end.blocksSent,
      }, 'deliver stream ended');
    });
  }

  /** ACK and CANCEL reach only a session of the channel whose route they came on. */
  private sessionOn(channel: string, id: string): DeliverSession | undefined {
    const s = this.sessions.get(id);
    return s !== undefined && s.channel === channel ? s : undefined;
  }

  private drop(reason: string, message: string): void {
    this.o.observer?.dropped(reason);
    this.o.log.warn({ reason }, message);
  }

  private armSweep(): void {
    const every = Math.max(50, Math.floor(this.o.limits.sessionIdleTimeoutMs / 4));
    this.sweepTimer = this.o.clock.setTimeout(() => {
      const deadline = this.o.clock.now() - this.o.limits.sessionIdleTimeoutMs;
      for (const s of this.sessions.values()) {
        if (s.lastHeardMs < deadline) s.cancel(`no ack from the client for ${this.o.limits.sessionIdleTimeoutMs} ms`);
      }
      if (!this.closed) this.armSweep();
    }, every);
    this.sweepTimer.unref?.();
  }

  /** Ends every session (without a status: the link is going away). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer !== null) this.o.clock.clearTimeout(this.sweepTimer);
    for (const s of this.sessions.values()) s.cancel('orderer stopping');
  }
}
