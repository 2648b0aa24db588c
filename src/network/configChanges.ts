// The channel configuration changes of the operator's fleet commands (`edgepeer network`), as pure
// functions of the current configuration: each returns the next configuration (sequence + 1, the only
// one the orderer accepts, docs/protocol.md §10), or null when the change is already in place.
import type { Certificate } from '../protocol/certificate.js';
import type { ChannelConfig, Policy } from '../protocol/channelConfig.js';

/** The policies an organisation can be added to. */
export const POLICY_NAMES = ['readers', 'writers', 'admins'] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(v: string): v is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(v);
}

function withOrg(policy: Policy, org: string): Policy {
  return policy.orgs.includes(org) ? policy : { ...policy, orgs: [...policy.orgs, org] };
}

/**
 * `org` with its root public key, added to the organisations and to `policies`. Refused (thrown) when
 * the configuration already names the org with another root key: that is another organisation.
 */
export function configWithOrg(current: ChannelConfig, org: string, rootPublicKey: Uint8Array, policies: readonly PolicyName[]): ChannelConfig | null {
  const known = current.orgs.find((o) => o.name === org);
  if (known !== undefined && Buffer.compare(Buffer.from(known.rootPublicKey), Buffer.from(rootPublicKey)) !== 0) {
    throw new Error(`channel '${current.channel}' already has an organisation '${org}' with another root key`);
  }
  const next: ChannelConfig = {
    ...current,
    sequence: current.sequence + 1,
    orgs: known === undefined ? [...current.orgs, { name: org, rootPublicKey }] : current.orgs,
  };
  for (const p of policies) next[p] = withOrg(current[p], org);
  const changed = known === undefined || policies.some((p) => !current[p].orgs.includes(org));
  return changed ? next : null;
}

/** `fingerprint` appended to `revoked`. */
export function configWithRevoked(current: ChannelConfig, fingerprint: string): ChannelConfig | null {
  if (current.revoked.includes(fingerprint)) return null;
  return { ...current, sequence: current.sequence + 1, revoked: [...current.revoked, fingerprint] };
}

/**
 * The block signer `retiring` replaced by `next` in place (same index; minSignatures unchanged): the
 * orderer signs the blocks after this configuration with the new key. Null when `next` signs already.
 */
export function configWithSignerReplaced(current: ChannelConfig, retiring: string, next: Certificate): ChannelConfig | null {
  const signers = current.orderer.signers;
  if (signers.some((s) => s.fingerprint === next.fingerprint)) return null;
  const index = signers.findIndex((s) => s.fingerprint === retiring);
  if (index < 0) throw new Error(`channel '${current.channel}': the orderer certificate ${retiring.slice(0, 16)}… is not one of its block signers`);
  return {
    ...current,
    sequence: current.sequence + 1,
    orderer: { ...current.orderer, signers: signers.map((s, i) => (i === index ? next : s)) },
  };
}
