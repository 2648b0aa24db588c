// Hyperledger Fabric's serialized common.Block behind the BlockFormat seam (src/protocol/blockFormat.ts):
// a BlockReader that reads a block in place and allocates nothing (docs/fabric.md §1, §3, §8).
// - locate: the block's protobuf fields found with an allocation-free cursor; ambiguous encodings (a
//   field twice, an unknown field) refused, so every reader sees the header Fabric's Go code sees.
// - number, previous hash: from the header; an absent previous hash (Fabric's genesis) equals the
//   all-zero hash the ledger uses for "nothing before block 0".
// - dataHashValid: Fabric's BlockDataHash rule as the peer applies it: the transactions well formed
//   (VerifyTransactionsAreWellFormed) and SHA-256 of the concatenated entries equal to the header's hash.
// - hashInto: BlockHeaderHash, the ASN.1 DER of the header built in a preallocated scratch and hashed
//   with the allocation-free Sha256.
// - isConfig: the single envelope's ChannelHeader type is CONFIG, read in place.
import { Sha256 } from '../crypto/sha256.js';
import type { BlockFormat, BlockReader } from '../protocol/blockFormat.js';
import { FABRIC_HASH_BYTES, FabricBlockLayout, isConfigBlockInPlace, locateFabricBlock } from './blockLayout.js';
import { InPlaceBlockHasher } from './blockHashes.js';
import { ProtoFieldCursor } from './protoWire.js';
import { WellFormedResult, checkTransactionsWellFormed } from './wellFormed.js';

export class FabricBlockReader implements BlockReader {
  readonly layout = new FabricBlockLayout();
  readonly wellFormed = new WellFormedResult();
  private readonly cursor = new ProtoFieldCursor();
  private readonly envelopeCursor = new ProtoFieldCursor();
  private readonly hasher = new InPlaceBlockHasher(new Sha256());
  private readonly dataHash = new Uint8Array(FABRIC_HASH_BYTES);
  locateError = '';

  locate(block: Uint8Array): boolean {
    this.locateError = locateFabricBlock(block, this.layout, this.cursor);
    return this.locateError === '';
  }

  number(_block: Uint8Array): number {
    return this.layout.number;
  }

  previousHashEquals(block: Uint8Array, hash: Uint8Array, offset: number): boolean {
    const l = this.layout;
    const len = l.previousHashLength;
    if (len === 0) {
      for (let i = 0; i < FABRIC_HASH_BYTES; i++) if (hash[offset + i] !== 0) return false;
      return true;
    }
    if (len !== FABRIC_HASH_BYTES) return false;
    for (let i = 0; i < FABRIC_HASH_BYTES; i++) if (block[l.previousHashStart + i] !== hash[offset + i]) return false;
    return true;
  }

  /** Well-formed transactions and a matching data hash; `wellFormed.code` tells which failed. */
  dataHashValid(block: Uint8Array): boolean {
    const l = this.layout;
    if (!checkTransactionsWellFormed(block, l, this.cursor, this.envelopeCursor, this.wellFormed)) return false;
    if (l.dataHashLength !== FABRIC_HASH_BYTES) return false;
    this.hasher.dataHashInto(block, l, this.cursor, this.dataHash, 0);
    for (let i = 0; i < FABRIC_HASH_BYTES; i++) if (block[l.dataHashStart + i] !== this.dataHash[i]) return false;
    return true;
  }

  hashInto(block: Uint8Array, out: Uint8Array, offset: number): void {
    this.hasher.headerHashInto(block, this.layout, out, offset);
  }

  isConfig(block: Uint8Array): boolean {
    return isConfigBlockInPlace(block, this.layout, this.cursor);
  }
}

export const fabricBlockFormat: BlockFormat = {
  name: 'fabric',
  reader: () => new FabricBlockReader(),
};
