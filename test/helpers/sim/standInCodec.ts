// The fleet simulator's stand-in for the gossip codec (src/gossip/messages.ts signedGossipCodec): messages
// are encoded exactly as on the wire, certificate and a 64-byte signature field included, so sizes are
// the real ones, but nothing is signed and neither the signature nor the sender's certificate is checked.
// Ed25519 signing and the two verifications a received message costs (sender certificate, signature)
// would otherwise be most of a thousand-board run's time, and every simulated board is honest; the unit
// tests of the node (test/unit/gossip/gossipNode.test.ts) run the real codec, forgers included.
// The checks that cost nothing stay: decoding, the channel, the timestamp window, an ALIVE's signer.
import type { Certificate } from '../../../src/protocol/certificate.js';
import { type GossipCodec, GossipType, decodeGossip, encodeGossip } from '../../../src/gossip/messages.js';

const UNSIGNED = new Uint8Array(64);

export function standInCodec(channel: string, sender: Certificate, timeWindowMs: number): GossipCodec {
  return {
    seal: (body, nowMs) => encodeGossip(channel, body, sender, nowMs, () => UNSIGNED),
    open: (bytes, nowMs) => {
      let m;
      try {
        m = decodeGossip(bytes).message;
      } catch (err) {
        return { ok: false, reason: `malformed: ${(err as Error).message}`, sender: 'unknown' };
      }
      const from = `${m.sender.org}/${m.sender.id}`;
      if (m.channel !== channel) return { ok: false, reason: `for channel '${m.channel}'`, sender: from };
      if (Math.abs(m.timestamp - nowMs) > timeWindowMs) return { ok: false, reason: `timestamp ${m.timestamp} outside the window`, sender: from };
      if (m.body.type === GossipType.ALIVE && (m.body.alive.id !== m.sender.id || m.body.alive.org !== m.sender.org)) {
        return { ok: false, reason: 'ALIVE signed by another member', sender: from };
      }
      return { ok: true, message: m };
    },
    follow: () => undefined,
  };
}
