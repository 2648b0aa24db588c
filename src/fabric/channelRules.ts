// A Fabric channel's block-verification rules, built from a configuration block the way Fabric's
// channelconfig bundle and deliverclient.BlockVerificationAssistant build them (docs/fabric.md):
//   config tree: Channel (HashingAlgorithm, BlockDataHashingStructure, Capabilities) → Orderer and
//   Application (Capabilities, policies) → organisations (an MSP value each, their policies);
//   every organisation's MSP is set up (X.509 only: an idemix MSP is recorded as unsupported and its
//   identities refused), the MSP version chosen by
//   the channel capabilities, the policy tree compiled (an unsupported policy anywhere refuses the
//   configuration, as Fabric's bundle fails), and /Channel/Orderer/BlockValidation must exist.
// `verifyBlockSignatures` is Fabric's BlockSignatureVerifier under that policy: each MetadataSignature
// of the SIGNATURES metadata is over value ‖ signature header ‖ BlockHeaderBytes; signers are
// deserialized through the channel's MSPs, deduplicated, their signatures checked (low-S), and the
// valid identities must satisfy the policy. A deserialized identity (its chain validated, its
// principals decided) is cached, so a block costs one ECDSA verify once its signer is known.
import { common, msp as mspProto, orderer } from '@hyperledger/fabric-protos';
import { blockHeaderBytes } from './blockHashes.js';
import { FabricBlockLayout, isConfigBlockInPlace, locateFabricBlock } from './blockLayout.js';
import { FabricMsp, type MspIdentity, type MspVersion } from './msp.js';
import { BLOCK_VALIDATION_POLICY, type Policy, PolicyManager } from './policies.js';
import { ProtoFieldCursor } from './protoWire.js';
import { SignatureError } from './ecdsaVerify.js';

export class FabricConfigError extends Error {}

/** Capabilities this implementation knows (and so may be required by a channel it follows). */
const KNOWN_CAPABILITIES = {
  Channel: new Set(['V1_1', 'V1_3', 'V1_4_2', 'V1_4_3', 'V2_0', 'V3_0']),
  Orderer: new Set(['V1_1', 'V1_4_2', 'V2_0']),
  Application: new Set(['V1_1', 'V1_2', 'V1_3', 'V1_4_2', 'V2_0', 'V2_5']),
} as const;

/** The channel hashing algorithms Fabric accepts (blocks are hashed with SHA-256 either way). */
const HASHING_ALGORITHMS = new Set(['SHA256', 'SHA3_256']);
/** Fabric supports only this BlockDataHashingStructure width. */
const BLOCK_DATA_HASHING_WIDTH = 0xffffffff;
/** Distinct signer identities remembered per channel; beyond it the oldest are dropped. */
export const MAX_CACHED_SIGNERS = 1024;
/** common.HeaderType.CONFIG */
const HEADER_TYPE_CONFIG = 1;

const MSP_TYPE_FABRIC = 0;
const MSP_TYPE_IDEMIX = 1;

/** MSP version from the channel capabilities (capabilities.ChannelProvider.MSPVersion). */
function mspVersionFor(caps: ReadonlySet<string>): MspVersion {
  if (caps.has('V3_0')) return '3.0';
  if (caps.has('V1_4_3') || caps.has('V2_0')) return '1.4.3';
  if (caps.has('V1_3') || caps.has('V1_4_2')) return '1.3';
  if (caps.has('V1_1')) return '1.1';
  return '1.0';
}

function capabilitiesOf(group: common.ConfigGroup | undefined, where: keyof typeof KNOWN_CAPABILITIES): Set<string> {
  const v = group?.getValuesMap().get('Capabilities');
  if (v === undefined) return new Set();
  let caps: common.Capabilities;
  try {
    caps = common.Capabilities.deserializeBinary(v.getValue_asU8());
  } catch (err) {
    throw new FabricConfigError(`${where} Capabilities do not decode: ${(err as Error).message}`);
  }
  const names = new Set<string>();
  caps.getCapabilitiesMap().forEach((_v: unknown, k: string) => { names.add(k); });
  for (const name of names) {
    if (!KNOWN_CAPABILITIES[where].has(name)) {
      throw new FabricConfigError(`${where} capability ${name} is required but not supported`);
    }
  }
  return names;
}

function valueOf<T>(group: common.ConfigGroup, key: string, decode: (b: Uint8Array) => T, where: string): T | undefined {
  const v = group.getValuesMap().get(key);
  if (v === undefined) return undefined;
  try {
    return decode(v.getValue_asU8());
  } catch (err) {
    throw new FabricConfigError(`${where}/${key} does not decode: ${(err as Error).message}`);
  }
}

export interface SignatureCheck {
  /** Whether the block's signatures satisfy BlockValidation. */
  ok: boolean;
  /** Why not (Fabric's policy error), when not. */
  error: string;
  /** Each signature that did not count, and why (when the policy failed). */
  details: string[];
  /** The identities whose signatures were valid ("MSP subject"). */
  signers: string[];
}

/** The decoded configuration of a config block, for the channel and sequence checks. */
export interface DecodedConfig {
  channelId: string;
  sequence: number;
  group: common.ConfigGroup;
}

/** Decodes a config block's ConfigEnvelope (deliverclient.ConfigFromBlock); throws FabricConfigError. */
export function decodeConfigBlock(bytes: Uint8Array): DecodedConfig {
  // A copy: decoded messages keep views into their input, and a delivered block's bytes can be a view
  // into a buffer that is reused once the block is committed (the deliver client's ingress ring). Not
  // bytes.slice(): on a Buffer that is a view too, and the ring hands out Buffers. Config blocks are rare.
  const block = Uint8Array.prototype.slice.call(bytes);
  const layout = new FabricBlockLayout();
  const cursor = new ProtoFieldCursor();
  const err = locateFabricBlock(block, layout, cursor);
  if (err !== '') throw new FabricConfigError(`not a block: ${err}`);
  if (layout.number !== 0 && !isConfigBlockInPlace(block, layout, cursor)) throw new FabricConfigError('not a config block');
  if (layout.dataCount < 1) throw new FabricConfigError('empty block');
  try {
    const env = common.Envelope.deserializeBinary(block.subarray(layout.firstDataStart, layout.firstDataEnd));
    const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
    const header = payload.getHeader();
    if (header === undefined) throw new FabricConfigError('missing channel header');
    const ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    if (layout.number === 0 && ch.getType() !== HEADER_TYPE_CONFIG) throw new FabricConfigError('block 0 is not a config block');
    const configEnvelope = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8());
    const config = configEnvelope.getConfig();
    if (config === undefined) throw new FabricConfigError('config envelope has no config');
    const group = config.getChannelGroup();
    if (group === undefined) throw new FabricConfigError('config has no channel group');
    return { channelId: ch.getChannelId(), sequence: config.getSequence(), group };
  } catch (err) {
    if (err instanceof FabricConfigError) throw err;
    throw new FabricConfigError(`config block does not decode: ${(err as Error).message}`);
  }
}

export class FabricChannelRules {
  readonly channelId: string;
  readonly sequence: number;
  /** Number of the config block these rules come from. */
  readonly configBlockNumber: number;
  readonly mspVersion: MspVersion;
  readonly channelCapabilities: ReadonlySet<string>;
  readonly consensusType: string;
  /** MSP ids of the orderer organisations. */
  readonly ordererMspIds: readonly string[];
  /** MSP ids of the application organisations. */
  readonly applicationMspIds: readonly string[];
  private readonly msps = new Map<string, FabricMsp>();
  private readonly mspConfigBytes = new Map<string, Uint8Array>();
  /** MSPs of the channel whose identities cannot be verified here, with the reason. */
  readonly unsupportedMsps = new Map<string, string>();
  private readonly blockValidation: Policy;
  private readonly signers = new Map<string, MspIdentity | Error>();
  private readonly layout = new FabricBlockLayout();
  private readonly cursor = new ProtoFieldCursor();

  private constructor(config: DecodedConfig, configBlockNumber: number) {
    this.channelId = config.channelId;
    this.sequence = config.sequence;
    this.configBlockNumber = configBlockNumber;
    const root = config.group;
    const ordererGroup = root.getGroupsMap().get('Orderer');
    const appGroup = root.getGroupsMap().get('Application');

    const hashing = valueOf(root, 'HashingAlgorithm', (b) => common.HashingAlgorithm.deserializeBinary(b), 'Channel');
    if (hashing === undefined || !HASHING_ALGORITHMS.has(hashing.getName())) {
      throw new FabricConfigError(`Unknown hashing algorithm type: ${hashing?.getName() ?? '(none)'}`);
    }
    const structure = valueOf(root, 'BlockDataHashingStructure', (b) => common.BlockDataHashingStructure.deserializeBinary(b), 'Channel');
    if (structure === undefined || structure.getWidth() !== BLOCK_DATA_HASHING_WIDTH) {
      throw new FabricConfigError('BlockDataHashStructure width only supported at MaxUint32 in this version');
    }
    this.channelCapabilities = capabilitiesOf(root, 'Channel');
    capabilitiesOf(ordererGroup, 'Orderer');
    capabilitiesOf(appGroup, 'Application');
    this.mspVersion = mspVersionFor(this.channelCapabilities);
    if (ordererGroup === undefined) throw new FabricConfigError('no orderer section in config block');
    this.consensusType = valueOf(ordererGroup, 'ConsensusType', (b) => orderer.ConsensusType.deserializeBinary(b), 'Orderer')?.getType() ?? '';
    if (this.consensusType === 'BFT') {
      throw new FabricConfigError('consensus type BFT (Fabric 3 SmartBFT block signatures) is not supported');
    }
    this.ordererMspIds = this.setupOrgs(ordererGroup, 'Orderer');
    this.applicationMspIds = appGroup === undefined ? [] : this.setupOrgs(appGroup, 'Application');
    const consortiums = root.getGroupsMap().get('Consortiums');
    if (consortiums !== undefined) {
      for (const [name, c] of consortiums.getGroupsMap().entries()) this.setupOrgs(c, `Consortiums/${name}`);
    }
    let manager: PolicyManager;
    try {
      manager = new PolicyManager('Channel', root);
    } catch (err) {
      throw new FabricConfigError((err as Error).message);
    }
    if (!manager.has(BLOCK_VALIDATION_POLICY)) throw new FabricConfigError(`no \`${BLOCK_VALIDATION_POLICY}\` policy in config block`);
    this.blockValidation = manager.getPolicy(BLOCK_VALIDATION_POLICY);
  }

  /** Sets up the MSP of each organisation of a group; returns their MSP ids. */
  private setupOrgs(group: common.ConfigGroup, where: string): string[] {
    const ids: string[] = [];
    for (const [org, orgGroup] of group.getGroupsMap().entries()) {
      const v = orgGroup.getValuesMap().get('MSP');
      if (v === undefined) throw new FabricConfigError(`organization ${where}/${org} has no MSP`);
      let mc: mspProto.MSPConfig;
      try {
        mc = mspProto.MSPConfig.deserializeBinary(v.getValue_asU8());
      } catch (err) {
        throw new FabricConfigError(`MSP of ${where}/${org} does not decode: ${(err as Error).message}`);
      }
      if (mc.getType() === MSP_TYPE_IDEMIX) {
        // Fabric supports idemix; this implementation does not verify its identities. The channel stays
        // usable, but nothing an idemix identity signs counts (fail closed, with the reason).
        let name: string;
        try {
          name = mspProto.IdemixMSPConfig.deserializeBinary(mc.getConfig_asU8()).getName();
        } catch (err) {
          throw new FabricConfigError(`idemix MSP of ${where}/${org} does not decode: ${(err as Error).message}`);
        }
        this.unsupportedMsps.set(name, `MSP ${name} is an idemix MSP: its identities are not supported (only X.509 MSPs)`);
        ids.push(name);
        continue;
      }
      if (mc.getType() !== MSP_TYPE_FABRIC) throw new FabricConfigError(`MSP of ${where}/${org} has unknown type ${mc.getType()}`);
      let m: FabricMsp;
      try {
        m = new FabricMsp(mc.getConfig_asU8(), this.mspVersion);
      } catch (err) {
        throw new FabricConfigError(`setting up the MSP of ${where}/${org}: ${(err as Error).message}`);
      }
      const same = this.mspConfigBytes.get(m.name);
      if (same !== undefined) {
        // Fabric accepts the same MSP twice only with an identical configuration.
        if (Buffer.compare(Buffer.from(same), Buffer.from(mc.getConfig_asU8())) !== 0) {
          throw new FabricConfigError(`attempted to define two different versions of MSP: ${m.name}`);
        }
      } else {
        this.msps.set(m.name, m);
        this.mspConfigBytes.set(m.name, mc.getConfig_asU8());
      }
      ids.push(m.name);
    }
    return ids;
  }

  /** Rules from a config block (the trust anchor or any later config block); throws FabricConfigError. */
  static fromConfigBlock(block: Uint8Array): FabricChannelRules {
    const layout = new FabricBlockLayout();
    const err = locateFabricBlock(block, layout, new ProtoFieldCursor());
    if (err !== '') throw new FabricConfigError(`not a block: ${err}`);
    return new FabricChannelRules(decodeConfigBlock(block), layout.number);
  }

  /**
   * Rules from a ConfigEnvelope carried elsewhere than in a config block (e.g. the channel-creation
   * transaction of an orderer system channel); `configBlockNumber` is recorded only.
   */
  static fromConfigEnvelope(envelope: Uint8Array, channelId: string, configBlockNumber = -1): FabricChannelRules {
    let config: common.Config | undefined;
    try {
      // From a copy, as decodeConfigBlock: the decoded policies keep views into their input.
      config = common.ConfigEnvelope.deserializeBinary(Uint8Array.prototype.slice.call(envelope)).getConfig();
    } catch (err) {
      throw new FabricConfigError(`config envelope does not decode: ${(err as Error).message}`);
    }
    const group = config?.getChannelGroup();
    if (config === undefined || group === undefined) throw new FabricConfigError('config envelope has no channel group');
    return new FabricChannelRules({ channelId, sequence: config.getSequence(), group }, configBlockNumber);
  }

  /**
   * The rules after config block `block` (already verified under these rules): same channel, the next
   * sequence (Fabric's configtx rule); throws FabricConfigError otherwise.
   */
  next(block: Uint8Array): FabricChannelRules {
    const config = decodeConfigBlock(block);
    if (config.channelId !== this.channelId) {
      throw new FabricConfigError(`config block channel ID [${config.channelId}] does not match expected: [${this.channelId}]`);
    }
    if (config.sequence !== this.sequence + 1) {
      throw new FabricConfigError(`config currently at sequence ${this.sequence}, cannot validate config at sequence ${config.sequence}`);
    }
    const layout = new FabricBlockLayout();
    locateFabricBlock(block, layout, new ProtoFieldCursor());
    return new FabricChannelRules(config, layout.number);
  }

  /** The channel's MSP ids. */
  get mspIds(): string[] {
    return [...this.msps.keys()];
  }

  /** Deserializes a SerializedIdentity through the channel's MSPs (cached, bounded). */
  deserialize(serialized: Uint8Array): MspIdentity {
    const key = Buffer.from(serialized.buffer, serialized.byteOffset, serialized.byteLength).toString('latin1');
    let cached = this.signers.get(key);
    if (cached === undefined) {
      try {
        const sid = mspProto.SerializedIdentity.deserializeBinary(serialized);
        const m = this.msps.get(sid.getMspid());
        const unsupported = this.unsupportedMsps.get(sid.getMspid());
        if (unsupported !== undefined) throw new FabricConfigError(unsupported);
        if (m === undefined) throw new FabricConfigError(`MSP ${sid.getMspid()} is not defined on channel`);
        cached = m.deserializeIdBytes(sid.getIdBytes_asU8());
      } catch (err) {
        cached = err as Error;
      }
      if (this.signers.size >= MAX_CACHED_SIGNERS) this.signers.delete(this.signers.keys().next().value!);
      this.signers.set(key, cached);
    }
    if (cached instanceof Error) throw cached;
    return cached;
  }

  /**
   * Fabric's block signature verification under /Channel/Orderer/BlockValidation, for a serialized
   * common.Block. The header bytes signed are the block's BlockHeaderBytes.
   */
  verifyBlockSignatures(block: Uint8Array): SignatureCheck {
    const layout = this.layout;
    const located = locateFabricBlock(block, layout, this.cursor);
    if (located !== '') return { ok: false, error: `block does not decode: ${located}`, details: [], signers: [] };
    if (layout.metadataCount < 1) return { ok: false, error: 'no signatures in block metadata', details: [], signers: [] };
    let md: common.Metadata;
    try {
      md = common.Metadata.deserializeBinary(block.subarray(layout.signaturesStart, layout.signaturesEnd));
    } catch (err) {
      return { ok: false, error: `error unmarshalling signatures from metadata: ${(err as Error).message}`, details: [], signers: [] };
    }
    const header = blockHeaderBytes(
      layout.number,
      block.subarray(layout.previousHashStart, layout.previousHashEnd),
      block.subarray(layout.dataHashStart, layout.dataHashEnd),
    );
    const value = md.getValue_asU8();
    const details: string[] = [];
    const identities: MspIdentity[] = [];
    const seen = new Set<string>();
    const signatures = md.getSignaturesList();
    for (let i = 0; i < signatures.length; i++) {
      const ms = signatures[i]!;
      const sigHeaderBytes = ms.getSignatureHeader_asU8();
      if (sigHeaderBytes.length === 0 && ms.getIdentifierHeader_asU8().length > 0) {
        details.push(`signature ${i}: a BFT identifier header (Fabric 3) is not supported`);
        continue;
      }
      let creator: Uint8Array;
      try {
        creator = common.SignatureHeader.deserializeBinary(sigHeaderBytes).getCreator_asU8();
      } catch (err) {
        return { ok: false, error: `failed unmarshalling signature header for block ${layout.number}: ${(err as Error).message}`, details, signers: [] };
      }
      let identity: MspIdentity;
      try {
        identity = this.deserialize(creator);
      } catch (err) {
        details.push(`signature ${i}: invalid identity: ${(err as Error).message}`);
        continue;
      }
      if (seen.has(identity.key)) {
        details.push(`signature ${i}: duplicate identity ${identity.describe()}`);
        continue;
      }
      const signed = concat(value, sigHeaderBytes, header);
      let valid: boolean;
      try {
        valid = identity.verify(signed, ms.getSignature_asU8());
      } catch (err) {
        details.push(`signature ${i} by ${identity.describe()} is invalid: ${err instanceof SignatureError ? err.message : (err as Error).message}`);
        continue;
      }
      if (!valid) {
        details.push(`signature ${i} by ${identity.describe()} is invalid: ECDSA verification failed`);
        continue;
      }
      seen.add(identity.key);
      identities.push(identity);
    }
    const signers = identities.map((id) => id.describe());
    try {
      this.blockValidation.evaluateIdentities(identities);
    } catch (err) {
      // Say why the validly signing identities did not satisfy the policy, too.
      for (const id of identities) {
        try {
          id.validate();
          details.push(`signer ${id.describe()}: a valid identity of the channel, but not one the policy admits`);
        } catch (e) {
          details.push(`signer ${id.describe()}: ${(e as Error).message}`);
        }
      }
      return { ok: false, error: (err as Error).message, details, signers };
    }
    return { ok: true, error: '', details: [], signers };
  }

  /** A one-line summary of who may sign blocks. */
  describeBlockValidation(): string {
    return `${BLOCK_VALIDATION_POLICY}: ${this.blockValidation.description}; orderer MSPs ${this.ordererMspIds.join(', ') || '(none)'}`;
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
