// A Broadcast client: signs transactions (or configuration updates), sends them to the orderer and
// matches each status answer to its request. Used by `edgepeer submit`, the demo's load generator
// and the tests.
import { randomBytes } from 'node:crypto';
import { decodeBroadcastResponse, encodeSubmitFrame } from '../protocol/frames.js';
import { type MessageTypeCode, MessageType, type Signer, signEnvelope } from '../protocol/envelope.js';
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

export class BroadcastClient {
  private readonly waiting = new Map<string, Waiting>();
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
    this.waiting.delete(r.session);
    clearTimeout(w.timer);
    w.resolve(r.info === undefined ? { txId: r.txId, status: r.status } : { txId: r.txId, status: r.status, info: r.info });
  };

  constructor(private readonly link: ClientLink, private readonly channel: string, private readonly signer: Signer) {
    link.on('message', this.onMessage);
  }

  /** Signs and sends one envelope of `type` with `data`; resolves with the orderer's answer. */
  async submit(data: unknown, type: MessageTypeCode = MessageType.TRANSACTION, timeoutMs = broadcastAnswerTimeoutMs): Promise<BroadcastResult> {
    const session = randomBytes(12).toString('hex');
    const env = signEnvelope({ type, channel: this.channel, data, replyTo: this.link.replyRoute(this.channel), session }, this.signer);
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
