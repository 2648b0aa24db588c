// The checks every signed request goes through before its service looks at it (docs/design.md, "Deliver,
// step by step", steps 1–3), shared by Deliver and Broadcast.
import type { Clock } from '../config/clock.js';
import type { Certificate } from '../protocol/certificate.js';
import type { Envelope, MessageTypeCode } from '../protocol/envelope.js';
import type { Policy } from '../protocol/channelConfig.js';
import { Status, type StatusCode } from '../protocol/status.js';
import type { ServedChain } from './servedChain.js';
import type { ReplayGuard } from './replayGuard.js';

/** A refusal with status null is dropped without an answer (a replay: its first copy was answered). */
export type RequestVerdict<C extends ServedChain> = { ok: true; chain: C } | { ok: false; status: StatusCode | null; reason: string };

export interface RequestCheckContext<C extends ServedChain> {
  chains: ReadonlyMap<string, C>;
  clock: Clock;
  requestTimeWindowMs: number;
  /** Remembers the txIds taken; a request seen before is dropped. */
  replay: ReplayGuard;
}

/** What bounds are kept per: an organisation's member id (its certificates, old and renewed, together). */
export function identityOf(cert: Certificate): string {
  return `${cert.org}\u0000${cert.id}`;
}

export function checkRequest<C extends ServedChain>(
  ctx: RequestCheckContext<C>,
  topicChannel: string,
  env: Envelope,
  expectedTypes: readonly MessageTypeCode[],
  policyOf: (chain: C) => Policy,
): RequestVerdict<C> {
  const p = env.payload;
  if (!expectedTypes.includes(p.type)) return { ok: false, status: Status.BAD_REQUEST, reason: `unexpected message type ${p.type}` };
  if (p.channel !== topicChannel) {
    return { ok: false, status: Status.BAD_REQUEST, reason: `payload channel '${p.channel}' differs from route channel '${topicChannel}'` };
  }
  const chain = ctx.chains.get(p.channel);
  if (!chain) return { ok: false, status: Status.NOT_FOUND, reason: `channel '${p.channel}' is not served here` };
  const skew = Math.abs(ctx.clock.now() - p.timestamp);
  if (skew > ctx.requestTimeWindowMs) {
    return { ok: false, status: Status.BAD_REQUEST, reason: `timestamp is ${Math.round(skew / 1000)} s away from the orderer's clock` };
  }
  if (!chain.state.envelopeSignatureValid(env)) return { ok: false, status: Status.FORBIDDEN, reason: 'envelope signature does not verify' };
  const denied = chain.state.denyReason(p.creator, policyOf(chain), ctx.clock.now());
  if (denied !== null) return { ok: false, status: Status.FORBIDDEN, reason: denied };
  // Last: only a member's correctly signed request takes a place (a forger could otherwise block a
  // request it saw by sending a badly signed copy first, and a non-member could fill the memory).
  switch (ctx.replay.admit(p.txId, identityOf(p.creator), p.timestamp)) {
    case 'admitted': break;
    case 'replayed': return { ok: false, status: null, reason: `txId ${p.txId} was already taken (a replay)` };
    case 'full': return { ok: false, status: Status.SERVICE_UNAVAILABLE, reason: 'too many requests in the request time window' };
    case 'identity-full':
      return { ok: false, status: Status.SERVICE_UNAVAILABLE, reason: `too many requests from ${p.creator.org}/${p.creator.id} in the request time window` };
  }
  return { ok: true, chain };
}
