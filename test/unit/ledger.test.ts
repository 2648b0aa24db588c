import { blockHash } from '../../src/crypto/blockHash.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { open } from 'lmdb';
import { signConfigEnvelope } from '../../src/channel/blocks.js';
import { issueCertificate } from '../../src/crypto/certificate.js';
import { toHex } from '../../src/crypto/hash.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { LedgerAppendError } from '../../src/ledger/ledger.js';
import { LedgerOpenError, type LmdbLedger, findLedgers, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { verifyChain } from '../../src/ledger/verifyChain.js';
import { registerLedger } from '../../src/cli/commands/ledger.js';
import { BlockLayout, FLAG_CONFIG, LayoutError, locateBlock } from '../../src/protocol/block.js';
import { type TestChannel, makeTestChannel } from '../helpers/testChannel.js';

const CHANNEL = 'testchannel';
let root: string;
let dirCount = 0;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'edgepeer-ledger-'));
});
after(() => {
  rmSync(root, { recursive: true, force: true });
});

function freshDir(): string {
  return join(root, `d${dirCount++}`);
}

/** Byte equality that ignores Buffer vs Uint8Array (lmdb and node:crypto hand out Buffers). */
function assertBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined, message?: string): void {
  assert.ok(actual !== undefined && expected !== undefined, message ?? 'bytes missing');
  assert.equal(toHex(actual), toHex(expected), message);
}

function hashOf(block: Uint8Array): Uint8Array {
  return blockHash(block);
}

/** A ledger holding genesis + n blocks, plus the channel that made it. */
function filledLedger(n: number): { dir: string; path: string; ledger: LmdbLedger; ch: TestChannel; blocks: Uint8Array[] } {
  const ch = makeTestChannel({ channel: CHANNEL });
  const dir = freshDir();
  const path = ledgerPath(dir, CHANNEL);
  const ledger = openLedger(path, { channel: CHANNEL });
  const blocks = [ch.genesis, ...ch.chain(n)];
  ledger.append(blocks, null, 0, blocks.length);
  return { dir, path, ledger, ch, blocks };
}

/** Overwrites a stored block behind the ledger's back, as disk damage would. */
async function overwriteStoredBlock(path: string, n: number, bytes: Uint8Array): Promise<void> {
  const env = open(path, { maxDbs: 3, noSubdir: true });
  env.openDB<Uint8Array, number>('blocks', { encoding: 'binary' }).putSync(n, bytes);
  await env.close();
}

function assertAppendRejected(ledger: LmdbLedger, blocks: Uint8Array[], expectedNumber: number, reason: RegExp): void {
  assert.throws(() => ledger.append(blocks, null, 0, blocks.length), (err: unknown) => {
    assert.ok(err instanceof LedgerAppendError, `expected LedgerAppendError, got ${String(err)}`);
    assert.equal(err.blockNumber, expectedNumber);
    assert.match(err.message, new RegExp(`^block ${expectedNumber}: `));
    assert.match(err.message, reason);
    return true;
  });
}

describe('LmdbLedger', () => {
  test('a new ledger is empty, then takes genesis and runs of blocks', async () => {
    const ch = makeTestChannel({ channel: CHANNEL });
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
    assert.equal(ledger.height(), 0);
    assertBytes(ledger.lastHash(), new Uint8Array(32));
    assert.equal(ledger.lastConfigNumber(), -1);

    ledger.append([ch.genesis], null, 0, 1);
    assert.equal(ledger.height(), 1);
    assertBytes(ledger.lastHash(), ch.genesisHash);
    assert.equal(ledger.lastConfigNumber(), 0);

    const run = ch.chain(10);
    ledger.append(run, null, 0, 4);
    ledger.append(run, run.map(hashOf), 4, 6);
    assert.equal(ledger.height(), 11);
    assertBytes(ledger.lastHash(), ch.lastHash());
    assert.equal(ledger.lastConfigNumber(), 0);
    await ledger.close();
  });

  test('getBlock, getBlockUnsafe and numberOfHash return what was appended', async () => {
    const { ledger, blocks } = filledLedger(5);
    for (let n = 0; n < blocks.length; n++) {
      assertBytes(ledger.getBlock(n), blocks[n]);
      const unsafe = ledger.getBlockUnsafe(n)!;
      assert.equal(unsafe.byteLength, blocks[n]!.length, 'the unsafe view must cover exactly the block');
      assertBytes(unsafe, blocks[n]);
      assert.equal(ledger.numberOfHash(hashOf(blocks[n]!)), n);
    }
    assert.equal(ledger.getBlock(blocks.length), undefined);
    assert.equal(ledger.getBlockUnsafe(blocks.length), undefined);
    assert.equal(ledger.getBlock(-1), undefined);
    assert.equal(ledger.numberOfHash(new Uint8Array(32)), undefined);
    // getBlock hands out a copy that later reads do not overwrite.
    const copy = ledger.getBlock(1)!;
    ledger.getBlockUnsafe(2);
    assertBytes(copy, blocks[1]);
    await ledger.close();
  });

  test('reopening gives the same height, last hash and last config number', async () => {
    const { path, ledger, ch } = filledLedger(7);
    await ledger.close();
    const again = openLedger(path, { channel: CHANNEL });
    assert.equal(again.height(), 8);
    assertBytes(again.lastHash(), ch.lastHash());
    assert.equal(again.lastConfigNumber(), 0);
    // Appending continues where the first handle stopped.
    again.append(ch.chain(1), null, 0, 1);
    assert.equal(again.height(), 9);
    await again.close();
  });

  test('a config block moves lastConfigNumber in the same append', async () => {
    const { path, ledger, ch } = filledLedger(2);
    const update = { ...ch.config, sequence: 1 };
    const blocks = [ch.nextBlock(), ch.nextBlock([signConfigEnvelope(update, ch.ordererAdmin)], { flags: FLAG_CONFIG }), ch.nextBlock()];
    ledger.append(blocks, null, 0, 3);
    assert.equal(ledger.lastConfigNumber(), 4);
    await ledger.close();
    const again = openLedger(path, { channel: CHANNEL });
    assert.equal(again.lastConfigNumber(), 4);
    assert.equal(verifyChain(again).ok, true);
    await again.close();
  });

  describe('rejected appends write nothing', () => {
    const cases: { name: string; make(ch: TestChannel): Uint8Array[]; bad: number; reason: RegExp }[] = [
      {
        name: 'wrong number (a block skipped)',
        make: (ch) => { ch.nextBlock(); return [ch.nextBlock()]; },
        bad: 5, reason: /expected block number 4/,
      },
      {
        name: 'wrong previous hash',
        make: (ch) => [ch.forge.badPreviousHash(ch.nextBlock())],
        bad: 4, reason: /previous hash/,
      },
      {
        name: 'garbage bytes',
        make: () => [new Uint8Array(200).fill(0xab)],
        bad: 4, reason: /not a CBOR array/,
      },
      {
        name: 'a run whose 3rd block is bad',
        make: (ch) => { const run = ch.chain(5); run[2] = ch.forge.badPreviousHash(run[2]!); return run; },
        bad: 6, reason: /previous hash does not match the hash of block 5/,
      },
    ];
    for (const c of cases) {
      test(c.name, async () => {
        const { path, ledger, ch, blocks } = filledLedger(3);
        const heightBefore = ledger.height();
        const hashBefore = ledger.lastHash().slice();
        const attempt = c.make(ch);
        assertAppendRejected(ledger, attempt, c.bad, c.reason);
        assert.equal(ledger.height(), heightBefore);
        assertBytes(ledger.lastHash(), hashBefore);
        assert.equal(ledger.getBlock(heightBefore), undefined);
        // Garbage has no block hash; everything that has one must not be indexed.
        for (const b of attempt) if (locateBlock(b, new BlockLayout()) === LayoutError.ok) assert.equal(ledger.numberOfHash(hashOf(b)), undefined);
        await ledger.close();

        const again = openLedger(path, { channel: CHANNEL });
        assert.equal(again.height(), heightBefore);
        assertBytes(again.lastHash(), hashBefore);
        assert.equal(again.getBlock(heightBefore), undefined);
        assertBytes(again.getBlock(heightBefore - 1), blocks[heightBefore - 1]);
        await again.close();
      });
    }

    test('the genesis block must be number 0 with a zero previous hash', async () => {
      const ch = makeTestChannel({ channel: CHANNEL });
      const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
      assertAppendRejected(ledger, [ch.nextBlock()], 1, /expected block number 0/);
      assert.equal(ledger.height(), 0);
      await ledger.close();
    });
  });

  test('a second writer handle with a stale height is refused inside the transaction', async () => {
    const { path, ledger, ch } = filledLedger(1);
    const second = openLedger(path, { channel: CHANNEL });
    const block = ch.nextBlock();
    ledger.append([block], null, 0, 1);
    // `second` still believes the height is 2, so its own checks pass; the stored height does not.
    assertAppendRejected(second, [block], 2, /stored height is 3/);
    assert.equal(second.height(), 2);
    await second.close();
    await ledger.close();
  });

  test('opening a file of another channel is an error', async () => {
    const { dir, ledger } = filledLedger(1);
    await ledger.close();
    const path = ledgerPath(dir, CHANNEL);
    assert.throws(() => openLedger(path, { channel: 'other' }), (err: unknown) =>
      err instanceof LedgerOpenError && /belongs to channel 'testchannel', not 'other'/.test(err.message));
  });

  test('read-only: needs an existing file and refuses appends', async () => {
    assert.throws(() => openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL, readOnly: true }), LedgerOpenError);
    const { path, ledger, ch } = filledLedger(2);
    await ledger.close();
    const ro = openLedger(path, { channel: CHANNEL, readOnly: true });
    assert.equal(ro.height(), 3);
    assert.throws(() => ro.append(ch.chain(1), null, 0, 1), /read-only/);
    await ro.close();
  });

  test('ledgerPath and findLedgers', async () => {
    const dir = freshDir();
    assert.equal(ledgerPath(dir, 'ch-1'), join(dir, 'ledger-ch-1.mdb'));
    assert.throws(() => ledgerPath(dir, '../escape'), LedgerOpenError);
    assert.deepEqual(findLedgers(dir), []);
    for (const name of ['beta', 'alpha']) await openLedger(ledgerPath(dir, name), { channel: name }).close();
    assert.deepEqual(findLedgers(dir), ['alpha', 'beta']);
  });
});

describe('verifyChain', () => {
  test('a good chain verifies, with height and last hash', async () => {
    const { ledger, ch } = filledLedger(20);
    const v = verifyChain(ledger);
    assert.ok(v.ok);
    assert.equal(v.height, 21);
    assertBytes(v.lastHash, ch.lastHash());
    await ledger.close();
  });

  test('an empty ledger verifies with height 0', async () => {
    const ledger = openLedger(ledgerPath(freshDir(), CHANNEL), { channel: CHANNEL });
    assert.deepEqual(verifyChain(ledger), { ok: true, height: 0, lastHash: new Uint8Array(32) });
    await ledger.close();
  });

  const damage: { name: string; bad: number; corrupt(block: Uint8Array, ch: TestChannel): Uint8Array; reason: RegExp }[] = [
    {
      name: 'a flipped data byte', bad: 6, reason: /data hash/,
      corrupt: (b) => {
        const copy = b.slice();
        const layout = new BlockLayout();
        assert.equal(locateBlock(copy, layout), LayoutError.ok);
        const at = layout.dataOffset + layout.dataLength - 1;
        copy[at] = copy[at]! ^ 0xff;
        return copy;
      },
    },
    { name: 'a flipped signature byte', bad: 9, reason: /signatures/, corrupt: (b, ch) => ch.forge.badSignature(b) },
    { name: 'a re-signed header with a wrong data hash', bad: 3, reason: /data hash/, corrupt: (b, ch) => ch.forge.badDataHash(b) },
    { name: 'a re-signed header with a wrong previous hash', bad: 12, reason: /previous hash/, corrupt: (b, ch) => ch.forge.badPreviousHash(b) },
    { name: 'truncated bytes', bad: 1, reason: /bad layout/, corrupt: (b) => b.subarray(0, b.length - 10) },
    { name: 'a genesis signature flipped', bad: 0, reason: /signatures/, corrupt: (b, ch) => ch.forge.badSignature(b) },
  ];
  for (const d of damage) {
    test(`names the first bad block after disk damage: ${d.name}`, async () => {
      const { path, ledger, ch, blocks } = filledLedger(15);
      await ledger.close();
      await overwriteStoredBlock(path, d.bad, d.corrupt(blocks[d.bad]!, ch));
      const again = openLedger(path, { channel: CHANNEL, readOnly: true });
      const v = verifyChain(again);
      assert.equal(v.ok, false);
      if (!v.ok) {
        assert.equal(v.badBlock, d.bad);
        assert.equal(v.height, 16);
        assert.match(v.reason, d.reason);
      }
      await again.close();
    });
  }

  test('a later config block replaces the signers; blocks by the old signer then fail', async () => {
    const { ledger, ch } = filledLedger(2);
    const keys = generateKeyPair();
    const nowMs = Date.now();
    const newSigner = issueCertificate(
      { id: 'orderer1', org: 'orderer', role: 'orderer', publicKey: keys.publicKeyRaw, notBefore: nowMs - 1000, notAfter: nowMs + 3_600_000 },
      ch.orgRoots.get('orderer')!.privateKey,
    );
    const rotated = { ...ch.config, sequence: 1, orderer: { ...ch.config.orderer, signers: [newSigner] } };
    const newSigners = [{ index: 0, key: keys.privateKey }];
    const configBlock = ch.nextBlock([signConfigEnvelope(rotated, ch.ordererAdmin)], { flags: FLAG_CONFIG });
    const good = ch.nextBlock(undefined, { signers: newSigners });
    const stale = ch.nextBlock(); // still signed by the old orderer key
    ledger.append([configBlock, good], null, 0, 2);
    const before = verifyChain(ledger);
    assert.ok(before.ok, before.ok ? '' : before.reason);
    assert.equal(before.height, 5);
    assertBytes(before.lastHash, hashOf(good));
    ledger.append([stale], null, 0, 1);
    const v = verifyChain(ledger);
    assert.equal(v.ok, false);
    if (!v.ok) {
      assert.equal(v.badBlock, 5);
      assert.match(v.reason, /signatures.*sequence 1/);
    }
    await ledger.close();
  });
});

describe('edgepeer ledger', () => {
  async function runCli(args: string[]): Promise<{ out: string; exitCode: number }> {
    let out = '';
    const program = new Command().exitOverride().configureOutput({ writeOut: (s) => { out += s; }, writeErr: () => undefined });
    registerLedger(program);
    const saved = process.exitCode;
    process.exitCode = 0;
    try {
      await program.parseAsync(args, { from: 'user' });
      return { out, exitCode: Number(process.exitCode ?? 0) };
    } finally {
      process.exitCode = saved;
    }
  }

  test('info --json prints channel, height and last hash', async () => {
    const { dir, ledger, ch } = filledLedger(4);
    await ledger.close();
    const { out, exitCode } = await runCli(['ledger', 'info', '--data', dir, '--json']);
    assert.equal(exitCode, 0);
    const info = JSON.parse(out) as Record<string, unknown>;
    assert.equal(info['channel'], CHANNEL);
    assert.equal(info['height'], 5);
    assert.equal(info['lastHash'], toHex(ch.lastHash()));
  });

  test('info without --channel in a directory of several ledgers lists them', async () => {
    const dir = freshDir();
    for (const name of ['a', 'b']) await openLedger(ledgerPath(dir, name), { channel: name }).close();
    await assert.rejects(runCli(['ledger', 'info', '--data', dir]), /several channels \(a, b\).*--channel/);
    const { out } = await runCli(['ledger', 'info', '--data', dir, '--channel', 'b', '--json']);
    assert.equal((JSON.parse(out) as Record<string, unknown>)['channel'], 'b');
    await assert.rejects(runCli(['ledger', 'info', '--data', freshDir()]), /no ledger in/);
  });

  test('verify prints OK and exits 0 on a good chain, names the bad block and exits 1 on a damaged one', async () => {
    const { dir, path, ledger, ch, blocks } = filledLedger(6);
    await ledger.close();
    const good = await runCli(['ledger', 'verify', '--data', dir]);
    assert.equal(good.exitCode, 0);
    assert.match(good.out, /^OK channel testchannel: 7 blocks verified/);

    await overwriteStoredBlock(path, 4, ch.forge.badSignature(blocks[4]!));
    const bad = await runCli(['ledger', 'verify', '--data', dir, '--channel', CHANNEL]);
    assert.equal(bad.exitCode, 1);
    assert.match(bad.out, /^FAILED channel testchannel: block 4 of 7: orderer signatures/);
  });
});
