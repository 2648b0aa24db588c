// edgepeer's own block format (src/protocol/block.ts) behind the BlockFormat seam.
import { blockHashInto } from '../protocol/blockHash.js';
import { Sha256 } from '../crypto/sha256.js';
import type { BlockFormat, BlockReader } from '../protocol/blockFormat.js';
import {
  BlockLayout, DATA_HASH_OFFSET, HASH_BYTES, LayoutError, PREVIOUS_HASH_OFFSET, blockNumber, bytesEqualAt,
  isConfigBlock, layoutErrorText, locateBlock,
} from '../protocol/block.js';

class EdgepeerBlockReader implements BlockReader {
  private readonly layout = new BlockLayout();
  private readonly sha = new Sha256();
  private readonly dataHash = new Uint8Array(HASH_BYTES);
  locateError = '';

  locate(block: Uint8Array): boolean {
    const err = locateBlock(block, this.layout);
    if (err === LayoutError.ok) return true;
    this.locateError = layoutErrorText(err);
    return false;
  }

  number(block: Uint8Array): number {
    return blockNumber(block);
  }

  previousHashEquals(block: Uint8Array, hash: Uint8Array, offset: number): boolean {
    return bytesEqualAt(block, PREVIOUS_HASH_OFFSET, hash, offset, HASH_BYTES);
  }

  dataHashValid(block: Uint8Array): boolean {
    this.sha.update(block, this.layout.dataOffset, this.layout.dataLength).digestInto(this.dataHash, 0);
    return bytesEqualAt(block, DATA_HASH_OFFSET, this.dataHash, 0, HASH_BYTES);
  }

  hashInto(block: Uint8Array, out: Uint8Array, offset: number): void {
    blockHashInto(this.sha, block, this.layout, out, offset);
  }

  isConfig(block: Uint8Array): boolean {
    return isConfigBlock(block);
  }
}

export const edgepeerBlockFormat: BlockFormat = {
  name: 'edgepeer',
  reader: () => new EdgepeerBlockReader(),
};
