// One process per data folder: the orderer, a peer or a gateway takes this lock before it opens any
// ledger in its --data folder, so a second one on the same folder stops with the holder's pid instead of
// acknowledging transactions that never reach a block, or leaving the first one alive but no longer
// committing (issue 12 §5).
//
// The lock is a listening Unix socket in Linux's abstract namespace: binding a name is atomic, a second
// bind of the same name fails with EADDRINUSE, and the kernel frees the name the moment the holder dies,
// SIGKILL and power cuts included, so there is no stale file to judge, no PID to be reused and no race
// between two starters taking over a dead holder's lock (what a PID file with a liveness check cannot
// rule out without a kernel lock, which Node does not expose: no flock/fcntl). The name is derived from
// a random token kept in the folder (mode 0600) and the folder's device and inode: only a user who can
// read the folder can compute it, so another local user cannot squat it (abstract names have no file
// permissions), and a copied folder (another inode) gets a lock of its own. Asking the holder answers
// with its pid and command, for the error message.
//
// Limits: abstract names are per network namespace, so two processes in different namespaces on one
// folder are not stopped (edgepeer's tests run each namespaced board on a folder of its own). Elsewhere
// than Linux the socket is a file in the folder, removed when stale (a connection to it is refused); two
// processes starting at the same instant on a stale one could then both take it.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { sha256, toHex } from '../crypto/hash.js';

/** Holds the token the lock's name is derived from. */
export const DATA_LOCK_TOKEN_FILE = '.edgepeer-lock';
/** The socket file where there is no abstract namespace. */
const DATA_LOCK_SOCKET_FILE = '.edgepeer-lock.sock';
const TOKEN_BYTES = 16;
const TOKEN_PATTERN = /^[0-9a-f]{32}$/;
/** Data folders are the service user's alone (issue 12 §7); the token file too. */
export const DATA_FOLDER_MODE = 0o700;
const TOKEN_FILE_MODE = 0o600;
/** Asking the holder who it is takes a local connection: this long at most. */
export const DATA_LOCK_QUERY_TIMEOUT_MS = 2_000;
/** The holder's answer is one short JSON line; more is not read. */
const HOLDER_ANSWER_MAX_BYTES = 1_024;
/** A holder that exits between our failed bind and our question: bind again this many times. */
const BIND_ATTEMPTS = 3;

export interface DataLockHolder {
  pid: number;
  /** What the holder runs, e.g. 'edgepeer orderer'. */
  command: string;
  /** ISO time the holder took the lock. */
  since: string;
}

export class DataFolderInUseError extends Error {
  override readonly name = 'DataFolderInUseError';
  constructor(readonly dir: string, readonly holder: DataLockHolder | null) {
    super(holder === null
      ? `data folder ${dir} is in use by another process; stop it first, or give this one another --data folder`
      : `data folder ${dir} is in use by pid ${holder.pid} (${holder.command}, since ${holder.since}); stop it first, or give this one another --data folder`);
  }
}

export interface DataLock {
  readonly dir: string;
  /** Frees the folder (the kernel does it anyway when the process ends). */
  release(): Promise<void>;
}

const abstractNamespace = process.platform === 'linux';

/** The folder's token, written once (atomically: a reader never sees half a token). */
function readOrMakeToken(dir: string): string {
  const path = join(dir, DATA_LOCK_TOKEN_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    let text: string | null = null;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== null) {
      if (!TOKEN_PATTERN.test(text)) {
        throw new Error(`${path} is damaged (not a lock token): remove it once no edgepeer process uses ${dir}`);
      }
      return text;
    }
    const temp = `${path}.${process.pid}.${toHex(randomBytes(4))}`;
    writeFileSync(temp, `${toHex(randomBytes(TOKEN_BYTES))}\n`, { mode: TOKEN_FILE_MODE, flag: 'wx' });
    try {
      linkSync(temp, path);
    } catch (err) {
      // Another process made it first: read theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(temp);
    }
  }
  throw new Error(`${path} could not be created`);
}

/** Where the lock of `dir` lives: an abstract socket name, or a socket file on systems without them. */
function lockAddress(dir: string, token: string): string {
  if (!abstractNamespace) return join(dir, DATA_LOCK_SOCKET_FILE);
  const st = statSync(dir, { bigint: true });
  const id = toHex(sha256(new TextEncoder().encode(`${token}:${st.dev}:${st.ino}`))).slice(0, 40);
  return `\0edgepeer-data-${id}`;
}

function listen(server: Server, address: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      resolve(err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(null);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(address);
  });
}

/** Asks whoever listens at `address` who it is; null when nobody does (or it does not answer in time). */
function askHolder(address: string): Promise<DataLockHolder | 'nobody' | 'unknown'> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const socket: Socket = createConnection(address);
    const finish = (r: DataLockHolder | 'nobody' | 'unknown'): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish('unknown'), DATA_LOCK_QUERY_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > HOLDER_ANSWER_MAX_BYTES) finish('unknown');
    });
    socket.on('end', () => finish(parseHolder(text)));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'nobody' : 'unknown'));
  });
}

function parseHolder(text: string): DataLockHolder | 'unknown' {
  try {
    const v = JSON.parse(text) as Partial<DataLockHolder>;
    if (typeof v.pid === 'number' && typeof v.command === 'string' && typeof v.since === 'string') {
      return { pid: v.pid, command: v.command, since: v.since };
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

/**
 * Takes the lock of data folder `dir` (made, mode 0700, when missing) for this process, as `command`.
 * Throws DataFolderInUseError when another process (or this one) holds it.
 */
export async function lockDataFolder(dir: string, command: string): Promise<DataLock> {
  mkdirSync(dir, { recursive: true, mode: DATA_FOLDER_MODE });
  const address = lockAddress(dir, readOrMakeToken(dir));
  const answer = `${JSON.stringify({ pid: process.pid, command, since: new Date().toISOString() } satisfies DataLockHolder)}\n`;
  for (let attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(answer);
    });
    const err = await listen(server, address);
    if (err === null) {
      // The lock must not keep a process alive that has nothing else to do.
      server.unref();
      server.on('error', () => undefined);
      return {
        dir,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    if (err.code !== 'EADDRINUSE') throw new Error(`cannot lock data folder ${dir}: ${err.message}`);
    const holder = await askHolder(address);
    if (holder === 'nobody') {
      // Held a moment ago, free now (the holder exited), or a stale socket file where names are files.
      if (!abstractNamespace) unlinkSync(address);
      continue;
    }
    throw new DataFolderInUseError(dir, holder === 'unknown' ? null : holder);
  }
  throw new DataFolderInUseError(dir, null);
}

/**
 * Who holds the lock of `dir`, or null when nobody does; never creates anything (a folder without a
 * token has never been locked by this version). For read-only commands, which must not write.
 */
export async function dataFolderHolder(dir: string): Promise<DataLockHolder | 'unknown' | null> {
  let token: string;
  try {
    token = readFileSync(join(dir, DATA_LOCK_TOKEN_FILE), 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (!TOKEN_PATTERN.test(token)) return 'unknown';
  const holder = await askHolder(lockAddress(dir, token));
  return holder === 'nobody' ? null : holder;
}
