import { blockHash } from '../../../src/protocol/blockHash.js';
// Run verification with amortised signatures (docs/design.md, "Amortised verification"): one signature check per contiguous run, every
// block's number, previous hash and data hash checked, the bad block of a run named precisely, and
// configuration blocks verified on their own with their configuration governing the blocks after them.
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelState } from '../../../src/channel/channelState.js';
import { type BlockSigner, makeBlock, signConfigEnvelope } from '../../../src/channel/blocks.js';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { toHex } from '../../../src/crypto/hash.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { certificateValidityMs } from '../../../src/network/networkDefaults.js';
import { BlockVerifier, RunResult } from '../../../src/channel/blockVerifier.js';
import { FLAG_CONFIG, HASH_BYTES } from '../../../src/protocol/block.js';
import type { ChannelConfig } from '../../../src/protocol/channelConfig.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';

const RUN_BLOCKS = 50;

/** Counts block-signature checks (each is an Ed25519 verify on the hot path). */
let signatureChecks: ReturnType<typeof mock.method>;
beforeEach(() => {
  signatureChecks = mock.method(ChannelState.prototype, 'blockSignaturesValid');
});
afterEach(() => {
  mock.restoreAll();
});

function checks(): number {
  return signatureChecks.mock.callCount();
}

/** Byte equality that ignores Buffer vs Uint8Array (node:crypto hands out Buffers). */
function assertBytes(actual: Uint8Array, expected: Uint8Array, message?: string): void {
  assert.equal(toHex(actual), toHex(expected), message);
}

function hashOf(block: Uint8Array): Uint8Array {
  return blockHash(block);
}

function verifierAtGenesis(tc: TestChannel, onConfig?: (n: number, s: ChannelState) => void): BlockVerifier {
  return new BlockVerifier(tc.state, 0, tc.genesisHash, onConfig);
}

function run(v: BlockVerifier, blocks: Uint8Array[], from = 0, count = blocks.length - from): { r: RunResult; hashes: Uint8Array } {
  const r = new RunResult();
  const hashes = new Uint8Array(Math.max(count, 1) * HASH_BYTES);
  v.verifyRun(blocks, from, count, hashes, r);
  return { r, hashes };
}

function assertBad(r: RunResult, good: number, badIndex: number, reason: string, badNumber: number): void {
  assert.deepEqual(
    { good: r.good, badIndex: r.badIndex, reason: r.reason, badNumber: r.badNumber },
    { good, badIndex, reason, badNumber },
    r.detail,
  );
  assert.ok(r.detail.length > 0, 'a rejection says why');
}

/** A new orderer identity of the channel's orderer org, for signer rotation. */
function newOrdererSigner(tc: TestChannel): { cert: ReturnType<typeof issueCertificate>; blockSigner: BlockSigner } {
  const keys = generateKeyPair();
  const now = Date.now();
  const cert = issueCertificate(
    { id: 'orderer1', org: 'orderer', role: 'orderer', publicKey: keys.publicKeyRaw, notBefore: now - 60_000, notAfter: now + certificateValidityMs },
    tc.orgRoots.get('orderer')!.privateKey,
  );
  return { cert, blockSigner: { index: 0, key: keys.privateKey } };
}

/** A configuration block (next in tc's chain, signed by the current signer) that makes `newSigner` the only block signer. */
function rotationConfigBlock(tc: TestChannel, cert: ReturnType<typeof issueCertificate>, sequence = 1): { block: Uint8Array; config: ChannelConfig } {
  const config: ChannelConfig = { ...tc.config, sequence, orderer: { ...tc.config.orderer, signers: [cert] } };
  const block = tc.nextBlock([signConfigEnvelope(config, tc.ordererAdmin)], { flags: FLAG_CONFIG });
  return { block, config };
}

test('a good run of 50 verifies with one signature check, writes every header hash and advances the tip', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(RUN_BLOCKS);
  const { r, hashes } = run(v, blocks);
  assert.deepEqual({ duplicates: r.duplicates, good: r.good, badIndex: r.badIndex, reason: r.reason }, { duplicates: 0, good: RUN_BLOCKS, badIndex: -1, reason: null });
  assert.equal(checks(), 1, 'one signature check for the whole run');
  assert.equal(v.tipNumber, RUN_BLOCKS);
  assertBytes(v.tipHash, tc.lastHash());
  for (let i = 0; i < RUN_BLOCKS; i++) {
    assertBytes(hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES), hashOf(blocks[i]!), `hash of block ${i + 1}`);
  }
});

test('a run continues from the tip of the previous one, and from an offset in the array', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(20);
  run(v, blocks, 0, 10);
  const { r, hashes } = run(v, blocks, 10, 10);
  assert.equal(r.good, 10);
  assert.equal(r.badIndex, -1);
  assert.equal(v.tipNumber, 20);
  // Hashes are indexed from `from`.
  assertBytes(hashes.subarray(0, HASH_BYTES), hashOf(blocks[10]!));
  assert.equal(checks(), 2);
});

test('blocks at or below the tip at the head of a run are skipped as duplicates', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(15);
  run(v, blocks, 0, 10); // tip 10
  const { r, hashes } = run(v, blocks, 7, 8); // blocks 8..15
  assert.equal(r.duplicates, 3);
  assert.equal(r.good, 5);
  assert.equal(r.badIndex, -1);
  assert.equal(v.tipNumber, 15);
  // Hash of block 11 (index 10 of the array) lands at (10 - 7) * 32.
  assertBytes(hashes.subarray(3 * HASH_BYTES, 4 * HASH_BYTES), hashOf(blocks[10]!));

  // A run made only of blocks already had changes nothing.
  const again = run(v, blocks, 0, 15);
  assert.deepEqual({ duplicates: again.r.duplicates, good: again.r.good, badIndex: again.r.badIndex }, { duplicates: 15, good: 0, badIndex: -1 });
  assert.equal(v.tipNumber, 15);
});

test('a bad signature on the newest block of a run: the blocks before it are good, the tip stops below it', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(10);
  blocks[9] = tc.forge.badSignature(blocks[9]!);
  const { r } = run(v, blocks);
  assertBad(r, 9, 9, 'signature', 10);
  assert.equal(v.tipNumber, 9);
  assertBytes(v.tipHash, hashOf(blocks[8]!));
});

test('blocks forged from block k on (signed by a key that is not a block signer): exactly blocks before k good, badIndex k', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const k = 23;
  const good = tc.chain(k); // blocks 1..23, indices 0..22
  const rogue: BlockSigner[] = [{ index: 0, key: generateKeyPair().privateKey }];
  const forged = Array.from({ length: RUN_BLOCKS - k }, () => tc.nextBlock(undefined, { signers: rogue }));
  const { r } = run(v, [...good, ...forged]);
  assertBad(r, k, k, 'signature', k + 1);
  assert.equal(v.tipNumber, k, 'tip at the last good block');
  assertBytes(v.tipHash, hashOf(good[k - 1]!));
  // The verifier recovers: the genuine continuation from the tip is accepted.
  const genuine = makeBlock(k + 1, v.tipHash, [tc.txEnvelope], 0, tc.blockSigners).bytes;
  const again = run(v, [genuine]);
  assert.equal(again.r.good, 1);
  assert.equal(v.tipNumber, k + 1);
});

test('a bad signature on block k inside a run (forge.badSignature): blocks before k good, badIndex k, tip k-1',
  () => {
    const tc = makeTestChannel();
    const v = verifierAtGenesis(tc);
    const blocks = tc.chain(RUN_BLOCKS);
    const k = 17; // index 17 = block 18
    blocks[k] = tc.forge.badSignature(blocks[k]!);
    const { r } = run(v, blocks);
    assertBad(r, k, k, 'signature', k + 1);
    assert.equal(v.tipNumber, k);
  });

// A wrong previous hash under a signature that does not verify: not the orderer's block. (Under a valid
// signature it is a fork: test/unit/channel/forkDetection.test.ts.)
const forgedPreviousHash = (tc: TestChannel, b: Uint8Array): Uint8Array => tc.forge.badSignature(tc.forge.badPreviousHash(b));

test('a bad previous hash is named, and the blocks before it are kept', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(10);
  blocks[5] = forgedPreviousHash(tc, blocks[5]!);
  const { r } = run(v, blocks);
  assertBad(r, 5, 5, 'previous-hash', 6);
  assert.equal(v.tipNumber, 5);
  assertBytes(v.tipHash, hashOf(blocks[4]!));
});

test('a bad previous hash on the first block of a run is checked against the verified tip', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(3);
  blocks[0] = forgedPreviousHash(tc, blocks[0]!);
  const { r } = run(v, blocks);
  assertBad(r, 0, 0, 'previous-hash', 1);
  assert.equal(v.tipNumber, 0);
  assertBytes(v.tipHash, tc.genesisHash);
});

test('a bad data hash is named, and the blocks before it are kept', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(10);
  blocks[7] = tc.forge.badDataHash(blocks[7]!);
  const { r } = run(v, blocks);
  assertBad(r, 7, 7, 'data-hash', 8);
  assert.equal(v.tipNumber, 7);
});

test('a gap in the numbers is a number error at the first block after it', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(8);
  const withGap = [...blocks.slice(0, 4), ...blocks.slice(5)]; // 1,2,3,4,6,7,8
  const { r } = run(v, withGap);
  assertBad(r, 4, 4, 'number', 6);
  assert.equal(v.tipNumber, 4);
});

test('garbage bytes are a layout error', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(3);
  const { r } = run(v, [blocks[0]!, blocks[1]!, Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])]);
  assertBad(r, 2, 2, 'layout', -1);
  assert.equal(v.tipNumber, 2);
  // Garbage at the head of a run is not mistaken for a duplicate.
  const head = run(v, [new Uint8Array(200).fill(0x83)]);
  assertBad(head.r, 0, 0, 'layout', -1);
  assert.equal(head.r.duplicates, 0);
});

test('a configuration block inside a run is verified on its own and its configuration governs the blocks after it', () => {
  const tc = makeTestChannel();
  const seen: [number, number][] = [];
  const v = verifierAtGenesis(tc, (n, s) => seen.push([n, s.config.sequence]));
  const { cert, blockSigner } = newOrdererSigner(tc);
  const before = tc.chain(3); // 1..3 by the old signer
  const { block: cfg } = rotationConfigBlock(tc, cert); // 4, by the old signer
  const after = Array.from({ length: 4 }, () => tc.nextBlock(undefined, { signers: [blockSigner] })); // 5..8 by the new one
  const { r } = run(v, [...before, cfg, ...after]);
  assert.deepEqual({ good: r.good, badIndex: r.badIndex, reason: r.reason }, { good: 8, badIndex: -1, reason: null }, r.detail);
  assert.equal(checks(), 2, 'the configuration block closes its own segment: one check for 1..4, one for 5..8');
  assert.equal(v.tipNumber, 8);
  assert.equal(v.state.config.sequence, 1);
  assert.equal(v.state.config.orderer.signers[0]!.fingerprint, cert.fingerprint);
  assert.deepEqual(seen, [[4, 1]]);
});

test('after a signer rotation, blocks still signed by the old signer fail', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const { cert } = newOrdererSigner(tc);
  const before = tc.chain(2); // 1..2
  const { block: cfg } = rotationConfigBlock(tc, cert); // 3
  const stale = tc.chain(3); // 4..6, still by the old signer (tc.blockSigners)
  const { r } = run(v, [...before, cfg, ...stale]);
  assertBad(r, 3, 3, 'signature', 4);
  assert.equal(v.tipNumber, 3, 'the configuration block itself was good');
  assert.equal(v.state.config.sequence, 1);
});

test('a configuration block is checked even when well-signed blocks follow it', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const { cert, blockSigner } = newOrdererSigner(tc);
  const before = tc.chain(2); // 1..2
  const { block: cfg } = rotationConfigBlock(tc, cert); // 3
  const after = Array.from({ length: 3 }, () => tc.nextBlock(undefined, { signers: [blockSigner] })); // 4..6
  const { r } = run(v, [...before, tc.forge.badSignature(cfg), ...after]);
  assertBad(r, 2, 2, 'signature', 3);
  assert.equal(v.tipNumber, 2);
  assert.equal(v.state.config.sequence, 0, 'the refused configuration does not take effect');
});

test('a configuration block that does not raise the sequence is refused as config', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const { cert } = newOrdererSigner(tc);
  const before = tc.chain(2);
  const { block: cfg } = rotationConfigBlock(tc, cert, 0);
  const { r } = run(v, [...before, cfg]);
  assertBad(r, 2, 2, 'config', 3);
  assert.equal(v.tipNumber, 2);
  assert.equal(v.state.config.sequence, 0);
});

test('reset re-anchors the verifier at a committed tip', () => {
  const tc = makeTestChannel();
  const v = verifierAtGenesis(tc);
  const blocks = tc.chain(6);
  run(v, blocks); // tip 6
  v.reset(tc.state, 3, hashOf(blocks[2]!));
  assert.equal(v.tipNumber, 3);
  const { r } = run(v, blocks.slice(3));
  assert.deepEqual({ duplicates: r.duplicates, good: r.good, badIndex: r.badIndex }, { duplicates: 0, good: 3, badIndex: -1 });
  assert.equal(v.tipNumber, 6);
});
