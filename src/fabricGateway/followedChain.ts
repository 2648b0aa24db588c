// A Fabric channel as the gateway serves it to boards: the ledger the follow loop stores into, judged
// for readers under the channel's edge access configuration (the network folder's edgepeer
// configuration block for the channel: which orgs and boards may read from the gateway), never under
// Fabric's own policies, which name Fabric identities a board does not have.
import type { ChannelState } from '../channel/channelState.js';
import type { BlockLedger } from '../ledger/ledger.js';
import { HeightSignal, type ServedChain } from '../orderer/servedChain.js';

export class FollowedChain implements ServedChain {
  private readonly signal = new HeightSignal();
  private closed = false;

  constructor(readonly ledger: BlockLedger, readonly state: ChannelState) {}

  get channel(): string {
    return this.ledger.channel;
  }

  height(): number {
    return this.ledger.height();
  }

  /** The follow loop stored blocks: wake the Deliver sessions waiting for them. */
  grew(): void {
    this.signal.wake(this.ledger.height());
  }

  waitForBlock(number: number): Promise<void> {
    if (number < this.height() || this.closed) return Promise.resolve();
    return this.signal.wait(number);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    this.signal.wakeAll();
  }
}
