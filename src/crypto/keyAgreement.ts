// X25519 key agreement (RFC 7748) and HKDF-SHA-256 (RFC 5869) through node:crypto: how a client and the
// orderer agree on the key that authenticates the messages of a session (docs/protocol.md §4.1).
import { type KeyObject, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';

export const KEY_SHARE_BYTES = 32;
/** DER SubjectPublicKeyInfo of an X25519 key, up to the 32 raw key bytes. */
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** One side's X25519 key pair; `publicRaw` is what travels (the "key share"). */
export interface KeyShare {
  privateKey: KeyObject;
  publicRaw: Uint8Array;
}

export function newKeyShare(): KeyShare {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const der = publicKey.export({ format: 'der', type: 'spki' });
  return { privateKey, publicRaw: new Uint8Array(der.subarray(der.length - KEY_SHARE_BYTES)) };
}

export class KeyAgreementError extends Error {
  override readonly name = 'KeyAgreementError';
}

/**
 * HKDF-SHA-256(IKM = X25519(own, peer), salt, info) of `length` bytes. Throws KeyAgreementError for a
 * peer share that is not 32 bytes or gives the all-zero secret (a small-order point, RFC 7748 §6.1).
 */
export function agreeKey(own: KeyObject, peerRaw: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  if (peerRaw.length !== KEY_SHARE_BYTES) throw new KeyAgreementError(`a key share is ${KEY_SHARE_BYTES} bytes, got ${peerRaw.length}`);
  let shared: Buffer;
  try {
    const peer = createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, peerRaw]), format: 'der', type: 'spki' });
    shared = diffieHellman({ privateKey: own, publicKey: peer });
  } catch (err) {
    // OpenSSL refuses an all-zero result itself; the message says nothing useful to an operator.
    throw new KeyAgreementError(`key share refused (${(err as Error).message})`);
  }
  return new Uint8Array(hkdfSync('sha256', shared, salt, info, length));
}
