// Deliver responses as the orderer makes them (docs/protocol.md §4.1), for tests that play the orderer
// to a real deliver client: MAC'd for the session the client opened, the ReplyKey where the orderer
// puts it. The key share of each session comes from the client's SEEK.
import { systemClock } from '../../src/config/clock.js';
import { type KeyShare, newKeyShare } from '../../src/crypto/keyAgreement.js';
import { ReplyKeys, type SessionKey } from '../../src/orderer/replyKeys.js';
import type { Signer } from '../../src/protocol/envelope.js';
import {
  type BroadcastResponse, type DeliverRequestFrame, FrameKind, decodeDeliverRequestFrame, encodeDeliverBlocks, encodeDeliverStatus,
} from '../../src/protocol/frames.js';
import { MessageMac, macEquals, replyKeySignatureValid } from '../../src/protocol/messageAuth.js';
import type { StatusCode } from '../../src/protocol/status.js';

/**
 * Whether a BroadcastResponse is authenticated for the holder of `keyShare`: a ReplyKey signed by
 * `orderer` (the identity the client trusts), and the response's MAC under the key they agree.
 */
export function broadcastResponseAuthentic(r: BroadcastResponse, keyShare: KeyShare, orderer: Signer): boolean {
  if (r.replyKey === undefined || r.mac === undefined) return false;
  if (r.replyKey.signer.fingerprint !== orderer.certificate.fingerprint || !replyKeySignatureValid(r.replyKey)) return false;
  const mac = MessageMac.agree(keyShare.privateKey, r.replyKey.key, r.replyKey.key, keyShare.publicRaw);
  return macEquals(mac.broadcastResponse(r.session, r.txId, r.status, r.info), r.mac);
}

export class OrdererReplies {
  private readonly keys: ReplyKeys;
  private readonly shares = new Map<string, Uint8Array>();

  /** `signer`: the orderer identity whose ReplyKey the client trusts. */
  constructor(signer: Signer) {
    this.keys = new ReplyKeys(signer, systemClock);
  }

  /** Learns the key share of every SEEK among `messages` (frames a client sent); returns the SEEKs. */
  seeks(messages: readonly Uint8Array[]): Extract<DeliverRequestFrame, { kind: 1 }>[] {
    const out: Extract<DeliverRequestFrame, { kind: 1 }>[] = [];
    for (const m of messages) {
      const f = decodeDeliverRequestFrame(m);
      if (f.kind !== FrameKind.SEEK) continue;
      const p = f.envelope.payload;
      if (p.session !== undefined && p.keyShare !== undefined) this.shares.set(p.session, p.keyShare);
      out.push(f);
    }
    return out;
  }

  /** The session's key (for a session no SEEK named: one nobody holds, as an impostor's would be). */
  key(session: string): SessionKey {
    const k = this.keys.agree(this.shares.get(session) ?? newKeyShare().publicRaw);
    if (typeof k === 'string') throw new Error(k);
    return k;
  }

  blocks(session: string, seq: number, blocks: readonly Uint8Array[]): Uint8Array {
    const k = this.key(session);
    return encodeDeliverBlocks(session, seq, blocks, k.mac.deliverBlocks(session, seq, blocks), seq === 1 ? k.replyKey : undefined);
  }

  status(session: string, seq: number, status: StatusCode): Uint8Array {
    const k = this.key(session);
    return encodeDeliverStatus(session, seq, status, k.mac.deliverStatus(session, seq, status), k.replyKey);
  }
}
