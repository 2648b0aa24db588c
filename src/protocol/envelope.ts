// Signed envelopes: every request (Broadcast, Deliver) and every transaction inside a block.
//
//   Envelope = { payload: bstr(CBOR Payload), signature: bstr(64) }      signature by creator over payload
//   Payload  = { type: uint, channel: tstr, txId: tstr, timestamp: uint ms, creator: Certificate,
//                nonce: bstr(16), replyTo?: tstr, session?: tstr, keyShare?: bstr(32), data: any }
//
// replyTo and session sit inside the signed payload so that a reply route is bound to its signer;
// keyShare (the client's X25519 public key) so that only the signer can check and make the MACs of the
// session's unsigned messages (src/protocol/messageAuth.ts).
import { randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import {
  type CborMap, WireError, asMap, bytesField, decodeCbor, encodeCbor, stringField, u64, uintField,
} from './cbor.js';
import { type Certificate, certificateFromWire, certificateToWire } from './certificate.js';
import { sha256, toHex } from '../crypto/hash.js';
import { KEY_SHARE_BYTES } from '../crypto/keyAgreement.js';
import { signBytes } from '../crypto/keys.js';

export const MessageType = {
  TRANSACTION: 1,
  DELIVER_SEEK: 2,
  CONFIG_UPDATE: 3,
  CONFIG: 4,
} as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const NONCE_BYTES = 16;
/** Identifiers (session ids, certificate ids and organisations), in characters. */
export const MAX_ID_CHARS = 128;
/** A channel name is also an MQTT topic level and a folder name (docs/protocol.md §11). */
export const MAX_CHANNEL_CHARS = 64;
export const MAX_TOPIC_CHARS = 256;

export interface Payload {
  type: MessageTypeCode;
  channel: string;
  txId: string;
  timestamp: number;
  creator: Certificate;
  nonce: Uint8Array;
  replyTo?: string;
  session?: string;
  keyShare?: Uint8Array;
  data: unknown;
}

export interface Envelope {
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  payload: Payload;
}

export interface Signer {
  certificate: Certificate;
  privateKey: KeyObject;
}

export function computeTxId(nonce: Uint8Array, creator: Certificate): string {
  return toHex(sha256(nonce, creator.body));
}

export interface NewPayload {
  type: MessageTypeCode;
  channel: string;
  data: unknown;
  replyTo?: string;
  session?: string;
  keyShare?: Uint8Array;
  timestamp?: number;
  /** Fixed only for test vectors (docs/protocol.md §14); every real envelope gets 16 fresh random bytes. */
  nonce?: Uint8Array;
}

export function signEnvelope(p: NewPayload, signer: Signer): { bytes: Uint8Array; txId: string } {
  const nonce = p.nonce ?? randomBytes(NONCE_BYTES);
  if (nonce.length !== NONCE_BYTES) throw new WireError(`a nonce is ${NONCE_BYTES} bytes`);
  const txId = computeTxId(nonce, signer.certificate);
  const m: CborMap = {
    type: p.type,
    channel: p.channel,
    txId,
    timestamp: u64(p.timestamp ?? Date.now()),
    creator: certificateToWire(signer.certificate),
    nonce,
    data: p.data,
  };
  if (p.replyTo !== undefined) m['replyTo'] = p.replyTo;
  if (p.session !== undefined) m['session'] = p.session;
  if (p.keyShare !== undefined) m['keyShare'] = p.keyShare;
  const payloadBytes = encodeCbor(m);
  const signature = signBytes(signer.privateKey, payloadBytes);
  return { bytes: encodeCbor({ payload: payloadBytes, signature }), txId };
}

export function envelopeFromWire(v: unknown): Envelope {
  const m = asMap(v, 'envelope');
  const payloadBytes = bytesField(m, 'payload', 'envelope');
  const signature = bytesField(m, 'signature', 'envelope', 64);
  const pm = asMap(decodeCbor(payloadBytes), 'payload');
  const type = uintField(pm, 'type', 'payload');
  if (!(Object.values(MessageType) as number[]).includes(type)) throw new WireError(`payload.type: unknown type ${type}`);
  if (pm['creator'] === undefined) throw new WireError('payload: missing creator');
  const payload: Payload = {
    type: type as MessageTypeCode,
    channel: stringField(pm, 'channel', 'payload', MAX_CHANNEL_CHARS),
    txId: stringField(pm, 'txId', 'payload', MAX_ID_CHARS),
    timestamp: uintField(pm, 'timestamp', 'payload'),
    creator: certificateFromWire(pm['creator'], 'payload.creator'),
    nonce: bytesField(pm, 'nonce', 'payload', NONCE_BYTES),
    data: pm['data'],
  };
  if (pm['replyTo'] !== undefined) payload.replyTo = stringField(pm, 'replyTo', 'payload', MAX_TOPIC_CHARS);
  if (pm['session'] !== undefined) payload.session = stringField(pm, 'session', 'payload', MAX_ID_CHARS);
  if (pm['keyShare'] !== undefined) payload.keyShare = bytesField(pm, 'keyShare', 'payload', KEY_SHARE_BYTES);
  if (payload.txId !== computeTxId(payload.nonce, payload.creator)) throw new WireError('payload.txId does not match nonce and creator');
  return { payloadBytes, signature, payload };
}

export function decodeEnvelope(bytes: Uint8Array): Envelope {
  return envelopeFromWire(decodeCbor(bytes));
}
