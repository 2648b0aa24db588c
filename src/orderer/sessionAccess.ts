// Session access control, re-evaluated before every block as Fabric's SessionAccessControl does: the
// full policy check runs again whenever the channel configuration changes; in between, only the
// certificate's expiry can change the answer.
import type { Clock } from '../config/clock.js';
import type { ChannelState } from '../channel/channelState.js';
import type { Certificate } from '../protocol/certificate.js';
import type { ServedChain } from './servedChain.js';

export class SessionAccess {
  private checkedState: ChannelState | null = null;
  private denied: string | null = null;

  constructor(private readonly chain: ServedChain, private readonly creator: Certificate, private readonly clock: Clock) {}

  /** Why the requester may not read now, or null when it may. */
  check(): string | null {
    const state = this.chain.state;
    const now = this.clock.now();
    if (state !== this.checkedState) {
      this.checkedState = state;
      this.denied = state.denyReason(this.creator, state.config.readers, now);
    } else if (this.denied === null && now > this.creator.notAfter) {
      this.denied = `certificate ${this.creator.id}: expired at ${new Date(this.creator.notAfter).toISOString()}`;
    }
    return this.denied;
  }
}
