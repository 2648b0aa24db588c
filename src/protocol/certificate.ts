// Member certificates: a small CBOR document signed by the organisation's root key.
//
//   Certificate     = { body: bstr(CBOR CertificateBody), signature: bstr(64) }   signed by the org root
//   CertificateBody = { id: tstr, org: tstr, role: tstr, publicKey: bstr(32), notBefore: uint ms, notAfter: uint ms }
//
// The fingerprint (SHA-256 of the body bytes) names a certificate in revocation lists.
import type { KeyObject } from 'node:crypto';
import {
  type CborMap, WireError, asMap, bytesField, decodeCbor, encodeCbor, stringField, u64, uintField,
} from './cbor.js';
import { sha256, toHex } from '../crypto/hash.js';
import { PUBLIC_KEY_BYTES, publicKeyFromRaw, signBytes, verifyBytes } from '../crypto/keys.js';

export const ROLES = ['orderer', 'peer', 'client', 'admin'] as const;
/** A certificate's id and organisation, in characters (docs/protocol.md §3). */
export const MAX_NAME_CHARS = 128;
export type Role = (typeof ROLES)[number];

export interface CertificateFields {
  id: string;
  org: string;
  role: Role;
  publicKey: Uint8Array;
  notBefore: number;
  notAfter: number;
}

export interface Certificate extends CertificateFields {
  /** The exact signed bytes. */
  body: Uint8Array;
  signature: Uint8Array;
  /** Hex SHA-256 of `body`. */
  fingerprint: string;
}

export class CertificateError extends Error {
  override readonly name = 'CertificateError';
}

export function issueCertificate(fields: CertificateFields, orgRootKey: KeyObject): Certificate {
  const body = encodeCbor({
    id: fields.id,
    org: fields.org,
    role: fields.role,
    publicKey: fields.publicKey,
    notBefore: u64(fields.notBefore),
    notAfter: u64(fields.notAfter),
  });
  const signature = signBytes(orgRootKey, body);
  return { ...fields, body, signature, fingerprint: toHex(sha256(body)) };
}

/** The certificate as it goes on the wire (inside envelopes, configs and files). */
export function certificateToWire(cert: Certificate): CborMap {
  return { body: cert.body, signature: cert.signature };
}

export function encodeCertificate(cert: Certificate): Uint8Array {
  return encodeCbor(certificateToWire(cert));
}

export function certificateFromWire(v: unknown, what = 'certificate'): Certificate {
  const m = asMap(v, what);
  const body = bytesField(m, 'body', what);
  const signature = bytesField(m, 'signature', what, 64);
  const b = asMap(decodeCbor(body), `${what}.body`);
  const role = stringField(b, 'role', `${what}.body`);
  if (!(ROLES as readonly string[]).includes(role)) throw new WireError(`${what}.body.role: unknown role '${role}'`);
  return {
    id: stringField(b, 'id', `${what}.body`, MAX_NAME_CHARS),
    org: stringField(b, 'org', `${what}.body`, MAX_NAME_CHARS),
    role: role as Role,
    publicKey: bytesField(b, 'publicKey', `${what}.body`, PUBLIC_KEY_BYTES),
    notBefore: uintField(b, 'notBefore', `${what}.body`),
    notAfter: uintField(b, 'notAfter', `${what}.body`),
    body,
    signature,
    fingerprint: toHex(sha256(body)),
  };
}

export function decodeCertificate(bytes: Uint8Array): Certificate {
  return certificateFromWire(decodeCbor(bytes));
}

/**
 * An organisation's root public keys by its name: one, or two while its root is rotated (the root, then
 * the next one; docs/protocol.md §6).
 */
export type OrgRoots = ReadonlyMap<string, readonly KeyObject[]>;

/**
 * Checks that `cert` chains to its organisation's root, is within its validity period and is not
 * revoked. Throws CertificateError naming the reason.
 */
export function verifyCertificate(cert: Certificate, roots: OrgRoots, nowMs: number, revoked?: ReadonlySet<string>): void {
  const keys = roots.get(cert.org);
  if (keys === undefined || keys.length === 0) throw new CertificateError(`certificate ${cert.id}: organisation '${cert.org}' is not known`);
  if (!keys.some((root) => verifyBytes(root, cert.body, cert.signature))) {
    throw new CertificateError(`certificate ${cert.id}: not signed by the root of '${cert.org}'${keys.length > 1 ? ' (nor by its next root)' : ''}`);
  }
  if (nowMs < cert.notBefore) throw new CertificateError(`certificate ${cert.id}: not valid before ${new Date(cert.notBefore).toISOString()}`);
  if (nowMs > cert.notAfter) throw new CertificateError(`certificate ${cert.id}: expired at ${new Date(cert.notAfter).toISOString()}`);
  if (revoked?.has(cert.fingerprint)) throw new CertificateError(`certificate ${cert.id}: revoked`);
}

const keyCache = new Map<string, KeyObject>();
const KEY_CACHE_MAX_ENTRIES = 4096;

/** The certificate's public key as a KeyObject, cached by fingerprint (creating one costs ~20 µs). */
export function certificateKey(cert: Certificate): KeyObject {
  let key = keyCache.get(cert.fingerprint);
  if (!key) {
    if (keyCache.size >= KEY_CACHE_MAX_ENTRIES) keyCache.clear();
    key = publicKeyFromRaw(cert.publicKey);
    keyCache.set(cert.fingerprint, key);
  }
  return key;
}
