// A Fabric-format chain builder for tests and benchmarks: organisations with test CAs and MSPs (NodeOUs),
// a genesis config block as configtxgen writes one (Channel / Orderer / Application groups, the
// standard ImplicitMeta policies, orderer BlockValidation = ANY Writers), data blocks of chosen sizes,
// config update blocks, every block signed by the orderer exactly as Fabric's orderer signs
// (SIGNATURES metadata: OrdererBlockMetadata{last_config} value, SignatureHeader, ECDSA over
// value ‖ signature header ‖ BlockHeaderBytes, low-S).
//
// Fast enough for 100,000 blocks: only what Fabric verifies is signed. A block verifier checks the
// orderer's block signature, not the transactions', so transaction envelopes carry a fixed filler
// signature and are encoded by hand (no protobuf objects per block); each block costs one ECDSA sign
// (~50 µs) plus its SHA-256s.
import { type KeyObject, createHash, sign as cryptoSign } from 'node:crypto';
import { common, msp as mspProto, orderer } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderBytes, blockHeaderHash } from '../../../src/fabric/blockHashes.js';
import { encodeCommonBlock } from '../../../src/fabric/blockStore.js';
import { encodeEcdsaSignature } from '../../../src/fabric/der.js';
import { ProtoWriter } from '../../../src/fabric/protoWire.js';
import { type IssuedCertificate, TestCa } from './testCa.js';

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HEADER_TYPE_CONFIG = 1;
const HEADER_TYPE_ENDORSER_TRANSACTION = 3;
const METADATA_ENTRIES = 5;
const FILLER_SIGNATURE_BYTES = 70;
/** BlockDataHashingStructure width Fabric requires. */
const MAX_UINT32 = 0xffffffff;

export type NodeRole = 'orderer' | 'peer' | 'client' | 'admin';

/** A signing identity of an organisation. */
export class TestIdentity {
  readonly serialized: Uint8Array;

  constructor(readonly mspId: string, readonly issued: IssuedCertificate) {
    const sid = new mspProto.SerializedIdentity();
    sid.setMspid(mspId);
    sid.setIdBytes(issued.pem);
    this.serialized = sid.serializeBinary();
  }

  /** ECDSA P-256 over SHA-256 of `message`, DER; low-S unless `highS` (which Fabric refuses). */
  sign(message: Uint8Array, highS = false): Uint8Array {
    return ecdsaSign(this.issued.privateKey, message, highS);
  }
}

export function ecdsaSign(key: KeyObject, message: Uint8Array, highS = false): Uint8Array {
  const raw = cryptoSign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
  const r = BigInt(`0x${raw.subarray(0, 32).toString('hex')}`);
  let s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  const low = s <= P256_N >> 1n;
  if (low === highS) s = P256_N - s;
  return encodeEcdsaSignature(r, s);
}

export interface TestOrgOptions {
  /** Issue identities from an intermediate CA (the root then may not sign identities). */
  intermediate?: boolean;
  /** NodeOUs enabled (default true). */
  nodeOUs?: boolean;
  /** Validity of the node identities. */
  identityValidity?: { notBefore?: Date; notAfter?: Date };
}

export class TestOrg {
  readonly crls: Uint8Array[] = [];
  private readonly identities = new Map<NodeRole, TestIdentity>();

  private constructor(
    readonly mspId: string,
    readonly root: TestCa,
    readonly issuer: TestCa,
    readonly nodeOUs: boolean,
  ) {}

  static async create(mspId: string, opts: TestOrgOptions = {}): Promise<TestOrg> {
    const root = await TestCa.root(`ca.${mspId.toLowerCase()}`);
    const issuer = opts.intermediate ? await root.intermediate(`ica.${mspId.toLowerCase()}`) : root;
    const org = new TestOrg(mspId, root, issuer, opts.nodeOUs ?? true);
    for (const role of ['orderer', 'peer', 'client', 'admin'] as const) {
      org.identities.set(role, await org.newIdentity(role, opts.identityValidity));
    }
    return org;
  }

  identity(role: NodeRole): TestIdentity {
    return this.identities.get(role)!;
  }

  /** A further identity of this organisation (another node, a short-lived certificate, ...). */
  async newIdentity(role: NodeRole, validity?: { notBefore?: Date; notAfter?: Date }, extra?: { ous?: string[]; extKeyUsages?: string[] }): Promise<TestIdentity> {
    const issued = await this.issuer.issue({
      cn: `${role}${Math.floor(Math.random() * 1e6)}.${this.mspId.toLowerCase()}`,
      ous: extra?.ous ?? [role],
      ...(extra?.extKeyUsages !== undefined ? { extKeyUsages: extra.extKeyUsages } : {}),
      ...validity,
    });
    return new TestIdentity(this.mspId, issued);
  }

  /** The organisation's MSPConfig value (FabricMSPConfig, type FABRIC), as configtxgen writes it. */
  mspConfig(): Uint8Array {
    const c = new mspProto.FabricMSPConfig();
    c.setName(this.mspId);
    c.setRootCertsList([this.root.pem]);
    if (this.issuer !== this.root) c.setIntermediateCertsList([this.issuer.pem]);
    c.setTlsRootCertsList([this.root.pem]);
    c.setRevocationListList(this.crls);
    const cc = new mspProto.FabricCryptoConfig();
    cc.setSignatureHashFamily('SHA2');
    cc.setIdentityIdentifierHashFunction('SHA256');
    c.setCryptoConfig(cc);
    if (this.nodeOUs) {
      const ous = new mspProto.FabricNodeOUs();
      ous.setEnable(true);
      const ou = (name: string): mspProto.FabricOUIdentifier => {
        const id = new mspProto.FabricOUIdentifier();
        id.setCertificate(this.issuer.pem);
        id.setOrganizationalUnitIdentifier(name);
        return id;
      };
      ous.setClientOuIdentifier(ou('client'));
      ous.setPeerOuIdentifier(ou('peer'));
      ous.setAdminOuIdentifier(ou('admin'));
      ous.setOrdererOuIdentifier(ou('orderer'));
      c.setFabricNodeOus(ous);
    } else {
      c.setAdminsList([this.identity('admin').issued.pem]);
    }
    const m = new mspProto.MSPConfig();
    m.setType(0);
    m.setConfig(c.serializeBinary());
    return m.serializeBinary();
  }
}

// ---- policies ----

function role(mspId: string, r: number): mspProto.MSPPrincipal {
  const p = new mspProto.MSPPrincipal();
  p.setPrincipalClassification(mspProto.MSPPrincipal.Classification.ROLE);
  const mr = new mspProto.MSPRole();
  mr.setMspIdentifier(mspId);
  mr.setRole(r as 0);
  p.setPrincipal(mr.serializeBinary());
  return p;
}

/** OR over the given roles of one MSP (configtxgen's "OR('Org.member')" and friends). */
export function signedByAnyRole(mspId: string, roles: number[]): common.Policy {
  const env = new common.SignaturePolicyEnvelope();
  env.setVersion(0);
  env.setIdentitiesList(roles.map((r) => role(mspId, r)));
  const rule = new common.SignaturePolicy();
  const n = new common.SignaturePolicy.NOutOf();
  n.setN(1);
  n.setRulesList(roles.map((_r, i) => {
    const s = new common.SignaturePolicy();
    s.setSignedBy(i);
    return s;
  }));
  rule.setNOutOf(n);
  env.setRule(rule);
  const p = new common.Policy();
  p.setType(1);
  p.setValue(env.serializeBinary());
  return p;
}

export function implicitMeta(rule: number, subPolicy: string): common.Policy {
  const imp = new common.ImplicitMetaPolicy();
  imp.setRule(rule as 0);
  imp.setSubPolicy(subPolicy);
  const p = new common.Policy();
  p.setType(3);
  p.setValue(imp.serializeBinary());
  return p;
}

const ROLE = mspProto.MSPRole.MSPRoleType;
const RULE = common.ImplicitMetaPolicy.Rule;

function configPolicy(p: common.Policy): common.ConfigPolicy {
  const cp = new common.ConfigPolicy();
  cp.setPolicy(p);
  cp.setModPolicy('Admins');
  return cp;
}

function configValue(bytes: Uint8Array): common.ConfigValue {
  const v = new common.ConfigValue();
  v.setValue(bytes);
  v.setModPolicy('Admins');
  return v;
}

function capabilities(names: string[]): Uint8Array {
  const c = new common.Capabilities();
  for (const n of names) c.getCapabilitiesMap().set(n, new common.Capability());
  return c.serializeBinary();
}

export interface ChannelSpec {
  channelId: string;
  ordererOrgs: TestOrg[];
  appOrgs: TestOrg[];
  /** Who of an orderer organisation may write (sign blocks): 'member' (configtxgen's default) or 'orderer'. */
  ordererWriters?: 'member' | 'orderer';
  /** BlockValidation rule over the orderer organisations' Writers (default ANY). */
  blockValidationRule?: 'ANY' | 'ALL' | 'MAJORITY';
  channelCapabilities?: string[];
  consensusType?: string;
  /** Replace an organisation's MSP value (e.g. an idemix one) by MSP id. */
  mspOverrides?: Record<string, Uint8Array>;
  /** Replace the BlockValidation policy (e.g. an unsupported type). */
  blockValidationPolicy?: common.Policy;
}

function orgGroup(org: TestOrg, writersRoles: number[], spec: ChannelSpec): common.ConfigGroup {
  const g = new common.ConfigGroup();
  g.setModPolicy('Admins');
  g.getValuesMap().set('MSP', configValue(spec.mspOverrides?.[org.mspId] ?? org.mspConfig()));
  const ps = g.getPoliciesMap();
  ps.set('Readers', configPolicy(signedByAnyRole(org.mspId, [ROLE.MEMBER])));
  ps.set('Writers', configPolicy(signedByAnyRole(org.mspId, writersRoles)));
  ps.set('Admins', configPolicy(signedByAnyRole(org.mspId, [ROLE.ADMIN])));
  return g;
}

/** The channel's config tree, as configtxgen builds it for a profile with these organisations. */
export function channelGroup(spec: ChannelSpec): common.ConfigGroup {
  const root = new common.ConfigGroup();
  root.setModPolicy('Admins');
  const hashing = new common.HashingAlgorithm();
  hashing.setName('SHA256');
  const structure = new common.BlockDataHashingStructure();
  structure.setWidth(MAX_UINT32);
  const addresses = new common.OrdererAddresses();
  addresses.setAddressesList(['orderer.example.com:7050']);
  root.getValuesMap().set('HashingAlgorithm', configValue(hashing.serializeBinary()));
  root.getValuesMap().set('BlockDataHashingStructure', configValue(structure.serializeBinary()));
  root.getValuesMap().set('OrdererAddresses', configValue(addresses.serializeBinary()));
  root.getValuesMap().set('Capabilities', configValue(capabilities(spec.channelCapabilities ?? ['V2_0'])));
  root.getPoliciesMap().set('Readers', configPolicy(implicitMeta(RULE.ANY, 'Readers')));
  root.getPoliciesMap().set('Writers', configPolicy(implicitMeta(RULE.ANY, 'Writers')));
  root.getPoliciesMap().set('Admins', configPolicy(implicitMeta(RULE.MAJORITY, 'Admins')));

  const ord = new common.ConfigGroup();
  ord.setModPolicy('Admins');
  const ct = new orderer.ConsensusType();
  ct.setType(spec.consensusType ?? 'etcdraft');
  const bs = new orderer.BatchSize();
  bs.setMaxMessageCount(500);
  bs.setAbsoluteMaxBytes(10 * 1024 * 1024);
  bs.setPreferredMaxBytes(2 * 1024 * 1024);
  const bt = new orderer.BatchTimeout();
  bt.setTimeout('2s');
  ord.getValuesMap().set('ConsensusType', configValue(ct.serializeBinary()));
  ord.getValuesMap().set('BatchSize', configValue(bs.serializeBinary()));
  ord.getValuesMap().set('BatchTimeout', configValue(bt.serializeBinary()));
  ord.getValuesMap().set('Capabilities', configValue(capabilities(['V2_0'])));
  ord.getPoliciesMap().set('Readers', configPolicy(implicitMeta(RULE.ANY, 'Readers')));
  ord.getPoliciesMap().set('Writers', configPolicy(implicitMeta(RULE.ANY, 'Writers')));
  ord.getPoliciesMap().set('Admins', configPolicy(implicitMeta(RULE.MAJORITY, 'Admins')));
  ord.getPoliciesMap().set('BlockValidation', configPolicy(spec.blockValidationPolicy ?? implicitMeta(RULE[spec.blockValidationRule ?? 'ANY'], 'Writers')));
  const writers = spec.ordererWriters === 'orderer' ? [ROLE.ORDERER] : [ROLE.MEMBER];
  for (const o of spec.ordererOrgs) ord.getGroupsMap().set(o.mspId, orgGroup(o, writers, spec));
  root.getGroupsMap().set('Orderer', ord);

  const app = new common.ConfigGroup();
  app.setModPolicy('Admins');
  app.getValuesMap().set('Capabilities', configValue(capabilities(['V2_0'])));
  app.getPoliciesMap().set('Readers', configPolicy(implicitMeta(RULE.ANY, 'Readers')));
  app.getPoliciesMap().set('Writers', configPolicy(implicitMeta(RULE.ANY, 'Writers')));
  app.getPoliciesMap().set('Admins', configPolicy(implicitMeta(RULE.MAJORITY, 'Admins')));
  for (const o of spec.appOrgs) app.getGroupsMap().set(o.mspId, orgGroup(o, [ROLE.ADMIN, ROLE.CLIENT], spec));
  root.getGroupsMap().set('Application', app);
  return root;
}

// ---- blocks ----

function channelHeader(type: number, channelId: string, txId: string): Uint8Array {
  return new ProtoWriter(96).uintField(1, type).bytesField(4, Buffer.from(channelId)).bytesField(5, Buffer.from(txId)).finish();
}

function signatureHeader(creator: Uint8Array, nonce: Uint8Array): Uint8Array {
  return new ProtoWriter(creator.length + 40).bytesField(1, creator).bytesField(2, nonce).finish();
}

function envelope(payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return new ProtoWriter(payload.length + signature.length + 16).bytesField(1, payload).bytesField(2, signature).finish();
}

function payload(chHeader: Uint8Array, sigHeader: Uint8Array, data: Uint8Array): Uint8Array {
  const header = new ProtoWriter(chHeader.length + sigHeader.length + 8).bytesField(1, chHeader).bytesField(2, sigHeader).finish();
  return new ProtoWriter(header.length + data.length + 8).bytesField(1, header).bytesField(2, data).finish();
}

export interface SignOptions {
  /** Identities signing the block (default: the builder's orderer). */
  signers?: TestIdentity[];
  /** Produce high-S signatures (Fabric refuses them). */
  highS?: boolean;
  /** Leave the block unsigned (metadata SIGNATURES empty). */
  unsigned?: boolean;
}

export interface DataBlockOptions extends SignOptions {
  txCount?: number;
  /** Approximate size of each transaction envelope in bytes. */
  txBytes?: number;
}

export interface BuiltBlockParts {
  number: number;
  previousHash: Uint8Array;
  data: Uint8Array[];
}

/** Builds a chain block by block. */
export class FabricChainBuilder {
  readonly blocks: Uint8Array[] = [];
  private previousHash: Uint8Array = new Uint8Array(0);
  private lastConfig = 0;
  private sequence = 0;
  private txCounter = 0;
  private readonly nonce = createHash('sha256').update('edgepeer test nonce').digest().subarray(0, 24);
  private readonly filler = new Uint8Array(FILLER_SIGNATURE_BYTES).fill(0x30);
  private readonly clientSigHeader: Uint8Array;

  constructor(public spec: ChannelSpec, public signer: TestIdentity = spec.ordererOrgs[0]!.identity('orderer')) {
    // Transactions' own signatures are not what block verification checks, so their creator is a bare
    // SerializedIdentity (MSP id, no certificate): it keeps a 1 KiB transaction mostly payload.
    const creator = new mspProto.SerializedIdentity();
    creator.setMspid((spec.appOrgs[0] ?? spec.ordererOrgs[0]!).mspId);
    this.clientSigHeader = signatureHeader(creator.serializeBinary(), this.nonce);
  }

  get height(): number {
    return this.blocks.length;
  }

  /** Block 0: the channel's genesis config block (unsigned, as configtxgen writes it). */
  genesis(): Uint8Array {
    if (this.blocks.length !== 0) throw new Error('genesis must be the first block');
    return this.append([this.configEnvelope(this.spec, false)], { unsigned: true }, true);
  }

  /** A config block for `spec` (the next sequence), signed by the orderer (or `opts.signers`). */
  configBlock(spec: ChannelSpec, opts: SignOptions = {}): Uint8Array {
    this.sequence++;
    this.spec = spec;
    return this.append([this.configEnvelope(spec, true)], opts, true);
  }

  dataBlock(opts: DataBlockOptions = {}): Uint8Array {
    const count = opts.txCount ?? 1;
    const size = opts.txBytes ?? 1024;
    const data: Uint8Array[] = [];
    for (let i = 0; i < count; i++) {
      const txId = (this.txCounter++).toString(16).padStart(16, '0');
      const ch = channelHeader(HEADER_TYPE_ENDORSER_TRANSACTION, this.spec.channelId, txId);
      const overhead = ch.length + this.clientSigHeader.length + FILLER_SIGNATURE_BYTES + 16;
      const body = new Uint8Array(Math.max(1, size - overhead));
      body.set(Buffer.from(txId), 0);
      data.push(envelope(payload(ch, this.clientSigHeader, body), this.filler));
    }
    return this.append(data, opts, false);
  }

  /** `n` data blocks. */
  dataBlocks(n: number, opts: DataBlockOptions = {}): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let i = 0; i < n; i++) out.push(this.dataBlock(opts));
    return out;
  }

  private configEnvelope(spec: ChannelSpec, signed: boolean): Uint8Array {
    const config = new common.Config();
    config.setSequence(this.sequence);
    config.setChannelGroup(channelGroup(spec));
    const ce = new common.ConfigEnvelope();
    ce.setConfig(config);
    const creator = signed ? this.signer.serialized : new Uint8Array(0);
    const p = payload(channelHeader(HEADER_TYPE_CONFIG, spec.channelId, ''), signatureHeader(creator, this.nonce), ce.serializeBinary());
    return envelope(p, signed ? this.signer.sign(p) : this.filler);
  }

  private append(data: Uint8Array[], opts: SignOptions, isConfig: boolean): Uint8Array {
    const number = this.blocks.length;
    if (isConfig) this.lastConfig = number;
    const dataHash = blockDataHash(data);
    const metadata: Uint8Array[] = Array.from({ length: METADATA_ENTRIES }, () => new Uint8Array(0));
    if (!opts.unsigned) {
      metadata[0] = this.signatures(number, this.previousHash, dataHash, opts.signers ?? [this.signer], opts.highS ?? false);
    }
    const block = encodeCommonBlock({ number, previousHash: this.previousHash, dataHash, data, metadata });
    this.previousHash = blockHeaderHash(number, this.previousHash, dataHash);
    this.blocks.push(block);
    return block;
  }

  /** The SIGNATURES metadata entry Fabric's orderer writes. */
  private signatures(number: number, previousHash: Uint8Array, dataHash: Uint8Array, signers: TestIdentity[], highS: boolean): Uint8Array {
    const lastConfig = new ProtoWriter(16).uintField(1, this.lastConfig).finish();
    const value = new ProtoWriter(24).bytesField(1, lastConfig).finish();
    const header = blockHeaderBytes(number, previousHash, dataHash);
    const md = new ProtoWriter(1024).bytesField(1, value);
    for (const s of signers) {
      const sigHeader = signatureHeader(s.serialized, this.nonce);
      const signed = Buffer.concat([value, sigHeader, header]);
      md.bytesField(2, new ProtoWriter(sigHeader.length + 96).bytesField(1, sigHeader).bytesField(2, s.sign(signed, highS)).finish());
    }
    return md.finish();
  }
}

/** A standard test network: one orderer organisation and two application organisations. */
export async function makeTestChannel(channelId = 'testchannel', opts: { ordererOrg?: TestOrgOptions } = {}): Promise<{ spec: ChannelSpec; builder: FabricChainBuilder }> {
  const ordererOrg = await TestOrg.create('OrdererMSP', opts.ordererOrg);
  const org1 = await TestOrg.create('Org1MSP');
  const org2 = await TestOrg.create('Org2MSP');
  const spec: ChannelSpec = { channelId, ordererOrgs: [ordererOrg], appOrgs: [org1, org2] };
  return { spec, builder: new FabricChainBuilder(spec) };
}
