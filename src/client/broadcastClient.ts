// A Broadcast client: signs transactions (or configuration updates), sends them to the orderer and
// matches each status answer to its request. Used by `edgepeer submit`, the demo's load generator
// and the tests. An answer counts only when its MAC verifies under the key agreed with the orderer's
// trusted ReplyKey (docs/protocol.md §4.1); anything else on the reply route is dropped and counted.
import { randomBytes } from 'node:crypto';
import { type KeyShare, newKeyShare } from '../crypto/keyAgreement.js';
import { toHex } from '../crypto/hash.js';
import { type BroadcastResponse, decodeBroadcastResponse, encodeSubmitFrame } from '../protocol/frames.js';
import { type MessageTypeCode, MessageType, type Signer, signEnvelope } from '../protocol/envelope.js';
import { MessageMac, ReplyKeyVerifier, type ResponderTrust, macEquals } from '../protocol/messageAuth.js';
import { Status, type StatusCode } from '../protocol/status.js';
import type { ClientLink } from '../transport/link.js';

export interface BroadcastResult {
  txId: string;
  status: StatusCode;
  info?: string;
}

/** A request not answered within this long fails with SERVICE_UNAVAILABLE (the orderer is not there). */
export const broadcastAnswerTimeoutMs = 10_000;

interface Waiting {
  resolve: (r: BroadcastResult) => void;
  timer: ReturnType<typeof setTimeout>;
  txId: string;
}

/** MAC keys kept, one per ReplyKey of the orderer (it renews its key every few hours). */
const MAC_KEYS_KEPT = 4;

export class BroadcastClient {
  private readonly waiting = new Map<string, Waiting>();
  /** One key share for the client's life: the orderer agrees a MAC key with it once. */
  private readonly keyShare: KeyShare = newKeyShare();
  private readonly replyKeys: ReplyKeyVerifier;
  private readonly macs = new Map<string, MessageMac>();
  /** Answers dropped: forged (MAC or ReplyKey does not verify) or without a MAC. */
  forgedAnswers = 0;
  private readonly onMessage = (channel: string, bytes: Uint8Array): void => {
    if (channel !== this.channel) return;
    let r;
    try {
      r = decodeBroadcastResponse(bytes);
    } catch {
      return; // Deliver responses share the reply route; they are not ours.
    }
    const w = this.waiting.get(r.session);
    if (!w) return;
    if (!this.authentic(r, w.txId)) {
      this.forgedAnswers++;
      return;
    }
    this.waiting.delete(r.session);
    clearTimeout(w.timer);
    w.resolve(r.info === undefined ? { txId: r.txId, status: r.status } : { txId: r.txId, status: r.status, info: r.info });
  };

  /** `trust`: whose ReplyKeys authenticate answers (src/channel/responderTrust.ts). */
  constructor(private readonly link: ClientLink, private readonly channel: string, private readonly signer: Signer, trust: ResponderTrust) {
    this.replyKeys = new ReplyKeyVerifier(trust);
    link.on('message', this.onMessage);
  }

  private authentic(r: BroadcastResponse, txId: string): boolean {
    if (r.mac === undefined || r.replyKey === undefined || r.txId !== txId) return false;
    if (this.replyKeys.check(r.replyKey, Date.now()) !== null) return false;
    const id = toHex(r.replyKey.key);
    let mac = this.macs.get(id);
    if (mac === undefined) {
      mac = MessageMac.agree(this.keyShare.privateKey, r.replyKey.key, r.replyKey.key, this.keyShare.publicRaw);
      if (this.macs.size >= MAC_KEYS_KEPT) this.macs.clear();
      this.macs.set(id, mac);
    }
    return macEquals(mac.broadcastResponse(r.session, r.txId, r.status, r.info), r.mac);
  }

  /** Signs and sends one envelope of `type` with `data`; resolves with the orderer's answer. */
  async submit(data: unknown, type: MessageTypeCode = MessageType.TRANSACTION, timeoutMs = broadcastAnswerTimeoutMs): Promise<BroadcastResult> {
    const session = randomBytes(12).toString('hex');
    const env = signEnvelope({
      type, channel: this.channel, data, replyTo: this.link.replyRoute(this.channel), session, keyShare: this.keyShare.publicRaw,
    }, this.signer);
    const answer = new Promise<BroadcastResult>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(session);
        resolve({ txId: env.txId, status: Status.SERVICE_UNAVAILABLE, info: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.waiting.set(session, { resolve, timer, txId: env.txId });
    });
    try {
      await this.link.send(this.channel, 'broadcast', encodeSubmitFrame(env.bytes));
    } catch (err) {
      const w = this.waiting.get(session);
      if (w) {
        clearTimeout(w.timer);
        this.waiting.delete(session);
      }
      return { txId: env.txId, status: Status.SERVICE_UNAVAILABLE, info: (err as Error).message };
    }
    return answer;
  }

  close(): void {
    this.link.off('message', this.onMessage);
    for (const w of this.waiting.values()) {
      clearTimeout(w.timer);
      w.resolve({ txId: w.txId, status: Status.SERVICE_UNAVAILABLE, info: 'client closed' });
    }
    this.waiting.clear();
  }
}

/**
 * Submits `count` transactions of about `sizeBytes` each with at most `inFlight` unanswered at once.
 * Returns how many got each status.
 */
export async function submitLoad(client: BroadcastClient, count: number, sizeBytes: number, inFlight: number,
  onResult?: (r: BroadcastResult, index: number) => void): Promise<Map<StatusCode, number>> {
  const counts = new Map<StatusCode, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const r = await client.submit({ seq: i, body: randomBytes(sizeBytes) });
      counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      onResult?.(r, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(inFlight, count)) }, worker));
  return counts;
}
