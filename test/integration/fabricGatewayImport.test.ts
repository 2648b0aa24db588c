// Importing Fabric blocks into a gateway's ledger (src/fabricGateway/blockImport.ts) with the gateway's rules
// (every block verified, signatures included) on a real LMDB ledger: idempotent on re-run, adding only
// what a longer file has more, refusing a forged block with nothing of it stored and a fork or a gap
// with the ledger untouched.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gatewayRulesFor } from '../../src/cli/fabricChannel.js';
import { BlockImportError, type ImportSummary, importBlocks } from '../../src/fabricGateway/blockImport.js';
import { fabricGatewayDefaults } from '../../src/fabricGateway/gatewayDefaults.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { makeTestChannel } from '../helpers/fabric/chainBuilder.js';
import { flipSignature } from '../helpers/fabric/tamper.js';

const CHANNEL = 'edgechannel';
/** Small runs, so a file spans several transactions and a bad block falls inside one. */
const RUN_MAX_BLOCKS = 4;

async function chain(count: number): Promise<Uint8Array[]> {
  const { builder } = await makeTestChannel(CHANNEL);
  builder.genesis();
  for (let i = 1; i < count; i++) builder.dataBlock({ txCount: 1, txBytes: 300 });
  return builder.blocks;
}

function ledgerDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-fabric-import-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function importInto(dir: string, genesis: Uint8Array, blocks: Uint8Array[]): Promise<ImportSummary> {
  const rules = gatewayRulesFor({ kind: 'fabric', channel: CHANNEL, access: new Uint8Array(0), fabricGenesis: genesis, fabricGenesisSha256: '' });
  const ledger = openLedger(ledgerPath(dir, CHANNEL), { channel: CHANNEL, format: rules.format });
  try {
    return importBlocks(blocks, {
      ledger, verifier: rules.anchor(ledger), reader: rules.format.reader(),
      limits: { runMaxBlocks: RUN_MAX_BLOCKS, runMaxBytes: fabricGatewayDefaults.runMaxBytes },
    });
  } finally {
    await ledger.close();
  }
}

async function stored(dir: string, genesis: Uint8Array): Promise<Uint8Array[]> {
  const rules = gatewayRulesFor({ kind: 'fabric', channel: CHANNEL, access: new Uint8Array(0), fabricGenesis: genesis, fabricGenesisSha256: '' });
  const ledger = openLedger(ledgerPath(dir, CHANNEL), { channel: CHANNEL, format: rules.format, readOnly: true });
  try {
    return Array.from({ length: ledger.height() }, (_, n) => ledger.getBlock(n)!);
  } finally {
    await ledger.close();
  }
}

const same = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => Buffer.from(x).equals(Buffer.from(b[i]!)));

test('import stores a block file\'s blocks byte for byte; a re-run adds nothing; a longer file adds only the rest', async (t) => {
  const blocks = await chain(30);
  const dir = ledgerDir(t);
  assert.deepEqual(await importInto(dir, blocks[0]!, blocks.slice(0, 15)), { alreadyHeld: 1, added: 14, height: 15 }, 'block 0 is the anchored pin');
  assert.deepEqual(await importInto(dir, blocks[0]!, blocks.slice(0, 15)), { alreadyHeld: 15, added: 0, height: 15 });
  assert.deepEqual(await importInto(dir, blocks[0]!, blocks), { alreadyHeld: 15, added: 15, height: 30 });
  assert.ok(same(await stored(dir, blocks[0]!), blocks));
});

test('a forged block in the file (its signature flipped, not the newest of its run) is refused: the blocks before it stay, nothing of it is stored', async (t) => {
  const blocks = await chain(20);
  const dir = ledgerDir(t);
  // Block 9 is the second of the run 8..11: an amortised check (the run's newest only) would let it in.
  const forged = [...blocks.slice(0, 9), flipSignature(blocks[9]!), ...blocks.slice(10)];
  await assert.rejects(importInto(dir, blocks[0]!, forged), (e: unknown) => e instanceof BlockImportError && e.blockNumber === 9
    && /refused \(signature\)/.test(e.message) && e.summary.height === 9);
  assert.ok(same(await stored(dir, blocks[0]!), blocks.slice(0, 9)));
  assert.deepEqual(await importInto(dir, blocks[0]!, blocks), { alreadyHeld: 9, added: 11, height: 20 }, 'the real file then completes it');
});

test('a file from another chain (a fork), or one that starts above the ledger, is refused and the ledger left as it was', async (t) => {
  const blocks = await chain(10);
  const other = await chain(10);
  const dir = ledgerDir(t);
  await importInto(dir, blocks[0]!, blocks.slice(0, 5));
  await assert.rejects(importInto(dir, blocks[0]!, [blocks[0]!, ...other.slice(1)]), /block 1: differs from the block the ledger holds/);
  await assert.rejects(importInto(dir, blocks[0]!, blocks.slice(7)), /block 7: the file starts above the ledger: it holds blocks up to 4/);
  await assert.rejects(importInto(dir, blocks[0]!, [...blocks.slice(0, 6), ...blocks.slice(7)]), /the file jumps from block 5 to block 7/);
  assert.ok(same(await stored(dir, blocks[0]!), blocks.slice(0, 5)), 'the ledger is as the first import left it (the run holding the gap was not stored)');
});
