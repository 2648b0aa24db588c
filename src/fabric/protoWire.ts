// Protocol-buffer wire reading and writing without allocation, for reading Fabric's messages in place
// (the hot path) and for the few encodings Fabric's Go code produces that must be reproduced byte for
// byte (a block rebuilt from the block store, an envelope re-marshalled by the trailing-bytes check).
//
// The reader follows Go's protowire rules, because Go is what Fabric decodes with: a varint is at most
// 10 bytes and its 10th byte at most 1; field number 0 and numbers above 2^29-1 are invalid; wire types
// 6 and 7 are invalid; groups (3/4) are skipped as unknown fields with their end tag matching the start;
// a length-delimited value must fit in what remains. Values above 2^53-1 are reported as not exact
// (a JS number cannot hold them) so callers can refuse them.

export const WireType = { varint: 0, fixed64: 1, len: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** Go's protobuf recursion limit is 10,000; nothing Fabric sends nests groups, so a small bound suffices. */
const MAX_GROUP_DEPTH = 64;
const MAX_FIELD_NUMBER = 0x1fffffff;

/** Constant error texts (no allocation on the hot path). */
export const WireErrorText = {
  truncated: 'proto: cannot parse invalid wire-format data (truncated)',
  overflow: 'proto: cannot parse invalid wire-format data (varint overflow)',
  fieldNumber: 'proto: cannot parse invalid wire-format data (invalid field number)',
  wireType: 'proto: cannot parse invalid wire-format data (invalid wire type)',
  group: 'proto: cannot parse invalid wire-format data (unmatched group)',
  groupDepth: 'proto: cannot parse invalid wire-format data (groups nested too deep)',
} as const;

/**
 * Iterates the fields of one message in buf[start, end). One instance is reused: `reset` then `next`
 * until it returns false; `error` is '' at a clean end.
 */
export class ProtoFieldCursor {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  error = '';
  /** Of the field last returned by `next`. */
  fieldNumber = 0;
  wireType = 0;
  /** Offset of the field's tag (the first byte of the field). */
  fieldStart = 0;
  /** True when the tag was encoded in the fewest bytes (what Go's marshaller writes). */
  tagMinimal = true;
  /** Length-delimited: the value's bytes are buf[valueStart, valueEnd). Other types: the raw value span. */
  valueStart = 0;
  valueEnd = 0;
  /** Length-delimited: whether the length prefix was minimal. */
  lengthMinimal = true;
  /** Varint fields: the value, exact when `varintExact`. */
  varint = 0;
  varintExact = true;
  /** Varint fields: the low 32 bits as a signed integer (how Go reads an int32 field). */
  varintInt32 = 0;

  // Scratch filled by readVarint (no tuple allocation).
  private vValue = 0;
  private vExact = true;
  private vMinimal = true;
  private vLow32 = 0;

  reset(buf: Uint8Array, start = 0, end = buf.length): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.error = '';
    return this;
  }

  /** Reads the next field; false at the end of the message or on an error (then `error` is set). */
  next(): boolean {
    if (this.pos >= this.end) return false;
    this.fieldStart = this.pos;
    if (!this.readVarint()) return false;
    if (!this.vExact || this.vValue > 0xffffffff) { this.error = WireErrorText.fieldNumber; return false; }
    const tag = this.vValue;
    this.tagMinimal = this.vMinimal;
    const num = Math.floor(tag / 8);
    const wt = tag % 8;
    if (num < 1 || num > MAX_FIELD_NUMBER) { this.error = WireErrorText.fieldNumber; return false; }
    this.fieldNumber = num;
    this.wireType = wt;
    switch (wt) {
      case WireType.varint: {
        const s = this.pos;
        if (!this.readVarint()) return false;
        this.varint = this.vValue;
        this.varintExact = this.vExact;
        this.varintInt32 = this.vLow32 | 0;
        this.valueStart = s;
        this.valueEnd = this.pos;
        return true;
      }
      case WireType.fixed64:
        return this.skipFixed(8);
      case WireType.fixed32:
        return this.skipFixed(4);
      case WireType.len: {
        if (!this.readVarint()) return false;
        this.lengthMinimal = this.vMinimal;
        if (!this.vExact || this.vValue > this.end - this.pos) { this.error = WireErrorText.truncated; return false; }
        this.valueStart = this.pos;
        this.pos += this.vValue;
        this.valueEnd = this.pos;
        return true;
      }
      case WireType.startGroup: {
        const s = this.pos;
        if (!this.skipGroup(num, 1)) return false;
        this.valueStart = s;
        this.valueEnd = this.pos;
        return true;
      }
      case WireType.endGroup:
        this.error = WireErrorText.group;
        return false;
      default:
        this.error = WireErrorText.wireType;
        return false;
    }
  }

  /** Whether the field last returned is length-delimited with this number. */
  isBytes(fieldNumber: number): boolean {
    return this.fieldNumber === fieldNumber && this.wireType === WireType.len;
  }

  private skipFixed(n: number): boolean {
    if (this.end - this.pos < n) { this.error = WireErrorText.truncated; return false; }
    this.valueStart = this.pos;
    this.pos += n;
    this.valueEnd = this.pos;
    return true;
  }

  /** Skips to just past the end-group tag matching `num` (the start tag already read). */
  private skipGroup(num: number, depth: number): boolean {
    if (depth > MAX_GROUP_DEPTH) { this.error = WireErrorText.groupDepth; return false; }
    for (;;) {
      if (this.pos >= this.end) { this.error = WireErrorText.truncated; return false; }
      if (!this.readVarint()) return false;
      if (!this.vExact || this.vValue > 0xffffffff) { this.error = WireErrorText.fieldNumber; return false; }
      const n = Math.floor(this.vValue / 8);
      const wt = this.vValue % 8;
      if (n < 1 || n > MAX_FIELD_NUMBER) { this.error = WireErrorText.fieldNumber; return false; }
      switch (wt) {
        case WireType.varint:
          if (!this.readVarint()) return false;
          break;
        case WireType.fixed64:
          if (this.end - this.pos < 8) { this.error = WireErrorText.truncated; return false; }
          this.pos += 8;
          break;
        case WireType.fixed32:
          if (this.end - this.pos < 4) { this.error = WireErrorText.truncated; return false; }
          this.pos += 4;
          break;
        case WireType.len:
          if (!this.readVarint()) return false;
          if (!this.vExact || this.vValue > this.end - this.pos) { this.error = WireErrorText.truncated; return false; }
          this.pos += this.vValue;
          break;
        case WireType.startGroup:
          if (!this.skipGroup(n, depth + 1)) return false;
          break;
        case WireType.endGroup:
          if (n !== num) { this.error = WireErrorText.group; return false; }
          return true;
        default:
          this.error = WireErrorText.wireType;
          return false;
      }
    }
  }

  /** Reads a varint at pos into vValue/vExact/vMinimal and advances; false (error set) if invalid. */
  private readVarint(): boolean {
    const buf = this.buf;
    let value = 0;
    let scale = 1;
    let low32 = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) { this.error = WireErrorText.truncated; return false; }
      const b = buf[this.pos++]!;
      if (i === 9 && b > 1) { this.error = WireErrorText.overflow; return false; }
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (i < 5) low32 = (low32 + ((b & 0x7f) << (7 * i))) >>> 0;
      if (b < 0x80) {
        this.vValue = value;
        this.vExact = value <= Number.MAX_SAFE_INTEGER;
        this.vLow32 = low32;
        // Minimal: a single byte, or a last byte that is not zero.
        this.vMinimal = i === 0 || b !== 0;
        return true;
      }
    }
    this.error = WireErrorText.overflow;
    return false;
  }
}

/** Whether buf[start, end) is one well-formed message on the wire (fields only, not their contents). */
export function messageWireValid(buf: Uint8Array, start: number, end: number, cursor: ProtoFieldCursor): boolean {
  cursor.reset(buf, start, end);
  while (cursor.next()) { /* each field checked by next() */ }
  return cursor.error === '';
}

/** Whether buf[start, end) is valid UTF-8 (Go's utf8.Valid: no surrogates, no overlongs, at most U+10FFFF). */
export function utf8Valid(buf: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x80) { i++; continue; }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; cp = b & 0x1f; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; cp = b & 0x0f; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; cp = b & 0x07; }
    else return false;
    if (end - i <= need) return false;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k]!;
      if ((c & 0xc0) !== 0x80) return false;
      cp = cp * 64 + (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

/** Bytes a varint of `value` takes (value a non-negative integer up to 2^53). */
export function varintSize(value: number): number {
  let n = 1;
  while (value >= 128) { value = Math.floor(value / 128); n++; }
  return n;
}

/** Writes `value` as a varint at out[offset]; returns the offset after it. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 128) {
    out[offset++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** A growable byte buffer for encoding protobuf the way Go's deterministic marshaller does. */
export class ProtoWriter {
  private buf: Uint8Array;
  private len = 0;

  constructor(initialBytes = 1024) {
    this.buf = new Uint8Array(initialBytes);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  varint(value: number): this {
    this.reserve(10);
    this.len = writeVarint(this.buf, this.len, value);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  /** A length-delimited field (tag, length, bytes), written even when empty (as Go does for repeated). */
  bytesField(fieldNumber: number, bytes: Uint8Array): this {
    return this.varint(fieldNumber * 8 + WireType.len).varint(bytes.length).raw(bytes);
  }

  /** A proto3 scalar varint field: omitted when zero, as Go's marshaller omits defaults. */
  uintField(fieldNumber: number, value: number): this {
    if (value === 0) return this;
    return this.varint(fieldNumber * 8 + WireType.varint).varint(value);
  }

  /** A proto3 singular bytes field: omitted when empty. */
  optionalBytesField(fieldNumber: number, bytes: Uint8Array | undefined): this {
    if (bytes === undefined || bytes.length === 0) return this;
    return this.bytesField(fieldNumber, bytes);
  }

  get length(): number {
    return this.len;
  }

  /** The bytes written (a copy: the writer may be reused). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
