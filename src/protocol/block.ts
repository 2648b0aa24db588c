// The block: raw bytes with a fixed layout that the hot path reads in place.
//
//   block      = CBOR array(3) [ header: bstr(76), data: bstr, signatures: bstr(k * 66) ]
//   header     = number u64 BE | previousHash [32] | dataHash [32] | flags u32 BE
//   data       = CBOR array of bstr, each one encoded Envelope
//   signatures = k entries of ( signerIndex u16 BE | Ed25519 signature [64] ) over the 76 header bytes
//
// Block hash = SHA-256(header || signatures content) (src/protocol/blockHash.ts). dataHash = SHA-256(data
// bstr content). Byte-string heads must be the shortest for their length: one block, one encoding. Because the header is always the
// first element and always 76 bytes, it sits at byte offset 3 of every block (0x83 0x58 0x4c ...).
import { WireError, decodeCbor } from './cbor.js';

export const HASH_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const HEADER_BYTES = 76;
export const HEADER_OFFSET = 3;
export const SIGNATURE_ENTRY_BYTES = 2 + SIGNATURE_BYTES;
/** Header flag: the block carries a channel configuration and is verified on its own. */
export const FLAG_CONFIG = 1;

const OFF_NUMBER = 0;
const OFF_PREVIOUS_HASH = 8;
const OFF_DATA_HASH = 40;
const OFF_FLAGS = 72;

/** Why in-place parsing failed. 0 means the layout is sound. Codes, not exceptions: no allocation. */
export const LayoutError = {
  ok: 0,
  notArray3: 1,
  badHeader: 2,
  badData: 3,
  badSignatures: 4,
  trailingBytes: 5,
  numberTooLarge: 6,
} as const;
export type LayoutErrorCode = (typeof LayoutError)[keyof typeof LayoutError];

export function layoutErrorText(code: LayoutErrorCode): string {
  switch (code) {
    case LayoutError.ok: return 'ok';
    case LayoutError.notArray3: return 'block is not a CBOR array of 3 items';
    case LayoutError.badHeader: return 'block header is not a 76-byte byte string';
    case LayoutError.badData: return 'block data is not a byte string within the block';
    case LayoutError.badSignatures: return 'block signatures are not a byte string of 66-byte entries';
    case LayoutError.trailingBytes: return 'bytes after the end of the block';
    case LayoutError.numberTooLarge: return 'block number above 2^53-1';
  }
}

/**
 * Offsets of a block's parts inside its bytes. One instance is preallocated per consumer and refilled
 * by `locateBlock`, so reading a block allocates nothing.
 */
export class BlockLayout {
  dataOffset = 0;
  dataLength = 0;
  signaturesOffset = 0;
  signatureCount = 0;
}

/** Reads a CBOR byte-string head at `off`; returns content length and writes content offset to `out`. */
function readBstrHead(b: Uint8Array, off: number, end: number, out: { pos: number }): number {
  if (off >= end) return -1;
  const ib = b[off]!;
  if (ib >> 5 !== 2) return -1;
  const ai = ib & 0x1f;
  let len: number;
  let pos: number;
  // Only the shortest head for each length is accepted, so a block has exactly one encoding.
  if (ai < 24) { len = ai; pos = off + 1; }
  else if (ai === 24) { if (off + 2 > end) return -1; len = b[off + 1]!; pos = off + 2; if (len < 24) return -1; }
  else if (ai === 25) { if (off + 3 > end) return -1; len = (b[off + 1]! << 8) | b[off + 2]!; pos = off + 3; if (len < 0x100) return -1; }
  else if (ai === 26) {
    if (off + 5 > end) return -1;
    len = ((b[off + 1]! << 24) >>> 0) + ((b[off + 2]! << 16) | (b[off + 3]! << 8) | b[off + 4]!);
    pos = off + 5;
    if (len < 0x10000) return -1;
  } else return -1;
  if (pos + len > end) return -1;
  out.pos = pos;
  return len;
}

const scratchPos = { pos: 0 };

/** Fills `layout` from `block`; returns LayoutError.ok or the reason the bytes are not a block. */
export function locateBlock(block: Uint8Array, layout: BlockLayout): LayoutErrorCode {
  const end = block.length;
  if (end < HEADER_OFFSET + HEADER_BYTES || block[0] !== 0x83) return LayoutError.notArray3;
  if (block[1] !== 0x58 || block[2] !== HEADER_BYTES) return LayoutError.badHeader;
  const dataLen = readBstrHead(block, HEADER_OFFSET + HEADER_BYTES, end, scratchPos);
  if (dataLen < 0) return LayoutError.badData;
  layout.dataOffset = scratchPos.pos;
  layout.dataLength = dataLen;
  const sigLen = readBstrHead(block, layout.dataOffset + dataLen, end, scratchPos);
  if (sigLen < 0 || sigLen % SIGNATURE_ENTRY_BYTES !== 0) return LayoutError.badSignatures;
  layout.signaturesOffset = scratchPos.pos;
  layout.signatureCount = sigLen / SIGNATURE_ENTRY_BYTES;
  if (layout.signaturesOffset + sigLen !== end) return LayoutError.trailingBytes;
  if (block[HEADER_OFFSET]! !== 0 || block[HEADER_OFFSET + 1]! > 0x1f) return LayoutError.numberTooLarge;
  return LayoutError.ok;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) >>> 0) + ((b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!);
}

/** Block number, read in place (caller has checked the layout). */
export function blockNumber(block: Uint8Array): number {
  const o = HEADER_OFFSET + OFF_NUMBER;
  return readU32(block, o) * 0x1_0000_0000 + readU32(block, o + 4);
}

export function blockFlags(block: Uint8Array): number {
  return readU32(block, HEADER_OFFSET + OFF_FLAGS);
}

export function isConfigBlock(block: Uint8Array): boolean {
  return (blockFlags(block) & FLAG_CONFIG) !== 0;
}

export const PREVIOUS_HASH_OFFSET = HEADER_OFFSET + OFF_PREVIOUS_HASH;
export const DATA_HASH_OFFSET = HEADER_OFFSET + OFF_DATA_HASH;

/** Compares `len` bytes of a at aOff with b at bOff without allocating. */
export function bytesEqualAt(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** Copies of the header fields, for code off the hot path (CLI, tests, orderer bookkeeping). */
export interface BlockHeader {
  number: number;
  previousHash: Uint8Array;
  dataHash: Uint8Array;
  flags: number;
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  if (h.previousHash.length !== HASH_BYTES || h.dataHash.length !== HASH_BYTES) {
    throw new WireError('header hashes must be 32 bytes');
  }
  if (!Number.isSafeInteger(h.number) || h.number < 0) throw new WireError('bad block number');
  const out = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(out.buffer);
  dv.setUint32(OFF_NUMBER, Math.floor(h.number / 0x1_0000_0000));
  dv.setUint32(OFF_NUMBER + 4, h.number >>> 0);
  out.set(h.previousHash, OFF_PREVIOUS_HASH);
  out.set(h.dataHash, OFF_DATA_HASH);
  dv.setUint32(OFF_FLAGS, h.flags >>> 0);
  return out;
}

export function readHeader(block: Uint8Array): BlockHeader {
  const layout = new BlockLayout();
  const err = locateBlock(block, layout);
  if (err !== LayoutError.ok) throw new WireError(layoutErrorText(err));
  return {
    number: blockNumber(block),
    previousHash: block.slice(PREVIOUS_HASH_OFFSET, PREVIOUS_HASH_OFFSET + HASH_BYTES),
    dataHash: block.slice(DATA_HASH_OFFSET, DATA_HASH_OFFSET + HASH_BYTES),
    flags: blockFlags(block),
  };
}

export function headerBytes(block: Uint8Array): Uint8Array {
  return block.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES);
}

export function dataBytes(block: Uint8Array, layout: BlockLayout): Uint8Array {
  return block.subarray(layout.dataOffset, layout.dataOffset + layout.dataLength);
}

export interface SignatureEntry {
  signerIndex: number;
  signature: Uint8Array;
}

export function signatureEntries(block: Uint8Array, layout: BlockLayout): SignatureEntry[] {
  const out: SignatureEntry[] = [];
  for (let i = 0; i < layout.signatureCount; i++) {
    const o = layout.signaturesOffset + i * SIGNATURE_ENTRY_BYTES;
    out.push({ signerIndex: (block[o]! << 8) | block[o + 1]!, signature: block.subarray(o + 2, o + 2 + SIGNATURE_BYTES) });
  }
  return out;
}

/** CBOR byte-string head for a given content length (major type 2). */
function bstrHead(len: number): Uint8Array {
  if (len < 24) return Uint8Array.of(0x40 | len);
  if (len < 0x100) return Uint8Array.of(0x58, len);
  if (len < 0x10000) return Uint8Array.of(0x59, len >> 8, len & 0xff);
  if (len <= 0xffffffff) return Uint8Array.of(0x5a, len >>> 24, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff);
  throw new WireError('byte string too long');
}

/** Encodes a block from its header, data bytes and signature entries. */
export function encodeBlock(header: Uint8Array, data: Uint8Array, signatures: readonly SignatureEntry[]): Uint8Array {
  if (header.length !== HEADER_BYTES) throw new WireError('header must be 76 bytes');
  const sig = new Uint8Array(signatures.length * SIGNATURE_ENTRY_BYTES);
  signatures.forEach((s, i) => {
    if (s.signature.length !== SIGNATURE_BYTES) throw new WireError('signature must be 64 bytes');
    const o = i * SIGNATURE_ENTRY_BYTES;
    sig[o] = s.signerIndex >> 8;
    sig[o + 1] = s.signerIndex & 0xff;
    sig.set(s.signature, o + 2);
  });
  const dataHead = bstrHead(data.length);
  const sigHead = bstrHead(sig.length);
  const out = new Uint8Array(HEADER_OFFSET + HEADER_BYTES + dataHead.length + data.length + sigHead.length + sig.length);
  out[0] = 0x83;
  out[1] = 0x58;
  out[2] = HEADER_BYTES;
  let o = HEADER_OFFSET;
  out.set(header, o); o += HEADER_BYTES;
  out.set(dataHead, o); o += dataHead.length;
  out.set(data, o); o += data.length;
  out.set(sigHead, o); o += sigHead.length;
  out.set(sig, o);
  return out;
}

/** Decodes the data section into its envelope byte strings (off the hot path). */
export function blockEnvelopes(block: Uint8Array): Uint8Array[] {
  const layout = new BlockLayout();
  const err = locateBlock(block, layout);
  if (err !== LayoutError.ok) throw new WireError(layoutErrorText(err));
  const items = decodeCbor(dataBytes(block, layout));
  if (!Array.isArray(items) || !items.every((x) => x instanceof Uint8Array)) {
    throw new WireError('block data is not an array of byte strings');
  }
  return items as Uint8Array[];
}
