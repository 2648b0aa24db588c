// Plain RFC 8949 CBOR for every message on every link.
//
// cbor-x's defaults are not plain CBOR: `new Encoder()` adds its record extension (tag 57343) and tags
// Uint8Array with tag 64, and it writes integers above 2^32 as float64. The encoder below turns the first
// two off; `u64()` makes large integers go out as CBOR unsigned integers (major type 0) instead of floats.
import { Encoder } from 'cbor-x';

const encoder = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  mapsAsObjects: true,
  variableMapSize: true,
  bundleStrings: false,
});

/** A wire message that does not have the shape the protocol requires. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

export function encodeCbor(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function decodeCbor(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new WireError('empty message');
  try {
    return encoder.decode(bytes);
  } catch (err) {
    throw new WireError(`malformed CBOR: ${(err as Error).message}`);
  }
}

/** Integers that may exceed 2^32 (timestamps, block numbers) must go out as CBOR uints, not floats. */
export function u64(n: number): number | bigint {
  return n > 0xffffffff ? BigInt(n) : n;
}

export type CborMap = Record<string, unknown>;

export function asMap(v: unknown, what: string): CborMap {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    throw new WireError(`${what}: expected a map`);
  }
  return v as CborMap;
}

/**
 * Reads a CBOR unsigned integer as a JS number. Values above 2^53-1 (only meaningful as "never", e.g.
 * a seek stop of MaxUint64) are clamped to Number.MAX_SAFE_INTEGER.
 */
export function uintField(m: CborMap, key: string, what: string): number {
  const v = m[key];
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'bigint' && v >= 0n) {
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  throw new WireError(`${what}.${key}: expected an unsigned integer`);
}

export function optUintField(m: CborMap, key: string, what: string): number | undefined {
  return m[key] === undefined ? undefined : uintField(m, key, what);
}

export function bytesField(m: CborMap, key: string, what: string, exactLength?: number): Uint8Array {
  const v = m[key];
  if (!(v instanceof Uint8Array)) throw new WireError(`${what}.${key}: expected a byte string`);
  if (exactLength !== undefined && v.length !== exactLength) {
    throw new WireError(`${what}.${key}: expected ${exactLength} bytes, got ${v.length}`);
  }
  return v;
}

export function stringField(m: CborMap, key: string, what: string, maxLength = 256): string {
  const v = m[key];
  if (typeof v !== 'string') throw new WireError(`${what}.${key}: expected a text string`);
  if (v.length > maxLength) throw new WireError(`${what}.${key}: longer than ${maxLength} characters`);
  return v;
}

export function arrayField(m: CborMap, key: string, what: string): unknown[] {
  const v = m[key];
  if (!Array.isArray(v)) throw new WireError(`${what}.${key}: expected an array`);
  return v;
}

export function stringArrayField(m: CborMap, key: string, what: string): string[] {
  return arrayField(m, key, what).map((s, i) => {
    if (typeof s !== 'string') throw new WireError(`${what}.${key}[${i}]: expected a text string`);
    return s;
  });
}
