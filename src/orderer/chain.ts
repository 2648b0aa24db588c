// One channel on the orderer: its ledger, its current configuration, the block cutter and batch timer,
// and the signal Deliver sessions wait on for new blocks.
import type { Clock, TimerHandle } from '../config/clock.js';
import { ChannelState } from '../channel/channelState.js';
import { type BlockSigner, makeBlock, makeConfigBlock, signConfigEnvelope } from '../channel/blocks.js';
import { anchorGenesis } from '../ledger/anchorGenesis.js';
import type { BlockLedger } from '../ledger/ledger.js';
import type { ChannelConfig } from '../protocol/channelConfig.js';
import type { Signer } from '../protocol/envelope.js';
import { BlockCutter } from './blockCutter.js';
import { HeightSignal, type ServedChain } from './servedChain.js';

export interface ChainOptions {
  ledger: BlockLedger;
  genesis: Uint8Array;
  /** The orderer node's identity; it, or one of `keyring`'s, must be one of the channel's block signers. */
  signer: Signer;
  /**
   * Further identities of this node, asked for when a configuration names none of the ones known (a
   * rotation of the node's key: the configuration block that replaces its certificate is signed with the
   * old key, every block after it with the new one). Read again at every configuration change.
   */
  keyring?: () => readonly Signer[];
  clock: Clock;
  onBlockCut?: (channel: string, number: number, envelopes: number, isConfig: boolean) => void;
  /**
   * The ledger refused a block this chain cut (its store disagrees with the chain's head: damage, or a
   * writer that is not this process). The chain is closed from then on; the owner must recover or exit.
   */
  onFailed?: (channel: string, err: Error) => void;
}

/** A block signer and the identity it belongs to (which also signs the CONFIG envelopes). */
interface NodeSigner extends BlockSigner {
  identity: Signer;
}

export class Chain implements ServedChain {
  private stateValue: ChannelState;
  private blockSigner: NodeSigner;
  private readonly cutter: BlockCutter;
  private batchTimer: TimerHandle | null = null;
  private readonly signal = new HeightSignal();
  private closed = false;
  private failure: Error | null = null;

  constructor(private readonly opts: ChainOptions) {
    this.stateValue = new ChannelState(anchorGenesis(opts.ledger, opts.genesis), opts.clock.now());
    this.blockSigner = this.findSigner(this.stateValue);
    this.cutter = new BlockCutter(this.stateValue.config.batch);
  }

  get channel(): string {
    return this.opts.ledger.channel;
  }

  get state(): ChannelState {
    return this.stateValue;
  }

  get ledger(): BlockLedger {
    return this.opts.ledger;
  }

  height(): number {
    return this.opts.ledger.height();
  }

  /** Envelopes accepted but not cut into a block yet. */
  get pendingCount(): number {
    return this.cutter.pendingCount;
  }

  /** The identity this node signs blocks with under `state`: the first of its own the signers name. */
  private findSigner(state: ChannelState): NodeSigner {
    const signers = state.config.orderer.signers;
    const own = [this.opts.signer, ...(this.opts.keyring?.() ?? [])];
    for (const identity of own) {
      const index = signers.findIndex((c) => c.fingerprint === identity.certificate.fingerprint);
      if (index >= 0) return { index, key: identity.privateKey, identity };
    }
    throw new Error(`orderer ${this.opts.signer.certificate.id} is not a block signer of channel ${state.channel}: none of its keys (${own.map((i) => i.certificate.fingerprint.slice(0, 16)).join(', ')}) is named there`);
  }

  /** The identity this node signs this channel's blocks with now. */
  get identity(): Signer {
    return this.blockSigner.identity;
  }

  /** Orders one transaction envelope (already checked by the Broadcast handler). */
  order(envelope: Uint8Array): void {
    if (this.failure !== null) throw new Error(`channel ${this.channel} has failed: ${this.failure.message}`);
    if (this.closed) throw new Error(`channel ${this.channel} is closed`);
    for (const batch of this.cutter.ordered(envelope)) this.writeBlock(batch);
    if (this.cutter.pendingCount === 0) this.stopTimer();
    else if (this.batchTimer === null) {
      this.batchTimer = this.opts.clock.setTimeout(() => {
        this.batchTimer = null;
        const batch = this.cutter.cut();
        // A refused block has failed the chain (see append); nothing more to do in a timer.
        if (batch.length > 0) {
          try {
            this.writeBlock(batch);
          } catch {
            // reported through onFailed
          }
        }
      }, this.stateValue.config.batch.batchTimeoutMs);
    }
  }

  /**
   * Applies a validated configuration (sequence = current + 1): what is pending is cut first, then the
   * configuration block on its own, so every later block is read under the new configuration.
   */
  applyConfig(config: ChannelConfig): void {
    const next = new ChannelState(config, this.opts.clock.now());
    // Refuse before anything is written: a configuration this node could not sign under must not be cut.
    const nextSigner = this.findSigner(next);
    const pending = this.cutter.cut();
    this.stopTimer();
    if (pending.length > 0) this.writeBlock(pending);
    // Signed, as the block is, by the identity of the configuration before it.
    const envelope = signConfigEnvelope(config, this.blockSigner.identity);
    const ledger = this.opts.ledger;
    const block = makeConfigBlock(ledger.height(), ledger.lastHash(), envelope, [this.blockSigner]);
    this.append(block);
    this.stateValue = next;
    this.blockSigner = nextSigner;
    this.cutter.setBatchConfig(config.batch);
    this.opts.onBlockCut?.(this.channel, ledger.height() - 1, 1, true);
    this.wake();
  }

  private writeBlock(envelopes: Uint8Array[]): void {
    const ledger = this.opts.ledger;
    const block = makeBlock(ledger.height(), ledger.lastHash(), envelopes, 0, [this.blockSigner]);
    this.append(block);
    this.opts.onBlockCut?.(this.channel, ledger.height() - 1, envelopes.length, false);
    this.wake();
  }

  /**
   * Appends a block this chain cut. A refusal means the store and this chain's head disagree: retrying
   * would refuse every later block too (the orderer answering SERVICE_UNAVAILABLE for ever), so the chain
   * closes, its Deliver sessions end, and its owner hears of it to recover or exit (issue 12 §7).
   */
  private append(block: { bytes: Uint8Array; hash: Uint8Array }): void {
    try {
      this.opts.ledger.append([block.bytes], [block.hash], 0, 1);
    } catch (err) {
      const e = err as Error;
      if (this.failure === null) {
        this.failure = e;
        this.closed = true;
        this.stopTimer();
        this.cutter.cut();
        this.signal.wakeAll();
        this.opts.onFailed?.(this.channel, e);
      }
      throw e;
    }
  }

  /** Why the chain stopped cutting, or null. */
  get failed(): Error | null {
    return this.failure;
  }

  private stopTimer(): void {
    if (this.batchTimer !== null) {
      this.opts.clock.clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
  }

  private wake(): void {
    this.signal.wake(this.height());
  }

  /** Resolves once the chain holds block `number` (height > number), or when the chain closes. */
  waitForBlock(number: number): Promise<void> {
    if (number < this.height() || this.closed) return Promise.resolve();
    return this.signal.wait(number);
  }

  close(): void {
    const wasClosed = this.closed;
    this.closed = true;
    this.stopTimer();
    const pending = this.cutter.cut();
    if (pending.length > 0 && !wasClosed) this.writeBlock(pending);
    this.signal.wakeAll();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}
