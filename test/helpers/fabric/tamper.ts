// Tampering with serialized common.Block bytes at precise places, for tests that show a change anywhere
// is caught and named. Each helper returns a modified copy; the original is left alone.
import { FabricBlockLayout, locateFabricBlock } from '../../../src/fabric/blockLayout.js';
import { ProtoFieldCursor } from '../../../src/fabric/protoWire.js';
import { blockDataHash } from '../../../src/fabric/blockHashes.js';
import { commonBlockParts, encodeCommonBlock } from '../../../src/fabric/blockStore.js';

function located(block: Uint8Array): FabricBlockLayout {
  const layout = new FabricBlockLayout();
  const err = locateFabricBlock(block, layout, new ProtoFieldCursor());
  if (err !== '') throw new Error(`not a block: ${err}`);
  return layout;
}

/** A copy of `block` with the byte at `offset` inverted. */
export function flipByteAt(block: Uint8Array, offset: number): Uint8Array {
  const out = block.slice();
  out[offset] = out[offset]! ^ 0xff;
  return out;
}

/** Offset of the last byte of the payload of data entry `entry` (inside an envelope: structure intact). */
export function payloadByteOffset(block: Uint8Array, entry = 0): number {
  const layout = located(block);
  const c = new ProtoFieldCursor().reset(block, layout.dataStart, layout.dataEnd);
  for (let i = 0; c.next(); i++) {
    if (i !== entry) continue;
    const e = new ProtoFieldCursor().reset(block, c.valueStart, c.valueEnd);
    while (e.next()) if (e.isBytes(1)) return e.valueEnd - 1;
  }
  throw new Error(`no payload in data entry ${entry}`);
}

export function flipData(block: Uint8Array, entry = 0): Uint8Array {
  return flipByteAt(block, payloadByteOffset(block, entry));
}

export function flipDataHash(block: Uint8Array): Uint8Array {
  return flipByteAt(block, located(block).dataHashStart);
}

export function flipPreviousHash(block: Uint8Array): Uint8Array {
  const layout = located(block);
  if (layout.previousHashLength === 0) throw new Error('block has no previous hash');
  return flipByteAt(block, layout.previousHashStart + 5);
}

/** Offset of a byte inside signature `index` of the SIGNATURES metadata (in the DER's S integer). */
export function signatureByteOffset(block: Uint8Array, index = 0): number {
  const layout = located(block);
  const md = new ProtoFieldCursor().reset(block, layout.signaturesStart, layout.signaturesEnd);
  for (let i = 0; md.next();) {
    if (!md.isBytes(2)) continue;
    if (i++ !== index) continue;
    const sig = new ProtoFieldCursor().reset(block, md.valueStart, md.valueEnd);
    while (sig.next()) if (sig.isBytes(2)) return sig.valueEnd - 3;
  }
  throw new Error(`no signature ${index}`);
}

export function flipSignature(block: Uint8Array, index = 0): Uint8Array {
  return flipByteAt(block, signatureByteOffset(block, index));
}

/** A copy whose data entry `entry` has `extra` bytes appended (gluing, as Fabric's glued_together test data). */
export function appendToDataEntry(block: Uint8Array, entry: number, extra: Uint8Array): Uint8Array {
  const parts = commonBlockParts(block);
  const data = parts.data.map((d, i) => (i === entry ? Uint8Array.from([...d, ...extra]) : d));
  return encodeCommonBlock({ ...parts, data });
}

/** A copy with the data entries replaced (header and metadata unchanged). */
export function withDataEntries(block: Uint8Array, data: Uint8Array[]): Uint8Array {
  return encodeCommonBlock({ ...commonBlockParts(block), data });
}

/** A copy with the metadata entries replaced (header and data unchanged). */
export function withMetadata(block: Uint8Array, metadata: Uint8Array[]): Uint8Array {
  return encodeCommonBlock({ ...commonBlockParts(block), metadata });
}

/** A copy with the data entries replaced and the header's data hash recomputed for them. */
export function withDataEntriesRehashed(block: Uint8Array, data: Uint8Array[]): Uint8Array {
  return encodeCommonBlock({ ...commonBlockParts(block), data, dataHash: blockDataHash(data) });
}
