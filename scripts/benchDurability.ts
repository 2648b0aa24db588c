// `npm run bench:durability`: what durable commits cost (issue 12 §7). The ledger commits with
// transactionSync and its default flags, which lmdb-js documents as "synchronous commits that are
// flushed to disk before returning", overlappingSync or not: the data pages are fdatasync'd, then the
// meta page is written through an O_DSYNC descriptor, before the call returns
// (test/integration/ledgerDurability.test.ts shows it with strace). This measures, on the disk that holds
// --dir (default the OS temp folder), the commits/s and ms per commit of:
//
//   durable, overlappingSync on    what lmdb-js opens by default on Linux
//   durable, overlappingSync off   classic LMDB
//   not durable (noSync)           LMDB's MDB_NOSYNC: no flush at all, the floor that durability costs
//                                  against (a power cut may then corrupt the file: never for a ledger)
//
// for the orderer's pattern (one block per commit) and the board's (a run of blocks per commit).
//   --commits N (default 300), --run-blocks N (default 256), --block-bytes N (default 1024), --dir PATH
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { open } from 'lmdb';
import { wholeNumber } from '../src/cli/options.js';

const SYNCHRONOUS_COMMIT = 2;
const ABORTABLE = 1;

const values = new Command('bench-durability')
  .option('--commits <n>', 'commits per mode', wholeNumber, 300)
  .option('--run-blocks <n>', 'blocks per commit run', wholeNumber, 256)
  .option('--block-bytes <n>', 'bytes per block', wholeNumber, 1024)
  .option('--dir <path>', 'where the LMDB files go', tmpdir())
  .parse().opts<{ commits: number; runBlocks: number; blockBytes: number; dir: string }>();
const { commits, runBlocks, blockBytes } = values;
const base = values.dir;

interface Mode { name: string; overlappingSync: boolean; noSync: boolean; flags: number }
const modes: Mode[] = [
  { name: 'durable, overlappingSync on', overlappingSync: true, noSync: false, flags: ABORTABLE | SYNCHRONOUS_COMMIT },
  { name: 'durable, overlappingSync off', overlappingSync: false, noSync: false, flags: ABORTABLE | SYNCHRONOUS_COMMIT },
  // The per-commit NO_SYNC_FLUSH flag measured the same as the durable modes (lmdb-js still flushed):
  // the environment's noSync is what leaves the flush out.
  { name: 'not durable (noSync)', overlappingSync: false, noSync: true, flags: ABORTABLE | SYNCHRONOUS_COMMIT },
];

function measure(mode: Mode, blocksPerCommit: number): { commitsPerSec: number; msPerCommit: number; blocksPerSec: number } {
  const dir = mkdtempSync(join(base, 'edgepeer-durability-'));
  try {
    const env = open(join(dir, 'bench.mdb'), { noSubdir: true, maxDbs: 1, overlappingSync: mode.overlappingSync, noSync: mode.noSync });
    const db = env.openDB<Uint8Array, number>('blocks', { encoding: 'binary' });
    const value = new Uint8Array(blockBytes * blocksPerCommit).fill(7);
    let key = 0;
    const once = (): void => {
      env.transactionSync(() => { void db.put(key++, value); }, mode.flags);
    };
    for (let i = 0; i < 10; i++) once();
    const t = performance.now();
    for (let i = 0; i < commits; i++) once();
    const seconds = (performance.now() - t) / 1000;
    void env.close();
    return { commitsPerSec: commits / seconds, msPerCommit: (seconds * 1000) / commits, blocksPerSec: (commits * blocksPerCommit) / seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`durability: ${commits} commits each, ${blockBytes}-byte blocks, in ${base}\n`);
for (const [what, blocksPerCommit] of [['orderer: 1 block per commit', 1], [`board: ${runBlocks} blocks per commit`, runBlocks]] as const) {
  process.stdout.write(`  ${what}\n`);
  for (const mode of modes) {
    const r = measure(mode, blocksPerCommit);
    process.stdout.write(`    ${mode.name.padEnd(30)} ${r.commitsPerSec.toFixed(0).padStart(7)} commits/s  ${r.msPerCommit.toFixed(3).padStart(7)} ms/commit  ${r.blocksPerSec.toFixed(0).padStart(8)} blocks/s\n`);
  }
}
