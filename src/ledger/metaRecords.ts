// The ledger's meta records (format 2), in fixed binary layouts read and written in place, so that an
// append's bookkeeping (check the stored height, write the new head) allocates nothing.
//
//   'format'        : u32 BE
//   'channel'       : UTF-8
//   'blockFormat'   : UTF-8 BlockFormatName (absent in ledgers written before it: edgepeer)
//   'head'          : height u64 BE | lastConfig + 1 u64 BE | lastHash [32]    (one put per append)
//   'indexedHeight' : u64 BE
//
// The hash index's values are u64 BE block numbers too.
import { HASH_BYTES } from '../protocol/block.js';

export type MetaKey = 'format' | 'channel' | 'blockFormat' | 'head' | 'indexedHeight';

export const U64_BYTES = 8;
export const FORMAT_BYTES = 4;
export const HEAD_BYTES = 2 * U64_BYTES + HASH_BYTES;
const HEAD_LAST_CONFIG_AT = U64_BYTES;
const HEAD_LAST_HASH_AT = 2 * U64_BYTES;
/** Format 1 kept its meta records in msgpack: its 'format' value is one positive-fixint byte. */
const MSGPACK_FIXINT_MAX = 0x7f;

export function writeU64(out: Uint8Array, at: number, v: number): void {
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  out[at] = hi >>> 24; out[at + 1] = (hi >>> 16) & 0xff; out[at + 2] = (hi >>> 8) & 0xff; out[at + 3] = hi & 0xff;
  out[at + 4] = lo >>> 24; out[at + 5] = (lo >>> 16) & 0xff; out[at + 6] = (lo >>> 8) & 0xff; out[at + 7] = lo & 0xff;
}

export function readU64(b: Uint8Array, at: number): number {
  const hi = ((b[at]! << 24) >>> 0) + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  const lo = ((b[at + 4]! << 24) >>> 0) + ((b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!);
  return hi * 0x1_0000_0000 + lo;
}

export function encodeFormat(format: number): Uint8Array {
  const out = new Uint8Array(FORMAT_BYTES);
  new DataView(out.buffer).setUint32(0, format);
  return out;
}

/** The format number a stored 'format' value names (format 1's msgpack value included), or null when it names none. */
export function decodeFormat(value: Uint8Array): number | null {
  if (value.length === FORMAT_BYTES) return ((value[0]! << 24) >>> 0) + ((value[1]! << 16) | (value[2]! << 8) | value[3]!);
  if (value.length === 1 && value[0]! <= MSGPACK_FIXINT_MAX) return value[0]!;
  return null;
}

/** Height, last config number and last hash, as one record: what an append moves, in one put. */
export class LedgerHead {
  height = 0;
  lastConfig = -1;
  readonly lastHash = new Uint8Array(HASH_BYTES);
}

export function writeHead(out: Uint8Array, height: number, lastConfig: number, lastHash: Uint8Array, lastHashAt: number): void {
  writeU64(out, 0, height);
  writeU64(out, HEAD_LAST_CONFIG_AT, lastConfig + 1);
  for (let i = 0; i < HASH_BYTES; i++) out[HEAD_LAST_HASH_AT + i] = lastHash[lastHashAt + i]!;
}

/** Fills `into` from a stored head; false when the value is not a head (wrong length or out of range). */
export function readHead(value: Uint8Array, into: LedgerHead): boolean {
  if (value.length !== HEAD_BYTES) return false;
  const height = readU64(value, 0);
  const lastConfig = readU64(value, HEAD_LAST_CONFIG_AT) - 1;
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(lastConfig) || lastConfig >= Math.max(height, 1)) return false;
  into.height = height;
  into.lastConfig = lastConfig;
  for (let i = 0; i < HASH_BYTES; i++) into.lastHash[i] = value[HEAD_LAST_HASH_AT + i]!;
  return true;
}

/** The height in a stored head, read in place; -1 when the value is not a head. */
export function headHeight(value: Uint8Array): number {
  return value.length === HEAD_BYTES ? readU64(value, 0) : -1;
}
