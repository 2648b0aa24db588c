// The channel configuration changes of the operator's fleet commands (`edgepeer network`), as pure
// functions of the current configuration: each returns the next configuration (sequence + 1, the only
// one the orderer accepts, docs/protocol.md §10), or null when the change is already in place.
import type { Certificate } from '../protocol/certificate.js';
import type { ChannelConfig, OrgDefinition, Policy } from '../protocol/channelConfig.js';

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

/** Each of `fingerprints` not revoked yet appended to `revoked`; null when all are already. */
export function configWithRevoked(current: ChannelConfig, fingerprints: readonly string[]): ChannelConfig | null {
  const added = fingerprints.filter((f, i) => !current.revoked.includes(f) && fingerprints.indexOf(f) === i);
  if (added.length === 0) return null;
  return { ...current, sequence: current.sequence + 1, revoked: [...current.revoked, ...added] };
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

function sameKey(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function orgOf(current: ChannelConfig, org: string): OrgDefinition {
  const known = current.orgs.find((o) => o.name === org);
  if (known === undefined) throw new Error(`channel '${current.channel}' has no organisation '${org}'`);
  return known;
}

function withOrgDefinition(current: ChannelConfig, next: OrgDefinition): ChannelConfig {
  return { ...current, sequence: current.sequence + 1, orgs: current.orgs.map((o) => (o.name === next.name ? next : o)) };
}

/**
 * The first step of an organisation's root rotation: `nextRoot` named beside its root, so that
 * certificates signed by either are its members' (docs/operations.md, "rotate-org-key"). Null when it is
 * named already, or is the root already (the rotation finished); refused when another next root is.
 */
export function configWithNextRoot(current: ChannelConfig, org: string, nextRoot: Uint8Array): ChannelConfig | null {
  const known = orgOf(current, org);
  if (sameKey(known.nextRootPublicKey, nextRoot) || sameKey(known.rootPublicKey, nextRoot)) return null;
  if (known.nextRootPublicKey !== undefined) {
    throw new Error(`channel '${current.channel}': organisation '${org}' is rotating to another root already (finish or undo that rotation first)`);
  }
  return withOrgDefinition(current, { name: org, rootPublicKey: known.rootPublicKey, nextRootPublicKey: nextRoot });
}

/**
 * The last step: `nextRoot` becomes the organisation's only root, and certificates of the old one are
 * no longer its members'. Null when that is so already; refused when `nextRoot` is not the next root.
 */
export function configWithRootPromoted(current: ChannelConfig, org: string, nextRoot: Uint8Array): ChannelConfig | null {
  const known = orgOf(current, org);
  if (sameKey(known.rootPublicKey, nextRoot) && known.nextRootPublicKey === undefined) return null;
  if (!sameKey(known.nextRootPublicKey, nextRoot)) {
    throw new Error(`channel '${current.channel}': the new root of '${org}' is not named beside its root (run rotate-org-key --org ${org} without --finish first)`);
  }
  return withOrgDefinition(current, { name: org, rootPublicKey: nextRoot });
}
