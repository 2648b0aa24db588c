// The Broadcast service: signed transactions checked against the Writers policy and ordered; signed
// configuration updates checked against the Admins policy and cut as configuration blocks. Every
// request that names a reply route gets one status answer, authenticated for its signer (§4.1); a
// request taken before (its txId remembered for the request window, also across a restart) is dropped.
import type { Clock } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import { ChannelState } from '../channel/channelState.js';
import { channelConfigFromWire } from '../protocol/channelConfig.js';
import { type Envelope, MessageType } from '../protocol/envelope.js';
import { MAX_INFO_CHARS, decodeSubmitFrame, encodeBroadcastResponse } from '../protocol/frames.js';
import { Status, type StatusCode, statusName } from '../protocol/status.js';
import type { ServerLink } from '../transport/link.js';
import type { Chain } from './chain.js';
import type { ReplayGuard } from './replayGuard.js';
import type { ReplyKeys } from './replyKeys.js';
import { checkRequest } from './requestChecks.js';

export interface BroadcastObserver {
  request(status: string): void;
  dropped(reason: string): void;
}

export interface BroadcastServiceOptions {
  chains: ReadonlyMap<string, Chain>;
  clock: Clock;
  log: Logger;
  requestTimeWindowMs: number;
  replyKeys: ReplyKeys;
  /** SUBMIT txIds taken (seeded from the ledgers by the orderer at start). */
  replay: ReplayGuard;
  observer?: BroadcastObserver;
}

export class BroadcastService {
  constructor(private readonly o: BroadcastServiceOptions) {}

  handle(link: ServerLink, channel: string, message: Uint8Array): void {
    let env: Envelope;
    let envelopeBytes: Uint8Array;
    try {
      ({ envelope: env, envelopeBytes } = decodeSubmitFrame(message));
    } catch (err) {
      this.o.observer?.dropped('malformed');
      this.o.log.warn({ channel }, `broadcast request dropped: ${(err as Error).message}`);
      return;
    }
    const { replyTo, session, txId } = env.payload;
    const reply = (status: StatusCode, info?: string): void => {
      this.o.observer?.request(statusName(status));
      if (status !== Status.SUCCESS) {
        this.o.log.warn({ channel, requester: env.payload.creator.id, txId, status: statusName(status), info }, 'broadcast refused');
      }
      if (replyTo === undefined || session === undefined || !link.replyRouteAllowed(channel, replyTo, env.payload.creator)) return;
      const text = info === undefined ? undefined : info.slice(0, MAX_INFO_CHARS);
      const key = this.o.replyKeys.agree(env.payload.keyShare);
      const mac = typeof key === 'string' ? undefined : key.mac.broadcastResponse(session, txId, status, text);
      const r = { session, txId, status, ...(text === undefined ? {} : { info: text }), ...(mac === undefined ? {} : { mac }) };
      link.reply(replyTo, encodeBroadcastResponse(r, typeof key === 'string' ? undefined : key.replyKey)).catch((err: Error) =>
        this.o.log.debug({ err: err.message }, 'could not send broadcast status'));
    };
    const isConfig = env.payload.type === MessageType.CONFIG_UPDATE;
    const verdict = checkRequest(
      { chains: this.o.chains, clock: this.o.clock, requestTimeWindowMs: this.o.requestTimeWindowMs, replay: this.o.replay },
      channel, env, [MessageType.TRANSACTION, MessageType.CONFIG_UPDATE],
      (c) => (isConfig ? c.state.config.admins : c.state.config.writers),
    );
    if (!verdict.ok) {
      if (verdict.status === null) {
        this.o.observer?.dropped('replayed');
        this.o.log.warn({ channel, requester: env.payload.creator.id, txId }, `broadcast request dropped: ${verdict.reason}`);
        return;
      }
      return reply(verdict.status, verdict.reason);
    }
    const chain = verdict.chain;
    if (isConfig) {
      const why = this.applyConfigUpdate(chain, env);
      return why === null ? reply(Status.SUCCESS) : reply(Status.BAD_REQUEST, why);
    }
    const max = chain.state.config.batch.absoluteMaxBytes;
    if (envelopeBytes.length > max) {
      return reply(Status.REQUEST_ENTITY_TOO_LARGE, `envelope is ${envelopeBytes.length} bytes, above absoluteMaxBytes ${max}`);
    }
    try {
      chain.order(envelopeBytes);
    } catch (err) {
      return reply(Status.SERVICE_UNAVAILABLE, (err as Error).message);
    }
    reply(Status.SUCCESS);
  }

  /** Returns why the update is refused, or null once its configuration block is cut. */
  private applyConfigUpdate(chain: Chain, env: Envelope): string | null {
    try {
      const next = channelConfigFromWire(env.payload.data);
      const current = chain.state.config;
      if (next.channel !== current.channel) return `config is for channel '${next.channel}'`;
      if (next.sequence !== current.sequence + 1) return `config sequence must be ${current.sequence + 1}, got ${next.sequence}`;
      new ChannelState(next, this.o.clock.now());
      chain.applyConfig(next);
      this.o.log.info({ channel: chain.channel, sequence: next.sequence, by: env.payload.creator.id }, 'configuration updated');
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  }
}
