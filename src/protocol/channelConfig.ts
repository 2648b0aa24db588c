// The channel configuration carried by configuration blocks (block 0 and later updates).
//
//   ChannelConfig = { channel, sequence, orderer: { org, signers: [Certificate], minSignatures },
//                     orgs: [{ name, rootPublicKey: bstr(32), ? nextRootPublicKey: bstr(32) }],
//                     readers: Policy, writers: Policy,
//                     admins: Policy, batch: BatchConfig, revoked: [tstr hex fingerprint] }
//   Policy        = { orgs: [tstr], roles: [tstr] }
//   BatchConfig   = { maxMessageCount, preferredMaxBytes, absoluteMaxBytes, batchTimeoutMs }
import { type CborMap, WireError, arrayField, asMap, bytesField, stringArrayField, stringField, uintField } from './cbor.js';
import { type Certificate, ROLES, certificateFromWire, certificateToWire } from './certificate.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';
import { MAX_CHANNEL_CHARS } from './envelope.js';

export interface Policy {
  orgs: string[];
  roles: string[];
}

export interface BatchConfig {
  maxMessageCount: number;
  preferredMaxBytes: number;
  absoluteMaxBytes: number;
  batchTimeoutMs: number;
}

/**
 * The largest block a batch configuration lets the orderer cut, with `signers` signature entries
 * (docs/protocol.md §6): one envelope of up to absoluteMaxBytes, or up to maxMessageCount envelopes of
 * at most preferredMaxBytes together, plus their CBOR heads (5 bytes each at most), the data array's
 * and the two byte strings' heads, the fixed 79 bytes before the data, and 66 bytes per signature.
 */
export function blockBytesBound(batch: BatchConfig, signers: number): number {
  const BLOCK_FIXED_BYTES = 3 + 76;
  const HEAD_MAX_BYTES = 5;
  const data = Math.max(1 + HEAD_MAX_BYTES + batch.absoluteMaxBytes, HEAD_MAX_BYTES + HEAD_MAX_BYTES * batch.maxMessageCount + batch.preferredMaxBytes);
  return BLOCK_FIXED_BYTES + HEAD_MAX_BYTES + data + HEAD_MAX_BYTES + 66 * signers;
}

export interface OrgDefinition {
  name: string;
  rootPublicKey: Uint8Array;
  /**
   * A root being rolled in (`edgepeer network rotate-org-key`): while it is named, certificates signed by
   * either root are the organisation's, so its members can be re-certified one by one without a gap.
   */
  nextRootPublicKey?: Uint8Array;
}

/** The root public keys an organisation's certificates may be signed by: its root, then a next one. */
export function orgRootKeys(org: OrgDefinition): Uint8Array[] {
  return org.nextRootPublicKey === undefined ? [org.rootPublicKey] : [org.rootPublicKey, org.nextRootPublicKey];
}

export interface ChannelConfig {
  channel: string;
  sequence: number;
  orderer: { org: string; signers: Certificate[]; minSignatures: number };
  orgs: OrgDefinition[];
  readers: Policy;
  writers: Policy;
  admins: Policy;
  batch: BatchConfig;
  revoked: string[];
}

function policyFromWire(v: unknown, what: string): Policy {
  const m = asMap(v, what);
  const roles = stringArrayField(m, 'roles', what);
  for (const r of roles) if (!(ROLES as readonly string[]).includes(r)) throw new WireError(`${what}.roles: unknown role '${r}'`);
  return { orgs: stringArrayField(m, 'orgs', what), roles };
}

export function channelConfigToWire(c: ChannelConfig): CborMap {
  return {
    channel: c.channel,
    sequence: c.sequence,
    orderer: { org: c.orderer.org, signers: c.orderer.signers.map(certificateToWire), minSignatures: c.orderer.minSignatures },
    orgs: c.orgs.map((o) => ({
      name: o.name, rootPublicKey: o.rootPublicKey, ...(o.nextRootPublicKey !== undefined ? { nextRootPublicKey: o.nextRootPublicKey } : {}),
    })),
    readers: c.readers,
    writers: c.writers,
    admins: c.admins,
    batch: c.batch,
    revoked: c.revoked,
  };
}

export function channelConfigFromWire(v: unknown): ChannelConfig {
  const m = asMap(v, 'config');
  const o = asMap(m['orderer'], 'config.orderer');
  const b = asMap(m['batch'], 'config.batch');
  const batch: BatchConfig = {
    maxMessageCount: uintField(b, 'maxMessageCount', 'config.batch'),
    preferredMaxBytes: uintField(b, 'preferredMaxBytes', 'config.batch'),
    absoluteMaxBytes: uintField(b, 'absoluteMaxBytes', 'config.batch'),
    batchTimeoutMs: uintField(b, 'batchTimeoutMs', 'config.batch'),
  };
  if (batch.maxMessageCount < 1) throw new WireError('config.batch.maxMessageCount: must be at least 1');
  if (batch.preferredMaxBytes > batch.absoluteMaxBytes) throw new WireError('config.batch: preferredMaxBytes above absoluteMaxBytes');
  const config: ChannelConfig = {
    channel: stringField(m, 'channel', 'config', MAX_CHANNEL_CHARS),
    sequence: uintField(m, 'sequence', 'config'),
    orderer: {
      org: stringField(o, 'org', 'config.orderer'),
      signers: arrayField(o, 'signers', 'config.orderer').map((s, i) => certificateFromWire(s, `config.orderer.signers[${i}]`)),
      minSignatures: uintField(o, 'minSignatures', 'config.orderer'),
    },
    orgs: arrayField(m, 'orgs', 'config').map((x, i) => {
      const what = `config.orgs[${i}]`;
      const om = asMap(x, what);
      const org: OrgDefinition = { name: stringField(om, 'name', what), rootPublicKey: bytesField(om, 'rootPublicKey', what, PUBLIC_KEY_BYTES) };
      if (om['nextRootPublicKey'] !== undefined) {
        org.nextRootPublicKey = bytesField(om, 'nextRootPublicKey', what, PUBLIC_KEY_BYTES);
        if (Buffer.compare(Buffer.from(org.nextRootPublicKey), Buffer.from(org.rootPublicKey)) === 0) {
          throw new WireError(`${what}.nextRootPublicKey: the same key as rootPublicKey`);
        }
      }
      return org;
    }),
    readers: policyFromWire(m['readers'], 'config.readers'),
    writers: policyFromWire(m['writers'], 'config.writers'),
    admins: policyFromWire(m['admins'], 'config.admins'),
    batch,
    revoked: stringArrayField(m, 'revoked', 'config'),
  };
  if (config.orderer.minSignatures < 1 || config.orderer.minSignatures > config.orderer.signers.length) {
    throw new WireError('config.orderer.minSignatures: must be between 1 and the number of signers');
  }
  return config;
}
