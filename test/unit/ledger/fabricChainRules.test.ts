// A Fabric channel held in a real LMDB ledger through fabricChainRules: the pinned genesis anchored,
// blocks verified by FabricBlockVerifier and appended byte for byte, a reopened ledger governed by its
// newest config block, and `verifyChain` auditing it with fabricAuditRules (every block's signatures).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fabricChainRules } from '../../../src/ledger/fabricChainRules.js';
import { ledgerPath, openLedger } from '../../../src/ledger/lmdbLedger.js';
import { verifyChain } from '../../../src/ledger/verifyChain.js';
import { RunResult } from '../../../src/protocol/blockFormat.js';
import { type ChannelSpec, FabricChainBuilder, TestOrg } from '../../helpers/fabric/chainBuilder.js';
import { sampleProdBlocks } from '../../helpers/fabric/realData.js';
import { flipSignature } from '../../helpers/fabric/tamper.js';

let dir: string;
let spec: ChannelSpec;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fabric-ledger-'));
  spec = { channelId: 'ledgerchannel', ordererOrgs: [await TestOrg.create('OrdererMSP')], appOrgs: [] };
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('sample_prod into an LMDB ledger: anchored at its genesis, verified in runs, stored byte for byte, audited clean', async () => {
  const blocks = sampleProdBlocks();
  const rules = fabricChainRules('mychannel', blocks[0]!);
  const ledger = openLedger(ledgerPath(join(dir, 'real'), 'mychannel'), { channel: 'mychannel', format: rules.format });
  try {
    const verifier = rules.anchor(ledger);
    const r = new RunResult();
    const hashes = new Uint8Array(7 * 32);
    verifier.verifyRun(blocks, 1, 7, hashes, r);
    assert.equal(r.good, 7, r.detail);
    ledger.append(blocks, null, 1, 7);
    assert.equal(ledger.height(), 8);
    blocks.forEach((b, n) => assert.deepEqual(Buffer.from(ledger.getBlock(n)!), Buffer.from(b)));
    assert.deepEqual(verifyChain(ledger, { rules: rules.auditRules(Date.now()) }), { ok: true, height: 8, lastHash: ledger.lastHash().slice() });
  } finally {
    await ledger.close();
  }
});

test('a reopened ledger is governed by its newest config block; a different genesis is refused; the audit names a bad signature', async () => {
  const b = new FabricChainBuilder(spec);
  const genesis = b.genesis();
  const newOrderer = await TestOrg.create('NewOrdererMSP');
  b.dataBlocks(3);
  b.configBlock({ ...spec, ordererOrgs: [newOrderer] });
  b.signer = newOrderer.identity('orderer');
  b.dataBlocks(2);
  const rules = fabricChainRules('ledgerchannel', genesis);
  const path = ledgerPath(join(dir, 'built'), 'ledgerchannel');
  let ledger = openLedger(path, { channel: 'ledgerchannel', format: rules.format });
  const configs: number[] = [];
  const verifier = rules.anchor(ledger, (n) => configs.push(n));
  const r = new RunResult();
  verifier.verifyRun(b.blocks, 1, 6, new Uint8Array(6 * 32), r);
  assert.equal(r.good, 6, r.detail);
  assert.deepEqual(configs, [4]);
  ledger.append(b.blocks, null, 1, 6);
  await ledger.close();

  ledger = openLedger(path, { channel: 'ledgerchannel', format: rules.format });
  try {
    assert.equal(ledger.lastConfigNumber(), 4);
    const reopened = rules.anchor(ledger);
    assert.equal(reopened.tipNumber, 6);
    b.signer = spec.ordererOrgs[0]!.identity('orderer');
    const old = b.dataBlock();
    const r2 = new RunResult();
    reopened.verifyRun([old], 0, 1, new Uint8Array(32), r2);
    assert.equal(r2.reason, 'signature', 'the old orderer is no longer allowed after block 4');
    assert.throws(() => fabricChainRules('ledgerchannel', sampleProdBlocks()[0]!).anchor(ledger), /pinned Fabric genesis block is for channel 'mychannel', not 'ledgerchannel'/);
  } finally {
    await ledger.close();
  }

  const bad = new FabricChainBuilder(spec);
  bad.genesis();
  bad.dataBlocks(3);
  const badPath = ledgerPath(join(dir, 'bad'), 'ledgerchannel');
  const badLedger = openLedger(badPath, { channel: 'ledgerchannel', format: rules.format });
  try {
    const badRules = fabricChainRules('ledgerchannel', bad.blocks[0]!);
    badRules.anchor(badLedger);
    // Stored without verification (a damaged store): the audit checks every block's signatures itself.
    badLedger.append([bad.blocks[1]!, flipSignature(bad.blocks[2]!), bad.blocks[3]!], null, 0, 3);
    const v = verifyChain(badLedger, { rules: badRules.auditRules(Date.now()) });
    assert.equal(v.ok, false);
    assert.equal(!v.ok && v.badBlock, 2);
    assert.match(!v.ok ? v.reason : '', /block signatures do not satisfy \/Channel\/Orderer\/BlockValidation/);
  } finally {
    await badLedger.close();
  }
});
