// ECDSA signatures as Fabric's software signer makes them: SHA-256 of the message, ASN.1 DER
// SEQUENCE { r, s } with s in the lower half of the curve order. Fabric's verifiers refuse a high-S
// signature ("invalid S. Must be smaller than half the order"), because (r, n - s) would be a second
// valid signature of the same message.
import { type KeyObject, sign } from 'node:crypto';

/** Curve orders of the named curves Fabric's MSPs use. */
const CURVE_ORDERS: Readonly<Record<string, bigint>> = {
  prime256v1: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp384r1: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/** The curve order of an EC key Fabric can sign with, or an error naming what the key is. */
export function curveOrder(key: KeyObject): bigint {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  const order = curve === undefined ? undefined : CURVE_ORDERS[curve];
  if (order === undefined) {
    const what = key.asymmetricKeyType === 'ec' ? `EC key on curve ${curve ?? 'unknown'}` : `${key.asymmetricKeyType ?? 'unknown'} key`;
    throw new Error(`${what}: Fabric signs with ECDSA on P-256 or P-384`);
  }
  return order;
}

function bigFromBytes(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** DER INTEGER contents of a non-negative value: minimal big-endian, a 0x00 first when the top bit is set. */
function derUnsigned(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return (bytes[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  return Buffer.from([0x82, n >> 8, n & 0xff]);
}

/** DER SEQUENCE { INTEGER r, INTEGER s }. */
export function derSignature(r: bigint, s: bigint): Uint8Array {
  const ri = derUnsigned(r);
  const si = derUnsigned(s);
  const body = Buffer.concat([Buffer.from([0x02]), derLength(ri.length), ri, Buffer.from([0x02]), derLength(si.length), si]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]));
}

/** Signs SHA-256(message) with `key` (P-256 or P-384), DER-encoded, low-S. */
export function signLowS(key: KeyObject, message: Uint8Array, order: bigint = curveOrder(key)): Uint8Array {
  // IEEE P1363 gives r and s as fixed-width halves: no DER to parse before normalising s.
  const raw = sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
  const half = raw.length / 2;
  const r = bigFromBytes(raw.subarray(0, half));
  let s = bigFromBytes(raw.subarray(half));
  if (s > order >> 1n) s = order - s;
  return derSignature(r, s);
}

/** r and s of a DER ECDSA signature, or null when `der` is not exactly one SEQUENCE of two INTEGERs. */
export function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } | null {
  let at = 0;
  const length = (): number => {
    const first = der[at++];
    if (first === undefined) return -1;
    if (first < 0x80) return first;
    const bytes = first & 0x7f;
    if (bytes === 0 || bytes > 2) return -1;
    let n = 0;
    for (let i = 0; i < bytes; i++) {
      const b = der[at++];
      if (b === undefined) return -1;
      n = (n << 8) | b;
    }
    return n;
  };
  const integer = (): bigint | null => {
    if (der[at++] !== 0x02) return null;
    const n = length();
    if (n <= 0 || at + n > der.length) return null;
    const v = bigFromBytes(der.subarray(at, at + n));
    at += n;
    return v;
  };
  if (der[at++] !== 0x30) return null;
  const seq = length();
  if (seq < 0 || at + seq !== der.length) return null;
  const r = integer();
  const s = integer();
  if (r === null || s === null || at !== der.length) return null;
  return { r, s };
}

/** Whether s is in the lower half of the curve order (what Fabric's verifiers require). */
export function isLowS(s: bigint, order: bigint): boolean {
  return s <= order >> 1n;
}
