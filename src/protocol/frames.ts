// What travels on the request and reply routes of a link (MQTT topics, a serial line).
//
// Deliver route:   { kind: 1, envelope: Envelope }                  SEEK: open a session (signed)
//                  { kind: 2, session, seq: uint, n: uint, mac }    ACK: every response up to seq was taken
//                  { kind: 3, session, mac }                        CANCEL: the client is done with the session
// Broadcast route: { kind: 1, envelope: Envelope }                  SUBMIT one signed transaction or config update
// Reply route:     { session, txId, status, info?, mac, replyKey? }   BroadcastResponse (told apart by txId)
//                  { session, seq, status, mac, replyKey? }         DeliverStatus: a final status
//                  { session, seq, blocks: [bstr, ...], mac, replyKey? }  DeliverBlocks: consecutive blocks
// `mac` and `replyKey`: src/protocol/messageAuth.ts.
import { type CborMap, WireError, asMap, arrayField, bytesField, decodeCbor, encodeCbor, stringField, u64, uintField } from './cbor.js';
import { type Envelope, MAX_ID_CHARS, envelopeFromWire } from './envelope.js';
import { MAC_BYTES, type ReplyKey, replyKeyFromWire } from './messageAuth.js';
import { isStatusCode, type StatusCode } from './status.js';

/**
 * What a DeliverBlocks with one block carries besides the block, at most: the session id (≤ 128
 * characters), seq, the byte-string heads, the MAC and the ReplyKey with its certificate (names ≤ 128
 * characters each), with room to spare.
 */
export const DELIVER_RESPONSE_OVERHEAD_MAX_BYTES = 4096;

/** Largest `info` of a BroadcastResponse, in characters. */
export const MAX_INFO_CHARS = 1024;

export const FrameKind = { SEEK: 1, ACK: 2, CANCEL: 3 } as const;
export const BroadcastKind = { SUBMIT: 1 } as const;

export type DeliverRequestFrame =
  | { kind: typeof FrameKind.SEEK; envelope: Envelope; envelopeBytes: Uint8Array }
  | { kind: typeof FrameKind.ACK; session: string; seq: number; n: number; mac: Uint8Array }
  | { kind: typeof FrameKind.CANCEL; session: string; mac: Uint8Array };

/** The seek frame wraps the signed envelope bytes untouched. */
export function encodeSeekFrame(envelopeBytes: Uint8Array): Uint8Array {
  return encodeCbor({ kind: FrameKind.SEEK, envelope: decodeCbor(envelopeBytes) });
}

/** `n` counts the ACKs of the session (1, 2, 3 ...): the orderer takes only an `n` above the last one. */
export function encodeAckFrame(session: string, seq: number, n: number, mac: Uint8Array): Uint8Array {
  return encodeCbor({ kind: FrameKind.ACK, session, seq: u64(seq), n: u64(n), mac });
}

export function encodeCancelFrame(session: string, mac: Uint8Array): Uint8Array {
  return encodeCbor({ kind: FrameKind.CANCEL, session, mac });
}

export function decodeDeliverRequestFrame(bytes: Uint8Array): DeliverRequestFrame {
  const m = asMap(decodeCbor(bytes), 'deliver request');
  const kind = uintField(m, 'kind', 'deliver request');
  switch (kind) {
    case FrameKind.SEEK: {
      if (m['envelope'] === undefined) throw new WireError('deliver request: missing envelope');
      return { kind, envelope: envelopeFromWire(m['envelope']), envelopeBytes: encodeCbor(m['envelope']) };
    }
    case FrameKind.ACK:
      return {
        kind, session: stringField(m, 'session', 'ack', MAX_ID_CHARS), seq: uintField(m, 'seq', 'ack'), n: uintField(m, 'n', 'ack'),
        mac: bytesField(m, 'mac', 'ack', MAC_BYTES),
      };
    case FrameKind.CANCEL:
      return { kind, session: stringField(m, 'session', 'cancel', MAX_ID_CHARS), mac: bytesField(m, 'mac', 'cancel', MAC_BYTES) };
    default:
      throw new WireError(`deliver request: unknown kind ${kind}`);
  }
}

export function encodeSubmitFrame(envelopeBytes: Uint8Array): Uint8Array {
  return encodeCbor({ kind: BroadcastKind.SUBMIT, envelope: decodeCbor(envelopeBytes) });
}

export function decodeSubmitFrame(bytes: Uint8Array): { envelope: Envelope; envelopeBytes: Uint8Array } {
  const m = asMap(decodeCbor(bytes), 'broadcast request');
  const kind = uintField(m, 'kind', 'broadcast request');
  if (kind !== BroadcastKind.SUBMIT) throw new WireError(`broadcast request: unknown kind ${kind}`);
  if (m['envelope'] === undefined) throw new WireError('broadcast request: missing envelope');
  return { envelope: envelopeFromWire(m['envelope']), envelopeBytes: encodeCbor(m['envelope']) };
}

/** What authenticates a reply: its MAC, and on some replies the orderer's ReplyKey it was made with. */
export interface ReplyAuth {
  /** Absent only on an answer to a request without a usable key share (unauthenticated: clients drop it). */
  mac?: Uint8Array;
  replyKey?: ReplyKey;
}

export type DeliverResponse = ReplyAuth & (
  | { session: string; seq: number; status: StatusCode }
  | { session: string; seq: number; blocks: Uint8Array[] });

function withAuth(m: CborMap, mac: Uint8Array | undefined, replyKey: CborMap | undefined): CborMap {
  if (mac !== undefined) m['mac'] = mac;
  if (replyKey !== undefined) m['replyKey'] = replyKey;
  return m;
}

function authFromWire(m: CborMap, what: string): ReplyAuth {
  const auth: ReplyAuth = {};
  if (m['mac'] !== undefined) auth.mac = bytesField(m, 'mac', what, MAC_BYTES);
  if (m['replyKey'] !== undefined) auth.replyKey = replyKeyFromWire(m['replyKey'], `${what}.replyKey`);
  return auth;
}

/** `replyKey` is the wire form of the orderer's ReplyKey (replyKeyToWire), given when the reply carries it. */
export function encodeDeliverStatus(session: string, seq: number, status: StatusCode, mac?: Uint8Array, replyKey?: CborMap): Uint8Array {
  return encodeCbor(withAuth({ session, seq: u64(seq), status }, mac, replyKey));
}

export function encodeDeliverBlocks(session: string, seq: number, blocks: readonly Uint8Array[], mac?: Uint8Array, replyKey?: CborMap): Uint8Array {
  return encodeCbor(withAuth({ session, seq: u64(seq), blocks }, mac, replyKey));
}

/** A reply with a `txId` is a BroadcastResponse; otherwise one with a `status` is a DeliverStatus, else DeliverBlocks. */
export function isBroadcastResponse(m: CborMap): boolean {
  return m['txId'] !== undefined;
}

export function decodeDeliverResponse(bytes: Uint8Array): DeliverResponse {
  const m = asMap(decodeCbor(bytes), 'deliver response');
  if (isBroadcastResponse(m)) throw new WireError('deliver response: this is a broadcast response (it has a txId)');
  const session = stringField(m, 'session', 'deliver response', MAX_ID_CHARS);
  const seq = uintField(m, 'seq', 'deliver response');
  const auth = authFromWire(m, 'deliver response');
  if (m['status'] !== undefined) {
    const status = uintField(m, 'status', 'deliver response');
    if (!isStatusCode(status)) throw new WireError(`deliver response: unknown status ${status}`);
    return { session, seq, status, ...auth };
  }
  const blocks = arrayField(m, 'blocks', 'deliver response');
  for (const b of blocks) if (!(b instanceof Uint8Array)) throw new WireError('deliver response: blocks must be byte strings');
  return { session, seq, blocks: blocks as Uint8Array[], ...auth };
}

export interface BroadcastResponse extends ReplyAuth {
  session: string;
  txId: string;
  status: StatusCode;
  info?: string;
}

export function encodeBroadcastResponse(r: BroadcastResponse, replyKey?: CborMap): Uint8Array {
  const m: CborMap = { session: r.session, txId: r.txId, status: r.status };
  if (r.info !== undefined) m['info'] = r.info;
  return encodeCbor(withAuth(m, r.mac, replyKey));
}

export function decodeBroadcastResponse(bytes: Uint8Array): BroadcastResponse {
  const m = asMap(decodeCbor(bytes), 'broadcast response');
  if (!isBroadcastResponse(m)) throw new WireError('broadcast response: no txId (a deliver response)');
  const status = uintField(m, 'status', 'broadcast response');
  if (!isStatusCode(status)) throw new WireError(`broadcast response: unknown status ${status}`);
  const r: BroadcastResponse = {
    session: stringField(m, 'session', 'broadcast response', MAX_ID_CHARS),
    txId: stringField(m, 'txId', 'broadcast response', MAX_ID_CHARS),
    status,
    ...authFromWire(m, 'broadcast response'),
  };
  if (m['info'] !== undefined) r.info = stringField(m, 'info', 'broadcast response', MAX_INFO_CHARS);
  return r;
}
