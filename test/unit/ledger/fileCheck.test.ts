// The ledger file check before LMDB maps a file (src/ledger/fileCheck.ts), on a real LMDB file and copies
// of it damaged at the offsets of LMDB's meta page (64-bit layout: page header 24 bytes, magic at 24,
// page size at 48, free and main roots at 88 and 136, last page at 144, transaction id at 152): each
// damage is refused with its own reason, and only the newest snapshot's pages must all be there. That
// the commands say it in one line and never die of a signal: test/integration/damagedLedger.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { open } from 'lmdb';
import { LedgerFileError, checkLedgerFile } from '../../../src/ledger/fileCheck.js';

const META = { flags: 18, magic: 24, version: 28, psize: 48, freeRoot: 88, mainRoot: 136, lastPage: 144, txnId: 152 } as const;
const MDB_MAGIC = 0xbeefc0de;
const P_META = 0x08;
const VALUES = 200;

async function goodFile(t: { after(fn: () => void): void }): Promise<{ dir: string; bytes: Buffer; pageBytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-filecheck-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'good.mdb');
  const env = open(path, { noSubdir: true, encoding: 'binary' });
  await env.transaction(() => { for (let i = 0; i < VALUES; i++) void env.put(i, new Uint8Array(1_000).fill(i)); });
  await env.close();
  const bytes = readFileSync(path);
  return { dir, bytes, pageBytes: bytes.readUInt32LE(META.psize) };
}

/** Writes `bytes` to a new file in `dir` and checks it. */
function check(dir: string, name: string, bytes: Buffer, readOnly = true): ReturnType<typeof checkLedgerFile> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return checkLedgerFile(path, { readOnly });
}

const damaged = (dir: string, name: string, why: RegExp) => (e: unknown): boolean => e instanceof LedgerFileError
  && e.path === join(dir, name) && e.message.startsWith(`ledger file ${join(dir, name)} is damaged: `) && why.test(e.message);

test('a file LMDB wrote passes with its newest transaction id; a missing file passes; an empty one only for a writer', async (t) => {
  const { dir, bytes } = await goodFile(t);
  const state = check(dir, 'copy.mdb', bytes);
  assert.equal(state.missing, false);
  assert.equal(state.empty, false);
  assert.ok(state.txnId >= 1, `txnId ${state.txnId}`);
  assert.deepEqual(checkLedgerFile(join(dir, 'none.mdb'), { readOnly: true }), { missing: true, empty: false, txnId: 0 });
  assert.deepEqual(check(dir, 'empty.mdb', Buffer.alloc(0), false), { missing: false, empty: true, txnId: 0 });
  assert.throws(() => check(dir, 'empty.mdb', Buffer.alloc(0)), damaged(dir, 'empty.mdb', /it is empty \(0 bytes\)/));
});

test('what is not an LMDB meta page, or one of the other word size, is refused by name', async (t) => {
  const { dir } = await goodFile(t);
  assert.throws(() => check(dir, 'text.mdb', Buffer.from('not a database at all')), damaged(dir, 'text.mdb', /its first page is not an LMDB meta page \(21 bytes of something else\)/));
  // A 32-bit build's meta page: the page header is 16 bytes, so the magic sits at 16 and the flags at 10.
  const narrow = Buffer.alloc(8_192);
  narrow.writeUInt16LE(P_META, 10);
  narrow.writeUInt32LE(MDB_MAGIC, 16);
  assert.throws(() => check(dir, 'narrow.mdb', narrow), damaged(dir, 'narrow.mdb', /written by a 32-bit build and this one is 64-bit/));
});

test('each unsound field of a meta page is named: version, page size, last page, a root outside the file\'s pages', async (t) => {
  const { dir, bytes, pageBytes } = await goodFile(t);
  const edit = (at: number, f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(bytes);
    f(b.subarray(at));
    return b;
  };
  assert.throws(() => check(dir, 'v.mdb', edit(0, (b) => b.writeUInt32LE(1, META.version))), damaged(dir, 'v.mdb', /meta page 0 is of LMDB data format 1, not 2/));
  assert.throws(() => check(dir, 'p.mdb', edit(0, (b) => b.writeUInt32LE(1_000, META.psize))), damaged(dir, 'p.mdb', /meta page 0 names a page size of 1000 bytes/));
  assert.throws(() => check(dir, 'big.mdb', edit(0, (b) => b.writeUInt32LE(131_072, META.psize))), damaged(dir, 'big.mdb', /page size of 131072 bytes/));
  assert.throws(() => check(dir, 'l.mdb', edit(0, (b) => b.writeBigUInt64LE(0n, META.lastPage))), damaged(dir, 'l.mdb', /meta page 0 names 0 as its last page/));
  const last = Number(bytes.readBigUInt64LE(META.lastPage));
  assert.throws(() => check(dir, 'r.mdb', edit(0, (b) => b.writeBigUInt64LE(BigInt(last + 5), META.mainRoot))),
    damaged(dir, 'r.mdb', new RegExp(`meta page 0 names page ${last + 5} as a root, outside pages 2\\.\\.${last}`)));
  assert.throws(() => check(dir, 'r1.mdb', edit(0, (b) => b.writeBigUInt64LE(1n, META.freeRoot))), damaged(dir, 'r1.mdb', /names page 1 as a root/));
  // Meta page 1, found one page in.
  assert.throws(() => check(dir, 'm1.mdb', edit(pageBytes, (b) => b.writeUInt32LE(0, META.magic))), damaged(dir, 'm1.mdb', /meta page 1 has no LMDB magic number/));
  assert.throws(() => check(dir, 'd.mdb', edit(pageBytes, (b) => b.writeUInt32LE(pageBytes * 2, META.psize))),
    damaged(dir, 'd.mdb', new RegExp(`its meta pages disagree on the page size \\(${pageBytes} and ${pageBytes * 2}\\)`)));
});

test('truncation: below the two meta pages, or below the newest snapshot\'s last page; an older snapshot\'s pages need not be there', async (t) => {
  const { dir, bytes, pageBytes } = await goodFile(t);
  assert.throws(() => check(dir, 'one.mdb', bytes.subarray(0, pageBytes)), damaged(dir, 'one.mdb', new RegExp(`less than its two ${pageBytes}-byte meta pages`)));
  assert.throws(() => check(dir, 'cut.mdb', bytes.subarray(0, bytes.length - pageBytes)), damaged(dir, 'cut.mdb', /it is truncated: \d+ bytes, but its newest snapshot \(transaction \d+\) uses pages up to \d+/));
  // Which meta page is newer decides: the older one may name pages past the end of the file.
  const t0 = bytes.readBigUInt64LE(META.txnId);
  const t1 = bytes.readBigUInt64LE(pageBytes + META.txnId);
  const older = t0 < t1 ? 0 : pageBytes;
  const b = Buffer.from(bytes);
  b.writeBigUInt64LE(BigInt(bytes.length / pageBytes + 100), older + META.lastPage);
  assert.doesNotThrow(() => check(dir, 'older.mdb', b));
  const newer = older === 0 ? pageBytes : 0;
  const c = Buffer.from(bytes);
  c.writeBigUInt64LE(BigInt(bytes.length / pageBytes + 100), newer + META.lastPage);
  assert.throws(() => check(dir, 'newer.mdb', c), damaged(dir, 'newer.mdb', /newest snapshot .* uses pages up to/));
});
