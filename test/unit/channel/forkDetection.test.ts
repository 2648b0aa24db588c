// Fork detection in the run verifier (src/channel/blockVerifier.ts): a block the orderer signed (its
// signatures verify under the channel's current configuration) that conflicts with the verified chain,
// by a previous hash that is not the tip's at tip + 1 or by another hash at the tip's own height, is a
// fork (reason 'fork', both hashes named); the same conflict under a signature that does not verify is
// a forgery, refused as before. The signature is checked only on the conflict path.
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockVerifier, RunResult } from '../../../src/channel/blockVerifier.js';
import { ChannelState } from '../../../src/channel/channelState.js';
import { makeBlock } from '../../../src/channel/blocks.js';
import { toHex } from '../../../src/crypto/hash.js';
import { HASH_BYTES, PREVIOUS_HASH_OFFSET } from '../../../src/protocol/block.js';
import { blockHash } from '../../../src/protocol/blockHash.js';
import { MessageType, signEnvelope } from '../../../src/protocol/envelope.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';

let signatureChecks: ReturnType<typeof mock.method>;
beforeEach(() => {
  signatureChecks = mock.method(ChannelState.prototype, 'blockSignaturesValid');
});
afterEach(() => {
  mock.restoreAll();
});

function run(v: BlockVerifier, blocks: Uint8Array[]): RunResult {
  const r = new RunResult();
  v.verifyRun(blocks, 0, blocks.length, new Uint8Array(blocks.length * HASH_BYTES), r);
  return r;
}

/** A verifier that has verified blocks 1..n of tc's chain (returned). */
function verifiedTo(tc: TestChannel, n: number): { v: BlockVerifier; blocks: Uint8Array[] } {
  const v = new BlockVerifier(tc.state, 0, tc.genesisHash);
  const blocks = tc.chain(n);
  assert.equal(run(v, blocks).good, n);
  return { v, blocks };
}

/**
 * Blocks from..to of another chain of the same channel, signed by its orderer, branching off after
 * `parentHash` (block from - 1): the chain an orderer would hold after losing blocks, or a substituted one.
 */
function otherBranch(tc: TestChannel, from: number, to: number, parentHash: Uint8Array): Uint8Array[] {
  const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: tc.config.channel, data: new Uint8Array(64).fill(0xb7) }, tc.clientSigner).bytes;
  const out: Uint8Array[] = [];
  let prev = parentHash;
  for (let n = from; n <= to; n++) {
    const b = makeBlock(n, prev, [tx], 0, tc.blockSigners);
    out.push(b.bytes);
    prev = b.hash;
  }
  return out;
}

const hex = (b: Uint8Array): string => toHex(b);

test('an orderer-signed block at tip + 1 that does not chain to the tip is a fork, with both hashes; the tip stays', () => {
  const tc = makeTestChannel();
  const { v, blocks } = verifiedTo(tc, 6);
  // The other chain branches off after block 3: its block 7 follows its own block 6.
  const branch = otherBranch(tc, 4, 8, blockHash(blocks[2]!));
  const before = signatureChecks.mock.callCount();
  const r = run(v, branch.slice(3));
  assert.deepEqual(
    { reason: r.reason, badIndex: r.badIndex, badNumber: r.badNumber, forkNumber: r.forkNumber, good: r.good },
    { reason: 'fork', badIndex: 0, badNumber: 7, forkNumber: 6, good: 0 },
    r.detail,
  );
  assert.equal(hex(r.heldHash), hex(blockHash(blocks[5]!)), "the board's block 6");
  assert.equal(hex(r.conflictingHash), hex(blockHash(branch[2]!)), "the other chain's block 6");
  assert.match(r.detail, new RegExp(`^block 6: this board holds ${hex(r.heldHash)}, a block 7 signed by the orderer follows ${hex(r.conflictingHash)}$`));
  assert.equal(signatureChecks.mock.callCount() - before, 1, 'one signature check, on the conflicting block');
  assert.equal(v.tipNumber, 6);
  assert.equal(hex(v.tipHash), hex(blockHash(blocks[5]!)));
});

test('a signed block inside a run that does not chain to the block before it: the good prefix is kept, then a fork', () => {
  const tc = makeTestChannel();
  const v = new BlockVerifier(tc.state, 0, tc.genesisHash);
  const blocks = tc.chain(10);
  blocks[5] = tc.forge.badPreviousHash(blocks[5]!); // block 6, re-signed by the orderer
  const r = run(v, blocks);
  assert.deepEqual({ reason: r.reason, good: r.good, badIndex: r.badIndex, forkNumber: r.forkNumber }, { reason: 'fork', good: 5, badIndex: 5, forkNumber: 5 });
  assert.equal(hex(r.heldHash), hex(blockHash(blocks[4]!)));
  assert.equal(hex(r.conflictingHash), hex(blocks[5]!.subarray(PREVIOUS_HASH_OFFSET, PREVIOUS_HASH_OFFSET + HASH_BYTES)));
  assert.equal(v.tipNumber, 5);
});

test('the same conflict under a signature that does not verify is an ordinary previous-hash rejection', () => {
  const tc = makeTestChannel();
  const { v, blocks } = verifiedTo(tc, 6);
  const forged = tc.forge.badSignature(otherBranch(tc, 7, 7, new Uint8Array(HASH_BYTES).fill(3))[0]!);
  const r = run(v, [forged]);
  assert.deepEqual({ reason: r.reason, badNumber: r.badNumber, forkNumber: r.forkNumber }, { reason: 'previous-hash', badNumber: 7, forkNumber: -1 });
  assert.equal(v.tipNumber, 6);
  assert.equal(hex(v.tipHash), hex(blockHash(blocks[5]!)));
});

test('another orderer-signed block at the height of the tip is a fork; a garbled one there is skipped as a duplicate', () => {
  const tc = makeTestChannel();
  const { v, blocks } = verifiedTo(tc, 6);
  const [other6] = otherBranch(tc, 6, 6, blockHash(blocks[4]!));
  const r = run(v, [other6!]);
  assert.deepEqual(
    { reason: r.reason, duplicates: r.duplicates, badIndex: r.badIndex, badNumber: r.badNumber, forkNumber: r.forkNumber },
    { reason: 'fork', duplicates: 0, badIndex: 0, badNumber: 6, forkNumber: 6 },
  );
  assert.equal(hex(r.heldHash), hex(blockHash(blocks[5]!)));
  assert.equal(hex(r.conflictingHash), hex(blockHash(other6!)));
  assert.match(r.detail, /a block 6 signed by the orderer hashes to [0-9a-f]{64}$/);

  const garbled = run(v, [tc.forge.badSignature(other6!)]);
  assert.deepEqual({ reason: garbled.reason, duplicates: garbled.duplicates, badIndex: garbled.badIndex }, { reason: null, duplicates: 1, badIndex: -1 });
  // The tip itself again is a plain duplicate, and a run after it goes on.
  const again = run(v, [blocks[5]!, ...tc.chain(2)]);
  assert.deepEqual({ reason: again.reason, duplicates: again.duplicates, good: again.good }, { reason: null, duplicates: 1, good: 2 });
});
