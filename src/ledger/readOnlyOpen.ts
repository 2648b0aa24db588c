// How `edgepeer ledger info|verify` read a ledger without writing into the folder they inspect
// (issue 12 §5). LMDB writes even to open a file read-only: it creates or updates the file's lock file
// (`<file>-lock`, its reader table) beside it. So:
//
// - When no process holds the folder (src/ledger/dataLock.ts), the file is opened through a symbolic
//   link in a private temporary folder, so LMDB's lock file is made there, and nothing at all is written
//   into the inspected folder. A writer that starts meanwhile would not see this reader in its reader
//   table and could reuse pages it reads: the newest snapshot's transaction id (read off the meta pages)
//   is compared before and after the read, and a read that overlapped a commit is done again.
// - When a process holds the folder (a running orderer, peer or gateway), the file is opened as LMDB
//   means it to be, with its own lock file: registering as a reader there is what makes reading beside a
//   writer safe. The data file itself is never written (MDB_RDONLY).
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { dataFolderHolder } from './dataLock.js';
import { checkLedgerFile } from './fileCheck.js';
import type { LmdbLedger } from './lmdbLedger.js';

/** LMDB's lock file of a file opened without a subdirectory: the file's path and this. */
export const LOCK_FILE_SUFFIX = '-lock';
/** Reads that overlapped a commit are retried this many times, then done the shared way. */
const PRIVATE_READ_ATTEMPTS = 3;

export type ReadMode = 'private' | 'shared';

/** Opens the ledger file at the path it is given, read-only. */
export type ReadOnlyOpener = (path: string) => Promise<LmdbLedger> | LmdbLedger;

/**
 * Opens the ledger at `path` read-only with `open`, runs `read` on it (synchronously: one snapshot),
 * closes it, and returns what `read` returned, with how it was opened.
 */
export async function readLedger<T>(path: string, open: ReadOnlyOpener, read: (ledger: LmdbLedger) => T): Promise<{ value: T; mode: ReadMode }> {
  const shared = async (): Promise<{ value: T; mode: ReadMode }> => ({ value: await readOnce(path, open, read), mode: 'shared' });
  if (await dataFolderHolder(dirname(path)) !== null) return shared();
  for (let attempt = 0; attempt < PRIVATE_READ_ATTEMPTS; attempt++) {
    const before = checkLedgerFile(path, { readOnly: true }).txnId;
    const scratch = mkdtempSync(join(tmpdir(), 'edgepeer-read-'));
    let value: T;
    try {
      const link = join(scratch, basename(path));
      symlinkSync(resolve(path), link);
      value = await readOnce(link, open, read);
    } catch (err) {
      // Errors name the file the operator gave, not the link.
      if (err instanceof Error) err.message = err.message.split(join(scratch, basename(path))).join(path);
      throw err;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    if (checkLedgerFile(path, { readOnly: true }).txnId === before) return { value, mode: 'private' };
    // A commit came while reading: a writer is running (or ran) that did not know of this reader.
    if (await dataFolderHolder(dirname(path)) !== null) return shared();
  }
  return shared();
}

async function readOnce<T>(path: string, open: ReadOnlyOpener, read: (ledger: LmdbLedger) => T): Promise<T> {
  const ledger = await open(path);
  try {
    return read(ledger);
  } finally {
    await ledger.close();
  }
}
