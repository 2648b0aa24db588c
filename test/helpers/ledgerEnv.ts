// A bare LMDB environment laid out as the ledger's (the 'meta', 'segments' and 'hashes' databases) in a
// temporary folder, for unit tests of the ledger's parts (SegmentStore, HashIndex) without LmdbLedger
// around them. Blocks are any bytes and their hashes any 32 bytes: these parts store and find them,
// they do not interpret them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, type RootDatabase, open } from 'lmdb';
import { HASH_BYTES } from '../../src/protocol/block.js';
import { HEAD_BYTES, type MetaKey, U64_BYTES, writeHead, writeU64 } from '../../src/ledger/metaRecords.js';
import { SegmentStore } from '../../src/ledger/segmentStore.js';

/** The ledger's named databases (meta, segments, hashes). */
const LEDGER_DBS = 3;

export interface LedgerEnv {
  path: string;
  env: RootDatabase;
  meta: Database<Uint8Array, MetaKey>;
  segments: Database<Uint8Array, number>;
  store: SegmentStore;
  /** Stores blocks [first, first + blocks.length) as putRun does, hashes packed 32 bytes each, in one transaction. */
  putRun(first: number, blocks: Uint8Array[], hashes: Uint8Array): void;
  /** Writes the head (height; last config 0, last hash zero) and the indexed height, as the ledger's meta records. */
  putMeta(height: number, indexedHeight: number): void;
}

/** Opens one in a fresh folder; `t.after` closes it and removes the folder. */
export function openLedgerEnv(t: { after(fn: () => unknown): void }, maxSegmentBytes: number): LedgerEnv {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-ledger-env-'));
  const path = join(dir, 'test.lmdb');
  const env = open(path, { maxDbs: LEDGER_DBS, noSubdir: true });
  t.after(async () => {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const meta = env.openDB<Uint8Array, MetaKey>('meta', { encoding: 'binary' });
  const segments = env.openDB<Uint8Array, number>('segments', { encoding: 'binary' });
  const store = new SegmentStore(segments, path, maxSegmentBytes);
  return {
    path, env, meta, segments, store,
    putRun: (first, blocks, hashes) => env.transactionSync(() => store.putRun(first, blocks, 0, blocks.length, hashes)),
    putMeta: (height, indexedHeight) => env.transactionSync(() => {
      const head = new Uint8Array(HEAD_BYTES);
      writeHead(head, height, 0, new Uint8Array(HASH_BYTES), 0);
      void meta.put('head', head);
      const indexed = new Uint8Array(U64_BYTES);
      writeU64(indexed, 0, indexedHeight);
      void meta.put('indexedHeight', indexed);
    }),
  };
}

/** Block n of a test chain: `bytes` bytes, each a function of n and its place (so blocks differ). */
export function testBlock(n: number, bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (n * 7 + i) & 0xff);
}

/** A made-up hash per block, packed: block n's is 32 bytes of (n + salt). */
export function testHashes(first: number, count: number, salt = 0): Uint8Array {
  const out = new Uint8Array(count * HASH_BYTES);
  for (let i = 0; i < count; i++) out.fill((first + i + salt) & 0xff, i * HASH_BYTES, (i + 1) * HASH_BYTES);
  return out;
}

/** Hash i (from 0) of a packed table. */
export function hashAt(hashes: Uint8Array, i: number): Uint8Array {
  return hashes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES);
}
