// A one-shot reader of a channel's chain up to the orderer's tip, for clients that hold no ledger (the
// operator's `edgepeer network` commands): it asks for every block after the one it verified last, with
// FAIL_IF_NOT_READY, so the orderer ends the session with NOT_FOUND once it has sent its last block
// (docs/protocol.md §9.2). Every block is verified as a board verifies it (src/channel/blockVerifier.ts),
// from the genesis block on, so the configuration it ends with is the channel's current one, signed by
// the orderers of the configuration before it, and not what the orderer (or the broker) says it is.
import { randomBytes } from 'node:crypto';
import { BlockVerifier, RunResult } from '../channel/blockVerifier.js';
import { configFromBlock } from '../channel/blocks.js';
import { ChannelState } from '../channel/channelState.js';
import { ordererTrust } from '../channel/responderTrust.js';
import { newKeyShare } from '../crypto/keyAgreement.js';
import { HASH_BYTES } from '../protocol/block.js';
import { blockHash } from '../protocol/blockHash.js';
import { MessageType, type Signer, signEnvelope } from '../protocol/envelope.js';
import { type DeliverResponse, decodeDeliverResponse, encodeAckFrame, encodeSeekFrame } from '../protocol/frames.js';
import { MessageMac, ReplyKeyVerifier, macEquals } from '../protocol/messageAuth.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, seekInfoToWire, seekSpecified } from '../protocol/seek.js';
import { Status, statusName } from '../protocol/status.js';
import type { ClientLink } from '../transport/link.js';

/** Responses the orderer may send before this reader acknowledges them (each is acknowledged at once). */
const READ_WINDOW_MESSAGES = 16;

export class ChainReader {
  private readonly verifier: BlockVerifier;
  private readonly replyKeys: ReplyKeyVerifier;
  private lastConfig = 0;
  private ignored: string | null = null;

  /** `genesis`: block 0 of the channel, the trust anchor (the network folder's genesis.block). */
  constructor(private readonly link: ClientLink, readonly channel: string, private readonly signer: Signer, genesis: Uint8Array) {
    const state = new ChannelState(configFromBlock(genesis));
    this.verifier = new BlockVerifier(state, 0, blockHash(genesis), (number) => { this.lastConfig = number; });
    // Answers are taken from the orderers of the configuration verified so far, as a board takes them.
    this.replyKeys = new ReplyKeyVerifier(ordererTrust(() => this.verifier.state));
  }

  /** The configuration of the newest configuration block verified. */
  get state(): ChannelState {
    return this.verifier.state;
  }

  /** Number of that configuration block (0: the genesis block). */
  get lastConfigNumber(): number {
    return this.lastConfig;
  }

  /**
   * Why the first response of the last read that was not taken was not (not authenticated for the session), or null.
   * Such responses are ignored, as a board ignores them, so that nobody on the broker can end a read;
   * a read that then runs into its deadline says this.
   */
  get lastIgnored(): string | null {
    return this.ignored;
  }

  /** Blocks verified: the chain's height as far as this reader knows. */
  get height(): number {
    return this.verifier.tipNumber + 1;
  }

  /**
   * Reads and verifies every block after the ones verified so far, up to the orderer's tip (each handed
   * to `onBlock` once verified). Rejects when
   * the orderer answers anything but its "not cut yet" end, when a block does not verify, or when the
   * link fails, or when the tip is not reached within `timeoutMs` (the message then says why the last
   * response ignored was, if one was).
   */
  readToTip(timeoutMs: number, onBlock?: (block: Uint8Array) => void): Promise<void> {
    const session = randomBytes(12).toString('hex');
    const keyShare = newKeyShare();
    const start = this.height;
    this.ignored = null;
    const envelope = signEnvelope({
      type: MessageType.DELIVER_SEEK,
      channel: this.channel,
      replyTo: this.link.replyRoute(this.channel),
      session,
      keyShare: keyShare.publicRaw,
      data: seekInfoToWire({
        start: seekSpecified(start), stop: seekSpecified(MAX_BLOCK_NUMBER), behavior: SeekBehavior.FAIL_IF_NOT_READY, window: READ_WINDOW_MESSAGES,
      }),
    }, this.signer);
    return new Promise<void>((resolve, reject) => {
      let mac: MessageMac | null = null;
      let lastSeq = 0;
      let acks = 0;
      const result = new RunResult();
      const done = (err?: Error): void => {
        this.link.off('message', onMessage);
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      /** Why `r` is not authenticated for this session, or null. */
      const unauthentic = (r: DeliverResponse): string | null => {
        if (r.mac === undefined) return 'response without a MAC';
        if (mac === null) {
          if (r.replyKey === undefined) return 'no ReplyKey before the session key is known';
          const denied = this.replyKeys.check(r.replyKey, Date.now());
          if (denied !== null) return denied;
          mac = MessageMac.agree(keyShare.privateKey, r.replyKey.key, r.replyKey.key, keyShare.publicRaw);
        }
        const expected = 'status' in r ? mac.deliverStatus(session, r.seq, r.status) : mac.deliverBlocks(session, r.seq, r.blocks);
        return macEquals(expected, r.mac) ? null : 'MAC does not verify';
      };
      const onMessage = (channel: string, bytes: Uint8Array): void => {
        if (channel !== this.channel) return;
        let r: DeliverResponse;
        try {
          r = decodeDeliverResponse(bytes);
        } catch {
          return; // a Broadcast answer on the shared reply route, or garbage: not this session's
        }
        // Anything not authenticated for this session is ignored, as a board ignores it.
        if (r.session !== session || r.seq <= lastSeq) return;
        const why = unauthentic(r);
        if (why !== null) {
          // The first reason of a read is the telling one: once a ReplyKey is refused, the responses
          // after it cannot be authenticated either.
          this.ignored ??= why;
          return;
        }
        if (r.seq !== lastSeq + 1) return done(new Error(`channel '${this.channel}': Deliver response ${lastSeq + 1} lost (got ${r.seq})`));
        lastSeq = r.seq;
        if ('status' in r) {
          // NOT_FOUND is the orderer's "the next block is not cut yet": this reader has the whole chain.
          if (r.status === Status.NOT_FOUND) return done();
          return done(new Error(`channel '${this.channel}': the orderer answered ${statusName(r.status)} to a Deliver request from block ${start}`));
        }
        // The link may reuse `bytes` once this returns; the verified configuration keeps views into them.
        const blocks = r.blocks.map((b) => Uint8Array.prototype.slice.call(b));
        this.verifier.verifyRun(blocks, 0, blocks.length, new Uint8Array(HASH_BYTES * blocks.length), result);
        if (result.badIndex >= 0) {
          return done(new Error(`channel '${this.channel}': block ${result.badNumber} from the orderer does not verify (${result.reason}: ${result.detail})`));
        }
        if (onBlock !== undefined) for (const b of blocks) onBlock(b);
        const n = ++acks;
        this.link.send(this.channel, 'deliver', encodeAckFrame(session, r.seq, n, mac!.ack(session, r.seq, n)))
          .catch((err: Error) => done(new Error(`channel '${this.channel}': could not acknowledge a Deliver response: ${err.message}`)));
      };
      const timer = setTimeout(() => done(new Error(
        `channel '${this.channel}': the chain was not read to its tip within ${timeoutMs} ms (${this.height} blocks verified${this.ignored !== null ? `; last response ignored: ${this.ignored}` : ''}): is the orderer serving the channel?`,
      )), timeoutMs);
      this.link.on('message', onMessage);
      this.link.send(this.channel, 'deliver', encodeSeekFrame(envelope.bytes))
        .catch((err: Error) => done(new Error(`channel '${this.channel}': could not send a Deliver request: ${err.message}`)));
    });
  }
}
