// The fleet commands' channel configuration changes (src/network/configChanges.ts): each is the next
// configuration (sequence + 1, the only one the orderer accepts) or null when the change is in place,
// and none of them alters the configuration it was given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { type Certificate, issueCertificate } from '../../../src/protocol/certificate.js';
import type { ChannelConfig } from '../../../src/protocol/channelConfig.js';
import { POLICY_NAMES, configWithOrg, configWithRevoked, configWithSignerReplaced, isPolicyName } from '../../../src/network/configChanges.js';

const ORDERER_ROOT = generateKeyPair();
const VALIDITY = { notBefore: 0, notAfter: 4_102_444_800_000 };

function ordererCert(id: string): Certificate {
  return issueCertificate({ id, org: 'orderer', role: 'orderer', publicKey: generateKeyPair().publicKeyRaw, ...VALIDITY }, ORDERER_ROOT.privateKey);
}

const ORG1_ROOT = generateKeyPair().publicKeyRaw;
const ORG2_ROOT = generateKeyPair().publicKeyRaw;
const SIGNERS = [ordererCert('orderer0'), ordererCert('orderer1')];

function baseConfig(): ChannelConfig {
  return {
    channel: 'alpha',
    sequence: 3,
    orderer: { org: 'orderer', signers: [...SIGNERS], minSignatures: 1 },
    orgs: [{ name: 'org1', rootPublicKey: ORG1_ROOT }],
    readers: { orgs: ['org1'], roles: ['peer', 'client'] },
    writers: { orgs: ['org1'], roles: ['client'] },
    admins: { orgs: ['org1'], roles: ['admin'] },
    batch: { maxMessageCount: 10, preferredMaxBytes: 1_000, absoluteMaxBytes: 2_000, batchTimeoutMs: 500 },
    revoked: ['aa'],
  };
}

/** Runs `change` on a fresh configuration and checks that the input came back unchanged. */
function applied<T>(change: (c: ChannelConfig) => T): T {
  const current = baseConfig();
  const before = JSON.stringify(current);
  const out = change(current);
  assert.equal(JSON.stringify(current), before, 'the current configuration was modified');
  return out;
}

test('policy names: readers, writers, admins and nothing else', () => {
  assert.deepEqual([...POLICY_NAMES], ['readers', 'writers', 'admins']);
  for (const n of POLICY_NAMES) assert.equal(isPolicyName(n), true);
  for (const n of ['Readers', 'orderer', '', 'revoked']) assert.equal(isPolicyName(n), false, n);
});

test('configWithOrg: a new org is added with its root key to the policies named, sequence + 1', () => {
  const next = applied((c) => configWithOrg(c, 'org2', ORG2_ROOT, ['readers', 'writers']));
  assert.ok(next !== null);
  assert.equal(next.sequence, 4);
  assert.deepEqual(next.orgs, [{ name: 'org1', rootPublicKey: ORG1_ROOT }, { name: 'org2', rootPublicKey: ORG2_ROOT }]);
  assert.deepEqual(next.readers, { orgs: ['org1', 'org2'], roles: ['peer', 'client'] });
  assert.deepEqual(next.writers, { orgs: ['org1', 'org2'], roles: ['client'] });
  assert.deepEqual(next.admins, { orgs: ['org1'], roles: ['admin'] }, 'admins was not named');
  assert.deepEqual(next.revoked, ['aa']);
  assert.deepEqual(next.orderer, baseConfig().orderer);
});

test('configWithOrg: a new org in no policy is still a change (its root key)', () => {
  const next = applied((c) => configWithOrg(c, 'org2', ORG2_ROOT, []));
  assert.ok(next !== null);
  assert.equal(next.orgs.length, 2);
  assert.deepEqual(next.readers.orgs, ['org1']);
});

test('configWithOrg: a known org with the same key is added to the policies it misses, or nothing changes', () => {
  const widened = applied((c) => configWithOrg(c, 'org1', ORG1_ROOT, ['readers', 'admins']));
  assert.equal(widened, null, 'org1 is in readers and admins already');
  const current = baseConfig();
  current.admins = { orgs: [], roles: ['admin'] };
  const next = configWithOrg(current, 'org1', Uint8Array.from(ORG1_ROOT), ['readers', 'admins']);
  assert.ok(next !== null, 'org1 was missing from admins');
  assert.equal(next.sequence, 4);
  assert.equal(next.orgs.length, 1, 'the org is not listed twice');
  assert.deepEqual(next.admins.orgs, ['org1']);
  assert.deepEqual(next.readers.orgs, ['org1'], 'not listed twice in a policy it was in');
});

test('configWithOrg: a known org name with another root key is refused: that is another organisation', () => {
  assert.throws(() => applied((c) => configWithOrg(c, 'org1', ORG2_ROOT, ['readers'])), /channel 'alpha' already has an organisation 'org1' with another root key/);
});

test('configWithRevoked: the fingerprint appended, sequence + 1; null when it is revoked already', () => {
  const next = applied((c) => configWithRevoked(c, ['bb']));
  assert.ok(next !== null);
  assert.equal(next.sequence, 4);
  assert.deepEqual(next.revoked, ['aa', 'bb']);
  assert.equal(applied((c) => configWithRevoked(c, ['aa'])), null);
});

test('configWithSignerReplaced: the retiring signer replaced at its index, minSignatures kept, sequence + 1', () => {
  const replacement = ordererCert('orderer0');
  const next = applied((c) => configWithSignerReplaced(c, SIGNERS[0]!.fingerprint, replacement));
  assert.ok(next !== null);
  assert.equal(next.sequence, 4);
  assert.deepEqual(next.orderer.signers.map((s) => s.fingerprint), [replacement.fingerprint, SIGNERS[1]!.fingerprint]);
  assert.equal(next.orderer.minSignatures, 1);
  assert.equal(next.orderer.org, 'orderer');
});

test('configWithSignerReplaced: null when the new certificate signs already (a rotation taken up again)', () => {
  assert.equal(applied((c) => configWithSignerReplaced(c, SIGNERS[0]!.fingerprint, SIGNERS[1]!)), null);
  assert.equal(applied((c) => configWithSignerReplaced(c, 'ff'.repeat(32), SIGNERS[0]!)), null, 'even when the retiring one is gone');
});

test('configWithSignerReplaced: a retiring certificate that is not a block signer is refused', () => {
  assert.throws(() => applied((c) => configWithSignerReplaced(c, 'ab'.repeat(32), ordererCert('orderer2'))),
    /channel 'alpha': the orderer certificate abababababababab… is not one of its block signers/);
});
