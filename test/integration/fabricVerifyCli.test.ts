// `edgepeer fabric verify`, the built CLI run as a child process: --json prints exactly what Fabric's
// ledgerutil verify writes to blocks.json (only the blocks with problems, Fabric's wording, signature
// problems as further errors), the exit status says whether any block failed, and the summary names
// channel, range, signers and verdict; on the real block file and on tampered copies of it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blockHeaderHash } from '../../src/fabric/blockHashes.js';
import { commonBlockParts, encodeBlockFile } from '../../src/fabric/blockStore.js';
import { ProtoWriter } from '../../src/fabric/protoWire.js';
import { SAMPLE_PROD_BLOCKFILE, sampleProdBlocks } from '../helpers/fabric/realData.js';
import { appendToDataEntry, flipData, flipSignature } from '../helpers/fabric/tamper.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** One verification of a few blocks takes well under a second; the child's start dominates. */
const CLI_TIMEOUT_MS = 30_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { timeout: CLI_TIMEOUT_MS }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') { reject(err); return; }
      resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr });
    });
  });
}

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'fabric-cli-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

test('the real block file: --json prints an empty blocks.json list and exits 0; the summary says OK with channel, range and signer', async () => {
  const json = await cli('fabric', 'verify', SAMPLE_PROD_BLOCKFILE, '--json');
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.stdout, '[\n]\n');
  const text = await cli('fabric', 'verify', SAMPLE_PROD_BLOCKFILE);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^channel +mychannel$/m);
  assert.match(text.stdout, /^blocks +8 checked, 0 to 7$/m);
  assert.match(text.stdout, /^signers +SampleOrg .*CN=peer0\.org1\.example\.com$/m);
  assert.match(text.stdout, /^verdict +OK: all 8 blocks valid$/m);
});

test('a tampered block file: blocks.json lists exactly the bad blocks in ledgerutil\'s format and wording, and the exit status is 1', async () => {
  const blocks = sampleProdBlocks();
  blocks[3] = flipData(blocks[3]!);
  blocks[5] = flipSignature(blocks[5]!);
  // Go's re-marshalling keeps the last payload and signature (the glued envelope's): the original
  // entry's bytes are what trails.
  const original = commonBlockParts(blocks[6]!).data[0]!;
  blocks[6] = appendToDataEntry(blocks[6]!, 0, commonBlockParts(blocks[7]!).data[0]!);
  const file = join(dir, 'blockfile_000000');
  writeFileSync(file, encodeBlockFile(blocks));
  const r = await cli('fabric', 'verify', file, '--json');
  assert.equal(r.code, 1);
  const lines = r.stdout.split('\n');
  assert.deepEqual([lines[0], lines[2], lines[4], lines[6], lines[7]], ['[', ',', ',', ']', ''], 'ledgerutil\'s list framing');
  const entries = JSON.parse(r.stdout) as { blockNum: number; valid: boolean; errors: string[] }[];
  assert.deepEqual(entries.map((e) => [e.blockNum, e.valid]), [[3, false], [5, false], [6, false]]);
  assert.deepEqual(entries[0]!.errors, ['DataHash mismatch']);
  assert.equal(entries[1]!.errors[0], "block signatures do not satisfy /Channel/Orderer/BlockValidation: implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied");
  assert.match(entries[1]!.errors[1]!, /^signature 0 by SampleOrg .* is invalid: /);
  assert.deepEqual(entries[2]!.errors, [`transaction 0 has ${original.length} trailing bytes`, 'DataHash mismatch']);
  const text = await cli('fabric', 'verify', file);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^verdict +FAILED: 3 of 8 blocks have problems$/m);
  assert.match(text.stdout, /^ {2}block 3: DataHash mismatch$/m);
});

test('a chains/ folder of two channels: verified by channel; --json needs --channel; a missing path is an error', async () => {
  const chains = join(dir, 'peer', 'chains');
  for (const ch of ['mychannel', 'second']) {
    mkdirSync(join(chains, 'chains', ch), { recursive: true });
    writeFileSync(join(chains, 'chains', ch, 'blockfile_000000'), encodeBlockFile(sampleProdBlocks()));
  }
  const both = await cli('fabric', 'verify', chains);
  assert.equal(both.code, 0, both.stderr);
  assert.equal(both.stdout.match(/^verdict +OK/gm)?.length, 2);
  const ambiguous = await cli('fabric', 'verify', chains, '--json');
  assert.equal(ambiguous.code, 1);
  assert.match(ambiguous.stderr, /several channels \(mychannel, second\): choose one with --channel/);
  const one = await cli('fabric', 'verify', chains, '--json', '--channel', 'second');
  assert.deepEqual([one.code, one.stdout], [0, '[\n]\n']);
  const missing = await cli('fabric', 'verify', join(dir, 'nothing-here'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: .*nothing-here does not exist/);
});

test('a ledger joined from a snapshot: verified from its first block; its signatures need the config block (--config-block), and are never passed unchecked', async () => {
  const blocks = sampleProdBlocks();
  const ch = join(dir, 'snap', 'chains', 'chains', 'mychannel');
  mkdirSync(ch, { recursive: true });
  writeFileSync(join(ch, 'blockfile_000000'), encodeBlockFile(blocks.slice(3)));
  const b2 = commonBlockParts(blocks[2]!);
  writeFileSync(join(ch, 'bootstrappingSnapshot.info'),
    new ProtoWriter().uintField(1, 2).bytesField(2, blockHeaderHash(b2.number, b2.previousHash, b2.dataHash)).finish());
  const genesis = join(dir, 'genesis.block');
  writeFileSync(genesis, blocks[0]!);
  const unchecked = await cli('fabric', 'verify', join(dir, 'snap'), '--json');
  assert.equal(unchecked.code, 1);
  const entries = JSON.parse(unchecked.stdout) as { blockNum: number; errors: string[] }[];
  assert.deepEqual(entries.map((e) => e.blockNum), [3, 4, 5, 6, 7]);
  assert.match(entries[0]!.errors[0]!, /^signatures not checked: no channel configuration/);
  const checked = await cli('fabric', 'verify', join(dir, 'snap'), '--config-block', genesis);
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /^blocks +5 checked, 3 to 7$/m);
  assert.match(checked.stdout, /^signatures +5 blocks checked/m);
  assert.match(checked.stdout, /joined from a snapshot ending at block 2/);
});
