// The BlockLedger on LMDB: one environment (one file) per channel. A run of blocks, the new height,
// the last hash and the last config number are written in one synchronous, durable transaction, so a
// crash leaves either all of a run or none of it, and never a height that lies.
//
//   blocks : block number -> raw block bytes
//   hashes : block hash (32 bytes) -> block number
//   meta   : 'format', 'channel', 'height', 'lastHash', 'lastConfig'
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Database, type RootDatabase, open } from 'lmdb';
import { blockHash } from '../crypto/blockHash.js';
import {
  BlockLayout, HASH_BYTES, LayoutError, PREVIOUS_HASH_OFFSET, blockNumber, bytesEqualAt, isConfigBlock, layoutErrorText, locateBlock,
} from '../protocol/block.js';
import { MAX_ID_CHARS } from '../protocol/envelope.js';
import { type BlockLedger, LedgerAppendError } from './ledger.js';

/** Bumped when the stored layout changes, so an old binary refuses a file it cannot read. */
export const LEDGER_FORMAT_VERSION = 1;
/** blocks, hashes, meta. */
const NAMED_DBS = 3;
const LEDGER_FILE_PREFIX = 'ledger-';
const LEDGER_FILE_SUFFIX = '.mdb';
/** Channel names become file names: no separators, no leading dot. */
const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

export class LedgerOpenError extends Error {
  override readonly name = 'LedgerOpenError';
}

export interface OpenLedgerOptions {
  channel: string;
  /** Opens without a write lock; the file must exist. Height and last hash are those seen at opening. */
  readOnly?: boolean;
}

export function assertChannelName(channel: string): void {
  if (channel.length === 0 || channel.length > MAX_ID_CHARS || !CHANNEL_NAME_PATTERN.test(channel)) {
    throw new LedgerOpenError(`'${channel}' is not a usable channel name (letters, digits, '.', '_', '-'; up to ${MAX_ID_CHARS})`);
  }
}

/** Where the ledger of `channel` lives inside a data directory. */
export function ledgerPath(dataDir: string, channel: string): string {
  assertChannelName(channel);
  return join(dataDir, `${LEDGER_FILE_PREFIX}${channel}${LEDGER_FILE_SUFFIX}`);
}

/** Channels that have a ledger file in `dataDir`, sorted; empty when the directory does not exist. */
export function findLedgers(dataDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const channels: string[] = [];
  for (const name of names) {
    if (!name.startsWith(LEDGER_FILE_PREFIX) || !name.endsWith(LEDGER_FILE_SUFFIX)) continue;
    const channel = name.slice(LEDGER_FILE_PREFIX.length, name.length - LEDGER_FILE_SUFFIX.length);
    if (CHANNEL_NAME_PATTERN.test(channel)) channels.push(channel);
  }
  return channels.sort();
}

type MetaKey = 'format' | 'channel' | 'height' | 'lastHash' | 'lastConfig';
type MetaValue = string | number | Uint8Array;

export class LmdbLedger implements BlockLedger {
  readonly channel: string;
  readonly path: string;
  readonly readOnly: boolean;
  private readonly env: RootDatabase;
  private readonly blocks: Database<Uint8Array, number>;
  private readonly hashes: Database<number, Uint8Array>;
  private readonly meta: Database<MetaValue, MetaKey>;
  private cachedHeight = 0;
  private readonly cachedLastHash = new Uint8Array(HASH_BYTES);
  private cachedLastConfig = -1;
  // Reused by every append so that the hot path allocates only what LMDB and hashing need.
  private readonly layout = new BlockLayout();
  private readonly runHashes: Uint8Array[] = [];
  private closed = false;

  constructor(path: string, opts: OpenLedgerOptions) {
    assertChannelName(opts.channel);
    this.channel = opts.channel;
    this.path = path;
    this.readOnly = opts.readOnly === true;
    if (!this.readOnly) mkdirSync(dirname(path), { recursive: true });
    try {
      // Default sync settings on purpose: every transactionSync is durable when it returns.
      this.env = open(path, { maxDbs: NAMED_DBS, readOnly: this.readOnly, noSubdir: true });
    } catch (err) {
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
    try {
      this.blocks = this.env.openDB<Uint8Array, number>('blocks', { encoding: 'binary' });
      this.hashes = this.env.openDB<number, Uint8Array>('hashes', {});
      this.meta = this.env.openDB<MetaValue, MetaKey>('meta', {});
      if (!this.readOnly) this.initialiseIfNew();
      this.loadMeta();
    } catch (err) {
      void this.env.close().catch(() => undefined);
      if (err instanceof LedgerOpenError) throw err;
      throw new LedgerOpenError(`cannot open ledger ${path}: ${(err as Error).message}`);
    }
  }

  private initialiseIfNew(): void {
    this.env.transactionSync(() => {
      if (this.meta.get('channel') !== undefined) return;
      if (this.blocks.getKeysCount({ limit: 1 }) > 0) {
        throw new LedgerOpenError(`ledger ${this.path} holds blocks but no channel record`);
      }
      this.meta.put('format', LEDGER_FORMAT_VERSION);
      this.meta.put('channel', this.channel);
      this.meta.put('height', 0);
      this.meta.put('lastHash', new Uint8Array(HASH_BYTES));
      this.meta.put('lastConfig', -1);
    });
  }

  private loadMeta(): void {
    const channel = this.meta.get('channel');
    if (channel === undefined) throw new LedgerOpenError(`${this.path} is not an edgepeer ledger (no channel record)`);
    if (channel !== this.channel) {
      throw new LedgerOpenError(`ledger ${this.path} belongs to channel '${String(channel)}', not '${this.channel}'`);
    }
    const format = this.meta.get('format');
    if (format !== LEDGER_FORMAT_VERSION) {
      throw new LedgerOpenError(`ledger ${this.path} has format ${String(format)}; this build reads format ${LEDGER_FORMAT_VERSION}`);
    }
    const height = this.meta.get('height');
    const lastHash = this.meta.get('lastHash');
    const lastConfig = this.meta.get('lastConfig');
    if (typeof height !== 'number' || !Number.isSafeInteger(height) || height < 0) {
      throw new LedgerOpenError(`ledger ${this.path}: stored height is not a block count`);
    }
    if (!(lastHash instanceof Uint8Array) || lastHash.length !== HASH_BYTES) {
      throw new LedgerOpenError(`ledger ${this.path}: stored last hash is not ${HASH_BYTES} bytes`);
    }
    if (typeof lastConfig !== 'number' || !Number.isSafeInteger(lastConfig) || lastConfig < -1 || lastConfig >= Math.max(height, 1)) {
      throw new LedgerOpenError(`ledger ${this.path}: stored last config number is out of range`);
    }
    this.cachedHeight = height;
    this.cachedLastHash.set(lastHash);
    this.cachedLastConfig = lastConfig;
  }

  height(): number {
    return this.cachedHeight;
  }

  lastHash(): Uint8Array {
    return this.cachedLastHash;
  }

  lastConfigNumber(): number {
    return this.cachedLastConfig;
  }

  getBlock(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    return this.blocks.getBinary(n);
  }

  /**
   * Block n without a copy, for the orderer's Deliver path. The bytes live in lmdb's process-wide read
   * buffer: they are valid only until the next read of ANY lmdb database in this process (any ledger,
   * any get), and must not be modified. Copy what must outlive that, or send it first.
   */
  getBlockUnsafe(n: number): Uint8Array | undefined {
    if (!Number.isSafeInteger(n) || n < 0) return undefined;
    const fast = this.blocks.getBinaryFast(n);
    // lmdb hands back its whole 16 MiB shared buffer with only `length` patched; byteLength, slice()
    // and socket writes would see all of it. A view of exactly the block costs an object, not a copy.
    return fast === undefined ? undefined : fast.subarray(0, fast.length);
  }

  numberOfHash(hash: Uint8Array): number | undefined {
    if (hash.length !== HASH_BYTES) return undefined;
    return this.hashes.get(hash);
  }

  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void {
    if (this.readOnly) throw new Error(`ledger ${this.path} is open read-only`);
    if (this.closed) throw new Error(`ledger ${this.path} is closed`);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 0 || start + count > blocks.length) {
      throw new RangeError(`append range [${start}, ${start}+${count}) is outside the ${blocks.length} blocks given`);
    }
    if (hashes !== null && hashes.length < start + count) {
      throw new RangeError(`append got ${hashes.length} hashes for blocks up to index ${start + count}`);
    }
    if (count === 0) return;

    // Every check runs before the transaction opens, so a rejected call writes nothing at all.
    const runHashes = this.runHashes;
    runHashes.length = count;
    let lastConfig = this.cachedLastConfig;
    let previousHash: Uint8Array = this.cachedLastHash;
    for (let i = 0; i < count; i++) {
      const expected = this.cachedHeight + i;
      const block = blocks[start + i]!;
      const err = locateBlock(block, this.layout);
      if (err !== LayoutError.ok) throw new LedgerAppendError(`block ${expected}: ${layoutErrorText(err)}`, expected);
      const number = blockNumber(block);
      if (number !== expected) {
        throw new LedgerAppendError(`block ${number}: expected block number ${expected} (ledger height ${this.cachedHeight + i})`, number);
      }
      if (!bytesEqualAt(block, PREVIOUS_HASH_OFFSET, previousHash, 0, HASH_BYTES)) {
        throw new LedgerAppendError(`block ${number}: previous hash does not match the hash of block ${number - 1}`, number);
      }
      const hash = hashes !== null ? hashes[start + i]! : blockHash(block);
      if (hash.length !== HASH_BYTES) throw new LedgerAppendError(`block ${number}: given hash is not ${HASH_BYTES} bytes`, number);
      runHashes[i] = hash;
      if (isConfigBlock(block)) lastConfig = number;
      previousHash = hash;
    }

    const firstNumber = this.cachedHeight;
    this.env.transactionSync(() => {
      // The cache is authoritative only while this handle is the sole writer; catch a second one here.
      const stored = this.meta.get('height');
      if (stored !== firstNumber) {
        throw new LedgerAppendError(`block ${firstNumber}: the stored height is ${String(stored)} (another writer?)`, firstNumber);
      }
      for (let i = 0; i < count; i++) {
        void this.blocks.put(firstNumber + i, blocks[start + i]!);
        void this.hashes.put(runHashes[i]!, firstNumber + i);
      }
      void this.meta.put('height', firstNumber + count);
      void this.meta.put('lastHash', runHashes[count - 1]!);
      void this.meta.put('lastConfig', lastConfig);
    });
    // Only a committed transaction moves the cache.
    this.cachedHeight = firstNumber + count;
    this.cachedLastHash.set(runHashes[count - 1]!);
    this.cachedLastConfig = lastConfig;
    runHashes.length = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.env.close();
  }
}

export function openLedger(path: string, opts: OpenLedgerOptions): LmdbLedger {
  return new LmdbLedger(path, opts);
}
