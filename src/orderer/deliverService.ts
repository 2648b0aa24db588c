// The Deliver service: turns deliver-route frames into sessions, routes ACK and CANCEL to them, and
// ends sessions whose client has gone silent.
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
import { checkRequest } from './requestChecks.js';
import { resolveSeek } from './seekResolution.js';

export interface DeliverLimits {
  windowMessages: number;
  maxWindowMessages: number;
  maxResponseBytes: number;
  sessionIdleTimeoutMs: number;
  maxSessions: number;
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
  observer?: DeliverObserver;
}

export class DeliverService {
  private readonly sessions = new Map<string, DeliverSession>();
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
      case FrameKind.ACK: this.sessionOn(channel, frame.session)?.ack(frame.seq); return;
      case FrameKind.CANCEL: this.sessionOn(channel, frame.session)?.cancel('cancelled by client'); return;
      case FrameKind.SEEK: this.open(link, channel, frame); return;
    }
  }

  private open(link: ServerLink, channel: string, frame: Extract<DeliverRequestFrame, { kind: 1 }>): void {
    const p = frame.envelope.payload;
    const { replyTo, session } = p;
    if (replyTo === undefined || session === undefined || !link.replyRouteAllowed(channel, replyTo)) {
      this.drop('no-reply-route', `deliver request from ${p.creator.id} dropped: missing or foreign reply route '${replyTo ?? ''}'`);
      return;
    }
    const answer = (status: StatusCode, reason: string): void => {
      this.o.log.warn({ channel, requester: p.creator.id, status: statusName(status), reason }, 'deliver request refused');
      this.o.observer?.request(statusName(status));
      link.reply(replyTo, encodeDeliverStatus(session, 1, status)).catch((err: Error) =>
        this.o.log.debug({ err: err.message }, 'could not send deliver status'));
    };
    if (this.closed) return answer(Status.SERVICE_UNAVAILABLE, 'orderer is stopping');
    const verdict = checkRequest(
      { chains: this.o.chains, clock: this.o.clock, requestTimeWindowMs: this.o.limits.requestTimeWindowMs },
      channel, frame.envelope, [MessageType.DELIVER_SEEK], (c) => c.state.config.readers,
    );
    if (!verdict.ok) return answer(verdict.status, verdict.reason);
    let seek;
    try {
      seek = seekInfoFromWire(p.data);
    } catch (err) {
      return answer(Status.BAD_REQUEST, err instanceof WireError ? err.message : String(err));
    }
    const range = resolveSeek(seek, verdict.chain.height());
    if (!range.ok) return answer(range.status, range.reason);
    if (this.sessions.has(session)) return answer(Status.BAD_REQUEST, `session id '${session}' is already open`);
    if (this.sessions.size >= this.o.limits.maxSessions) return answer(Status.SERVICE_UNAVAILABLE, 'too many open deliver sessions');

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
    });
    this.sessions.set(session, s);
    this.o.observer?.streamsOpen(this.sessions.size);
    // The opened and ended lines together are the orderer's Deliver log: who (requester, org) had which
    // session open from when to when, and which blocks it was sent (start .. start + blocksSent - 1, a
    // session sends a contiguous run), so streams per org and blocks per board can be rebuilt from them.
    const who = { channel, requester: p.creator.id, org: p.creator.org, session, start: range.start };
    this.o.log.info({ ...who, stop: range.stop }, 'deliver stream opened');
    void s.run().then((end) => {
      this.sessions.delete(session);
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
