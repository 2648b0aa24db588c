// Orderer signatures judged the way a Fabric peer judges them: ECDSA over value ‖ signature header ‖
// BlockHeaderBytes, low-S, the signer's certificate chaining to its MSP as of its NotBefore, under the
// channel's /Channel/Orderer/BlockValidation policy from the most recent config block; on real Fabric
// blocks and on chains made with the test CA.
import { afterEach, before, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { common, msp as mspProto } from '@hyperledger/fabric-protos';
import { commonBlockParts } from '../../../src/fabric/blockStore.js';
import { FabricChannelRules, FabricConfigError } from '../../../src/fabric/channelRules.js';
import { auditBlocks } from '../../../src/fabric/ledgerAudit.js';
import { FabricMsp, MspIdentity } from '../../../src/fabric/msp.js';
import { SignatureAuditStage } from '../../../src/fabric/signatureAudit.js';
import { clusterBlock3, clusterMychannelBlock, sampleProdBlocks } from '../../helpers/fabric/realData.js';
import { flipSignature } from '../../helpers/fabric/tamper.js';
import { type ChannelSpec, FabricChainBuilder, TestIdentity, TestOrg, implicitMeta, signedByAnyRole } from '../../helpers/fabric/chainBuilder.js';
import { TestCa } from '../../helpers/fabric/testCa.js';

const DAY_MS = 86_400_000;
const POLICY_FAILED = 'block signatures do not satisfy /Channel/Orderer/BlockValidation: ';

function audit(blocks: Uint8Array[]): { problems: { blockNum: number; errors: string[] }[]; stage: SignatureAuditStage } {
  const stage = new SignatureAuditStage();
  const s = auditBlocks(blocks, { stage });
  return { problems: s.problems, stage };
}

let ordererOrg: TestOrg;
let org1: TestOrg;
let spec: ChannelSpec;
before(async () => {
  ordererOrg = await TestOrg.create('OrdererMSP');
  org1 = await TestOrg.create('Org1MSP');
  spec = { channelId: 'sigchannel', ordererOrgs: [ordererOrg], appOrgs: [org1] };
});
afterEach(() => mock.restoreAll());

function chain(s: ChannelSpec = spec, signer?: TestIdentity): FabricChainBuilder {
  const b = new FabricChainBuilder(s, signer);
  b.genesis();
  return b;
}

test('sample_prod.blockfile verifies clean with its signatures: blocks 1-7 signed under the genesis BlockValidation policy', () => {
  const { problems, stage } = audit(sampleProdBlocks());
  assert.deepEqual(problems, []);
  assert.equal(stage.signaturesChecked, 7);
  assert.equal(stage.anchorBlock, 0);
  assert.deepEqual([...stage.signers], ['SampleOrg C=US, ST=California, L=San Francisco, OU=COP, CN=peer0.org1.example.com']);
});

test('a byte flipped in a real block\'s signature: that block fails BlockValidation, named with Fabric\'s policy error and the signature\'s reason', () => {
  const blocks = sampleProdBlocks();
  blocks[4] = flipSignature(blocks[4]!);
  const { problems } = audit(blocks);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.blockNum, 4);
  assert.equal(problems[0]!.errors[0], `${POLICY_FAILED}implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied`);
  assert.match(problems[0]!.errors[1]!, /^signature 0 by SampleOrg .*CN=peer0\.org1\.example\.com is invalid: /);
});

test('cluster_mychannel.block decodes: a Fabric 1.3 channel (kafka) whose idemix Org3MSP is recorded as unsupported, not trusted', () => {
  const rules = FabricChannelRules.fromConfigBlock(clusterMychannelBlock());
  assert.equal(rules.channelId, 'mychannel');
  assert.equal(rules.mspVersion, '1.3');
  assert.equal(rules.consensusType, 'kafka');
  assert.deepEqual(rules.ordererMspIds, ['OrdererMSP']);
  assert.deepEqual([...rules.unsupportedMsps.keys()], ['Org3MSP']);
  assert.match(rules.unsupportedMsps.get('Org3MSP')!, /idemix MSP: its identities are not supported/);
  const sid = new mspProto.SerializedIdentity();
  sid.setMspid('Org3MSP');
  assert.throws(() => rules.deserialize(sid.serializeBinary()), /Org3MSP is an idemix MSP/);
});

test('cluster_block3.pb (pre-1.4.1 metadata: empty SIGNATURES value) verifies under the orderer MSP of the channel config it carries; a flipped signature does not', () => {
  const b3 = clusterBlock3();
  const env = common.Envelope.deserializeBinary(commonBlockParts(b3).data[0]!);
  const inner = common.Envelope.deserializeBinary(common.Payload.deserializeBinary(env.getPayload_asU8()).getData_asU8());
  const rules = FabricChannelRules.fromConfigEnvelope(common.Payload.deserializeBinary(inner.getPayload_asU8()).getData_asU8(), 'bar');
  const md = common.Metadata.deserializeBinary(commonBlockParts(b3).metadata[0]!);
  assert.equal(md.getValue_asU8().length, 0, 'pre-1.4.1 layout: the SIGNATURES value is empty');
  const ok = rules.verifyBlockSignatures(b3);
  assert.equal(ok.ok, true, ok.error);
  assert.deepEqual(ok.signers, ['OrdererMSP C=US, ST=California, L=San Francisco, CN=orderer.example.com']);
  assert.equal(rules.verifyBlockSignatures(flipSignature(b3)).ok, false);
  // The genesis of the unrelated mychannel (same names, other keys) does not vouch for it.
  const other = FabricChannelRules.fromConfigBlock(clusterMychannelBlock()).verifyBlockSignatures(b3);
  assert.equal(other.ok, false);
  assert.match(other.details[0]!, /certificate signed by unknown authority/);
});

test('chains from the test CA verify; a signer\'s validated identity is cached, so each further block costs one ECDSA verify', () => {
  const b = chain();
  b.dataBlocks(5);
  const validations = mock.method(FabricMsp.prototype, 'validateIdentity');
  const verifies = mock.method(MspIdentity.prototype, 'verify');
  const { problems, stage } = audit(b.blocks);
  assert.deepEqual(problems, []);
  assert.equal(stage.signaturesChecked, 5);
  assert.equal(validations.mock.callCount(), 1);
  assert.equal(verifies.mock.callCount(), 5);
});

test('a block signed by a certificate outside the orderer MSP is refused (another organisation, and a look-alike CA)', async () => {
  const b = chain();
  b.dataBlock({ signers: [org1.identity('peer')] });
  const impostorCa = await TestCa.root(`ca.orderermsp`);
  const impostor = new TestIdentity('OrdererMSP', await impostorCa.issue({ cn: 'orderer.example.com', ous: ['orderer'] }));
  b.dataBlock({ signers: [impostor] });
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [1, 2]);
  assert.equal(problems[0]!.errors[0], `${POLICY_FAILED}implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied`);
  assert.match(problems[0]!.errors[1]!, /^signer Org1MSP CN=peer\d+\.org1msp, OU=peer: a valid identity of the channel, but not one the policy admits$/);
  assert.match(problems[1]!.errors[1]!, /^signature 0: invalid identity: .*certificate signed by unknown authority/);
});

test('a high-S signature is refused ("Invalid S. Must be smaller than half the order"); the same signature in low-S form passes', () => {
  const b = chain();
  b.dataBlock({ highS: true });
  b.dataBlock();
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [1]);
  assert.match(problems[0]!.errors[1]!, /is invalid: Invalid S\. Must be smaller than half the order$/);
});

test('an orderer certificate that expired today is accepted: Fabric judges a certificate as of its NotBefore', async () => {
  const expired = await ordererOrg.newIdentity('orderer', { notBefore: new Date(Date.now() - 200 * DAY_MS), notAfter: new Date(Date.now() - 60_000) });
  assert.ok(expired.issued.cert.notAfter.getTime() < Date.now());
  const b = chain(spec, expired);
  b.dataBlocks(2);
  assert.deepEqual(audit(b.blocks).problems, []);
});

test('a certificate issued after its CA expired is refused (the CA must be valid at the certificate\'s NotBefore)', async () => {
  const root = await TestCa.root('ca.shortlived', { notBefore: new Date(Date.now() - 10 * DAY_MS), notAfter: new Date(Date.now() - 5 * DAY_MS) });
  const org = await TestOrg.create('ShortMSP');
  const late = new TestIdentity('ShortMSP', await root.issue({ cn: 'orderer.short', ous: ['orderer'], notBefore: new Date(Date.now() - DAY_MS) }));
  // The MSP trusts `root`; the orderer's NotBefore falls after the root's NotAfter.
  const s: ChannelSpec = { channelId: 'short', ordererOrgs: [org], appOrgs: [], mspOverrides: { ShortMSP: mspWithRoot('ShortMSP', root) } };
  const b = chain(s, late);
  b.dataBlock();
  const { problems } = audit(b.blocks);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.errors[1]!, /certificate has expired or is not yet valid/);
});

function mspWithRoot(mspId: string, root: TestCa): Uint8Array {
  const c = new mspProto.FabricMSPConfig();
  c.setName(mspId);
  c.setRootCertsList([root.pem]);
  const m = new mspProto.MSPConfig();
  m.setConfig(c.serializeBinary());
  return m.serializeBinary();
}

test('a config block that changes the orderer MSP changes who may sign the blocks after it', async () => {
  const newOrderer = await TestOrg.create('NewOrdererMSP');
  const b = chain();
  b.dataBlock();
  b.configBlock({ ...spec, ordererOrgs: [newOrderer] }); // signed by the old orderer, under the old rules
  b.dataBlock(); // still signed by the old orderer: no longer allowed
  b.signer = newOrderer.identity('orderer');
  b.dataBlock();
  const { problems, stage } = audit(b.blocks);
  assert.deepEqual(stage.configBlocks, [0, 2]);
  assert.deepEqual(problems.map((p) => p.blockNum), [3]);
  assert.match(problems[0]!.errors[1]!, /signature 0: invalid identity: MSP OrdererMSP is not defined on channel/);
});

test('a config block must move the sequence on by one and stay on the channel', () => {
  const rules = FabricChannelRules.fromConfigBlock(chain().blocks[0]!);
  const b = new FabricChainBuilder(spec);
  b.genesis();
  b.configBlock(spec);
  b.configBlock(spec);
  assert.throws(() => rules.next(b.blocks[2]!), /config currently at sequence 0, cannot validate config at sequence 2/);
  const other = new FabricChainBuilder({ ...spec, channelId: 'otherchannel' });
  other.genesis();
  other.configBlock({ ...spec, channelId: 'otherchannel' });
  assert.throws(() => rules.next(other.blocks[1]!), /config block channel ID \[otherchannel\] does not match expected: \[sigchannel\]/);
});

test('NodeOU roles: when orderer Writers is the ORDERER role, the orderer organisation\'s client certificate may not sign blocks', () => {
  const s: ChannelSpec = { ...spec, ordererWriters: 'orderer' };
  const b = chain(s);
  b.dataBlock();
  b.dataBlock({ signers: [ordererOrg.identity('client')] });
  b.dataBlock({ signers: [ordererOrg.identity('admin')] });
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [2, 3]);
  // With the default MEMBER role, any valid member of the orderer MSP may.
  const m = chain();
  m.dataBlock({ signers: [ordererOrg.identity('client')] });
  assert.deepEqual(audit(m.blocks).problems, []);
});

test('ALL over two orderer organisations needs a signature of each; one organisation signing twice counts once', async () => {
  const second = await TestOrg.create('Orderer2MSP');
  const s: ChannelSpec = { ...spec, ordererOrgs: [ordererOrg, second], blockValidationRule: 'ALL' };
  const b = chain(s);
  b.dataBlock({ signers: [ordererOrg.identity('orderer'), second.identity('orderer')] });
  b.dataBlock({ signers: [ordererOrg.identity('orderer'), ordererOrg.identity('orderer')] });
  b.dataBlock({ signers: [ordererOrg.identity('orderer')] });
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [2, 3]);
  assert.match(problems[0]!.errors[0]!, /1 sub-policies were satisfied, but this policy requires 2 of the 'Writers'/);
  assert.match(problems[0]!.errors[1]!, /signature 1: duplicate identity OrdererMSP/);
  // MAJORITY of two is two as well; of three it is two.
  const third = await TestOrg.create('Orderer3MSP');
  const m = chain({ ...spec, ordererOrgs: [ordererOrg, second, third], blockValidationRule: 'MAJORITY' });
  m.dataBlock({ signers: [ordererOrg.identity('orderer'), third.identity('orderer')] });
  m.dataBlock({ signers: [second.identity('orderer')] });
  assert.deepEqual(audit(m.blocks).problems.map((p) => p.blockNum), [2]);
});

test('with an intermediate CA, an identity issued directly by the root is refused (the parent must be a leaf of the CA tree)', async () => {
  const org = await TestOrg.create('InterMSP', { intermediate: true });
  const byRoot = new TestIdentity('InterMSP', await org.root.issue({ cn: 'orderer.byroot', ous: ['orderer'] }));
  const s: ChannelSpec = { channelId: 'inter', ordererOrgs: [org], appOrgs: [] };
  const b = chain(s);
  b.dataBlock();
  b.dataBlock({ signers: [byRoot] });
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [2]);
  assert.match(problems[0]!.errors[1]!, /Parent certificate should be a leaf of the certification tree/);
});

test('a certificate on its CA\'s CRL in the MSP is refused ("The certificate has been revoked")', async () => {
  const org = await TestOrg.create('CrlMSP');
  const revoked = await org.newIdentity('orderer');
  org.crls.push(await org.root.crl([revoked.issued]));
  const b = chain({ channelId: 'crl', ordererOrgs: [org], appOrgs: [] });
  b.dataBlock();
  b.dataBlock({ signers: [revoked] });
  const { problems } = audit(b.blocks);
  assert.deepEqual(problems.map((p) => p.blockNum), [2]);
  assert.match(problems[0]!.errors.join('\n'), /The certificate has been revoked/);
});

test('Go\'s default ServerAuth key usage: a certificate limited to clientAuth is refused', async () => {
  const clientOnly = await ordererOrg.newIdentity('orderer', undefined, { extKeyUsages: ['1.3.6.1.5.5.7.3.2'] });
  const b = chain();
  b.dataBlock({ signers: [clientOnly] });
  const { problems } = audit(b.blocks);
  assert.match(problems[0]!.errors[1]!, /incompatible key usage/);
});

test('unsupported configurations are refused with the reason: an idemix orderer MSP, a BFT ImplicitOrderer policy, an MSP-type policy', () => {
  const idemix = new mspProto.MSPConfig();
  idemix.setType(1);
  const ic = new mspProto.IdemixMSPConfig();
  ic.setName('OrdererMSP');
  idemix.setConfig(ic.serializeBinary());
  const idemixChain = chain({ ...spec, mspOverrides: { OrdererMSP: idemix.serializeBinary() } }, ordererOrg.identity('orderer'));
  idemixChain.dataBlock();
  const { problems } = audit(idemixChain.blocks);
  assert.match(problems[0]!.errors[1]!, /MSP OrdererMSP is an idemix MSP: its identities are not supported/);

  const bft = new common.Policy();
  bft.setType(4);
  assert.throws(() => FabricChannelRules.fromConfigBlock(chain({ ...spec, blockValidationPolicy: bft }).blocks[0]!),
    (e: Error) => e instanceof FabricConfigError && /BFT ImplicitOrderer policy \(type 4\): not supported/.test(e.message));
  const mspType = new common.Policy();
  mspType.setType(2);
  assert.throws(() => FabricChannelRules.fromConfigBlock(chain({ ...spec, blockValidationPolicy: mspType }).blocks[0]!),
    /has unknown policy type: 2/);
  // And an unknown channel capability, as Fabric refuses to process a channel it cannot honour.
  assert.throws(() => FabricChannelRules.fromConfigBlock(chain({ ...spec, channelCapabilities: ['V9_9'] }).blocks[0]!),
    /Channel capability V9_9 is required but not supported/);
  // The audit reports a refused anchor and does not judge what follows by it.
  const refused = chain({ ...spec, blockValidationPolicy: bft });
  refused.dataBlock();
  const r = audit(refused.blocks).problems;
  assert.match(r[0]!.errors[0]!, /^config: .*type 4/);
  assert.match(r[1]!.errors[0]!, /^signatures not checked: the configuration of block 0 is not usable/);
  void implicitMeta;
});

const ROLE = mspProto.MSPRole.MSPRoleType;

test('signature policies over MSPPrincipal roles: ADMIN and PEER by NodeOU, ADMIN by the admins list when NodeOUs are off', async () => {
  const admins = chain({ ...spec, blockValidationPolicy: signedByAnyRole('OrdererMSP', [ROLE.ADMIN]) });
  admins.dataBlock({ signers: [ordererOrg.identity('admin')] });
  admins.dataBlock({ signers: [ordererOrg.identity('orderer')] });
  assert.deepEqual(audit(admins.blocks).problems.map((p) => p.blockNum), [2]);
  assert.match(audit(admins.blocks).problems[0]!.errors[0]!, /signature set did not satisfy policy$/);

  const peers = chain({ ...spec, blockValidationPolicy: signedByAnyRole('Org1MSP', [ROLE.PEER]) });
  peers.dataBlock({ signers: [org1.identity('peer')] });
  peers.dataBlock({ signers: [org1.identity('client')] });
  assert.deepEqual(audit(peers.blocks).problems.map((p) => p.blockNum), [2]);

  const classic = await TestOrg.create('ClassicMSP', { nodeOUs: false });
  const listed = chain({ channelId: 'classic', ordererOrgs: [classic], appOrgs: [], blockValidationPolicy: signedByAnyRole('ClassicMSP', [ROLE.ADMIN]) }, classic.identity('admin'));
  listed.dataBlock();
  listed.dataBlock({ signers: [classic.identity('orderer')] });
  assert.deepEqual(audit(listed.blocks).problems.map((p) => p.blockNum), [2]);
  // Without NodeOUs an ORDERER principal cannot be told apart: refused with Fabric's reason.
  const noOus = chain({ channelId: 'classic2', ordererOrgs: [classic], appOrgs: [], ordererWriters: 'orderer' }, classic.identity('orderer'));
  noOus.dataBlock();
  assert.equal(audit(noOus.blocks).problems.length, 1);
});

test('an unknown MSP signature hash family refuses the configuration with the reason', () => {
  const c = mspProto.FabricMSPConfig.deserializeBinary(mspProto.MSPConfig.deserializeBinary(ordererOrg.mspConfig()).getConfig_asU8());
  const cc = new mspProto.FabricCryptoConfig();
  cc.setSignatureHashFamily('MD5');
  c.setCryptoConfig(cc);
  const m = new mspProto.MSPConfig();
  m.setConfig(c.serializeBinary());
  const genesis = chain({ ...spec, mspOverrides: { OrdererMSP: m.serializeBinary() } }).blocks[0]!;
  assert.throws(() => FabricChannelRules.fromConfigBlock(genesis), /hash family not recognized \[MD5\]/);
});
