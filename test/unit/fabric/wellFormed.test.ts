// Fabric's VerifyTransactionsAreWellFormed (protoutil) as src/fabric/wellFormed.ts decides it without
// re-marshalling: each rule and its text, on blocks whose data entries are written byte by byte, so that
// the forms Go's proto.Marshal would not give back (fields out of order, repeated, unknown fields first,
// trailing bytes) are exactly what the test says they are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { common } from '@hyperledger/fabric-protos';
import { FabricBlockLayout, locateFabricBlock } from '../../../src/fabric/blockLayout.js';
import { ProtoFieldCursor } from '../../../src/fabric/protoWire.js';
import { WellFormed, WellFormedResult, checkTransactionsWellFormed, wellFormedErrorText } from '../../../src/fabric/wellFormed.js';

const WIRE_LEN = 2;
const WIRE_VARINT = 0;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-delimited field, minimally encoded. */
function bytesField(field: number, value: Uint8Array): Uint8Array {
  return Uint8Array.from([...varint((field << 3) | WIRE_LEN), ...varint(value.length), ...value]);
}

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

const PAYLOAD = new TextEncoder().encode('a transaction payload');
const SIGNATURE = Uint8Array.of(0x30, 0x44, 0x02, 0x20, 0x11, 0x22);
/** What Go's proto.Marshal gives for Envelope{Payload, Signature}: the only well formed shape. */
const CANONICAL = concat(bytesField(1, PAYLOAD), bytesField(2, SIGNATURE));

/** A Fabric block (number 5) whose data entries are `entries`, byte for byte. */
function blockOf(entries: Uint8Array[]): Uint8Array {
  const header = new common.BlockHeader();
  header.setNumber(5);
  header.setPreviousHash(new Uint8Array(32).fill(1));
  header.setDataHash(new Uint8Array(32).fill(2));
  const data = new common.BlockData();
  data.setDataList(entries);
  const metadata = new common.BlockMetadata();
  metadata.setMetadataList([new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]);
  const b = new common.Block();
  b.setHeader(header);
  b.setData(data);
  b.setMetadata(metadata);
  return b.serializeBinary();
}

/** A CONFIG envelope: payload with a channel header of type CONFIG. */
function configEnvelope(o: { signatureFirst?: boolean } = {}): Uint8Array {
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.CONFIG);
  ch.setChannelId('mychannel');
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(Uint8Array.of(1, 2, 3));
  const p = bytesField(1, payload.serializeBinary());
  const s = bytesField(2, SIGNATURE);
  return o.signatureFirst === true ? concat(s, p) : concat(p, s);
}

function check(entries: Uint8Array[]): { ok: boolean; r: WellFormedResult; text: string } {
  const block = blockOf(entries);
  const layout = new FabricBlockLayout();
  const cursor = new ProtoFieldCursor();
  assert.equal(locateFabricBlock(block, layout, cursor), '', 'the test block is a block');
  const r = new WellFormedResult();
  const ok = checkTransactionsWellFormed(block, layout, cursor, new ProtoFieldCursor(), r);
  return { ok, r, text: wellFormedErrorText(block, r) };
}

function refused(entries: Uint8Array[], code: number, text: string | RegExp, index?: number): void {
  const { ok, r, text: got } = check(entries);
  assert.equal(ok, false);
  assert.equal(r.code, code);
  if (index !== undefined) assert.equal(r.index, index);
  if (typeof text === 'string') assert.equal(got, text);
  else assert.match(got, text);
}

test('envelopes as Go marshals them are well formed, unknown fields after the known ones included', () => {
  assert.deepEqual(check([CANONICAL]).ok, true);
  assert.equal(check([CANONICAL, CANONICAL, CANONICAL]).ok, true);
  const unknownLast = concat(CANONICAL, bytesField(7, Uint8Array.of(9, 9)));
  const r = check([unknownLast]);
  assert.equal(r.ok, true);
  assert.equal(r.text, '');
});

test('a block without data entries is "empty block"', () => {
  refused([], WellFormed.empty, 'empty block');
});

test('an entry that is not an Envelope: "transaction i is invalid", with the index of the first bad one', () => {
  const truncated = bytesField(1, PAYLOAD).subarray(0, 5);
  refused([CANONICAL, truncated], WellFormed.invalid, 'transaction 1 is invalid: proto: cannot parse invalid wire-format data', 1);
  refused([Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)], WellFormed.invalid, /^transaction 0 is invalid/, 0);
});

test('no payload, an empty payload, no signature, an empty signature', () => {
  refused([bytesField(2, SIGNATURE)], WellFormed.noPayload, 'transaction 0 has no payload');
  refused([concat(bytesField(1, new Uint8Array(0)), bytesField(2, SIGNATURE))], WellFormed.noPayload, 'transaction 0 has no payload');
  refused([CANONICAL, bytesField(1, PAYLOAD)], WellFormed.noSignature, 'transaction 1 has no signature', 1);
  refused([concat(bytesField(1, PAYLOAD), bytesField(2, new Uint8Array(0)))], WellFormed.noSignature, 'transaction 0 has no signature');
});

test('bytes Go would not marshal back: a repeated field, a non-minimal length, are "trailing bytes" by the difference', () => {
  // The first payload is dropped by the re-marshalling (the last occurrence wins).
  const first = bytesField(1, Uint8Array.of(7, 7, 7));
  refused([concat(first, CANONICAL)], WellFormed.trailing, `transaction 0 has ${first.length} trailing bytes`);
  // Payload length written in two bytes where one does.
  const longLength = Uint8Array.from([0x0a, 0x80 | PAYLOAD.length, 0x00, ...PAYLOAD]);
  refused([concat(longLength, bytesField(2, SIGNATURE))], WellFormed.trailing, 'transaction 0 has 1 trailing bytes');
});

test('same length, another order: "does not match its raw form", with both forms in base64', () => {
  const swapped = concat(bytesField(2, SIGNATURE), bytesField(1, PAYLOAD));
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
  refused([CANONICAL, swapped], WellFormed.mismatch, `transaction 1 (${b64(CANONICAL)}) does not match its raw form (${b64(swapped)})`, 1);
  const unknownFirst = concat(bytesField(7, Uint8Array.of(9)), CANONICAL);
  refused([unknownFirst], WellFormed.mismatch, `transaction 0 (${b64(concat(CANONICAL, bytesField(7, Uint8Array.of(9))))}) does not match its raw form (${b64(unknownFirst)})`);
  // A varint field of an unknown number is kept as it was, but after the known ones.
  const unknownVarintFirst = concat(Uint8Array.of((9 << 3) | WIRE_VARINT, 1), CANONICAL);
  refused([unknownVarintFirst], WellFormed.mismatch, /^transaction 0 \(.*\) does not match its raw form/);
});

test('a single CONFIG envelope is not checked (nothing else can be in its block); a CONFIG among others is', () => {
  const odd = configEnvelope({ signatureFirst: true });
  assert.equal(check([odd]).ok, true);
  assert.equal(check([configEnvelope()]).ok, true);
  refused([odd, CANONICAL], WellFormed.mismatch, /^transaction 0 /, 0);
});

test('a reused result is reset by each check', () => {
  const layout = new FabricBlockLayout();
  const cursor = new ProtoFieldCursor();
  const r = new WellFormedResult();
  const bad = blockOf([bytesField(2, SIGNATURE)]);
  locateFabricBlock(bad, layout, cursor);
  assert.equal(checkTransactionsWellFormed(bad, layout, cursor, new ProtoFieldCursor(), r), false);
  const good = blockOf([CANONICAL]);
  locateFabricBlock(good, layout, cursor);
  assert.equal(checkTransactionsWellFormed(good, layout, cursor, new ProtoFieldCursor(), r), true);
  assert.equal(r.code, WellFormed.ok);
  assert.equal(r.index, -1);
  assert.equal(wellFormedErrorText(good, r), '');
});
