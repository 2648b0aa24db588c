// The block hash: SHA-256 over the 76 header bytes followed by the content of the signatures section.
//
// Covering the signatures (and not only the header, as Fabric's header hash does) is what makes the
// amortised verification (docs/design.md, "Amortised verification") complete: the next block's previousHash
// then authenticates every byte of this block (header, and through dataHash its data, and its signatures),
// so one valid signature on the newest block of a run vouches for every block below it, signatures
// included.
import { createHash } from 'node:crypto';
import { BlockLayout, HEADER_BYTES, HEADER_OFFSET, LayoutError, SIGNATURE_ENTRY_BYTES, layoutErrorText, locateBlock } from './block.js';
import { WireError } from './cbor.js';
import type { Sha256 } from '../crypto/sha256.js';

/** Hash of a block whose layout the caller has located. */
export function blockHashLocated(block: Uint8Array, layout: BlockLayout): Uint8Array {
  return createHash('sha256')
    .update(block.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES))
    .update(block.subarray(layout.signaturesOffset, layout.signaturesOffset + layout.signatureCount * SIGNATURE_ENTRY_BYTES))
    .digest();
}

export function blockHash(block: Uint8Array): Uint8Array {
  const layout = new BlockLayout();
  const err = locateBlock(block, layout);
  if (err !== LayoutError.ok) throw new WireError(layoutErrorText(err));
  return blockHashLocated(block, layout);
}

/** The same hash with a caller's hasher into a caller's buffer: no allocation (the hot path). */
export function blockHashInto(sha: Sha256, block: Uint8Array, layout: BlockLayout, out: Uint8Array, outOffset: number): void {
  sha.update(block, HEADER_OFFSET, HEADER_BYTES)
    .update(block, layout.signaturesOffset, layout.signatureCount * SIGNATURE_ENTRY_BYTES)
    .digestInto(out, outOffset);
}
