// What travels on the request and reply routes of a link (MQTT topics, a serial line).
//
// Deliver route:   { kind: 1, envelope: Envelope }            SEEK: open a session (signed)
//                  { kind: 2, session: tstr, seq: uint }      ACK: every response up to seq was taken
//                  { kind: 3, session: tstr }                 CANCEL: the client is done with the session
// Broadcast route: { kind: 1, envelope: Envelope }            SUBMIT one signed transaction or config update
// Reply route:     { session, seq, status }                   DeliverResponse carrying a final status
//                  { session, seq, blocks: [bstr, ...] }      DeliverResponse carrying consecutive blocks
//                  { session, txId, status, info? }           BroadcastResponse
import { type CborMap, WireError, asMap, arrayField, decodeCbor, encodeCbor, stringField, u64, uintField } from './cbor.js';
import { type Envelope, MAX_ID_CHARS, envelopeFromWire } from './envelope.js';
import { isStatusCode, type StatusCode } from './status.js';

export const FrameKind = { SEEK: 1, ACK: 2, CANCEL: 3 } as const;
export const BroadcastKind = { SUBMIT: 1 } as const;

export type DeliverRequestFrame =
  | { kind: typeof FrameKind.SEEK; envelope: Envelope; envelopeBytes: Uint8Array }
  | { kind: typeof FrameKind.ACK; session: string; seq: number }
  | { kind: typeof FrameKind.CANCEL; session: string };

/** The seek frame wraps the signed envelope bytes untouched. */
export function encodeSeekFrame(envelopeBytes: Uint8Array): Uint8Array {
  return encodeCbor({ kind: FrameKind.SEEK, envelope: decodeCbor(envelopeBytes) });
}

export function encodeAckFrame(session: string, seq: number): Uint8Array {
  return encodeCbor({ kind: FrameKind.ACK, session, seq: u64(seq) });
}

export function encodeCancelFrame(session: string): Uint8Array {
  return encodeCbor({ kind: FrameKind.CANCEL, session });
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
      return { kind, session: stringField(m, 'session', 'ack', MAX_ID_CHARS), seq: uintField(m, 'seq', 'ack') };
    case FrameKind.CANCEL:
      return { kind, session: stringField(m, 'session', 'cancel', MAX_ID_CHARS) };
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

export type DeliverResponse =
  | { session: string; seq: number; status: StatusCode }
  | { session: string; seq: number; blocks: Uint8Array[] };

export function encodeDeliverStatus(session: string, seq: number, status: StatusCode): Uint8Array {
  return encodeCbor({ session, seq: u64(seq), status });
}

export function encodeDeliverBlocks(session: string, seq: number, blocks: readonly Uint8Array[]): Uint8Array {
  return encodeCbor({ session, seq: u64(seq), blocks });
}

export function decodeDeliverResponse(bytes: Uint8Array): DeliverResponse {
  const m = asMap(decodeCbor(bytes), 'deliver response');
  const session = stringField(m, 'session', 'deliver response', MAX_ID_CHARS);
  const seq = uintField(m, 'seq', 'deliver response');
  if (m['status'] !== undefined) {
    const status = uintField(m, 'status', 'deliver response');
    if (!isStatusCode(status)) throw new WireError(`deliver response: unknown status ${status}`);
    return { session, seq, status };
  }
  const blocks = arrayField(m, 'blocks', 'deliver response');
  for (const b of blocks) if (!(b instanceof Uint8Array)) throw new WireError('deliver response: blocks must be byte strings');
  return { session, seq, blocks: blocks as Uint8Array[] };
}

export interface BroadcastResponse {
  session: string;
  txId: string;
  status: StatusCode;
  info?: string;
}

export function encodeBroadcastResponse(r: BroadcastResponse): Uint8Array {
  const m: CborMap = { session: r.session, txId: r.txId, status: r.status };
  if (r.info !== undefined) m['info'] = r.info;
  return encodeCbor(m);
}

export function decodeBroadcastResponse(bytes: Uint8Array): BroadcastResponse {
  const m = asMap(decodeCbor(bytes), 'broadcast response');
  const status = uintField(m, 'status', 'broadcast response');
  if (!isStatusCode(status)) throw new WireError(`broadcast response: unknown status ${status}`);
  const r: BroadcastResponse = {
    session: stringField(m, 'session', 'broadcast response', MAX_ID_CHARS),
    txId: stringField(m, 'txId', 'broadcast response', MAX_ID_CHARS),
    status,
  };
  if (m['info'] !== undefined) r.info = stringField(m, 'info', 'broadcast response', 1024);
  return r;
}
