// The orderer's reply key (docs/protocol.md §4.1): an X25519 key announced in a ReplyKey signed by the
// node identity, renewed before it expires, and the MAC key agreed with each client key share.
import type { Clock } from '../config/clock.js';
import { type KeyShare, KeyAgreementError, newKeyShare } from '../crypto/keyAgreement.js';
import { toHex } from '../crypto/hash.js';
import type { CborMap } from '../protocol/cbor.js';
import type { Signer } from '../protocol/envelope.js';
import { MessageMac, type ReplyKey, replyKeyToWire, signReplyKey } from '../protocol/messageAuth.js';

export const replyKeyDefaults = {
  /** A ReplyKey is valid this long; the orderer makes a new one when half of it has passed. */
  validityMs: 24 * 3600 * 1000,
  /** Agreed keys kept per reply key (Broadcast clients keep one key share for their life). */
  agreedKeysMax: 4096,
} as const;

/** The MAC of a session and the ReplyKey (wire form) it was agreed under, for the replies that carry it. */
export interface SessionKey {
  mac: MessageMac;
  replyKey: CborMap;
}

interface Current {
  share: KeyShare;
  replyKey: ReplyKey;
  wire: CborMap;
  renewAtMs: number;
  agreed: Map<string, MessageMac>;
}

export class ReplyKeys {
  private current: Current;

  constructor(private signer: Signer, private readonly clock: Clock, private readonly validityMs: number = replyKeyDefaults.validityMs) {
    this.current = this.make();
  }

  /** The identity ReplyKeys are signed by. */
  get identity(): Signer {
    return this.signer;
  }

  /**
   * Signs ReplyKeys with `signer` from now on (the node's key was rotated): a new ReplyKey at once, so
   * that revoking the old certificate later leaves no ReplyKey of it in use. Sessions agreed under the
   * old one keep their MAC keys.
   */
  useSigner(signer: Signer): void {
    this.signer = signer;
    this.current = this.make();
  }

  /** The ReplyKey now in use (renewed once half its validity has passed). */
  get replyKey(): ReplyKey {
    return this.fresh().replyKey;
  }

  /**
   * The MAC key for a client's key share, or a reason why there is none (no share, or a share that
   * gives no key). Cached per share: a Broadcast client uses one share for all its requests.
   */
  agree(keyShare: Uint8Array | undefined): SessionKey | string {
    if (keyShare === undefined) return 'no keyShare in the request';
    const c = this.fresh();
    const id = toHex(keyShare);
    let mac = c.agreed.get(id);
    if (mac === undefined) {
      try {
        mac = MessageMac.agree(c.share.privateKey, keyShare, c.share.publicRaw, keyShare);
      } catch (err) {
        if (err instanceof KeyAgreementError) return err.message;
        throw err;
      }
      if (c.agreed.size >= replyKeyDefaults.agreedKeysMax) c.agreed.clear();
      c.agreed.set(id, mac);
    }
    return { mac, replyKey: c.wire };
  }

  private fresh(): Current {
    if (this.clock.now() >= this.current.renewAtMs) this.current = this.make();
    return this.current;
  }

  private make(): Current {
    const now = this.clock.now();
    const share = newKeyShare();
    const replyKey = signReplyKey(share.publicRaw, now + this.validityMs, this.signer);
    return { share, replyKey, wire: replyKeyToWire(replyKey), renewAtMs: now + Math.floor(this.validityMs / 2), agreed: new Map() };
  }
}
