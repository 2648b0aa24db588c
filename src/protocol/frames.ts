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

/** The CBOR text strings of the DeliverBlocks keys the builder writes itself. */
const BLOCKS_KEY = encodeCbor('blocks');
const MAC_KEY = encodeCbor('mac');
const REPLY_KEY_KEY = encodeCbor('replyKey');
/** Longest CBOR head of an array or byte string this writes (a length up to 2^32 - 1). */
const MAX_HEAD_BYTES = 5;
const CBOR_ARRAY = 0x80;
const CBOR_BYTES = 0x40;
const CBOR_MAP = 0xa0;

/** Writes the shortest CBOR head of major type `major` (its top three bits) for `length` at `at`; returns its end. */
function writeHead(out: Uint8Array, at: number, major: number, length: number): number {
  if (length < 24) {
    out[at] = major | length;
    return at + 1;
  }
  if (length < 0x100) {
    out[at] = major | 24; out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    out[at] = major | 25; out[at + 1] = length >>> 8; out[at + 2] = length & 0xff;
    return at + 3;
  }
  out[at] = major | 26; out[at + 1] = length >>> 24; out[at + 2] = (length >>> 16) & 0xff;
  out[at + 3] = (length >>> 8) & 0xff; out[at + 4] = length & 0xff;
  return at + 5;
}

function headBytes(length: number): number {
  return length < 24 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
}

/**
 * A DeliverBlocks built as its blocks are read: each block is copied once, straight into the frame,
 * instead of into a buffer of its own and then again by the CBOR encoder (about a quarter of the
 * orderer's CPU per block in catch-up). The frame is byte for byte what encodeDeliverBlocks makes of
 * the same response (test/unit/protocol/deliverBlocksBuilder.test.ts). The blocks go after room for the map's
 * head, session, seq and the array's head, which are written in front of them once their count is known.
 */
export class DeliverBlocksBuilder {
  private out: Uint8Array;
  /** Where the first block's head goes. */
  private readonly blocksStart: number;
  private at: number;
  /** Each block's offset in `out` and its length. */
  private readonly offsets: number[] = [];
  private readonly lengths: number[] = [];
  /** The session and seq entries, as encodeCbor writes them in the map (its head left off). */
  private readonly entries: Uint8Array;

  /** `capacityBytes`: what the blocks are expected to take at most (the buffer grows past it if need be). */
  constructor(readonly session: string, readonly seq: number, capacityBytes: number) {
    // A two-entry map's head is one byte.
    this.entries = encodeCbor({ session, seq: u64(seq) }).subarray(1);
    this.blocksStart = 1 + this.entries.length + BLOCKS_KEY.length + MAX_HEAD_BYTES;
    // A Buffer, as encodeCbor's output is: links hand frames to mqtt.js, which wants Buffers. Not zeroed:
    // only the bytes written are sent.
    this.out = Buffer.allocUnsafeSlow(this.blocksStart + capacityBytes + DELIVER_RESPONSE_OVERHEAD_MAX_BYTES);
    this.at = this.blocksStart;
  }

  get count(): number {
    return this.offsets.length;
  }

  /** Copies `block` in; its bytes need not outlive the call. */
  add(block: Uint8Array): void {
    this.ensure(MAX_HEAD_BYTES + block.length);
    this.at = writeHead(this.out, this.at, CBOR_BYTES, block.length);
    this.out.set(block, this.at);
    this.offsets.push(this.at);
    this.lengths.push(block.length);
    this.at += block.length;
  }

  /** Views of the blocks in the frame (what the MAC covers); valid until the next add(). */
  blocks(): Uint8Array[] {
    return this.offsets.map((o, i) => this.out.subarray(o, o + this.lengths[i]!));
  }

  /** The whole frame, with the MAC over blocks() and, on a session's first response, the ReplyKey. */
  finish(mac: Uint8Array, replyKey?: CborMap): Uint8Array {
    const replyKeyBytes = replyKey === undefined ? null : encodeCbor(replyKey);
    this.ensure(MAC_KEY.length + MAX_HEAD_BYTES + mac.length + (replyKeyBytes === null ? 0 : REPLY_KEY_KEY.length + replyKeyBytes.length));
    const out = this.out;
    out.set(MAC_KEY, this.at);
    this.at = writeHead(out, this.at + MAC_KEY.length, CBOR_BYTES, mac.length);
    out.set(mac, this.at);
    this.at += mac.length;
    if (replyKeyBytes !== null) {
      out.set(REPLY_KEY_KEY, this.at);
      out.set(replyKeyBytes, this.at + REPLY_KEY_KEY.length);
      this.at += REPLY_KEY_KEY.length + replyKeyBytes.length;
    }
    const arrayAt = this.blocksStart - headBytes(this.count);
    writeHead(out, arrayAt, CBOR_ARRAY, this.count);
    const keyAt = arrayAt - BLOCKS_KEY.length;
    out.set(BLOCKS_KEY, keyAt);
    const entriesAt = keyAt - this.entries.length;
    out.set(this.entries, entriesAt);
    const start = entriesAt - 1;
    out[start] = CBOR_MAP | (replyKeyBytes === null ? 4 : 5);
    return out.subarray(start, this.at);
  }

  private ensure(bytes: number): void {
    if (this.at + bytes <= this.out.length) return;
    // Only a block larger than the expected capacity (a response carries at least one block) gets here.
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.at + bytes));
    bigger.set(this.out.subarray(0, this.at));
    this.out = bigger;
  }
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
