// Who a member is on the MQTT broker (docs/protocol.md §11.1): its username, which is also the last level
// of its reply topic, and its password, a signature by its own key, so that the credentials of a board or
// client are its identity files (key.pem, cert.cbor) and nothing else.
//
//   username = <org>.<id>                  when org matches [A-Za-z0-9_-]+, id [A-Za-z0-9._-]+, 64 characters at most
//            = h<first 40 hex digits of SHA-256(org || 0x00 || id)>   otherwise (no '.': never equal to the first form)
//   password = "ep1." base64url(cert.cbor) "." base64url(Ed25519(key, "edgepeer/v1 mqtt-login" || 0x00 || username))
//
// Ed25519 signatures are deterministic (RFC 8032), so the password is the same every time: a broker that
// can only compare passwords (Mosquitto's password file) works as well as one that checks the signature
// and the certificate against the channel configuration (the embedded broker).
import type { KeyObject } from 'node:crypto';
import { type Certificate, certificateKey, decodeCertificate, encodeCertificate } from '../../protocol/certificate.js';
import { sha256, toHex } from '../../crypto/hash.js';
import { signBytes, verifyBytes } from '../../crypto/keys.js';

const READABLE_ORG = /^[A-Za-z0-9_-]+$/;
const READABLE_ID = /^[A-Za-z0-9._-]+$/;
const USERNAME_MAX_CHARS = 64;
const HASHED_USERNAME_HEX_CHARS = 40;
const PASSWORD_PREFIX = 'ep1.';
const LOGIN_LABEL = 'edgepeer/v1 mqtt-login\0';
/** A password longer than this is not one of ours (a certificate and a signature are well under it). */
export const BROKER_PASSWORD_MAX_BYTES = 4096;

export interface MemberName {
  org: string;
  id: string;
}

export function brokerUsername(member: MemberName): string {
  const readable = `${member.org}.${member.id}`;
  if (READABLE_ORG.test(member.org) && READABLE_ID.test(member.id) && readable.length <= USERNAME_MAX_CHARS) return readable;
  const digest = toHex(sha256(Buffer.from(member.org, 'utf8'), Uint8Array.of(0), Buffer.from(member.id, 'utf8')));
  return `h${digest.slice(0, HASHED_USERNAME_HEX_CHARS)}`;
}

function loginBytes(username: string): Buffer {
  return Buffer.from(LOGIN_LABEL + username, 'utf8');
}

export interface BrokerCredentials {
  username: string;
  password: string;
}

/** The broker login of a member, from its signing identity. */
export function brokerCredentials(signer: { certificate: Certificate; privateKey: KeyObject }): BrokerCredentials {
  const username = brokerUsername(signer.certificate);
  const signature = signBytes(signer.privateKey, loginBytes(username));
  const cert = Buffer.from(encodeCertificate(signer.certificate)).toString('base64url');
  return { username, password: `${PASSWORD_PREFIX}${cert}.${Buffer.from(signature).toString('base64url')}` };
}

/**
 * The certificate a login claims, if the password is well formed, names a certificate whose username is
 * `username`, and carries that certificate's signature of the login. Whether the certificate is valid
 * (chain, time, revocation, policy) is the caller's check.
 */
export function loginCertificate(username: string, password: Buffer | string | undefined): Certificate | string {
  if (password === undefined) return 'no password';
  const text = typeof password === 'string' ? password : password.toString('utf8');
  if (text.length > BROKER_PASSWORD_MAX_BYTES) return 'password too long';
  if (!text.startsWith(PASSWORD_PREFIX)) return 'not an edgepeer login';
  const parts = text.slice(PASSWORD_PREFIX.length).split('.');
  if (parts.length !== 2) return 'not an edgepeer login';
  let cert: Certificate;
  try {
    cert = decodeCertificate(new Uint8Array(Buffer.from(parts[0]!, 'base64url')));
  } catch (err) {
    return `certificate in the password: ${(err as Error).message}`;
  }
  if (brokerUsername(cert) !== username) return `username '${username}' is not the one of ${cert.org}/${cert.id}`;
  const signature = Buffer.from(parts[1]!, 'base64url');
  if (!verifyBytes(certificateKey(cert), loginBytes(username), signature)) return 'login signature does not verify';
  return cert;
}
