// Child process of the ledger crash test: appends a pre-made chain to a ledger in runs of random
// length, printing `begin <from> <to>` before each run and `committed <height>` right after its durable
// commit; after some runs it brings the hash index up to the height (in small slices, one transaction
// each), printing `index <indexedHeight> <height>` before, `slice <indexedHeight>` after each slice's
// commit and `indexed <indexedHeight>` at the end; until its parent kills it.
//
//   node crashAppender.js <ledger path> <channel> <chain file>
//
// Chain file: for each block, u32 BE length then the block bytes.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../src/ledger/lmdbLedger.js';

/** Longest run the child appends in one transaction; the parent's bound on unreported progress. */
export const CRASH_APPENDER_MAX_RUN_BLOCKS = 64;
/** Small slices, so that catching the index up takes several transactions a kill can land between or in. */
export const CRASH_APPENDER_INDEX_SLICE_BLOCKS = 16;
/** After a run, the child catches the index up with this probability. */
const INDEX_PROBABILITY = 0.3;
/** The background indexer must not run: the child decides when the index moves. */
const NO_BACKGROUND_INDEXING_MS = 3_600_000;
const LENGTH_PREFIX_BYTES = 4;

export function writeChainFile(path: string, blocks: readonly Uint8Array[]): void {
  const total = blocks.reduce((sum, b) => sum + LENGTH_PREFIX_BYTES + b.length, 0);
  const out = Buffer.alloc(total);
  let o = 0;
  for (const b of blocks) {
    out.writeUInt32BE(b.length, o);
    out.set(b, o + LENGTH_PREFIX_BYTES);
    o += LENGTH_PREFIX_BYTES + b.length;
  }
  writeFileSync(path, out);
}

export function readChainFile(path: string): Uint8Array[] {
  const buf = readFileSync(path);
  const blocks: Uint8Array[] = [];
  for (let o = 0; o < buf.length;) {
    const len = buf.readUInt32BE(o);
    blocks.push(buf.subarray(o + LENGTH_PREFIX_BYTES, o + LENGTH_PREFIX_BYTES + len));
    o += LENGTH_PREFIX_BYTES + len;
  }
  return blocks;
}

function run(ledgerFile: string, channel: string, chainFile: string): void {
  const chain = readChainFile(chainFile);
  const ledger = openLedger(ledgerFile, {
    channel,
    hashIndexSliceBlocks: CRASH_APPENDER_INDEX_SLICE_BLOCKS,
    hashIndexIdleMs: NO_BACKGROUND_INDEXING_MS,
    onHashIndexProgress: (indexed) => process.stdout.write(`slice ${indexed}\n`),
  });
  // Writes to a pipe are synchronous on Linux, so a line printed is a line the parent will read.
  process.stdout.write(`open ${ledger.height()}\n`);
  while (ledger.height() < chain.length) {
    const from = ledger.height();
    const run = Math.min(1 + Math.floor(Math.random() * CRASH_APPENDER_MAX_RUN_BLOCKS), chain.length - from);
    // Announced first, so the parent can kill while this run's transaction is under way.
    process.stdout.write(`begin ${from} ${from + run}\n`);
    ledger.append(chain, null, from, run);
    process.stdout.write(`committed ${ledger.height()}\n`);
    if (Math.random() < INDEX_PROBABILITY) {
      process.stdout.write(`index ${ledger.indexedHeight()} ${ledger.height()}\n`);
      // numberOfHash catches the index up before it answers.
      if (ledger.numberOfHash(ledger.lastHash()) !== ledger.height() - 1) throw new Error('the index lost the last block');
      process.stdout.write(`indexed ${ledger.indexedHeight()}\n`);
    }
  }
  process.stdout.write(`done ${ledger.height()}\n`);
  void ledger.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [ledgerFile, channel, chainFile] = process.argv.slice(2);
  if (ledgerFile === undefined || channel === undefined || chainFile === undefined) {
    process.stderr.write('usage: crashAppender.js <ledger path> <channel> <chain file>\n');
    process.exit(2);
  }
  run(ledgerFile, channel, chainFile);
}
