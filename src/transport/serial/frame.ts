// The serial frame (docs/protocol.md §11b): what MQTT says with a topic (which channel, which service,
// or "a reply"), a small header says on a serial line, followed by the one CBOR message and a CRC-32.
// On the wire each frame is 0x00, COBS(frame), 0x00.
//
//   version(1) = 1 | kind(1) | channel length L(1) | channel(L, ASCII) | message(n ≥ 1) | CRC-32(4, BE)
//
// The CRC (zlib's, the IEEE 802.3 one) covers every byte before it.
import { crc32 } from 'node:zlib';
import { isValidChannelName } from '../../protocol/names.js';
import type { Service } from '../link.js';
import { cobsEncodeInto, cobsMaxEncodedLength } from './cobs.js';

export const SERIAL_FRAME_VERSION = 1;
export const FRAME_DELIMITER = 0x00;

/** What a frame carries, as the topics do on MQTT. */
export const SerialFrameKind = {
  /** client → orderer: SEEK, ACK, CANCEL (the deliver route) */
  DELIVER: 1,
  /** client → orderer: SUBMIT (the broadcast route) */
  BROADCAST: 2,
  /** orderer → client: DeliverStatus, DeliverBlocks, BroadcastResponse (the reply route) */
  REPLY: 3,
} as const;
export type SerialFrameKindCode = (typeof SerialFrameKind)[keyof typeof SerialFrameKind];

const HEADER_FIXED_BYTES = 3;
const CRC_BYTES = 4;
const MAX_CHANNEL_BYTES = 64;
/** version, kind, length, a one-character channel, a one-byte message, CRC. */
export const MIN_FRAME_BYTES = HEADER_FIXED_BYTES + 1 + 1 + CRC_BYTES;

/** Frame bytes (decoded, without delimiters) around a message of `messageBytes` at most. */
export function maxFrameBytes(messageBytes: number): number {
  return HEADER_FIXED_BYTES + MAX_CHANNEL_BYTES + messageBytes + CRC_BYTES;
}

/** Bytes on the wire (both delimiters included) of a frame around a message of `messageBytes` at most. */
export function maxWireBytes(messageBytes: number): number {
  return cobsMaxEncodedLength(maxFrameBytes(messageBytes)) + 2;
}

export function serviceFrameKind(service: Service): SerialFrameKindCode {
  return service === 'deliver' ? SerialFrameKind.DELIVER : SerialFrameKind.BROADCAST;
}

export interface SerialFrame {
  kind: SerialFrameKindCode;
  channel: string;
  message: Uint8Array;
}

export type FrameRejection = 'crc' | 'malformed' | 'version';

/**
 * The bytes to write for one message: leading and trailing delimiter around the COBS-encoded frame.
 * The leading one ends whatever noise came before, so that it does not spoil this frame.
 */
export function encodeSerialFrame(kind: SerialFrameKindCode, channel: string, message: Uint8Array): Buffer {
  if (!isValidChannelName(channel)) throw new Error(`invalid channel name ${JSON.stringify(channel)}`);
  if (message.length === 0) throw new Error('a serial frame carries a non-empty message');
  const header = Buffer.allocUnsafe(HEADER_FIXED_BYTES + channel.length);
  header[0] = SERIAL_FRAME_VERSION;
  header[1] = kind;
  header[2] = channel.length;
  header.write(channel, HEADER_FIXED_BYTES, 'latin1');
  const crc = Buffer.allocUnsafe(CRC_BYTES);
  crc.writeUInt32BE(crc32(message, crc32(header)) >>> 0, 0);
  const frameBytes = header.length + message.length + CRC_BYTES;
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(frameBytes) + 2);
  out[0] = FRAME_DELIMITER;
  const end = cobsEncodeInto([header, message, crc], out, 1);
  out[end] = FRAME_DELIMITER;
  return out.subarray(0, end + 1);
}

function isKind(k: number): k is SerialFrameKindCode {
  return k === SerialFrameKind.DELIVER || k === SerialFrameKind.BROADCAST || k === SerialFrameKind.REPLY;
}

/**
 * Checks a decoded frame (COBS already undone) and returns its parts, or why it is refused. The message
 * is a copy: `frame` is the decoder's buffer and is overwritten by the next frame.
 */
export function parseSerialFrame(frame: Uint8Array, length: number): SerialFrame | FrameRejection {
  if (length < MIN_FRAME_BYTES) return 'malformed';
  const view = new DataView(frame.buffer, frame.byteOffset, length);
  const body = frame.subarray(0, length - CRC_BYTES);
  if ((crc32(body) >>> 0) !== view.getUint32(length - CRC_BYTES)) return 'crc';
  if (frame[0] !== SERIAL_FRAME_VERSION) return 'version';
  const kind = frame[1]!;
  const channelLength = frame[2]!;
  if (!isKind(kind) || channelLength === 0 || channelLength > MAX_CHANNEL_BYTES) return 'malformed';
  const messageStart = HEADER_FIXED_BYTES + channelLength;
  if (messageStart >= body.length) return 'malformed';
  const channel = Buffer.from(frame.buffer, frame.byteOffset + HEADER_FIXED_BYTES, channelLength).toString('latin1');
  if (!isValidChannelName(channel)) return 'malformed';
  return { kind, channel, message: Buffer.from(body.subarray(messageStart)) };
}
