// Fabric's two block hashes (protoutil/blockutils.go), reproduced exactly:
// - BlockDataHash: SHA-256 of the block's data entries concatenated (the 2.x rule; no length prefixes).
// - BlockHeaderHash: SHA-256 of BlockHeaderBytes, the ASN.1 DER encoding of
//     SEQUENCE { number INTEGER, previousHash OCTET STRING, dataHash OCTET STRING }
//   as Go's encoding/asn1 writes it (number as a big.Int: minimal two's complement, so 0 is 02 01 00 and
//   128 is 02 02 00 80; an absent previous hash is an empty OCTET STRING). The header hash covers neither
//   the metadata (where the orderer's signatures live) nor anything else outside the header.
// The in-place variants feed a caller's allocation-free Sha256 and write into a caller's buffer.
import { createHash } from 'node:crypto';
import type { Sha256 } from '../crypto/sha256.js';
import type { FabricBlockLayout } from './blockLayout.js';
import type { ProtoFieldCursor } from './protoWire.js';

const TAG_SEQUENCE = 0x30;
const TAG_INTEGER = 0x02;
const TAG_OCTET_STRING = 0x04;
/** A block number is at most 2^53-1: 7 content bytes, plus one for the sign. */
const MAX_NUMBER_CONTENT_BYTES = 8;
/** Tag + length (at most 5 bytes for lengths below 2^32) for each of the four DER elements. */
const DER_PREFIX_SCRATCH_BYTES = 4 * 6 + MAX_NUMBER_CONTENT_BYTES;

/** Bytes of a DER length field. */
function derLengthSize(n: number): number {
  if (n < 0x80) return 1;
  let bytes = 0;
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes++;
  return 1 + bytes;
}

function writeDerLength(out: Uint8Array, off: number, n: number): number {
  if (n < 0x80) { out[off] = n; return off + 1; }
  const bytes = derLengthSize(n) - 1;
  out[off++] = 0x80 | bytes;
  for (let i = bytes - 1; i >= 0; i--) out[off + i] = Math.floor(n / 256 ** (bytes - 1 - i)) % 256;
  return off + bytes;
}

/** Content bytes of the DER INTEGER for a non-negative safe integer. */
function integerContentSize(n: number): number {
  let bytes = 1;
  for (let v = n; v >= 256; v = Math.floor(v / 256)) bytes++;
  // A set high bit would read as negative: Go prefixes a zero byte.
  const top = Math.floor(n / 256 ** (bytes - 1));
  return top >= 0x80 ? bytes + 1 : bytes;
}

function writeIntegerContent(out: Uint8Array, off: number, n: number, size: number): number {
  for (let i = size - 1; i >= 0; i--) {
    out[off + i] = n % 256;
    n = Math.floor(n / 256);
  }
  return off + size;
}

/**
 * Writes the DER from the start up to (not including) the previous hash's content into out[0..), and
 * returns its length; the data hash's own tag and length follow the previous hash. Split this way the
 * two hashes can be hashed straight from the block's bytes.
 */
class HeaderDer {
  readonly scratch = new Uint8Array(DER_PREFIX_SCRATCH_BYTES);
  prefixLength = 0;
  /** Offset in scratch of the data hash's tag and length, and their size. */
  midStart = 0;
  midLength = 0;

  build(number: number, previousLength: number, dataHashLength: number): void {
    const s = this.scratch;
    const intSize = integerContentSize(number);
    const intElem = 1 + derLengthSize(intSize) + intSize;
    const prevElem = 1 + derLengthSize(previousLength) + previousLength;
    const dataElem = 1 + derLengthSize(dataHashLength) + dataHashLength;
    let o = 0;
    s[o++] = TAG_SEQUENCE;
    o = writeDerLength(s, o, intElem + prevElem + dataElem);
    s[o++] = TAG_INTEGER;
    o = writeDerLength(s, o, intSize);
    o = writeIntegerContent(s, o, number, intSize);
    s[o++] = TAG_OCTET_STRING;
    o = writeDerLength(s, o, previousLength);
    this.prefixLength = o;
    this.midStart = o;
    s[o++] = TAG_OCTET_STRING;
    o = writeDerLength(s, o, dataHashLength);
    this.midLength = o - this.midStart;
  }
}

/** Fabric's BlockHeaderBytes (what the orderer signs, with the metadata value and signature header). */
export function blockHeaderBytes(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Uint8Array {
  const der = new HeaderDer();
  der.build(number, previousHash.length, dataHash.length);
  const out = new Uint8Array(der.prefixLength + previousHash.length + der.midLength + dataHash.length);
  out.set(der.scratch.subarray(0, der.prefixLength), 0);
  out.set(previousHash, der.prefixLength);
  out.set(der.scratch.subarray(der.midStart, der.midStart + der.midLength), der.prefixLength + previousHash.length);
  out.set(dataHash, der.prefixLength + previousHash.length + der.midLength);
  return out;
}

/** Fabric's BlockHeaderHash. */
export function blockHeaderHash(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Uint8Array {
  return createHash('sha256').update(blockHeaderBytes(number, previousHash, dataHash)).digest();
}

/** Fabric's BlockDataHash (2.x): SHA-256 of the entries concatenated. */
export function blockDataHash(entries: readonly Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const e of entries) h.update(e);
  return h.digest();
}

/** Header and data hashing of located blocks, without allocation: one per reader. */
export class InPlaceBlockHasher {
  private readonly der = new HeaderDer();

  constructor(private readonly sha: Sha256) {}

  /** BlockHeaderHash of the located block into out[offset .. offset+32). */
  headerHashInto(block: Uint8Array, layout: FabricBlockLayout, out: Uint8Array, offset: number): void {
    const der = this.der;
    der.build(layout.number, layout.previousHashLength, layout.dataHashLength);
    this.sha
      .update(der.scratch, 0, der.prefixLength)
      .update(block, layout.previousHashStart, layout.previousHashLength)
      .update(der.scratch, der.midStart, der.midLength)
      .update(block, layout.dataHashStart, layout.dataHashLength)
      .digestInto(out, offset);
  }

  /** BlockDataHash of the located block into out[offset ..); `cursor` is scratch. */
  dataHashInto(block: Uint8Array, layout: FabricBlockLayout, cursor: ProtoFieldCursor, out: Uint8Array, offset: number): void {
    if (layout.dataStart >= 0) {
      cursor.reset(block, layout.dataStart, layout.dataEnd);
      while (cursor.next()) this.sha.update(block, cursor.valueStart, cursor.valueEnd - cursor.valueStart);
    }
    this.sha.digestInto(out, offset);
  }
}
