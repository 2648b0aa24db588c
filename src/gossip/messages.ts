// Gossip messages between boards (docs/protocol.md "Gossip"): every one signed by the sending member.
//
//   GossipEnvelope = { payload: bstr(CBOR GossipPayload), signature: bstr(64) }   Ed25519 by sender over payload
//   GossipPayload  = { channel: tstr, type: uint, timestamp: uint ms, sender: Certificate, body: map }
//   ALIVE  (type 1) body = { id: tstr, org: tstr, height: uint, incarnation: uint, seq: uint, endpoint: tstr, leader?: bool, leaving?: bool, yielding?: bool }
//   BLOCKS (type 2) body = { blocks: [bstr], kind?: uint, session?: uint, seq?: uint, last?: bool }
//   DIGEST (type 3) body = { height: uint }
//   RANGE_REQUEST (type 4) body = { session: uint, start: uint, end: uint, window: uint }
//   RANGE_ACK (type 5) body = { session: uint, seq: uint, cancel?: bool }
//   ALIVES (type 6) body = { alives: [+ bstr] }   alives[0]: the sender's own ALIVE envelope, the rest
//                                                 relayed ALIVE envelopes of others
import type { ChannelState } from '../channel/channelState.js';
import { type Certificate, certificateFromWire, certificateKey, certificateToWire } from '../protocol/certificate.js';
import { signBytes, verifyBytes } from '../crypto/keys.js';
import {
  WireError, arrayField, asMap, bytesField, decodeCbor, encodeCbor, stringField, u64, uintField,
} from '../protocol/cbor.js';
import { MAX_CHANNEL_CHARS, MAX_ID_CHARS, type Signer } from '../protocol/envelope.js';

export const GossipType = { ALIVE: 1, BLOCKS: 2, DIGEST: 3, RANGE_REQUEST: 4, RANGE_ACK: 5, ALIVES: 6 } as const;

/** Why a BLOCKS message was sent: pushed new blocks, an answer to a DIGEST, or part of a range stream. */
export const BlocksKind = { PUSH: 0, PULL: 1, RANGE: 2 } as const;
export type BlocksKindValue = (typeof BlocksKind)[keyof typeof BlocksKind];

export const MAX_ENDPOINT_CHARS = 256;

export interface AliveBody {
  id: string;
  org: string;
  height: number;
  incarnation: number;
  seq: number;
  endpoint: string;
  /** The sender computes itself as its org's leader (absent on the wire: false). */
  leader: boolean;
  /** The sender is stopping: count it dead now rather than after aliveExpirationMs (absent: false). */
  leaving?: boolean;
  /** The sender stepped down for a failed uplink and is no candidate for leadership now (absent: false). */
  yielding?: boolean;
}

/** Where a BLOCKS message of kind RANGE belongs in its stream. */
export interface RangePosition {
  session: number;
  /** 1 for the first message of the session, then one more per message. */
  seq: number;
  /** The server sends nothing more on this session after this message. */
  last: boolean;
}

export interface RangeRequestBody {
  /** Chosen by the requester; names the stream in RANGE_ACKs and BLOCKS. */
  session: number;
  /** First block wanted. */
  start: number;
  /** One past the last block wanted; the server sends up to its own height at most. */
  end: number;
  /** BLOCKS messages the server may have sent and not seen acknowledged. */
  window: number;
}

export interface RangeAckBody {
  session: number;
  /** Every message up to this seq was taken: the server may send up to seq + window. */
  seq: number;
  /** The requester wants nothing more on this session. */
  cancel: boolean;
}

export type GossipBody =
  | { type: typeof GossipType.ALIVE; alive: AliveBody }
  | { type: typeof GossipType.BLOCKS; blocks: Uint8Array[]; kind?: BlocksKindValue; range?: RangePosition }
  | { type: typeof GossipType.DIGEST; height: number }
  | { type: typeof GossipType.RANGE_REQUEST; request: RangeRequestBody }
  | { type: typeof GossipType.RANGE_ACK; ack: RangeAckBody }
  /**
   * Several members' ALIVEs in one message (docs/protocol.md §12b.3): each entry is a whole signed ALIVE
   * envelope, its originator's bytes, opened by the receiver as if it had come alone. The first is the
   * sender's own; the others are ALIVEs it accepted from others and relays once.
   */
  | { type: typeof GossipType.ALIVES; alives: Uint8Array[] };

export interface GossipMessage {
  channel: string;
  timestamp: number;
  sender: Certificate;
  body: GossipBody;
}

export function signGossip(channel: string, body: GossipBody, signer: Signer, timestamp: number): Uint8Array {
  return encodeGossip(channel, body, signer.certificate, timestamp, (payload) => signBytes(signer.privateKey, payload));
}

/** The envelope of `body` from `sender`, with the 64-byte signature `sign` makes over the payload. */
export function encodeGossip(
  channel: string, body: GossipBody, sender: Certificate, timestamp: number, sign: (payload: Uint8Array) => Uint8Array,
): Uint8Array {
  const payload = encodeCbor({
    channel, type: body.type, timestamp: u64(timestamp), sender: certificateToWire(sender), body: bodyToWire(body),
  });
  return encodeCbor({ payload, signature: sign(payload) });
}

function bodyToWire(body: GossipBody): Record<string, unknown> {
  switch (body.type) {
    case GossipType.ALIVE:
      return { ...body.alive, height: u64(body.alive.height), incarnation: u64(body.alive.incarnation), seq: u64(body.alive.seq) };
    case GossipType.BLOCKS: {
      const kind = body.kind ?? BlocksKind.PUSH;
      const out: Record<string, unknown> = { blocks: body.blocks };
      if (kind !== BlocksKind.PUSH) out['kind'] = kind;
      if (body.range !== undefined) Object.assign(out, { session: u64(body.range.session), seq: u64(body.range.seq), last: body.range.last });
      return out;
    }
    case GossipType.DIGEST:
      return { height: u64(body.height) };
    case GossipType.RANGE_REQUEST: {
      const r = body.request;
      return { session: u64(r.session), start: u64(r.start), end: u64(r.end), window: u64(r.window) };
    }
    case GossipType.RANGE_ACK:
      return { session: u64(body.ack.session), seq: u64(body.ack.seq), ...(body.ack.cancel ? { cancel: true } : {}) };
    case GossipType.ALIVES:
      return { alives: body.alives };
  }
}

function decodeBody(type: number, b: Record<string, unknown>): GossipBody {
  switch (type) {
    case GossipType.ALIVE:
      return {
        type,
        alive: {
          id: stringField(b, 'id', 'alive', MAX_ID_CHARS),
          org: stringField(b, 'org', 'alive', MAX_ID_CHARS),
          height: uintField(b, 'height', 'alive'),
          incarnation: uintField(b, 'incarnation', 'alive'),
          seq: uintField(b, 'seq', 'alive'),
          endpoint: stringField(b, 'endpoint', 'alive', MAX_ENDPOINT_CHARS),
          leader: b['leader'] === true,
          ...(b['leaving'] === true ? { leaving: true } : {}),
          ...(b['yielding'] === true ? { yielding: true } : {}),
        },
      };
    case GossipType.BLOCKS: {
      const blocks = arrayField(b, 'blocks', 'blocks').map((x, i) => {
        if (!(x instanceof Uint8Array)) throw new WireError(`blocks.blocks[${i}]: expected a byte string`);
        return x;
      });
      const kind = b['kind'] === undefined ? BlocksKind.PUSH : uintField(b, 'kind', 'blocks');
      if (kind !== BlocksKind.PUSH && kind !== BlocksKind.PULL && kind !== BlocksKind.RANGE) throw new WireError(`blocks.kind: unknown kind ${kind}`);
      if (kind !== BlocksKind.RANGE) return { type, blocks, kind };
      const seq = uintField(b, 'seq', 'blocks');
      if (seq < 1) throw new WireError('blocks.seq: must be at least 1');
      return { type, blocks, kind, range: { session: uintField(b, 'session', 'blocks'), seq, last: b['last'] === true } };
    }
    case GossipType.DIGEST:
      return { type, height: uintField(b, 'height', 'digest') };
    case GossipType.RANGE_REQUEST: {
      const request = {
        session: uintField(b, 'session', 'range request'),
        start: uintField(b, 'start', 'range request'),
        end: uintField(b, 'end', 'range request'),
        window: uintField(b, 'window', 'range request'),
      };
      if (request.end <= request.start) throw new WireError('range request: end must be above start');
      if (request.window < 1) throw new WireError('range request.window: must be at least 1');
      return { type, request };
    }
    case GossipType.RANGE_ACK:
      return { type, ack: { session: uintField(b, 'session', 'range ack'), seq: uintField(b, 'seq', 'range ack'), cancel: b['cancel'] === true } };
    case GossipType.ALIVES: {
      const alives = arrayField(b, 'alives', 'alives').map((x, i) => {
        if (!(x instanceof Uint8Array)) throw new WireError(`alives.alives[${i}]: expected a byte string`);
        return x;
      });
      if (alives.length === 0) throw new WireError('alives.alives: must hold at least the sender\'s own ALIVE');
      return { type, alives };
    }
    default:
      throw new WireError(`gossip payload.type: unknown type ${type}`);
  }
}

/** A gossip message as decoded, not yet authenticated: the payload and signature its signer's check needs. */
export interface DecodedGossip {
  message: GossipMessage;
  payload: Uint8Array;
  signature: Uint8Array;
}

/** Decodes a gossip message without checking who signed it (see openGossip). */
export function decodeGossip(bytes: Uint8Array): DecodedGossip {
  const env = asMap(decodeCbor(bytes), 'gossip envelope');
  const payload = bytesField(env, 'payload', 'gossip envelope');
  const signature = bytesField(env, 'signature', 'gossip envelope', 64);
  const p = asMap(decodeCbor(payload), 'gossip payload');
  const type = uintField(p, 'type', 'gossip payload');
  const b = asMap(p['body'], 'gossip body');
  const body = decodeBody(type, b);
  if (p['sender'] === undefined) throw new WireError('gossip payload: missing sender');
  const message: GossipMessage = {
    channel: stringField(p, 'channel', 'gossip payload', MAX_CHANNEL_CHARS),
    timestamp: uintField(p, 'timestamp', 'gossip payload'),
    sender: certificateFromWire(p['sender'], 'gossip payload.sender'),
    body,
  };
  return { message, payload, signature };
}

export type OpenFailure = { ok: false; reason: string; sender: string };
export type OpenResult = { ok: true; message: GossipMessage } | OpenFailure;

/** decodeGossip, or the refusal that opening answers for bytes that do not decode. */
export function decodeForOpen(bytes: Uint8Array): DecodedGossip | OpenFailure {
  try {
    return decodeGossip(bytes);
  } catch (err) {
    return { ok: false, reason: `malformed: ${(err as Error).message}`, sender: 'unknown' };
  }
}

/**
 * The checks of a decoded message, in order: the channel; `admit`, which judges its signer (null: admitted;
 * else why not); the timestamp window; and that an ALIVE speaks for its own signer.
 */
export function checkGossip(
  d: DecodedGossip, channel: string, nowMs: number, timeWindowMs: number, admit: (d: DecodedGossip) => string | null,
): OpenResult {
  const m = d.message;
  const sender = `${m.sender.org}/${m.sender.id}`;
  if (m.channel !== channel) return { ok: false, reason: `for channel '${m.channel}'`, sender };
  const refused = admit(d);
  if (refused !== null) return { ok: false, reason: refused, sender };
  if (Math.abs(m.timestamp - nowMs) > timeWindowMs) return { ok: false, reason: `timestamp ${m.timestamp} outside the window`, sender };
  if (m.body.type === GossipType.ALIVE && (m.body.alive.id !== m.sender.id || m.body.alive.org !== m.sender.org)) {
    return { ok: false, reason: `ALIVE for ${m.body.alive.org}/${m.body.alive.id} signed by another member`, sender };
  }
  return { ok: true, message: m };
}

/** The signer check of the real codec: the sender's certificate under the channel's Readers policy, its signature. */
function admitSigned(state: ChannelState, nowMs: number): (d: DecodedGossip) => string | null {
  return (d) => {
    const deny = state.denyReason(d.message.sender, state.config.readers, nowMs);
    if (deny !== null) return `sender not allowed: ${deny}`;
    return verifyBytes(certificateKey(d.message.sender), d.payload, d.signature) ? null : 'bad signature';
  };
}

/**
 * Decodes and authenticates a gossip message: the channel, the sender's certificate against the channel's
 * Readers policy, its signature, the timestamp window, and that an ALIVE speaks for its own signer.
 */
export function openGossip(bytes: Uint8Array, state: ChannelState, nowMs: number, timeWindowMs: number): OpenResult {
  const d = decodeForOpen(bytes);
  return 'ok' in d ? d : checkGossip(d, state.channel, nowMs, timeWindowMs, admitSigned(state, nowMs));
}

/**
 * Seals this board's messages and authenticates others': signGossip and checkGossip with the board's signer
 * and the channel configuration in force (the fleet simulator has a documented stand-in behind the same
 * seam). Decoding is apart (decodeForOpen), so that a board may look at a message before paying for its
 * signatures (a relayed ALIVE it already holds is not worth them).
 */
export interface GossipCodec {
  /** The signed envelope of `body`, as this board, timestamped `nowMs`. */
  seal(body: GossipBody, nowMs: number): Uint8Array;
  /** Authenticates a decoded message (openGossip's checks). */
  authenticate(d: DecodedGossip, nowMs: number): OpenResult;
  /** A configuration block was committed: senders are judged by its configuration from now on. */
  follow(state: ChannelState): void;
}

/** Decodes and authenticates a received message with `codec`. */
export function openWith(codec: GossipCodec, bytes: Uint8Array, nowMs: number): OpenResult {
  const d = decodeForOpen(bytes);
  return 'ok' in d ? d : codec.authenticate(d, nowMs);
}

/** The real codec: Ed25519 by `signer`, senders checked against the channel's Readers policy. */
export function signedGossipCodec(channel: string, signer: Signer, state: ChannelState, timeWindowMs: number): GossipCodec {
  let current = state;
  return {
    seal: (body, nowMs) => signGossip(channel, body, signer, nowMs),
    authenticate: (d, nowMs) => checkGossip(d, current.channel, nowMs, timeWindowMs, admitSigned(current, nowMs)),
    follow: (s) => { current = s; },
  };
}
