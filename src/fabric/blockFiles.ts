// Reading a Fabric peer's (or orderer's) block store from disk: a single block file, or a `chains/`
// folder laid out as Fabric's blkstorage writes it:
//   chains/chains/<channel>/blockfile_000000, blockfile_000001, ...   (records: varint length ‖ block)
//   chains/chains/<channel>/bootstrappingSnapshot.info                 (only for a ledger joined from a snapshot)
//   chains/index/                                                       (LevelDB index, not needed here)
// A ledger bootstrapped from a snapshot starts at the block after the snapshot's last block; it is read
// (and verified) from its first stored block, as Fabric's ledgerutil does.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BlockStoreError, decodeStoredBlock, encodeCommonBlock } from './blockStore.js';
import { ProtoFieldCursor, WireType } from './protoWire.js';

export const BLOCKFILE_PREFIX = 'blockfile_';
export const SNAPSHOT_INFO_FILE = 'bootstrappingSnapshot.info';

/** What a ledger bootstrapped from a snapshot records about the snapshot (blkstorage's BootstrappingSnapshotInfo). */
export interface SnapshotInfo {
  lastBlockNumber: number;
  lastBlockHash: Uint8Array;
  previousBlockHash: Uint8Array;
}

export interface FabricLedgerSource {
  /** The channel (the ledger's folder name), or the file name for a lone block file. */
  channel: string;
  /** Block files in order. */
  files: string[];
  /** Present when the ledger was bootstrapped from a snapshot and the info file decodes. */
  snapshot?: SnapshotInfo;
  /** Why the snapshot info file could not be used, when it exists but does not decode. */
  snapshotProblem?: string;
}

export interface LedgerBlock {
  /** The serialized common.Block (as an orderer would send it). */
  block: Uint8Array;
  file: string;
  /** Offset of the record in its file. */
  offset: number;
}

function blockFileNumber(name: string): number {
  const suffix = name.slice(BLOCKFILE_PREFIX.length);
  return /^\d+$/.test(suffix) ? Number(suffix) : -1;
}

function blockFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith(BLOCKFILE_PREFIX) && blockFileNumber(n) >= 0 && statSync(join(dir, n)).isFile())
    .sort((a, b) => blockFileNumber(a) - blockFileNumber(b))
    .map((n) => join(dir, n));
}

/** Decodes blkstorage's BootstrappingSnapshotInfo {1: last block number, 2: its hash, 3: the hash before it}. */
export function decodeSnapshotInfo(bytes: Uint8Array): SnapshotInfo {
  const c = new ProtoFieldCursor().reset(bytes);
  const info: SnapshotInfo = { lastBlockNumber: 0, lastBlockHash: new Uint8Array(0), previousBlockHash: new Uint8Array(0) };
  while (c.next()) {
    if (c.fieldNumber === 1 && c.wireType === WireType.varint) {
      if (!c.varintExact) throw new BlockStoreError('snapshot last block number above 2^53-1');
      info.lastBlockNumber = c.varint;
    } else if (c.isBytes(2)) info.lastBlockHash = bytes.slice(c.valueStart, c.valueEnd);
    else if (c.isBytes(3)) info.previousBlockHash = bytes.slice(c.valueStart, c.valueEnd);
  }
  if (c.error !== '') throw new BlockStoreError(c.error);
  return info;
}

function channelSource(channelDir: string): FabricLedgerSource {
  const source: FabricLedgerSource = { channel: basename(channelDir), files: blockFilesIn(channelDir) };
  const infoPath = join(channelDir, SNAPSHOT_INFO_FILE);
  if (existsSync(infoPath)) {
    try {
      source.snapshot = decodeSnapshotInfo(readFileSync(infoPath));
    } catch (err) {
      source.snapshotProblem = `${SNAPSHOT_INFO_FILE}: ${(err as Error).message}`;
    }
  }
  return source;
}

function hasBlockFiles(dir: string): boolean {
  return blockFilesIn(dir).length > 0;
}

function channelDirsIn(dir: string): string[] {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory() && hasBlockFiles(p))
    .sort();
}

/**
 * The ledgers at `path`: a block file; a channel folder holding block files; a folder of channel folders
 * (chains/chains); a `chains/` folder (chains/chains/<channel>); or a peer's ledgersData folder.
 */
export function findFabricLedgers(path: string): FabricLedgerSource[] {
  if (!existsSync(path)) throw new BlockStoreError(`${path} does not exist`);
  if (statSync(path).isFile()) return [{ channel: basename(path), files: [path] }];
  if (hasBlockFiles(path)) return [channelSource(path)];
  for (const inner of [join(path, 'chains'), join(path, 'chains', 'chains'), path]) {
    if (!existsSync(inner) || !statSync(inner).isDirectory()) continue;
    const dirs = channelDirsIn(inner);
    if (dirs.length > 0) return dirs.map(channelSource);
  }
  throw new BlockStoreError(`no Fabric block files under ${path} (expected blockfile_NNNNNN files, or chains/chains/<channel>/)`);
}

/** Reads a varint record length at buf[pos]; returns [length, offset after it] or null at a truncated end. */
function recordLength(buf: Uint8Array, pos: number): [number, number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) return null;
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    scale *= 128;
    if (b < 0x80) return [value, pos];
  }
  throw new BlockStoreError('record length varint overflow');
}

/** The blocks of one block file, in file order, as common.Block bytes. */
export function* blockFileBlocks(file: string): Generator<LedgerBlock> {
  const buf = readFileSync(file);
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const len = recordLength(buf, pos);
    if (len === null || len[0] > buf.length - len[1]) {
      throw new BlockStoreError(`${file}: truncated record at offset ${start} (a partial write: Fabric truncates it on restart)`);
    }
    const stored = buf.subarray(len[1], len[1] + len[0]);
    pos = len[1] + len[0];
    const what = `${basename(file)} at offset ${start}`;
    yield { block: encodeCommonBlock(decodeStoredBlock(stored, what)), file, offset: start };
  }
}

/** Every block of a ledger, in order across its files. */
export function* ledgerBlocks(source: FabricLedgerSource): Generator<LedgerBlock> {
  for (const f of source.files) yield* blockFileBlocks(f);
}
