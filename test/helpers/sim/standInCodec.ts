// The fleet simulator's stand-in for the gossip codec (src/gossip/messages.ts signedGossipCodec): messages
// are encoded exactly as on the wire, certificate and a 64-byte signature field included, so sizes are
// the real ones, but nothing is signed and neither the signature nor the sender's certificate is checked.
// Ed25519 signing and the two verifications a received message costs (sender certificate, signature)
// would otherwise be most of a thousand-board run's time, and every simulated board is honest; the unit
// tests of the node (test/unit/gossip/gossipNode.test.ts) run the real codec, forgers included.
// The checks that cost nothing stay: decoding, the channel, the timestamp window, an ALIVE's signer.
import type { Certificate } from '../../../src/protocol/certificate.js';
import { type GossipCodec, checkGossip, encodeGossip } from '../../../src/gossip/messages.js';

const UNSIGNED = new Uint8Array(64);

export function standInCodec(channel: string, sender: Certificate, timeWindowMs: number): GossipCodec {
  return {
    seal: (body, nowMs) => encodeGossip(channel, body, sender, nowMs, () => UNSIGNED),
    authenticate: (d, nowMs) => checkGossip(d, channel, nowMs, timeWindowMs, () => null),
    follow: () => undefined,
  };
}
