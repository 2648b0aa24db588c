// Whom a client takes authenticated replies from (docs/protocol.md §4.1): an orderer identity of the
// channel's orderer organisation, valid under the configuration the client holds now.
import type { Certificate } from '../protocol/certificate.js';
import type { ResponderTrust } from '../protocol/messageAuth.js';
import { configFromBlock } from './blocks.js';
import { ChannelState } from './channelState.js';

/** `state` is read at every check: a client that follows configuration blocks trusts as they say. */
export function ordererTrust(state: () => ChannelState): ResponderTrust {
  let judged: ChannelState | null = null;
  // Chain, revocation and policy per signer for one configuration; expiry is checked at every call.
  const verdicts = new Map<string, string | null>();
  return {
    denyReason(signer: Certificate, nowMs: number): string | null {
      const s = state();
      if (s !== judged) {
        judged = s;
        verdicts.clear();
      }
      if (nowMs < signer.notBefore || nowMs > signer.notAfter) return `certificate ${signer.id}: not valid at ${new Date(nowMs).toISOString()}`;
      let v = verdicts.get(signer.fingerprint);
      if (v === undefined) {
        v = s.denyReason(signer, { orgs: [s.config.orderer.org], roles: ['orderer'] }, nowMs);
        verdicts.set(signer.fingerprint, v);
      }
      return v;
    },
  };
}

/** Trust as the genesis block says, for clients that hold no chain (`edgepeer submit`). */
export function genesisTrust(genesis: Uint8Array): ResponderTrust {
  const state = new ChannelState(configFromBlock(genesis));
  return ordererTrust(() => state);
}
