// A channel's configuration made usable: org root keys, orderer signer keys, revocation set, and the
// policy checks that the orderer (Readers/Writers) and every board (block validation) apply.
import type { KeyObject } from 'node:crypto';
import {
  type Certificate, CertificateError, type OrgRoots, certificateKey, verifyCertificate,
} from '../protocol/certificate.js';
import { publicKeyFromRaw, verifyBytes } from '../crypto/keys.js';
import { type BlockLayout, HEADER_BYTES, HEADER_OFFSET, SIGNATURE_BYTES, SIGNATURE_ENTRY_BYTES } from '../protocol/block.js';
import { type ChannelConfig, type Policy, orgRootKeys } from '../protocol/channelConfig.js';
import type { Envelope } from '../protocol/envelope.js';

export class ChannelState {
  readonly roots: OrgRoots;
  readonly revoked: ReadonlySet<string>;
  /** Index-aligned with config.orderer.signers. */
  private readonly signerKeys: KeyObject[];
  /** Scratch for counting distinct valid signers without allocating per block. */
  private readonly signerSeen: Uint8Array;

  constructor(readonly config: ChannelConfig, nowMs: number = Date.now()) {
    const roots = new Map<string, KeyObject[]>();
    for (const org of config.orgs) roots.set(org.name, orgRootKeys(org).map(publicKeyFromRaw));
    this.roots = roots;
    this.revoked = new Set(config.revoked);
    this.signerKeys = config.orderer.signers.map((cert) => {
      if (cert.org !== config.orderer.org || cert.role !== 'orderer') {
        throw new CertificateError(`block signer ${cert.id} is not an orderer of '${config.orderer.org}'`);
      }
      verifyCertificate(cert, roots, nowMs, this.revoked);
      return certificateKey(cert);
    });
    this.signerSeen = new Uint8Array(this.signerKeys.length);
  }

  get channel(): string {
    return this.config.channel;
  }

  /**
   * Why `cert` may not act under `policy` now, or null when it may: chain to an org root, validity
   * period, revocation, then org and role membership.
   */
  denyReason(cert: Certificate, policy: Policy, nowMs: number): string | null {
    try {
      verifyCertificate(cert, this.roots, nowMs, this.revoked);
    } catch (err) {
      return (err as Error).message;
    }
    if (!policy.orgs.includes(cert.org)) return `organisation '${cert.org}' is not in the policy`;
    if (!policy.roles.includes(cert.role)) return `role '${cert.role}' is not in the policy`;
    return null;
  }

  /** Checks the envelope's signature by its creator (the certificate itself is checked by denyReason). */
  envelopeSignatureValid(env: Envelope): boolean {
    return verifyBytes(certificateKey(env.payload.creator), env.payloadBytes, env.signature);
  }

  /**
   * The block-validation policy: at least `minSignatures` valid signatures over the header by distinct
   * orderer signers (docs/protocol.md §7 rule 5). A block may carry at most one entry per signer the
   * configuration names, and only the first entry of each signer index is checked, so a block costs at
   * most that many signature checks however it was made (63,000 copies of one entry cost one, not
   * 63,000). Reads the signatures in place.
   */
  blockSignaturesValid(block: Uint8Array, layout: BlockLayout): boolean {
    const need = this.config.orderer.minSignatures;
    if (layout.signatureCount < need || layout.signatureCount > this.signerKeys.length) return false;
    const seen = this.signerSeen;
    seen.fill(0);
    const header = block.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES);
    let valid = 0;
    for (let i = 0; i < layout.signatureCount && valid < need; i++) {
      const o = layout.signaturesOffset + i * SIGNATURE_ENTRY_BYTES;
      const idx = (block[o]! << 8) | block[o + 1]!;
      const key = this.signerKeys[idx];
      if (key === undefined || seen[idx] === 1) continue;
      seen[idx] = 1;
      if (verifyBytes(key, header, block.subarray(o + 2, o + 2 + SIGNATURE_BYTES))) valid++;
    }
    return valid >= need;
  }
}
