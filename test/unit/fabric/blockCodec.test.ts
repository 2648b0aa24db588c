// Fabric block codecs and hashes against real Fabric data: the block-store serialization of a real peer
// block file rebuilt into the common.Block bytes Fabric would send (equal to what the official bindings
// encode), the header hash as DER exactly as Go's encoding/asn1 writes it (proven by the real chain's
// previous-hash links), and ledgerutil verify's checks with its wording.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common } from '@hyperledger/fabric-protos';
import { blockHeaderBytes, blockHeaderHash } from '../../../src/fabric/blockHashes.js';
import { findFabricLedgers, ledgerBlocks } from '../../../src/fabric/blockFiles.js';
import {
  blockToBlockStore, commonBlockParts, decodeStoredBlock, encodeBlockFile, encodeCommonBlock,
} from '../../../src/fabric/blockStore.js';
import { auditBlocks } from '../../../src/fabric/ledgerAudit.js';
import { ProtoWriter } from '../../../src/fabric/protoWire.js';
import { clusterBlock3, clusterMychannelBlock, sampleProdBlocks } from '../../helpers/fabric/realData.js';
import {
  appendToDataEntry, flipData, flipDataHash, flipPreviousHash, withDataEntriesRehashed,
} from '../../helpers/fabric/tamper.js';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

test('sample_prod.blockfile: 8 blocks of mychannel, each rebuilt as the common.Block the official bindings encode', () => {
  const blocks = sampleProdBlocks();
  assert.equal(blocks.length, 8);
  blocks.forEach((b, i) => {
    const decoded = common.Block.deserializeBinary(b);
    assert.equal(decoded.getHeader()?.getNumber(), i);
    assert.deepEqual(Buffer.from(decoded.serializeBinary()), Buffer.from(b), `block ${i}: bytes differ from fabric-protos' encoding`);
  });
});

test('block-store serialization round trip: common.Block -> stored -> common.Block is the identity, on real and single-block files', () => {
  for (const b of [...sampleProdBlocks(), clusterMychannelBlock(), clusterBlock3()]) {
    const stored = blockToBlockStore(b);
    assert.deepEqual(Buffer.from(encodeCommonBlock(decodeStoredBlock(stored))), Buffer.from(b));
  }
});

test('the real single-block files are byte-identical to our encoding of their parts (Go deterministic marshalling)', () => {
  for (const b of [clusterMychannelBlock(), clusterBlock3()]) {
    assert.deepEqual(Buffer.from(encodeCommonBlock(commonBlockParts(b))), Buffer.from(b));
  }
});

test('BlockHeaderBytes is Go asn1 DER: minimal INTEGER with a sign byte, empty OCTET STRING for no previous hash, long-form lengths', () => {
  const h32 = new Uint8Array(32).fill(0xab);
  assert.equal(hex(blockHeaderBytes(0, new Uint8Array(0), h32)), `3027020100040004 20${'ab'.repeat(32)}`.replace(/ /g, ''));
  assert.equal(hex(blockHeaderBytes(127, h32, h32)).slice(0, 10), '304702017f');
  assert.equal(hex(blockHeaderBytes(128, h32, h32)).slice(0, 12), '304802020080');
  assert.equal(hex(blockHeaderBytes(0x8000, h32, h32)).slice(0, 14), '30490203008000');
  assert.equal(hex(blockHeaderBytes(Number.MAX_SAFE_INTEGER, h32, h32)).slice(0, 22), '304d02071fffffffffffff');
  // A previous hash of 100 bytes makes the SEQUENCE longer than 127: long-form length (0x81).
  const long = blockHeaderBytes(1, new Uint8Array(100), h32);
  assert.equal(hex(long).slice(0, 6), '30818b');
  assert.equal(long.length, 3 + 0x8b);
});

test('each real block\'s previous hash is the BlockHeaderHash of the block before it (hash rule proven on Fabric data)', () => {
  const blocks = sampleProdBlocks().map(commonBlockParts);
  for (let i = 1; i < blocks.length; i++) {
    const p = blocks[i - 1]!;
    assert.equal(hex(blocks[i]!.previousHash), hex(blockHeaderHash(p.number, p.previousHash, p.dataHash)), `block ${i}`);
  }
});

test('sample_prod verifies clean under ledgerutil verify\'s checks (data hash, previous hash, well-formed transactions)', () => {
  const summary = auditBlocks(sampleProdBlocks());
  assert.deepEqual(summary.problems, []);
  assert.equal(summary.blocksChecked, 8);
  assert.equal(summary.firstBlock, 0);
  assert.equal(summary.lastBlock, 7);
});

test('a byte flipped in a block\'s data is "DataHash mismatch" on that block only', () => {
  const blocks = sampleProdBlocks();
  blocks[3] = flipData(blocks[3]!);
  assert.deepEqual(auditBlocks(blocks).problems, [{ blockNum: 3, valid: false, errors: ['DataHash mismatch'] }]);
});

test('a byte flipped in a block\'s header data hash: "DataHash mismatch" there, and the next block no longer links', () => {
  const blocks = sampleProdBlocks();
  blocks[4] = flipDataHash(blocks[4]!);
  assert.deepEqual(auditBlocks(blocks).problems, [
    { blockNum: 4, valid: false, errors: ['DataHash mismatch'] },
    { blockNum: 5, valid: false, errors: ['PreviousHash mismatch'] },
  ]);
});

test('a byte flipped in a block\'s previous hash: "PreviousHash mismatch" there (and on the next, whose link covered the header)', () => {
  const blocks = sampleProdBlocks();
  blocks[2] = flipPreviousHash(blocks[2]!);
  assert.deepEqual(auditBlocks(blocks).problems, [
    { blockNum: 2, valid: false, errors: ['PreviousHash mismatch'] },
    { blockNum: 3, valid: false, errors: ['PreviousHash mismatch'] },
  ]);
});

test('two envelopes glued into one entry: "transaction 0 has N trailing bytes" then "DataHash mismatch", as Fabric\'s glued_together data', () => {
  const blocks = sampleProdBlocks();
  // Go's re-marshalling keeps the last payload and signature (the glued envelope's), so the original
  // entry's bytes are the trailing ones. Glue a shorter envelope to tell the two lengths apart.
  const original = commonBlockParts(blocks[5]!).data[0]!;
  const glued = new ProtoWriter().bytesField(1, new Uint8Array(10).fill(1)).bytesField(2, new Uint8Array(4).fill(2)).finish();
  blocks[5] = appendToDataEntry(blocks[5]!, 0, glued);
  assert.deepEqual(auditBlocks(blocks).problems, [
    { blockNum: 5, valid: false, errors: [`transaction 0 has ${original.length} trailing bytes`, 'DataHash mismatch'] },
  ]);
});

test('envelopes that are not well formed are named with Fabric\'s texts', () => {
  const blocks = sampleProdBlocks();
  const parts = commonBlockParts(blocks[1]!);
  const env = common.Envelope.deserializeBinary(parts.data[0]!);
  const noSig = new common.Envelope();
  noSig.setPayload(env.getPayload_asU8());
  const noPayload = new common.Envelope();
  noPayload.setSignature(env.getSignature_asU8());
  // Signature before payload: same length as the re-marshalled form, different bytes.
  const swapped = new ProtoWriter().bytesField(2, env.getSignature_asU8()).bytesField(1, env.getPayload_asU8()).finish();
  const cases: [Uint8Array, string][] = [
    [noSig.serializeBinary(), 'transaction 0 has no signature'],
    [noPayload.serializeBinary(), 'transaction 0 has no payload'],
    [Uint8Array.from([0x0a, 0x05, 1]), 'transaction 0 is invalid: proto: cannot parse invalid wire-format data'],
  ];
  for (const [entry, text] of cases) {
    const summary = auditBlocks([blocks[0]!, withEntry(blocks[1]!, entry)]);
    assert.equal(summary.problems[0]?.errors[0], text);
  }
  const mismatch = auditBlocks([blocks[0]!, withEntry(blocks[1]!, swapped)]).problems[0]!.errors[0]!;
  assert.match(mismatch, /^transaction 0 \(.+\) does not match its raw form \(.+\)$/);
  // Unknown fields after payload and signature survive Go's re-marshalling: still well formed.
  const withUnknown = Uint8Array.from([...parts.data[0]!, 0x18, 0x01]);
  assert.deepEqual(auditBlocks([blocks[0]!, withEntry(blocks[1]!, withUnknown)]).problems[0]!.errors, ['DataHash mismatch']);
});

test('a single CONFIG envelope is exempt from the well-formed check (Fabric\'s HasConfigTx); two of them are not', () => {
  const genesis = sampleProdBlocks()[0]!;
  const env = common.Envelope.deserializeBinary(commonBlockParts(genesis).data[0]!);
  const unsigned = new common.Envelope();
  unsigned.setPayload(env.getPayload_asU8());
  const entry = unsigned.serializeBinary();
  assert.deepEqual(auditBlocks([withDataEntriesRehashed(genesis, [entry])]).problems, []);
  assert.deepEqual(auditBlocks([withDataEntriesRehashed(genesis, [entry, entry])]).problems, [
    { blockNum: 0, valid: false, errors: ['transaction 0 has no signature'] },
  ]);
});

function withEntry(block: Uint8Array, entry: Uint8Array): Uint8Array {
  return encodeCommonBlock({ ...commonBlockParts(block), data: [entry] });
}

test('a peer\'s chains/ folder and a ledger joined from a snapshot (first block > 0) are read and verified from the first block', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fabric-chains-'));
  try {
    const blocks = sampleProdBlocks();
    const full = join(dir, 'full', 'chains', 'chains', 'mychannel');
    mkdirSync(full, { recursive: true });
    mkdirSync(join(dir, 'full', 'chains', 'index'));
    writeFileSync(join(full, 'blockfile_000000'), encodeBlockFile(blocks.slice(0, 5)));
    writeFileSync(join(full, 'blockfile_000001'), encodeBlockFile(blocks.slice(5)));
    const [source] = findFabricLedgers(join(dir, 'full', 'chains'));
    assert.equal(source!.channel, 'mychannel');
    assert.deepEqual([...ledgerBlocks(source!)].map((b) => Buffer.from(b.block)), blocks.map((b) => Buffer.from(b)));

    const snap = join(dir, 'snap', 'chains', 'chains', 'mychannel');
    mkdirSync(snap, { recursive: true });
    writeFileSync(join(snap, 'blockfile_000000'), encodeBlockFile(blocks.slice(3)));
    const b2 = commonBlockParts(blocks[2]!);
    const lastHash = blockHeaderHash(b2.number, b2.previousHash, b2.dataHash);
    writeFileSync(join(snap, 'bootstrappingSnapshot.info'), new ProtoWriter().uintField(1, 2).bytesField(2, lastHash).finish());
    const [snapSource] = findFabricLedgers(join(dir, 'snap'));
    assert.equal(snapSource!.snapshot?.lastBlockNumber, 2);
    const summary = auditBlocks([...ledgerBlocks(snapSource!)].map((b) => b.block), { snapshot: snapSource!.snapshot! });
    assert.deepEqual(summary.problems, []);
    assert.equal(summary.firstBlock, 3);
    assert.equal(summary.lastBlock, 7);
    // The first block is checked against the snapshot's last block hash.
    const wrong = auditBlocks([...ledgerBlocks(snapSource!)].map((b) => b.block), {
      snapshot: { ...snapSource!.snapshot!, lastBlockHash: new Uint8Array(32) },
    });
    assert.deepEqual(wrong.problems, [{ blockNum: 3, valid: false, errors: ['PreviousHash mismatch'] }]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a block file cut in the middle of a record is refused with the file and offset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fabric-trunc-'));
  try {
    const bytes = encodeBlockFile(sampleProdBlocks());
    const file = join(dir, 'blockfile_000000');
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const [source] = findFabricLedgers(file);
    assert.throws(() => [...ledgerBlocks(source!)], /truncated record at offset \d+/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
