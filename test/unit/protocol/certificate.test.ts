// Certificates and the ChannelState checks built on them: chain to the org root, validity period,
// revocation, policy membership, and the block-validation policy over orderer signatures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { ChannelState } from '../../../src/channel/channelState.js';
import { type BlockSigner, makeBlock } from '../../../src/channel/blocks.js';
import {
  type Certificate, CertificateError, type Role, decodeCertificate, encodeCertificate, issueCertificate, verifyCertificate,
} from '../../../src/protocol/certificate.js';
import { type KeyPair, generateKeyPair } from '../../../src/crypto/keys.js';
import { BlockLayout, encodeBlock, LayoutError, SIGNATURE_ENTRY_BYTES, locateBlock } from '../../../src/protocol/block.js';
import { decodeCbor, encodeCbor } from '../../../src/protocol/cbor.js';
import type { ChannelConfig } from '../../../src/protocol/channelConfig.js';

const NOW_MS = Date.UTC(2025, 5, 1);
const HOUR_MS = 3600 * 1000;
const NOT_BEFORE_MS = NOW_MS - HOUR_MS;
const NOT_AFTER_MS = NOW_MS + HOUR_MS;

const ordererRoot = generateKeyPair();
const org1Root = generateKeyPair();
const org2Root = generateKeyPair();

function issue(id: string, org: string, role: Role, root: KeyPair, validity = { notBefore: NOT_BEFORE_MS, notAfter: NOT_AFTER_MS }): { cert: Certificate; key: KeyObject } {
  const key = generateKeyPair();
  return { cert: issueCertificate({ id, org, role, publicKey: key.publicKeyRaw, ...validity }, root.privateKey), key: key.privateKey };
}

const rootsOf = (entries: [string, KeyPair][]): Map<string, KeyObject[]> => new Map(entries.map(([n, k]) => [n, [k.publicKey]]));
const roots = rootsOf([['orderer', ordererRoot], ['org1', org1Root], ['org2', org2Root]]);

function config(signers: Certificate[], minSignatures = 1, revoked: string[] = []): ChannelConfig {
  return {
    channel: 'ch1',
    sequence: 0,
    orderer: { org: 'orderer', signers, minSignatures },
    orgs: [
      { name: 'orderer', rootPublicKey: ordererRoot.publicKeyRaw },
      { name: 'org1', rootPublicKey: org1Root.publicKeyRaw },
      { name: 'org2', rootPublicKey: org2Root.publicKeyRaw },
    ],
    readers: { orgs: ['orderer', 'org1', 'org2'], roles: ['peer', 'client', 'admin', 'orderer'] },
    writers: { orgs: ['org1'], roles: ['client', 'peer', 'admin'] },
    admins: { orgs: ['orderer'], roles: ['admin'] },
    batch: { maxMessageCount: 10, preferredMaxBytes: 1000, absoluteMaxBytes: 2000, batchTimeoutMs: 100 },
    revoked,
  };
}

const orderer0 = issue('orderer0', 'orderer', 'orderer', ordererRoot);
const orderer1 = issue('orderer1', 'orderer', 'orderer', ordererRoot);
const board = issue('org1-board1', 'org1', 'peer', org1Root);

const certError = (pattern: RegExp) => (err: unknown): boolean => err instanceof CertificateError && pattern.test(err.message);

test('certificate: issued, encoded, decoded and verified against its org root', () => {
  verifyCertificate(board.cert, roots, NOW_MS);
  const back = decodeCertificate(encodeCertificate(board.cert));
  assert.equal(back.id, 'org1-board1');
  assert.equal(back.org, 'org1');
  assert.equal(back.role, 'peer');
  assert.equal(back.notBefore, NOT_BEFORE_MS);
  assert.equal(back.notAfter, NOT_AFTER_MS);
  assert.deepEqual(Buffer.from(back.publicKey), Buffer.from(board.cert.publicKey));
  assert.equal(back.fingerprint, board.cert.fingerprint);
  verifyCertificate(back, roots, NOW_MS);
});

test('certificate: signed by another root, or of an unknown org, is refused', () => {
  assert.throws(() => verifyCertificate(board.cert, rootsOf([['org1', org2Root]]), NOW_MS), certError(/not signed by the root of 'org1'/));
  assert.throws(() => verifyCertificate(board.cert, rootsOf([['org2', org2Root]]), NOW_MS), certError(/organisation 'org1' is not known/));
  // A cert claiming org1 but signed by org2's root.
  const impostor = issue('org1-board9', 'org1', 'peer', org2Root);
  assert.throws(() => verifyCertificate(impostor.cert, roots, NOW_MS), certError(/not signed by the root of 'org1'/));
});

test('certificate: a body changed after signing, or a changed signature, is refused', () => {
  const body = decodeCbor(board.cert.body) as Record<string, unknown>;
  body['role'] = 'admin';
  const promoted = decodeCertificate(encodeCbor({ body: encodeCbor(body), signature: board.cert.signature }));
  assert.equal(promoted.role, 'admin');
  assert.throws(() => verifyCertificate(promoted, roots, NOW_MS), certError(/not signed/));

  const flippedBody = Uint8Array.from(board.cert.body);
  flippedBody[flippedBody.length - 1]! ^= 0x01;
  assert.throws(() => verifyCertificate({ ...board.cert, body: flippedBody }, roots, NOW_MS), certError(/not signed/));

  const flippedSig = Uint8Array.from(board.cert.signature);
  flippedSig[0]! ^= 0x80;
  assert.throws(() => verifyCertificate({ ...board.cert, signature: flippedSig }, roots, NOW_MS), certError(/not signed/));
});

test('certificate: valid from notBefore through notAfter, refused outside', () => {
  verifyCertificate(board.cert, roots, NOT_BEFORE_MS);
  verifyCertificate(board.cert, roots, NOT_AFTER_MS);
  assert.throws(() => verifyCertificate(board.cert, roots, NOT_AFTER_MS + 1), certError(/expired/));
  assert.throws(() => verifyCertificate(board.cert, roots, NOT_BEFORE_MS - 1), certError(/not valid before/));
});

test('certificate: revoked by fingerprint', () => {
  const other = issue('org1-board2', 'org1', 'peer', org1Root);
  const revoked = new Set([board.cert.fingerprint]);
  assert.throws(() => verifyCertificate(board.cert, roots, NOW_MS, revoked), certError(/revoked/));
  verifyCertificate(other.cert, roots, NOW_MS, revoked);
});

test('ChannelState.denyReason: null inside the policy, a reason for org, role, revocation, expiry, unknown org', () => {
  const state = new ChannelState(config([orderer0.cert]), NOW_MS);
  const client2 = issue('org2-client', 'org2', 'client', org2Root);
  const admin = issue('orderer-admin', 'orderer', 'admin', ordererRoot);
  assert.equal(state.denyReason(board.cert, state.config.readers, NOW_MS), null);
  assert.equal(state.denyReason(board.cert, state.config.writers, NOW_MS), null);
  assert.equal(state.denyReason(admin.cert, state.config.admins, NOW_MS), null);

  assert.match(state.denyReason(client2.cert, state.config.writers, NOW_MS) ?? '', /organisation 'org2' is not in the policy/);
  assert.match(state.denyReason(board.cert, { orgs: ['org1'], roles: ['client'] }, NOW_MS) ?? '', /role 'peer' is not in the policy/);
  assert.match(state.denyReason(board.cert, state.config.admins, NOW_MS) ?? '', /organisation 'org1'/);
  assert.match(state.denyReason(board.cert, state.config.readers, NOT_AFTER_MS + 1) ?? '', /expired/);

  const stranger = issue('x', 'org3', 'peer', generateKeyPair());
  assert.match(state.denyReason(stranger.cert, state.config.readers, NOW_MS) ?? '', /'org3' is not known/);

  const revokedState = new ChannelState(config([orderer0.cert], 1, [board.cert.fingerprint]), NOW_MS);
  assert.match(revokedState.denyReason(board.cert, revokedState.config.readers, NOW_MS) ?? '', /revoked/);
});

test('ChannelState: a block signer that is not an orderer of the orderer org is refused', () => {
  assert.throws(() => new ChannelState(config([board.cert]), NOW_MS), certError(/org1-board1 is not an orderer/));
  const ordererRoleWrongOrg = issue('org1-orderer', 'org1', 'orderer', org1Root);
  assert.throws(() => new ChannelState(config([ordererRoleWrongOrg.cert]), NOW_MS), certError(/not an orderer of 'orderer'/));
  const admin = issue('orderer-admin', 'orderer', 'admin', ordererRoot);
  assert.throws(() => new ChannelState(config([orderer0.cert, admin.cert]), NOW_MS), certError(/orderer-admin is not an orderer/));
  // Claims the orderer org but is signed by another root.
  const forged = issue('orderer9', 'orderer', 'orderer', org1Root);
  assert.throws(() => new ChannelState(config([forged.cert]), NOW_MS), certError(/not signed by the root of 'orderer'/));
  assert.throws(() => new ChannelState(config([orderer0.cert]), NOT_AFTER_MS + 1), certError(/expired/));
});

function blockWith(signers: readonly BlockSigner[]): { bytes: Uint8Array; layout: BlockLayout } {
  const bytes = makeBlock(3, new Uint8Array(32), [Uint8Array.of(1, 2, 3)], 0, signers).bytes;
  const layout = new BlockLayout();
  assert.equal(locateBlock(bytes, layout), LayoutError.ok);
  return { bytes, layout };
}

test('ChannelState.blockSignaturesValid: good block, flipped signature byte, wrong signer index', () => {
  const state = new ChannelState(config([orderer0.cert, orderer1.cert]), NOW_MS);
  const good = blockWith([{ index: 0, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(good.bytes, good.layout), true);
  const bySecond = blockWith([{ index: 1, key: orderer1.key }]);
  assert.equal(state.blockSignaturesValid(bySecond.bytes, bySecond.layout), true);

  const flipped = Uint8Array.from(good.bytes);
  flipped[good.layout.signaturesOffset + 2 + 17]! ^= 0x04;
  assert.equal(state.blockSignaturesValid(flipped, good.layout), false);

  // The header is what is signed: a changed header byte (the block number) breaks the signature too.
  const renumbered = Uint8Array.from(good.bytes);
  renumbered[3 + 7]! ^= 0x01;
  assert.equal(state.blockSignaturesValid(renumbered, good.layout), false);

  const misindexed = blockWith([{ index: 1, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(misindexed.bytes, misindexed.layout), false);
  const outOfRange = blockWith([{ index: 7, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(outOfRange.bytes, outOfRange.layout), false);
  const unsigned = blockWith([]);
  assert.equal(state.blockSignaturesValid(unsigned.bytes, unsigned.layout), false);
  // A signature by a key that is not an orderer signer, at a valid index.
  const byBoard = blockWith([{ index: 0, key: board.key }]);
  assert.equal(state.blockSignaturesValid(byBoard.bytes, byBoard.layout), false);
  // A bad signature of one signer before a good one of another does not hide the good one.
  const badThenGood = blockWith([{ index: 1, key: orderer0.key }, { index: 0, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(badThenGood.bytes, badThenGood.layout), true);
  // Only the first entry of a signer index counts: a later one of the same index is not even checked.
  const badThenGoodSameIndex = blockWith([{ index: 0, key: board.key }, { index: 0, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(badThenGoodSameIndex.bytes, badThenGoodSameIndex.layout), false);
});

test('ChannelState.blockSignaturesValid: a block with more signature entries than the configuration has signers is refused', () => {
  const state = new ChannelState(config([orderer0.cert, orderer1.cert]), NOW_MS);
  const three = blockWith([{ index: 0, key: orderer0.key }, { index: 1, key: orderer1.key }, { index: 0, key: orderer0.key }]);
  assert.equal(state.blockSignaturesValid(three.bytes, three.layout), false, 'three entries, two signers');
  // What held a board's CPU for 10 s (one Ed25519 check per entry): 63,000 copies of one bad entry.
  const good = blockWith([{ index: 0, key: orderer0.key }]);
  const entry = good.bytes.subarray(good.layout.signaturesOffset, good.layout.signaturesOffset + SIGNATURE_ENTRY_BYTES).slice();
  entry[2]! ^= 0x01;
  const copies = 63_000;
  const header = good.bytes.subarray(3, 3 + 76);
  const flood = encodeBlock(header, good.bytes.subarray(good.layout.dataOffset, good.layout.dataOffset + good.layout.dataLength),
    Array.from({ length: copies }, () => ({ signerIndex: 0, signature: entry.subarray(2) })));
  const layout = new BlockLayout();
  assert.equal(locateBlock(flood, layout), LayoutError.ok);
  assert.equal(layout.signatureCount, copies);
  assert.equal(state.blockSignaturesValid(flood, layout), false);
});

test('ChannelState.blockSignaturesValid with minSignatures=2: distinct signers needed, duplicates do not count', () => {
  const state = new ChannelState(config([orderer0.cert, orderer1.cert], 2), NOW_MS);
  const both = blockWith([{ index: 0, key: orderer0.key }, { index: 1, key: orderer1.key }]);
  assert.equal(state.blockSignaturesValid(both.bytes, both.layout), true);
  const duplicated = blockWith([{ index: 0, key: orderer0.key }, { index: 0, key: orderer0.key }]);
  assert.equal(duplicated.layout.signatureCount, 2);
  assert.equal(state.blockSignaturesValid(duplicated.bytes, duplicated.layout), false);
  const one = blockWith([{ index: 1, key: orderer1.key }]);
  assert.equal(state.blockSignaturesValid(one.bytes, one.layout), false);
  // The duplicate check resets between blocks: the same state accepts a good block after a duplicated one.
  assert.equal(state.blockSignaturesValid(both.bytes, both.layout), true);
  const oneBadOfTwo = Uint8Array.from(both.bytes);
  oneBadOfTwo[both.layout.signaturesOffset + SIGNATURE_ENTRY_BYTES + 2]! ^= 0x01;
  assert.equal(state.blockSignaturesValid(oneBadOfTwo, both.layout), false);
});
