// The channel configuration carried by configuration blocks (block 0 and later updates).
//
//   ChannelConfig = { channel, sequence, orderer: { org, signers: [Certificate], minSignatures },
//                     orgs: [{ name, rootPublicKey: bstr(32) }], readers: Policy, writers: Policy,
//                     admins: Policy, batch: BatchConfig, revoked: [tstr hex fingerprint] }
//   Policy        = { orgs: [tstr], roles: [tstr] }
//   BatchConfig   = { maxMessageCount, preferredMaxBytes, absoluteMaxBytes, batchTimeoutMs }
import { type CborMap, WireError, arrayField, asMap, bytesField, stringArrayField, stringField, uintField } from './cbor.js';
import { type Certificate, ROLES, certificateFromWire, certificateToWire } from './certificate.js';
import { PUBLIC_KEY_BYTES } from '../crypto/keys.js';

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

export interface OrgDefinition {
  name: string;
  rootPublicKey: Uint8Array;
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
    orgs: c.orgs.map((o) => ({ name: o.name, rootPublicKey: o.rootPublicKey })),
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
    channel: stringField(m, 'channel', 'config'),
    sequence: uintField(m, 'sequence', 'config'),
    orderer: {
      org: stringField(o, 'org', 'config.orderer'),
      signers: arrayField(o, 'signers', 'config.orderer').map((s, i) => certificateFromWire(s, `config.orderer.signers[${i}]`)),
      minSignatures: uintField(o, 'minSignatures', 'config.orderer'),
    },
    orgs: arrayField(m, 'orgs', 'config').map((x, i) => {
      const om = asMap(x, `config.orgs[${i}]`);
      return { name: stringField(om, 'name', `config.orgs[${i}]`), rootPublicKey: bytesField(om, 'rootPublicKey', `config.orgs[${i}]`, PUBLIC_KEY_BYTES) };
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
