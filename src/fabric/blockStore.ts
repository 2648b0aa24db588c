// Fabric's block-store serialization (common/ledger/blkstorage/block_serialization.go) and the
// common.Block bytes it stands for.
//
// A peer's block file holds records `varint(length) ‖ serialized block`, where a serialized block is
//   varint(number) ‖ bytes(dataHash) ‖ bytes(previousHash) ‖ varint(count) ‖ bytes(tx)* ‖ varint(count) ‖ bytes(metadata)*
// with bytes(x) = varint(len(x)) ‖ x. That is not a serialized common.Block; `blockStoreToBlock` rebuilds
// the common.Block an orderer or peer would send for it, as Go's deterministic marshaller writes it:
// header (number omitted when 0, hashes omitted when empty), data (every entry, even empty ones),
// metadata (every entry).
import { FabricBlockLayout, locateFabricBlock } from './blockLayout.js';
import { ProtoFieldCursor, ProtoWriter } from './protoWire.js';

export class BlockStoreError extends Error {}

export interface StoredBlock {
  number: number;
  dataHash: Uint8Array;
  previousHash: Uint8Array;
  data: Uint8Array[];
  metadata: Uint8Array[];
}

/** Go's proto.Buffer reader over one serialized block: varints and length-prefixed byte strings. */
class StoreReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {}

  varint(field: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new BlockStoreError(`${this.what}: error decoding ${field}: unexpected end`);
      const b = this.buf[this.pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw new BlockStoreError(`${this.what}: ${field} above 2^53-1`);
        return value;
      }
    }
    throw new BlockStoreError(`${this.what}: error decoding ${field}: varint overflow`);
  }

  bytes(field: string): Uint8Array {
    const n = this.varint(`the length of ${field}`);
    if (n > this.buf.length - this.pos) throw new BlockStoreError(`${this.what}: error decoding ${field}: length ${n} beyond the record`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}

/** Decodes one serialized block (views into `bytes`). */
export function decodeStoredBlock(bytes: Uint8Array, what = 'stored block'): StoredBlock {
  const r = new StoreReader(bytes, what);
  const number = r.varint('the block number');
  const dataHash = r.bytes('the data hash');
  const previousHash = r.bytes('the previous hash');
  const txCount = r.varint('the length of block data');
  // Each entry takes at least one byte: a count above what remains cannot be honest (and would make us
  // allocate for it).
  if (txCount > r.remaining) throw new BlockStoreError(`${what}: ${txCount} transactions claimed in ${r.remaining} bytes`);
  const data: Uint8Array[] = [];
  for (let i = 0; i < txCount; i++) data.push(r.bytes('the transaction envelope'));
  const metaCount = r.varint('the length of block metadata');
  if (metaCount > r.remaining) throw new BlockStoreError(`${what}: ${metaCount} metadata entries claimed in ${r.remaining} bytes`);
  const metadata: Uint8Array[] = [];
  for (let i = 0; i < metaCount; i++) metadata.push(r.bytes('the block metadata'));
  if (r.remaining !== 0) throw new BlockStoreError(`${what}: ${r.remaining} bytes after the metadata`);
  return { number, dataHash, previousHash, data, metadata };
}

/** Serializes a block the way the block store does (serializeBlock). */
export function encodeStoredBlock(b: StoredBlock): Uint8Array {
  const w = new ProtoWriter();
  w.varint(b.number).varint(b.dataHash.length).raw(b.dataHash).varint(b.previousHash.length).raw(b.previousHash);
  w.varint(b.data.length);
  for (const d of b.data) w.varint(d.length).raw(d);
  w.varint(b.metadata.length);
  for (const m of b.metadata) w.varint(m.length).raw(m);
  return w.finish();
}

/** The serialized common.Block for a block's parts, byte for byte as Go marshals it. */
export function encodeCommonBlock(b: StoredBlock): Uint8Array {
  const header = new ProtoWriter(80)
    .uintField(1, b.number)
    .optionalBytesField(2, b.previousHash)
    .optionalBytesField(3, b.dataHash)
    .finish();
  const data = new ProtoWriter();
  for (const d of b.data) data.bytesField(1, d);
  const metadata = new ProtoWriter();
  for (const m of b.metadata) metadata.bytesField(1, m);
  return new ProtoWriter(header.length + data.length + metadata.length + 16)
    .bytesField(1, header)
    .bytesField(2, data.finish())
    .bytesField(3, metadata.finish())
    .finish();
}

/** Block-store bytes → the common.Block bytes a Fabric orderer would send for that block. */
export function blockStoreToBlock(stored: Uint8Array): Uint8Array {
  return encodeCommonBlock(decodeStoredBlock(stored));
}

/** The parts of a serialized common.Block (views into `block`); throws when it is not one. */
export function commonBlockParts(block: Uint8Array): StoredBlock {
  const layout = new FabricBlockLayout();
  const cursor = new ProtoFieldCursor();
  const err = locateFabricBlock(block, layout, cursor);
  if (err !== '') throw new BlockStoreError(err);
  const entries = (start: number, end: number): Uint8Array[] => {
    const out: Uint8Array[] = [];
    if (start < 0) return out;
    cursor.reset(block, start, end);
    while (cursor.next()) out.push(block.subarray(cursor.valueStart, cursor.valueEnd));
    return out;
  };
  return {
    number: layout.number,
    dataHash: block.subarray(layout.dataHashStart, layout.dataHashEnd),
    previousHash: block.subarray(layout.previousHashStart, layout.previousHashEnd),
    data: entries(layout.dataStart, layout.dataEnd),
    metadata: entries(layout.metadataStart, layout.metadataEnd),
  };
}

/** A serialized common.Block → its block-store serialization (what a peer's block file record holds). */
export function blockToBlockStore(block: Uint8Array): Uint8Array {
  return encodeStoredBlock(commonBlockParts(block));
}

/** Block file contents for blocks (common.Block bytes): records `varint(length) ‖ serialized block`. */
export function encodeBlockFile(blocks: Iterable<Uint8Array>): Uint8Array {
  const w = new ProtoWriter(64 * 1024);
  for (const b of blocks) {
    const stored = blockToBlockStore(b);
    w.varint(stored.length).raw(stored);
  }
  return w.finish();
}
