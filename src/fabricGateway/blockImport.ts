// Loading Fabric blocks from a file into the gateway's ledger (`edgepeer fabric import`): for boards with no
// link to the Fabric network, or to seed a fleet. Every block is verified exactly as a followed one is
// (the channel's RunVerifier at the ledger's tip), in runs stored one transaction each. Blocks the ledger
// already holds are compared byte for byte and skipped, so a re-run on the same file, or on a longer file
// of the same channel, adds only what is missing; a block that differs from the stored one is a fork and
// stops the import before anything of it is written.
import type { BlockLedger } from '../ledger/ledger.js';
import { RunResult, type BlockReader, type RunVerifier } from '../protocol/blockFormat.js';

/** Bytes per block hash in a RunVerifier's output. */
const HASH_BYTES = 32;

export class BlockImportError extends Error {
  override readonly name = 'BlockImportError';
  constructor(message: string, readonly blockNumber: number, readonly summary: ImportSummary) {
    super(message);
  }
}

export interface ImportLimits {
  /** Blocks verified and stored in one transaction at most... */
  runMaxBlocks: number;
  /** ...and their bytes (a run takes at least one block). */
  runMaxBytes: number;
}

export interface ImportSummary {
  /** Blocks of the file the ledger already held (compared byte for byte). */
  alreadyHeld: number;
  /** Blocks verified and stored by this import. */
  added: number;
  /** The ledger height after the import. */
  height: number;
}

export interface ImportOptions {
  ledger: BlockLedger;
  /** At the ledger's tip. */
  verifier: RunVerifier;
  reader: BlockReader;
  limits: ImportLimits;
  /** After each stored run. */
  onProgress?(summary: ImportSummary): void;
}

export function importBlocks(blocks: Iterable<Uint8Array>, o: ImportOptions): ImportSummary {
  const { ledger, verifier, reader, limits } = o;
  const summary: ImportSummary = { alreadyHeld: 0, added: 0, height: ledger.height() };
  const run: Uint8Array[] = [];
  let runBytes = 0;
  let hashOut = new Uint8Array(Math.min(limits.runMaxBlocks, 256) * HASH_BYTES);
  const r = new RunResult();
  const fail = (n: number, why: string): never => {
    summary.height = ledger.height();
    throw new BlockImportError(`block ${n}: ${why}`, n, summary);
  };

  const flush = (): void => {
    if (run.length === 0) return;
    if (hashOut.length < run.length * HASH_BYTES) hashOut = new Uint8Array(run.length * HASH_BYTES);
    verifier.verifyRun(run, 0, run.length, hashOut, r);
    if (r.good > 0) {
      const hashes: Uint8Array[] = [];
      for (let i = r.duplicates; i < r.duplicates + r.good; i++) hashes.push(hashOut.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
      ledger.append(run.slice(r.duplicates, r.duplicates + r.good), hashes, 0, r.good);
      summary.added += r.good;
      summary.height = ledger.height();
      o.onProgress?.({ ...summary });
    }
    if (r.badIndex >= 0) fail(r.badNumber, `refused (${r.reason ?? 'unknown'}): ${r.detail}; the ledger keeps the ${summary.added} blocks before it`);
    run.length = 0;
    runBytes = 0;
  };

  let expected = -1;
  for (const block of blocks) {
    if (!reader.locate(block)) fail(expected + 1, `not a block of this format (${reader.locateError})`);
    const n = reader.number(block);
    if (expected >= 0 && n !== expected + 1) fail(n, `the file jumps from block ${expected} to block ${n}`);
    expected = n;
    const height = ledger.height() + run.length;
    if (n < ledger.height()) {
      const stored = ledger.getBlock(n);
      if (stored === undefined || !Buffer.from(stored).equals(Buffer.from(block))) {
        fail(n, 'differs from the block the ledger holds at that number (another chain, or a fork): nothing imported');
      }
      summary.alreadyHeld++;
      continue;
    }
    if (n > height) fail(n, `the file starts above the ledger: it holds blocks up to ${height - 1} and the file goes on at ${n}`);
    run.push(block);
    runBytes += block.length;
    if (run.length >= limits.runMaxBlocks || runBytes >= limits.runMaxBytes) flush();
  }
  flush();
  summary.height = ledger.height();
  return summary;
}
