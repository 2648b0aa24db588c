// Where the parts of a serialized common.Block are, found in place without allocation (docs/fabric.md
// §1). Fabric decodes blocks with Go's protobuf, which accepts fields in any order, merges a
// repeated embedded message and keeps unknown fields; a block an orderer sends is Go's deterministic
// encoding, with each field at most once. Locating refuses the ambiguous forms (a field twice, a field
// Fabric's Block does not have) so that every reader of these bytes, here or in Go, sees the same
// header, data and metadata.
import { ProtoFieldCursor, WireType, messageWireValid, utf8Valid } from './protoWire.js';

/** Scratch for validating a nested message without disturbing the caller's cursor. */
const nested = new ProtoFieldCursor();

export const FABRIC_HASH_BYTES = 32;

/** common.HeaderType.CONFIG */
export const HEADER_TYPE_CONFIG = 1;

/** Why a block could not be located: constant texts (no allocation). */
export const LocateErrorText = {
  ok: '',
  noHeader: 'block has no header',
  noMetadata: 'block has no metadata',
  duplicateField: 'block encodes a field twice (ambiguous under protobuf merging)',
  unknownField: 'block carries a field common.Block does not define',
  numberTooLarge: 'block number above 2^53-1',
  badNumber: 'block header number is not a varint',
} as const;

export class FabricBlockLayout {
  number = 0;
  /** Header message bytes, [headerStart, headerEnd). */
  headerStart = 0;
  headerEnd = 0;
  /** Previous hash bytes (empty when absent). */
  previousHashStart = 0;
  previousHashEnd = 0;
  dataHashStart = 0;
  dataHashEnd = 0;
  /** The BlockData message, [dataStart, dataEnd); -1 when the block has no data field. */
  dataStart = -1;
  dataEnd = -1;
  dataCount = 0;
  /** The BlockMetadata message. */
  metadataStart = 0;
  metadataEnd = 0;
  metadataCount = 0;
  /** Metadata entry 0 (SIGNATURES), -1 when there is none. */
  signaturesStart = -1;
  signaturesEnd = -1;
  /** Metadata entry 1 (LAST_CONFIG), -1 when there is none. */
  lastConfigStart = -1;
  lastConfigEnd = -1;
  /** Data entry 0, -1 when the block has no entries. */
  firstDataStart = -1;
  firstDataEnd = -1;

  get previousHashLength(): number {
    return this.previousHashEnd - this.previousHashStart;
  }

  get dataHashLength(): number {
    return this.dataHashEnd - this.dataHashStart;
  }
}

/**
 * Locates the parts of `block` into `layout`; returns '' or a constant reason. `cursor` is the caller's
 * scratch (one per reader).
 */
export function locateFabricBlock(block: Uint8Array, layout: FabricBlockLayout, cursor: ProtoFieldCursor): string {
  let seenHeader = false;
  let seenData = false;
  let seenMetadata = false;
  layout.dataStart = -1;
  layout.dataEnd = -1;
  layout.dataCount = 0;
  layout.firstDataStart = -1;
  layout.firstDataEnd = -1;
  cursor.reset(block);
  while (cursor.next()) {
    if (cursor.wireType !== WireType.len || cursor.fieldNumber > 3) return LocateErrorText.unknownField;
    switch (cursor.fieldNumber) {
      case 1:
        if (seenHeader) return LocateErrorText.duplicateField;
        seenHeader = true;
        layout.headerStart = cursor.valueStart;
        layout.headerEnd = cursor.valueEnd;
        break;
      case 2:
        if (seenData) return LocateErrorText.duplicateField;
        seenData = true;
        layout.dataStart = cursor.valueStart;
        layout.dataEnd = cursor.valueEnd;
        break;
      default:
        if (seenMetadata) return LocateErrorText.duplicateField;
        seenMetadata = true;
        layout.metadataStart = cursor.valueStart;
        layout.metadataEnd = cursor.valueEnd;
    }
  }
  if (cursor.error !== '') return cursor.error;
  if (!seenHeader) return LocateErrorText.noHeader;
  if (!seenMetadata) return LocateErrorText.noMetadata;

  const headerErr = locateHeader(block, layout, cursor);
  if (headerErr !== '') return headerErr;

  if (layout.dataStart >= 0) {
    cursor.reset(block, layout.dataStart, layout.dataEnd);
    while (cursor.next()) {
      if (!cursor.isBytes(1)) return LocateErrorText.unknownField;
      if (layout.dataCount === 0) {
        layout.firstDataStart = cursor.valueStart;
        layout.firstDataEnd = cursor.valueEnd;
      }
      layout.dataCount++;
    }
    if (cursor.error !== '') return cursor.error;
  }

  layout.metadataCount = 0;
  layout.signaturesStart = -1;
  layout.signaturesEnd = -1;
  layout.lastConfigStart = -1;
  layout.lastConfigEnd = -1;
  cursor.reset(block, layout.metadataStart, layout.metadataEnd);
  while (cursor.next()) {
    if (!cursor.isBytes(1)) return LocateErrorText.unknownField;
    if (layout.metadataCount === 0) {
      layout.signaturesStart = cursor.valueStart;
      layout.signaturesEnd = cursor.valueEnd;
    } else if (layout.metadataCount === 1) {
      layout.lastConfigStart = cursor.valueStart;
      layout.lastConfigEnd = cursor.valueEnd;
    }
    layout.metadataCount++;
  }
  return cursor.error;
}

function locateHeader(block: Uint8Array, layout: FabricBlockLayout, cursor: ProtoFieldCursor): string {
  let seenNumber = false;
  let seenPrevious = false;
  let seenDataHash = false;
  layout.number = 0;
  layout.previousHashStart = layout.previousHashEnd = layout.headerStart;
  layout.dataHashStart = layout.dataHashEnd = layout.headerStart;
  cursor.reset(block, layout.headerStart, layout.headerEnd);
  while (cursor.next()) {
    switch (cursor.fieldNumber) {
      case 1:
        if (cursor.wireType !== WireType.varint) return LocateErrorText.badNumber;
        if (seenNumber) return LocateErrorText.duplicateField;
        seenNumber = true;
        if (!cursor.varintExact) return LocateErrorText.numberTooLarge;
        layout.number = cursor.varint;
        break;
      case 2:
        if (cursor.wireType !== WireType.len) return LocateErrorText.unknownField;
        if (seenPrevious) return LocateErrorText.duplicateField;
        seenPrevious = true;
        layout.previousHashStart = cursor.valueStart;
        layout.previousHashEnd = cursor.valueEnd;
        break;
      case 3:
        if (cursor.wireType !== WireType.len) return LocateErrorText.unknownField;
        if (seenDataHash) return LocateErrorText.duplicateField;
        seenDataHash = true;
        layout.dataHashStart = cursor.valueStart;
        layout.dataHashEnd = cursor.valueEnd;
        break;
      default:
        return LocateErrorText.unknownField;
    }
  }
  return cursor.error;
}

/**
 * Whether the block is a configuration block, as Fabric's protoutil.IsConfigBlock decides: exactly one
 * data entry, an Envelope whose Payload's Header's ChannelHeader has type CONFIG. Read in place with Go's
 * decoding rules (for a field given more than once the last one counts, across repeated embedded
 * messages too; a field with another wire type is an unknown field; int32 is the varint's low 32 bits);
 * bytes that do not decode are "not a config block", as in Go.
 */
export function isConfigBlockInPlace(block: Uint8Array, layout: FabricBlockLayout, cursor: ProtoFieldCursor): boolean {
  if (layout.dataCount !== 1) return false;
  // Envelope.payload (field 1): the last one.
  let payloadStart = -1;
  let payloadEnd = -1;
  cursor.reset(block, layout.firstDataStart, layout.firstDataEnd);
  while (cursor.next()) if (cursor.isBytes(1)) { payloadStart = cursor.valueStart; payloadEnd = cursor.valueEnd; }
  if (cursor.error !== '' || payloadStart < 0) return false;
  // The whole Payload must decode (Go fails the unmarshal otherwise); Payload.header (field 1) may repeat
  // and is merged, so the channel header is the last field 1 of any of them.
  let channelHeaderStart = -1;
  let channelHeaderEnd = -1;
  let headerCount = 0;
  cursor.reset(block, payloadStart, payloadEnd);
  while (cursor.next()) {
    if (!cursor.isBytes(1)) continue;
    headerCount++;
    const after = cursor.pos;
    const headerEnd = cursor.valueEnd;
    cursor.reset(block, cursor.valueStart, headerEnd);
    while (cursor.next()) if (cursor.isBytes(1)) { channelHeaderStart = cursor.valueStart; channelHeaderEnd = cursor.valueEnd; }
    if (cursor.error !== '') return false;
    cursor.reset(block, after, payloadEnd);
  }
  if (cursor.error !== '' || headerCount === 0) return false;
  let type = 0;
  if (channelHeaderStart >= 0) {
    cursor.reset(block, channelHeaderStart, channelHeaderEnd);
    while (cursor.next()) {
      const f = cursor.fieldNumber;
      if (f === 1 && cursor.wireType === WireType.varint) type = cursor.varintInt32;
      // Go checks proto3 strings (channel_id, tx_id) are UTF-8 and decodes the timestamp message.
      else if ((f === 4 || f === 5) && cursor.wireType === WireType.len && !utf8Valid(block, cursor.valueStart, cursor.valueEnd)) return false;
      else if (f === 3 && cursor.wireType === WireType.len && !messageWireValid(block, cursor.valueStart, cursor.valueEnd, nested)) return false;
    }
    if (cursor.error !== '') return false;
  }
  return type === HEADER_TYPE_CONFIG;
}
