// Fabric's identity signature check (msp/identities.go Verify, bccsp/sw verifyECDSA): the message is
// hashed with the MSP's signature hash family (SHA2: SHA-256, SHA3: SHA3-256, whatever the curve), the
// DER signature is read with Go's asn1 rules, S must be in the lower half of the curve order (Fabric
// refuses high-S signatures: "Invalid S. Must be smaller than half the order"), then ECDSA verifies.
// The signature is handed to node:crypto as fixed-width r‖s, so node's own DER leniency plays no part.
import { type KeyObject, verify as cryptoVerify } from 'node:crypto';
import { DerError, ecdsaSignatureValues } from './der.js';

export class SignatureError extends Error {}

/** Curve orders n, by node:crypto's curve names. */
const CURVE_ORDERS = new Map<string, { n: bigint; bytes: number }>([
  ['prime256v1', { n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bytes: 32 }],
  ['secp384r1', { n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n, bytes: 48 }],
  ['secp521r1', { n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n, bytes: 66 }],
  ['secp224r1', { n: 0xffffffffffffffffffffffffffff16a2e0b8f03e13dd29455c5c2a3dn, bytes: 28 }],
]);

export type SignatureHashFamily = 'SHA2' | 'SHA3';

const DIGEST: Record<SignatureHashFamily, string> = { SHA2: 'sha256', SHA3: 'sha3-256' };

export function curveOrder(namedCurve: string | undefined): { n: bigint; bytes: number } | undefined {
  return namedCurve === undefined ? undefined : CURVE_ORDERS.get(namedCurve);
}

/** Whether s is low (s <= n/2), as Fabric's IsLowS. */
export function isLowS(s: bigint, n: bigint): boolean {
  return s <= n >> 1n;
}

/** The low-S form of s (n - s when s is high). */
export function toLowS(s: bigint, n: bigint): bigint {
  return isLowS(s, n) ? s : n - s;
}

function fixedWidth(v: bigint, bytes: number): Buffer | null {
  const hex = v.toString(16);
  if (hex.length > bytes * 2) return null;
  return Buffer.from(hex.padStart(bytes * 2, '0'), 'hex');
}

/**
 * Verifies `signature` (DER) over `message` with an ECDSA public key, as a Fabric identity does. Throws a
 * SignatureError naming why it is refused (malformed, high S, unsupported key); returns false when the
 * signature simply does not verify.
 */
export function verifyFabricSignature(key: KeyObject, message: Uint8Array, signature: Uint8Array, family: SignatureHashFamily): boolean {
  if (key.asymmetricKeyType !== 'ec') throw new SignatureError(`unsupported public key type ${key.asymmetricKeyType ?? 'unknown'} (Fabric's X.509 MSP verifies ECDSA)`);
  const curve = curveOrder(key.asymmetricKeyDetails?.namedCurve);
  if (curve === undefined) throw new SignatureError(`unsupported curve ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown'}`);
  let rs: { r: bigint; s: bigint };
  try {
    rs = ecdsaSignatureValues(signature);
  } catch (err) {
    throw new SignatureError(`failed unmarshalling signature: ${err instanceof DerError ? err.message : (err as Error).message}`);
  }
  if (!isLowS(rs.s, curve.n)) throw new SignatureError('Invalid S. Must be smaller than half the order');
  const r = fixedWidth(rs.r, curve.bytes);
  const s = fixedWidth(rs.s, curve.bytes);
  if (r === null || s === null || rs.r >= curve.n) return false;
  return cryptoVerify(DIGEST[family], message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
}
