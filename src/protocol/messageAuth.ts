// Authentication of the unsigned messages of a session (docs/protocol.md §4.1): replies from the orderer
// (DeliverBlocks, DeliverStatus, BroadcastResponse) and a Deliver client's ACK and CANCEL.
//
// A client puts a fresh X25519 public key (`keyShare`) into its signed request. The orderer holds an
// X25519 key of its own, announced in a ReplyKey signed by its node identity. Both sides derive
//   K = HKDF-SHA-256(IKM = X25519(own, other), salt = replyKey.key || keyShare, info = "edgepeer/v1 message mac")
// and every message of the session carries mac = HMAC-SHA-256(K, label || 0x00 || fields), with the
// fields in a fixed binary layout (below), so a third party computes it from decoded values.
import { type KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { type Certificate, certificateFromWire, certificateKey, certificateToWire } from './certificate.js';
import { KEY_SHARE_BYTES, agreeKey } from '../crypto/keyAgreement.js';
import { signBytes, verifyBytes } from '../crypto/keys.js';
import { type CborMap, asMap, bytesField, u64, uintField } from './cbor.js';

export const MAC_BYTES = 32;
const MAC_KEY_INFO = 'edgepeer/v1 message mac';

const label = (name: string): Buffer => Buffer.from(`edgepeer/v1 ${name}\0`, 'latin1');
const LABEL_REPLY_KEY = label('reply-key');
const LABEL_DELIVER_BLOCKS = label('deliver-blocks');
const LABEL_DELIVER_STATUS = label('deliver-status');
const LABEL_BROADCAST_RESPONSE = label('broadcast-response');
const LABEL_ACK = label('ack');
const LABEL_CANCEL = label('cancel');

/** The orderer's announced X25519 key: `signer` (an orderer identity) vouches for `key` until `notAfter`. */
export interface ReplyKey {
  key: Uint8Array;
  notAfter: number;
  signer: Certificate;
  signature: Uint8Array;
}

/** The bytes a ReplyKey's signature covers: label || key (32) || u64(notAfter). */
function replyKeySigned(key: Uint8Array, notAfter: number): Buffer {
  const out = Buffer.alloc(LABEL_REPLY_KEY.length + KEY_SHARE_BYTES + 8);
  LABEL_REPLY_KEY.copy(out, 0);
  out.set(key, LABEL_REPLY_KEY.length);
  out.writeBigUInt64BE(BigInt(notAfter), LABEL_REPLY_KEY.length + KEY_SHARE_BYTES);
  return out;
}

export function signReplyKey(key: Uint8Array, notAfter: number, signer: { certificate: Certificate; privateKey: KeyObject }): ReplyKey {
  return { key, notAfter, signer: signer.certificate, signature: signBytes(signer.privateKey, replyKeySigned(key, notAfter)) };
}

/** Whether `signer`'s key made the signature; who the signer is and whether it is trusted is the caller's check. */
export function replyKeySignatureValid(k: ReplyKey): boolean {
  return verifyBytes(certificateKey(k.signer), replyKeySigned(k.key, k.notAfter), k.signature);
}

export function replyKeyToWire(k: ReplyKey): CborMap {
  return { key: k.key, notAfter: u64(k.notAfter), signer: certificateToWire(k.signer), signature: k.signature };
}

export function replyKeyFromWire(v: unknown, what = 'replyKey'): ReplyKey {
  const m = asMap(v, what);
  return {
    key: bytesField(m, 'key', what, KEY_SHARE_BYTES),
    notAfter: uintField(m, 'notAfter', what),
    signer: certificateFromWire(m['signer'], `${what}.signer`),
    signature: bytesField(m, 'signature', what, 64),
  };
}

/** The HMAC key of one session (or of one Broadcast client's key share), with the MAC of each message kind. */
export class MessageMac {
  private readonly key: KeyObject;
  private readonly scratch = Buffer.alloc(64);

  constructor(keyBytes: Uint8Array) {
    this.key = createSecretKey(keyBytes);
  }

  /**
   * K from this side's X25519 private key and the other side's share. `replyKey` and `keyShare` are the
   * two public keys in protocol order (orderer's, client's): the salt is their concatenation.
   */
  static agree(own: KeyObject, other: Uint8Array, replyKey: Uint8Array, keyShare: Uint8Array): MessageMac {
    const salt = new Uint8Array(KEY_SHARE_BYTES * 2);
    salt.set(replyKey, 0);
    salt.set(keyShare, KEY_SHARE_BYTES);
    return new MessageMac(agreeKey(own, other, salt, MAC_KEY_INFO, MAC_BYTES));
  }

  /** label || str(session) || u64(seq) || u32(count) || u32(len_1) .. u32(len_n) || block_1 .. block_n */
  deliverBlocks(session: string, seq: number, blocks: readonly Uint8Array[]): Uint8Array {
    const h = createHmac('sha256', this.key);
    h.update(LABEL_DELIVER_BLOCKS);
    const lengths = Buffer.allocUnsafe(4 + 4 * blocks.length);
    lengths.writeUInt32BE(blocks.length, 0);
    for (let i = 0; i < blocks.length; i++) lengths.writeUInt32BE(blocks[i]!.length, 4 + 4 * i);
    h.update(this.sessionSeq(session, seq));
    h.update(lengths);
    for (const b of blocks) h.update(b);
    return h.digest();
  }

  /** label || str(session) || u64(seq) || u16(status) */
  deliverStatus(session: string, seq: number, status: number): Uint8Array {
    const h = createHmac('sha256', this.key);
    h.update(LABEL_DELIVER_STATUS);
    h.update(this.sessionSeq(session, seq));
    h.update(u16(status));
    return h.digest();
  }

  /** label || str(session) || str(txId) || u16(status) || u8(info present) [|| str(info)] */
  broadcastResponse(session: string, txId: string, status: number, info: string | undefined): Uint8Array {
    const h = createHmac('sha256', this.key);
    h.update(LABEL_BROADCAST_RESPONSE);
    h.update(str(session));
    h.update(str(txId));
    h.update(u16(status));
    h.update(Uint8Array.of(info === undefined ? 0 : 1));
    if (info !== undefined) h.update(str(info));
    return h.digest();
  }

  /** label || str(session) || u64(seq) || u64(n) */
  ack(session: string, seq: number, n: number): Uint8Array {
    const h = createHmac('sha256', this.key);
    h.update(LABEL_ACK);
    h.update(this.sessionSeq(session, seq));
    const nb = Buffer.allocUnsafe(8);
    nb.writeBigUInt64BE(BigInt(n));
    h.update(nb);
    return h.digest();
  }

  /** label || str(session) */
  cancel(session: string): Uint8Array {
    const h = createHmac('sha256', this.key);
    h.update(LABEL_CANCEL);
    h.update(str(session));
    return h.digest();
  }

  /** str(session) || u64(seq) in the scratch buffer (valid until the next call). */
  private sessionSeq(session: string, seq: number): Uint8Array {
    const n = Buffer.byteLength(session, 'utf8');
    const need = 2 + n + 8;
    const b = need <= this.scratch.length ? this.scratch : Buffer.allocUnsafe(need);
    b.writeUInt16BE(n, 0);
    b.write(session, 2, 'utf8');
    b.writeBigUInt64BE(BigInt(seq), 2 + n);
    return b.subarray(0, need);
  }
}

/** Constant-time comparison of a received MAC with the expected one. */
export function macEquals(expected: Uint8Array, got: Uint8Array | undefined): boolean {
  return got !== undefined && got.length === expected.length && timingSafeEqual(expected, got);
}

function u16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

function str(s: string): Uint8Array {
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** Whom a client takes replies from: says why a ReplyKey's signer may not answer it, or null when it may. */
export interface ResponderTrust {
  denyReason(signer: Certificate, nowMs: number): string | null;
}

/** Signature checks of ReplyKeys seen, kept at most (few orderers, few key renewals). */
const REPLY_KEYS_KEPT = 16;

/** A client's check of the ReplyKeys that replies carry: trusted signer, valid signature, not expired. */
export class ReplyKeyVerifier {
  /** ReplyKey (by key, expiry and signer) -> whether its signature verified. */
  private readonly signatures = new Map<string, boolean>();

  constructor(private readonly trust: ResponderTrust) {}

  /** Why `k` may not authenticate replies now, or null. */
  check(k: ReplyKey, nowMs: number): string | null {
    if (nowMs > k.notAfter) return `reply key expired at ${new Date(k.notAfter).toISOString()}`;
    const denied = this.trust.denyReason(k.signer, nowMs);
    if (denied !== null) return `reply key signer: ${denied}`;
    const id = `${Buffer.from(k.key).toString('hex')}/${k.notAfter}/${k.signer.fingerprint}/${Buffer.from(k.signature).toString('hex')}`;
    let good = this.signatures.get(id);
    if (good === undefined) {
      good = replyKeySignatureValid(k);
      if (this.signatures.size >= REPLY_KEYS_KEPT) this.signatures.clear();
      this.signatures.set(id, good);
    }
    return good ? null : 'reply key signature does not verify';
  }
}
