// The in-place reader (fabricBlockFormat) against the official bindings' decoding, on every real block,
// on builder blocks and on generated ones (fast-check); and the hot path's FabricBlockVerifier: one
// signature check per run, config blocks on their own, the good prefix kept and the bad block named.
import { afterEach, before, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash } from '../../../src/fabric/blockHashes.js';
import { commonBlockParts, encodeCommonBlock } from '../../../src/fabric/blockStore.js';
import { FabricChannelRules } from '../../../src/fabric/channelRules.js';
import { fabricAuditRules } from '../../../src/fabric/fabricAuditRules.js';
import { FabricBlockVerifier, RunResult } from '../../../src/fabric/fabricBlockVerifier.js';
import { FabricBlockReader, fabricBlockFormat } from '../../../src/fabric/fabricFormat.js';
import { ProtoWriter } from '../../../src/fabric/protoWire.js';
import { clusterBlock3, clusterMychannelBlock, sampleProdBlocks } from '../../helpers/fabric/realData.js';
import { appendToDataEntry, flipData, flipSignature, withMetadata } from '../../helpers/fabric/tamper.js';
import { type ChannelSpec, FabricChainBuilder, TestOrg } from '../../helpers/fabric/chainBuilder.js';

const HASH = 32;
const ZERO = new Uint8Array(HASH);

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** What the official bindings say about a block. */
function reference(bytes: Uint8Array): { number: number; previousHash: Uint8Array; dataHash: Uint8Array; data: Uint8Array[]; isConfig: boolean; headerHash: Uint8Array } {
  const b = common.Block.deserializeBinary(bytes);
  const h = b.getHeader()!;
  const data = b.getData()?.getDataList_asU8() ?? [];
  let isConfig = false;
  if (data.length === 1) {
    try {
      const p = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(data[0]!).getPayload_asU8());
      const ch = p.getHeader();
      isConfig = ch !== undefined && common.ChannelHeader.deserializeBinary(ch.getChannelHeader_asU8()).getType() === 1;
    } catch {
      isConfig = false;
    }
  }
  return {
    number: h.getNumber(), previousHash: h.getPreviousHash_asU8(), dataHash: h.getDataHash_asU8(), data, isConfig,
    headerHash: blockHeaderHash(h.getNumber(), h.getPreviousHash_asU8(), h.getDataHash_asU8()),
  };
}

function assertReaderAgrees(reader: FabricBlockReader, bytes: Uint8Array, what: string): void {
  const ref = reference(bytes);
  assert.ok(reader.locate(bytes), `${what}: ${reader.locateError}`);
  assert.equal(reader.number(bytes), ref.number, what);
  const prev = ref.previousHash.length === 0 ? ZERO : ref.previousHash;
  assert.ok(reader.previousHashEquals(bytes, prev, 0), `${what}: previous hash`);
  const out = new Uint8Array(HASH + 3);
  reader.hashInto(bytes, out, 3);
  assert.equal(hex(out.subarray(3)), hex(ref.headerHash), `${what}: header hash`);
  assert.equal(reader.isConfig(bytes), ref.isConfig, `${what}: isConfig`);
}

let ordererOrg: TestOrg;
let spec: ChannelSpec;
before(async () => {
  ordererOrg = await TestOrg.create('OrdererMSP');
  spec = { channelId: 'hotpath', ordererOrgs: [ordererOrg], appOrgs: [await TestOrg.create('Org1MSP')] };
});
afterEach(() => mock.restoreAll());

test('the in-place reader agrees with fabric-protos on every real block (number, previous hash, header hash, isConfig, data hash)', () => {
  const reader = fabricBlockFormat.reader();
  assert.equal(fabricBlockFormat.name, 'fabric');
  const blocks = [...sampleProdBlocks(), clusterMychannelBlock(), clusterBlock3()];
  blocks.forEach((b, i) => {
    assertReaderAgrees(reader as FabricBlockReader, b, `real block ${i}`);
    const ref = reference(b);
    assert.equal(hex(blockDataHash(ref.data)), hex(ref.dataHash), `real block ${i}: the bindings' data hash`);
    assert.ok(reader.dataHashValid(b), `real block ${i}: data hash`);
  });
  // Each sample_prod block's hash is the next one's previous hash, through the reader alone.
  const sp = sampleProdBlocks();
  const h = new Uint8Array(HASH);
  for (let i = 0; i + 1 < sp.length; i++) {
    reader.locate(sp[i]!);
    reader.hashInto(sp[i]!, h, 0);
    reader.locate(sp[i + 1]!);
    assert.ok(reader.previousHashEquals(sp[i + 1]!, h, 0), `link ${i} -> ${i + 1}`);
  }
});

test('the reader agrees with fabric-protos on builder blocks (config and data, several sizes)', () => {
  const b = new FabricChainBuilder(spec);
  b.genesis();
  b.dataBlock({ txCount: 3, txBytes: 300 });
  b.configBlock(spec);
  b.dataBlock({ txCount: 1, txBytes: 4000 });
  const reader = new FabricBlockReader();
  b.blocks.forEach((blk, i) => {
    assertReaderAgrees(reader, blk, `builder block ${i}`);
    assert.ok(reader.dataHashValid(blk));
  });
});

test('property: on generated blocks the reader\'s number, header hash and isConfig equal the bindings\' decoding, and dataHashValid equals the reference rule', () => {
  const reader = new FabricBlockReader();
  const bytes = fc.uint8Array({ maxLength: 40 });
  const envelopeShape = fc.record({
    payload: fc.uint8Array({ maxLength: 30 }),
    signature: fc.uint8Array({ maxLength: 10 }),
    swap: fc.boolean(),
    duplicatePayload: fc.boolean(),
  });
  fc.assert(fc.property(
    fc.record({
      number: fc.maxSafeNat(),
      previousHash: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 })),
      envelopes: fc.array(envelopeShape, { maxLength: 4 }),
      metadata: fc.array(bytes, { maxLength: 5 }),
      headerType: fc.integer({ min: -2, max: 5 }),
      corruptHash: fc.boolean(),
    }),
    (g) => {
      const data = g.envelopes.map((e, i) => {
        const payload = i === 0 ? configLikePayload(g.headerType, e.payload) : e.payload;
        const w = new ProtoWriter();
        if (e.swap) w.bytesField(2, e.signature).bytesField(1, payload);
        else w.bytesField(1, payload).bytesField(2, e.signature);
        if (e.duplicatePayload) w.bytesField(1, payload);
        return w.finish();
      });
      const dataHash = blockDataHash(data);
      if (g.corruptHash) dataHash[0] = dataHash[0]! ^ 1;
      const block = encodeCommonBlock({ number: g.number, previousHash: g.previousHash, dataHash, data, metadata: g.metadata });
      assertReaderAgrees(reader, block, 'generated');
      // The reference rule: every entry decodes, has payload and signature, and re-encodes to itself
      // (the bindings drop nothing here: no unknown fields), unless the block is a single CONFIG
      // envelope; and the concatenation hashes to the header's data hash.
      const ref = reference(block);
      const wellFormed = data.length > 0 && (ref.isConfig || data.every((d) => {
        const env = common.Envelope.deserializeBinary(d);
        return env.getPayload_asU8().length > 0 && env.getSignature_asU8().length > 0 && hex(env.serializeBinary()) === hex(d);
      }));
      assert.equal(reader.dataHashValid(block), wellFormed && !g.corruptHash);
    },
  ), { numRuns: 300 });
});

/** A Payload whose ChannelHeader has the given type (so some generated blocks are config blocks). */
function configLikePayload(type: number, data: Uint8Array): Uint8Array {
  const ch = new common.ChannelHeader();
  ch.setType(type);
  ch.setChannelId('gen');
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  const p = new common.Payload();
  p.setHeader(header);
  p.setData(data);
  return p.serializeBinary();
}

test('the reader refuses ambiguous encodings: a field twice (merged by Go) or a field Block does not define', () => {
  const reader = new FabricBlockReader();
  const b = sampleProdBlocks()[1]!;
  const doubledHeader = new ProtoWriter().raw(b).bytesField(1, new Uint8Array(0)).finish();
  assert.equal(reader.locate(doubledHeader), false);
  assert.match(reader.locateError, /field twice/);
  const unknown = new ProtoWriter().raw(b).bytesField(9, new Uint8Array(1)).finish();
  assert.equal(reader.locate(unknown), false);
  assert.match(reader.locateError, /does not define/);
  assert.equal(reader.locate(b.subarray(0, b.length - 1)), false);
});

// ---- the run verifier ----

interface Harness {
  builder: FabricChainBuilder;
  verifier: FabricBlockVerifier;
  checks: ReturnType<typeof mock.method>;
  configs: number[];
}

function harness(s: ChannelSpec = spec, opts: { perBlockSignatures?: boolean } = {}): Harness {
  const builder = new FabricChainBuilder(s);
  const genesis = builder.genesis();
  const rules = FabricChannelRules.fromConfigBlock(genesis);
  const configs: number[] = [];
  const verifier = new FabricBlockVerifier(rules, 0, blockHeaderHash(0, new Uint8Array(0), commonBlockParts(genesis).dataHash), {
    ...opts,
    onConfig: (n) => configs.push(n),
  });
  const checks = mock.method(FabricChannelRules.prototype, 'verifyBlockSignatures');
  return { builder, verifier, checks, configs };
}

function run(h: Harness, blocks: Uint8Array[]): { r: RunResult; hashes: Uint8Array } {
  const r = new RunResult();
  const hashes = new Uint8Array(blocks.length * HASH);
  h.verifier.verifyRun(blocks, 0, blocks.length, hashes, r);
  return { r, hashes };
}

test('runs: every block linked and hashed, ONE signature check per run on its newest block, the tip advanced', () => {
  const h = harness();
  const blocks = h.builder.dataBlocks(120, { txBytes: 600 });
  for (let k = 0; k < 3; k++) {
    const { r, hashes } = run(h, blocks.slice(k * 40, k * 40 + 40));
    assert.equal(r.good, 40);
    assert.equal(r.badIndex, -1);
    for (let i = 0; i < 40; i++) {
      const p = commonBlockParts(blocks[k * 40 + i]!);
      assert.equal(hex(hashes.subarray(i * HASH, (i + 1) * HASH)), hex(blockHeaderHash(p.number, p.previousHash, p.dataHash)));
    }
  }
  assert.equal(h.checks.mock.callCount(), 3);
  assert.equal(h.verifier.tipNumber, 120);
  // Re-delivered blocks below the tip are skipped as duplicates.
  const again = run(h, blocks.slice(110, 120));
  assert.equal(again.r.duplicates, 10);
  assert.equal(again.r.good, 0);
});

test('a config block closes the run, is verified on its own and governs the blocks after it', async () => {
  const h = harness();
  const newOrderer = await TestOrg.create('NewOrdererMSP');
  const blocks = [...h.builder.dataBlocks(10)];
  blocks.push(h.builder.configBlock({ ...spec, ordererOrgs: [newOrderer] }));
  h.builder.signer = newOrderer.identity('orderer');
  blocks.push(...h.builder.dataBlocks(10));
  const { r } = run(h, blocks);
  assert.equal(r.good, 21);
  assert.equal(h.checks.mock.callCount(), 2, 'one check for the run up to the config block, one for the run after it');
  assert.deepEqual(h.configs, [11]);
  assert.deepEqual(h.verifier.rules.ordererMspIds, ['NewOrdererMSP']);
  // The old orderer may no longer sign.
  h.builder.signer = ordererOrg.identity('orderer');
  const late = run(h, [h.builder.dataBlock()]);
  assert.equal(late.r.reason, 'signature');
  assert.equal(late.r.badNumber, 22);
  assert.match(late.r.detail, /MSP OrdererMSP is not defined on channel/);
});

test('a run whose tip signature fails is re-checked block by block: the good prefix kept, the bad block named', () => {
  const h = harness();
  const blocks = h.builder.dataBlocks(20);
  blocks[19] = flipSignature(blocks[19]!);
  const { r } = run(h, blocks);
  assert.equal(r.good, 19);
  assert.equal(r.badIndex, 19);
  assert.equal(r.badNumber, 20);
  assert.equal(r.reason, 'signature');
  assert.match(r.detail, /^block 20: implicit policy evaluation failed/);
  assert.equal(h.checks.mock.callCount(), 1 + 20, 'the tip, then each block of the run');
  assert.equal(h.verifier.tipNumber, 19);
});

test('data, link, number and trailing-bytes faults stop the run at the bad block; the prefix before it is signature-checked on its own tip', () => {
  const h = harness();
  const blocks = h.builder.dataBlocks(12);
  const badData = blocks.slice();
  badData[7] = flipData(badData[7]!);
  let { r } = run(h, badData);
  assert.deepEqual([r.good, r.badIndex, r.reason, r.detail], [7, 7, 'data-hash', 'block 8: DataHash mismatch']);
  assert.equal(h.checks.mock.callCount(), 1);
  assert.equal(h.verifier.tipNumber, 7);

  const glued = blocks.slice(7);
  glued[2] = appendToDataEntry(glued[2]!, 0, commonBlockParts(glued[3]!).data[0]!);
  ({ r } = run(h, glued));
  assert.equal(r.reason, 'data-hash');
  assert.match(r.detail, /^block 10: transaction 0 has \d+ trailing bytes$/);

  ({ r } = run(h, [blocks[11]!]));
  assert.deepEqual([r.reason, r.detail], ['number', 'expected block 10, got 12']);
});

test('a block that does not link to the tip is refused as previous-hash; a gap as number; one its orderer signed is a fork', async () => {
  const h = harness();
  const blocks = h.builder.dataBlocks(5);
  let { r } = run(h, [blocks[1]!]);
  assert.equal(r.reason, 'number');
  // Another chain under another orderer: its signatures do not verify here, so it is a mere mismatch.
  const other = harness({ ...spec, channelId: 'otherchannel', ordererOrgs: [await TestOrg.create('OtherOrdererMSP')] });
  ({ r } = run(h, [other.builder.dataBlocks(1)[0]!]));
  assert.equal(r.reason, 'previous-hash');
  assert.equal(r.detail, 'block 1: PreviousHash mismatch');
  // Another chain its own orderer signed (a substituted chain: its block 1 follows another genesis) is a fork.
  const sameOrderer = harness({ ...spec, channelId: 'otherchannel' });
  ({ r } = run(sameOrderer, [blocks[0]!]));
  assert.equal(r.reason, 'fork');
  assert.equal(r.forkNumber, 0);
  assert.equal(hex(r.heldHash), hex(sameOrderer.verifier.tipHash));
  assert.equal(hex(r.conflictingHash), hex(reference(blocks[0]!).previousHash), "the block's previous hash: the other genesis");
});

test('another orderer-signed block at the height of the tip is a fork; the tip itself again a duplicate', () => {
  const h = harness();
  const blocks = h.builder.dataBlocks(2);
  assert.equal(run(h, blocks).r.good, 2);
  const other = harness({ ...spec, channelId: 'otherchannel' }).builder.dataBlocks(2)[1]!;
  let { r } = run(h, [blocks[1]!]);
  assert.deepEqual([r.reason, r.duplicates], [null, 1]);
  ({ r } = run(h, [other]));
  assert.deepEqual([r.reason, r.badIndex, r.badNumber, r.forkNumber], ['fork', 0, 2, 2]);
  assert.equal(hex(r.heldHash), hex(reference(blocks[1]!).headerHash));
  assert.equal(hex(r.conflictingHash), hex(reference(other).headerHash));
  assert.equal(h.verifier.tipNumber, 2);
});

test('amortisation does not authenticate the metadata of non-tip blocks (documented); perBlockSignatures checks every block', () => {
  const blocksOf = (h: Harness): Uint8Array[] => {
    const blocks = h.builder.dataBlocks(10);
    // Strip block 4's signatures: its header and data are intact, so the chain still links.
    blocks[3] = withMetadata(blocks[3]!, commonBlockParts(blocks[3]!).metadata.map(() => new Uint8Array(0)));
    return blocks;
  };
  const amortised = harness();
  const a = run(amortised, blocksOf(amortised));
  assert.equal(a.r.good, 10, 'the tip\'s signature vouches for headers and data, not for block 4\'s metadata');
  assert.equal(amortised.checks.mock.callCount(), 1);
  mock.restoreAll();
  const strict = harness(spec, { perBlockSignatures: true });
  const s = run(strict, blocksOf(strict));
  assert.deepEqual([s.r.good, s.r.badNumber, s.r.reason], [3, 4, 'signature']);
  assert.equal(strict.checks.mock.callCount(), 4);
});

test('fabricAuditRules (the ledger audit\'s per-block checks): anchor first, every block\'s signatures, config applied', () => {
  const rules = fabricAuditRules();
  const blocks = sampleProdBlocks();
  const reader = new FabricBlockReader();
  blocks.forEach((b, n) => {
    reader.locate(b);
    assert.equal(rules.check(b, n, reader.isConfig(b)), null, `block ${n}`);
  });
  const again = fabricAuditRules();
  assert.match(again.check(blocks[1]!, 1, false)!, /not a config block/);
  const tampered = fabricAuditRules();
  tampered.check(blocks[0]!, 0, true);
  assert.match(tampered.check(flipSignature(blocks[1]!), 1, false)!, /^block signatures do not satisfy \/Channel\/Orderer\/BlockValidation/);
});
