// Ledger files and the folders made for them are the service user's alone (issue 12 §7): a chain can
// carry what its channel's Readers policy keeps from others, and LMDB makes its files 0664 less the umask
// (0644 under the usual 022). The file and its lock file are created under a 077 umask, and an existing
// ledger of an older version is brought down to 0600 when a writer opens it.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

export const LEDGER_FILE_MODE = 0o600;
export const LEDGER_FOLDER_MODE = 0o700;
const PRIVATE_UMASK = 0o077;
/** LMDB's lock file beside a file opened without a subdirectory. */
const LOCK_FILE_SUFFIX = '-lock';

/** Makes the folder a ledger goes into (0700) if it is missing; an existing folder is left as it is. */
export function makeLedgerFolder(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: LEDGER_FOLDER_MODE });
}

/**
 * Runs `open` (which may create the ledger's file and lock file) under a private umask, then takes group
 * and other access away from both files. The umask is the process's, set and restored within this
 * synchronous call, so nothing else runs under it. A worker thread may not set it (the bench's boards
 * run in workers): there the files are private from the chmod on, in a folder that is the user's alone.
 */
export function openPrivately<T>(path: string, open: () => T): T {
  const previous = isMainThread ? process.umask(PRIVATE_UMASK) : undefined;
  let value: T;
  try {
    value = open();
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
  for (const file of [path, `${path}${LOCK_FILE_SUFFIX}`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, LEDGER_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return value;
}
