// Fabric's check that a block's transactions are well formed (protoutil.VerifyTransactionsAreWellFormed,
// called by the peer's block verification and by ledgerutil verify). It exists because the 2.x data hash
// is over the entries concatenated: without it, entries could be split or glued together without
// changing the hash. Rules, in Fabric's order and wording:
//   no data entries                          -> "empty block"
//   a single CONFIG envelope                 -> well formed (nothing to check)
//   entry i does not decode as an Envelope   -> "transaction i is invalid: proto: cannot parse invalid wire-format data"
//   empty payload / empty signature          -> "transaction i has no payload" / "... has no signature"
//   re-marshalled envelope shorter than raw  -> "transaction i has N trailing bytes"
//   re-marshalled envelope differs           -> "transaction i (<base64>) does not match its raw form (<base64>)"
// Re-marshalling is Go's: the payload field, the signature field (each once, minimal encoding, the last
// occurrence's value), then the unknown fields as they were. The check below decides that without
// building the re-marshalled bytes, so the hot path allocates nothing; the texts are built only on failure.
import { FabricBlockLayout, isConfigBlockInPlace } from './blockLayout.js';
import { ProtoFieldCursor, ProtoWriter, varintSize } from './protoWire.js';

export const WellFormed = {
  ok: 0,
  empty: 1,
  invalid: 2,
  noPayload: 3,
  noSignature: 4,
  trailing: 5,
  mismatch: 6,
} as const;
export type WellFormedCode = (typeof WellFormed)[keyof typeof WellFormed];

/** Outcome of a check; one instance reused by its owner. */
export class WellFormedResult {
  code: WellFormedCode = WellFormed.ok;
  /** Index of the offending transaction. */
  index = -1;
  /** For `trailing`: how many bytes the raw entry has beyond its re-marshalled form. */
  trailingBytes = 0;
  /** The offending entry, for the mismatch text. */
  entryStart = 0;
  entryEnd = 0;
}

/** Checks one envelope in buf[start, end); sets r.code (r.index is the caller's). */
function checkEnvelope(buf: Uint8Array, start: number, end: number, c: ProtoFieldCursor, r: WellFormedResult): void {
  let payloadStart = -1, payloadEnd = -1, sigStart = -1, sigEnd = -1;
  let unknownBytes = 0;
  // Canonical: payload first and once, signature second and once, minimal encodings, then unknowns only.
  let canonical = true;
  let position = 0;
  c.reset(buf, start, end);
  while (c.next()) {
    const minimal = c.tagMinimal && c.lengthMinimal;
    if (c.isBytes(1)) {
      canonical &&= position === 0 && minimal;
      payloadStart = c.valueStart; payloadEnd = c.valueEnd;
    } else if (c.isBytes(2)) {
      canonical &&= position === 1 && minimal;
      sigStart = c.valueStart; sigEnd = c.valueEnd;
    } else {
      canonical &&= position >= 2;
      unknownBytes += c.pos - c.fieldStart;
    }
    position++;
  }
  if (c.error !== '') { r.code = WellFormed.invalid; return; }
  const payloadLen = payloadEnd - payloadStart;
  const sigLen = sigEnd - sigStart;
  if (payloadStart < 0 || payloadLen === 0) { r.code = WellFormed.noPayload; return; }
  if (sigStart < 0 || sigLen === 0) { r.code = WellFormed.noSignature; return; }
  const expected = 1 + varintSize(payloadLen) + payloadLen + 1 + varintSize(sigLen) + sigLen + unknownBytes;
  if (expected < end - start) {
    r.code = WellFormed.trailing;
    r.trailingBytes = end - start - expected;
    return;
  }
  r.code = canonical ? WellFormed.ok : WellFormed.mismatch;
}

/** VerifyTransactionsAreWellFormed over a located block, without allocation. */
export function checkTransactionsWellFormed(
  block: Uint8Array, layout: FabricBlockLayout, cursor: ProtoFieldCursor, envelopeCursor: ProtoFieldCursor, r: WellFormedResult,
): boolean {
  r.code = WellFormed.ok;
  r.index = -1;
  r.trailingBytes = 0;
  if (layout.dataStart < 0 || layout.dataCount === 0) { r.code = WellFormed.empty; return false; }
  if (isConfigBlockInPlace(block, layout, cursor)) return true;
  cursor.reset(block, layout.dataStart, layout.dataEnd);
  let i = 0;
  while (cursor.next()) {
    checkEnvelope(block, cursor.valueStart, cursor.valueEnd, envelopeCursor, r);
    if (r.code !== WellFormed.ok) {
      r.index = i;
      r.entryStart = cursor.valueStart;
      r.entryEnd = cursor.valueEnd;
      return false;
    }
    i++;
  }
  return true;
}

/** Go's re-marshalling of an Envelope (payload, signature, unknown fields), for the mismatch text. */
function remarshalEnvelope(raw: Uint8Array): Uint8Array {
  const c = new ProtoFieldCursor().reset(raw);
  let payload: Uint8Array = new Uint8Array(0);
  let signature: Uint8Array = new Uint8Array(0);
  const unknown: Uint8Array[] = [];
  while (c.next()) {
    if (c.isBytes(1)) payload = raw.subarray(c.valueStart, c.valueEnd);
    else if (c.isBytes(2)) signature = raw.subarray(c.valueStart, c.valueEnd);
    else unknown.push(raw.subarray(c.fieldStart, c.pos));
  }
  const w = new ProtoWriter(raw.length + 16).optionalBytesField(1, payload).optionalBytesField(2, signature);
  for (const u of unknown) w.raw(u);
  return w.finish();
}

/** Fabric's error text for a failed check ('' when it passed). */
export function wellFormedErrorText(block: Uint8Array, r: WellFormedResult): string {
  switch (r.code) {
    case WellFormed.ok: return '';
    case WellFormed.empty: return 'empty block';
    case WellFormed.invalid: return `transaction ${r.index} is invalid: proto: cannot parse invalid wire-format data`;
    case WellFormed.noPayload: return `transaction ${r.index} has no payload`;
    case WellFormed.noSignature: return `transaction ${r.index} has no signature`;
    case WellFormed.trailing: return `transaction ${r.index} has ${r.trailingBytes} trailing bytes`;
    case WellFormed.mismatch: {
      const raw = block.subarray(r.entryStart, r.entryEnd);
      const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
      return `transaction ${r.index} (${b64(remarshalEnvelope(raw))}) does not match its raw form (${b64(raw)})`;
    }
  }
}
