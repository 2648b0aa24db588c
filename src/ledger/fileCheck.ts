// Checks a ledger's LMDB file before LMDB maps it. LMDB trusts its file: the meta pages name the page
// size, the last page and the roots of the trees, and it maps the file and follows those numbers, so an
// empty, random or truncated file makes the process die of SIGSEGV or SIGBUS (with no message, a crash
// loop under systemd: issue 12 §5). Here the two meta pages are read with plain reads and checked, so
// such a file is one line naming it and what is wrong, and LMDB only ever maps a file whose meta pages
// are sound and whose pages up to the newest snapshot's last page are all there.
//
// The layout is LMDB's (mdb.c, MDB_page_header and MDB_meta), in words of the build's size_t: a page
// header is pgno (W) txnid (W) pad (2) flags (2) lower/upper (4), so the meta magic sits at 2W+8; W is
// read off the file (8 on 64-bit builds, 4 on 32-bit ones), and a file of the other word size is
// refused by name, as LMDB files do not move between 32- and 64-bit builds.
//
// What is not caught: damage inside tree pages whose meta pages are intact (LMDB keeps no page
// checksums); `edgepeer ledger verify` reads every block and names the first bad one.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class LedgerFileError extends Error {
  override readonly name = 'LedgerFileError';
  constructor(readonly path: string, why: string) {
    super(`ledger file ${path} is damaged: ${why}; move it aside (the node then syncs its chain again) or restore it from a copy`);
  }
}

const MDB_MAGIC = 0xbeefc0de;
const MDB_DATA_VERSION = 2;
const P_META = 0x08;
const MIN_PAGE_BYTES = 512;
const MAX_PAGE_BYTES = 65_536;
/** Enough for a page header and a meta record in either word size. */
const META_READ_BYTES = 256;
const WORD_SIZES = [8, 4] as const;
/** LMDB's P_INVALID: a tree with no root. */
const NO_PAGE = -1;

interface Meta {
  pageBytes: number;
  lastPage: number;
  txnId: number;
  roots: [number, number];
}

/** Where each field is, for word size w (offsets within the page). */
function layout(w: number): { flags: number; meta: number; psize: number; freeRoot: number; mainRoot: number; lastPage: number; txnId: number } {
  const meta = 2 * w + 8;
  const dbBytes = 8 + 5 * w;
  const dbs = meta + 8 + 2 * w;
  return {
    flags: 2 * w + 2,
    meta,
    psize: dbs,
    freeRoot: dbs + 8 + 4 * w,
    mainRoot: dbs + dbBytes + 8 + 4 * w,
    lastPage: dbs + 2 * dbBytes,
    txnId: dbs + 2 * dbBytes + w,
  };
}

function word(b: Buffer, at: number, w: number): number {
  if (w === 4) {
    const v = b.readUInt32LE(at);
    return v === 0xffffffff ? NO_PAGE : v;
  }
  const v = b.readBigUInt64LE(at);
  if (v === 0xffffffffffffffffn) return NO_PAGE;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** The word size a meta page at the start of `b` is written in, or null when it is no meta page. */
function wordSizeOf(b: Buffer): number | null {
  for (const w of WORD_SIZES) {
    const l = layout(w);
    if (b.length >= l.meta + 4 && b.readUInt32LE(l.meta) === MDB_MAGIC && (b.readUInt16LE(l.flags) & P_META) !== 0) return w;
  }
  return null;
}

/** Reads one meta page; the reason it is unusable, as a string. */
function readMeta(b: Buffer, w: number, which: string): Meta | string {
  const l = layout(w);
  if ((b.readUInt16LE(l.flags) & P_META) === 0) return `${which} is not a meta page`;
  if (b.readUInt32LE(l.meta) !== MDB_MAGIC) return `${which} has no LMDB magic number`;
  const version = b.readUInt32LE(l.meta + 4) & 0xffff;
  if (version !== MDB_DATA_VERSION) return `${which} is of LMDB data format ${version}, not ${MDB_DATA_VERSION}`;
  const pageBytes = b.readUInt32LE(l.psize);
  if (pageBytes < MIN_PAGE_BYTES || pageBytes > MAX_PAGE_BYTES || (pageBytes & (pageBytes - 1)) !== 0) {
    return `${which} names a page size of ${pageBytes} bytes`;
  }
  const lastPage = word(b, l.lastPage, w);
  const roots: [number, number] = [word(b, l.freeRoot, w), word(b, l.mainRoot, w)];
  if (lastPage < 1) return `${which} names ${lastPage} as its last page`;
  for (const r of roots) if (r !== NO_PAGE && (r < 2 || r > lastPage)) return `${which} names page ${r} as a root, outside pages 2..${lastPage}`;
  return { pageBytes, lastPage, txnId: word(b, l.txnId, w), roots };
}

export interface LedgerFileState {
  /** No file at the path (a writer creates one). */
  missing: boolean;
  /** A file of 0 bytes: never written (a writer starts it afresh, as LMDB does). */
  empty: boolean;
  /** The newest meta page's transaction id (0 when missing or empty): moves with every commit. */
  txnId: number;
}

function readAt(fd: number, bytes: number, at: number): Buffer {
  const b = Buffer.alloc(bytes);
  const n = readSync(fd, b, 0, bytes, at);
  return b.subarray(0, n);
}

/**
 * Checks the LMDB file at `path` (see the top of this file); throws LedgerFileError naming the file and
 * the damage. A missing file passes (left to LMDB: a writer makes one, a reader is refused); an empty
 * one passes for a writer (LMDB starts it afresh) and fails for a reader (LMDB would crash on it).
 */
export function checkLedgerFile(path: string, opts: { readOnly: boolean }): LedgerFileState {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // LMDB makes a new file for a writer, and refuses a reader with an error of its own.
    if (code === 'ENOENT') return { missing: true, empty: false, txnId: 0 };
    throw new Error(`cannot read ledger file ${path}: ${(err as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) {
      if (opts.readOnly) throw new LedgerFileError(path, 'it is empty (0 bytes): no ledger was ever written into it');
      return { missing: false, empty: true, txnId: 0 };
    }
    const first = readAt(fd, META_READ_BYTES, 0);
    const w = wordSizeOf(first);
    if (w === null) throw new LedgerFileError(path, `its first page is not an LMDB meta page (${size} bytes of something else)`);
    const processWord = process.arch === 'arm' || process.arch === 'ia32' ? 4 : 8;
    if (w !== processWord) {
      throw new LedgerFileError(path, `it was written by a ${w * 8}-bit build and this one is ${processWord * 8}-bit (LMDB files do not move between the two)`);
    }
    const meta0 = readMeta(first, w, 'meta page 0');
    if (typeof meta0 === 'string') throw new LedgerFileError(path, meta0);
    if (size < 2 * meta0.pageBytes) {
      throw new LedgerFileError(path, `it is truncated: ${size} bytes, less than its two ${meta0.pageBytes}-byte meta pages`);
    }
    const meta1 = readMeta(readAt(fd, META_READ_BYTES, meta0.pageBytes), w, 'meta page 1');
    if (typeof meta1 === 'string') throw new LedgerFileError(path, meta1);
    if (meta1.pageBytes !== meta0.pageBytes) {
      throw new LedgerFileError(path, `its meta pages disagree on the page size (${meta0.pageBytes} and ${meta1.pageBytes})`);
    }
    // LMDB opens the snapshot of the newer meta page: every page up to its last one must be in the file.
    const newest = meta1.txnId > meta0.txnId ? meta1 : meta0;
    const needed = (newest.lastPage + 1) * newest.pageBytes;
    if (size < needed) {
      throw new LedgerFileError(path, `it is truncated: ${size} bytes, but its newest snapshot (transaction ${newest.txnId}) uses pages up to ${newest.lastPage} (${needed} bytes)`);
    }
    return { missing: false, empty: false, txnId: newest.txnId };
  } finally {
    closeSync(fd);
  }
}
