// The wire codec: block layout read in place, envelopes, SeekInfo, frames, and the "plain CBOR" promise
// (no library tags, large integers as uints) that lets third parties write clients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, sign as cryptoSign } from 'node:crypto';
import { ChannelState } from '../../../src/channel/channelState.js';
import { encodeBlockData, makeBlock, signConfigEnvelope } from '../../../src/channel/blocks.js';
import { type Certificate, type Role, encodeCertificate, issueCertificate } from '../../../src/protocol/certificate.js';
import { sha256 } from '../../../src/crypto/hash.js';
import { type KeyPair, generateKeyPair } from '../../../src/crypto/keys.js';
import {
  BlockLayout, FLAG_CONFIG, HASH_BYTES, HEADER_BYTES, HEADER_OFFSET, LayoutError, blockEnvelopes, blockNumber,
  dataBytes, encodeBlock, encodeHeader, isConfigBlock, locateBlock, readHeader, signatureEntries,
} from '../../../src/protocol/block.js';
import { WireError, decodeCbor, encodeCbor } from '../../../src/protocol/cbor.js';
import type { ChannelConfig } from '../../../src/protocol/channelConfig.js';
import { MessageType, type Signer, decodeEnvelope, signEnvelope } from '../../../src/protocol/envelope.js';
import {
  FrameKind, decodeBroadcastResponse, decodeDeliverRequestFrame, decodeDeliverResponse, decodeSubmitFrame,
  encodeAckFrame, encodeBroadcastResponse, encodeCancelFrame, encodeDeliverBlocks, encodeDeliverStatus,
  encodeSeekFrame, encodeSubmitFrame,
} from '../../../src/protocol/frames.js';
import {
  MAX_BLOCK_NUMBER, SeekBehavior, type SeekInfo, SeekType, seekInfoFromWire, seekInfoToWire, seekNewest,
  seekNextCommit, seekOldest, seekSpecified,
} from '../../../src/protocol/seek.js';
import { Status } from '../../../src/protocol/status.js';

const NOW_MS = Date.UTC(2025, 0, 1);
const DAY_MS = 24 * 3600 * 1000;
/** Above 2^32, so it must travel as a 64-bit CBOR uint. */
const BIG_TIMESTAMP_MS = 0x1_2345_6789_ab;
const textBytes = (s: string): number[] => [...Buffer.from(s, 'utf8')];

function member(id: string, org: string, role: Role, root: KeyPair): Signer {
  const key = generateKeyPair();
  const certificate = issueCertificate(
    { id, org, role, publicKey: key.publicKeyRaw, notBefore: NOW_MS - DAY_MS, notAfter: NOW_MS + DAY_MS },
    root.privateKey,
  );
  return { certificate, privateKey: key.privateKey };
}

const ordererRoot = generateKeyPair();
const orgRoot = generateKeyPair();
const ordererNode = member('orderer0', 'orderer', 'orderer', ordererRoot);
const client = member('org1-client', 'org1', 'client', orgRoot);

function channelConfig(signers: Certificate[]): ChannelConfig {
  return {
    channel: 'ch1',
    sequence: 0,
    orderer: { org: 'orderer', signers, minSignatures: 1 },
    orgs: [{ name: 'orderer', rootPublicKey: ordererRoot.publicKeyRaw }, { name: 'org1', rootPublicKey: orgRoot.publicKeyRaw }],
    readers: { orgs: ['orderer', 'org1'], roles: ['peer', 'client', 'admin', 'orderer'] },
    writers: { orgs: ['org1'], roles: ['client', 'peer', 'admin'] },
    admins: { orgs: ['orderer'], roles: ['admin'] },
    batch: { maxMessageCount: 10, preferredMaxBytes: 1000, absoluteMaxBytes: 2000, batchTimeoutMs: 100 },
    revoked: [],
  };
}

/**
 * Walks one CBOR item and counts what plain CBOR must not contain here: tags (major type 6) and floats.
 * Throws on indefinite lengths or trailing bytes, which the protocol does not use either.
 */
function scanCbor(b: Uint8Array): { tags: number; floats: number } {
  const found = { tags: 0, floats: 0 };
  let pos = 0;
  const need = (n: number): void => { if (pos + n > b.length) throw new Error(`truncated at ${pos}`); };
  const argument = (ai: number): number => {
    if (ai < 24) return ai;
    if (ai > 27) throw new Error(`unexpected additional info ${ai} at ${pos}`);
    const len = 1 << (ai - 24);
    need(len);
    let v = 0;
    for (let i = 0; i < len; i++) v = v * 256 + b[pos + i]!;
    pos += len;
    return v;
  };
  const item = (): void => {
    need(1);
    const ib = b[pos++]!;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    if (major === 7) {
      if (ai >= 25 && ai <= 27) { found.floats++; pos += 1 << (ai - 24); }
      else if (ai === 24) pos += 1;
      else if (ai > 27) throw new Error(`unexpected simple value ${ai}`);
      return;
    }
    const n = argument(ai);
    switch (major) {
      case 0: case 1: return;
      case 2: case 3: need(n); pos += n; return;
      case 4: for (let i = 0; i < n; i++) item(); return;
      case 5: for (let i = 0; i < 2 * n; i++) item(); return;
      case 6: found.tags++; item(); return;
    }
  };
  item();
  assert.equal(pos, b.length, 'one CBOR item, no trailing bytes');
  return found;
}

function assertPlain(bytes: Uint8Array, what: string): void {
  assert.deepEqual(scanCbor(bytes), { tags: 0, floats: 0 }, `${what}: no tags, no floats`);
}

/** True when `needle` occurs in `hay`. */
function contains(hay: Uint8Array, needle: readonly number[]): boolean {
  return Buffer.from(hay).includes(Buffer.from(needle));
}

function sampleBlock(): { bytes: Uint8Array; header: Uint8Array; data: Uint8Array; envelopes: Uint8Array[]; sigs: { signerIndex: number; signature: Uint8Array }[] } {
  // One envelope above 64 KiB, so the data byte string needs a 4-byte length.
  const envelopes = [
    signEnvelope({ type: MessageType.TRANSACTION, channel: 'ch1', data: { blob: randomBytes(70_000) } }, client).bytes,
    signEnvelope({ type: MessageType.TRANSACTION, channel: 'ch1', data: { n: 1 } }, client).bytes,
  ];
  const data = encodeBlockData(envelopes);
  const number = 2 ** 40 + 5;
  const header = encodeHeader({ number, previousHash: randomBytes(HASH_BYTES), dataHash: sha256(data), flags: FLAG_CONFIG });
  const sigs = [
    { signerIndex: 0, signature: randomBytes(64) },
    { signerIndex: 513, signature: randomBytes(64) },
  ];
  return { bytes: encodeBlock(header, data, sigs), header, data, envelopes, sigs };
}

test('block: encode, then locateBlock and readHeader read back every part in place', () => {
  const { bytes, header, data, envelopes, sigs } = sampleBlock();
  const layout = new BlockLayout();
  assert.equal(locateBlock(bytes, layout), LayoutError.ok);
  assert.deepEqual(bytes.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES), header);
  assert.equal(blockNumber(bytes), 2 ** 40 + 5);
  assert.ok(isConfigBlock(bytes));
  assert.deepEqual(Buffer.from(dataBytes(bytes, layout)), Buffer.from(data));
  assert.equal(layout.signatureCount, 2);
  assert.deepEqual(
    signatureEntries(bytes, layout).map((e) => ({ signerIndex: e.signerIndex, signature: Buffer.from(e.signature) })),
    sigs.map((e) => ({ signerIndex: e.signerIndex, signature: Buffer.from(e.signature) })),
  );
  const h = readHeader(bytes);
  assert.equal(h.number, 2 ** 40 + 5);
  assert.deepEqual(Buffer.from(h.previousHash), Buffer.from(header.subarray(8, 40)));
  assert.deepEqual(Buffer.from(h.dataHash), Buffer.from(sha256(data)));
  assert.equal(h.flags, FLAG_CONFIG);
  assert.deepEqual(blockEnvelopes(bytes).map((e) => Buffer.from(e)), envelopes.map((e) => Buffer.from(e)));
  // The hand-written layout is the same bytes any CBOR library makes of [header, data, signatures].
  const sigBytes = Buffer.concat(sigs.map((s) => Buffer.concat([Buffer.from([s.signerIndex >> 8, s.signerIndex & 0xff]), s.signature])));
  assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeCbor([header, data, new Uint8Array(sigBytes)])));
  assertPlain(bytes, 'block');
});

test('block: locateBlock rejects malformed layouts with the matching reason', () => {
  const { bytes, header, data } = sampleBlock();
  const layout = new BlockLayout();
  const small = makeBlock(1, new Uint8Array(32), [new Uint8Array(30)], 0, [{ index: 0, key: ordererNode.privateKey }]).bytes;
  assert.equal(locateBlock(small, layout), LayoutError.ok);

  assert.equal(locateBlock(bytes.subarray(0, bytes.length - 1), layout), LayoutError.badSignatures, 'truncated in signatures');
  assert.equal(locateBlock(bytes.subarray(0, 50), layout), LayoutError.notArray3, 'truncated in header');
  assert.equal(locateBlock(bytes.subarray(0, HEADER_OFFSET + HEADER_BYTES + 2), layout), LayoutError.badData, 'truncated in data');
  assert.equal(locateBlock(Buffer.concat([small, Buffer.of(0)]), layout), LayoutError.trailingBytes);

  const shortHeader = Uint8Array.from(small);
  shortHeader[2] = HEADER_BYTES - 1;
  assert.equal(locateBlock(shortHeader, layout), LayoutError.badHeader);
  assert.equal(locateBlock(encodeCbor([header.subarray(0, 75), data, new Uint8Array(0)]), layout), LayoutError.badHeader);

  // The data of `small` is CBOR [bstr(30)]: 32 bytes behind a one-byte length at HEADER_OFFSET+76+1.
  const dataPastEnd = Uint8Array.from(small);
  assert.equal(dataPastEnd[HEADER_OFFSET + HEADER_BYTES], 0x58);
  dataPastEnd[HEADER_OFFSET + HEADER_BYTES + 1] = 0xff;
  assert.equal(locateBlock(dataPastEnd, layout), LayoutError.badData);

  assert.equal(locateBlock(encodeCbor([header, data, new Uint8Array(65)]), layout), LayoutError.badSignatures);
  assert.equal(locateBlock(encodeCbor([header, data, new Uint8Array(67)]), layout), LayoutError.badSignatures);
  assert.equal(locateBlock(encodeCbor([header, data, new Uint8Array(132)]), layout), LayoutError.ok);

  assert.equal(locateBlock(encodeCbor([header, data]), layout), LayoutError.notArray3);
  assert.equal(locateBlock(encodeCbor([header, data, new Uint8Array(0), new Uint8Array(0)]), layout), LayoutError.notArray3);
  assert.equal(locateBlock(encodeCbor({ header, data, signatures: new Uint8Array(0) }), layout), LayoutError.notArray3);

  const hugeNumber = Uint8Array.from(header);
  hugeNumber[0] = 0x01;
  assert.equal(locateBlock(encodeBlock(hugeNumber, data, []), layout), LayoutError.numberTooLarge);

  assert.throws(() => readHeader(bytes.subarray(0, bytes.length - 1)), WireError);
  assert.throws(() => encodeHeader({ number: -1, previousHash: new Uint8Array(32), dataHash: new Uint8Array(32), flags: 0 }), WireError);
  assert.throws(() => encodeHeader({ number: 1, previousHash: new Uint8Array(31), dataHash: new Uint8Array(32), flags: 0 }), WireError);
});

test('envelope: signed, decoded back, and a txId that does not match nonce and creator is refused', () => {
  const { bytes, txId } = signEnvelope(
    { type: MessageType.TRANSACTION, channel: 'ch1', data: { k: 'v', b: Uint8Array.of(1, 2) }, replyTo: 'edgepeer/v1/ch1/reply/c', session: 's1', timestamp: BIG_TIMESTAMP_MS },
    client,
  );
  const env = decodeEnvelope(bytes);
  assert.equal(env.payload.type, MessageType.TRANSACTION);
  assert.equal(env.payload.channel, 'ch1');
  assert.equal(env.payload.txId, txId);
  assert.equal(env.payload.timestamp, BIG_TIMESTAMP_MS);
  assert.equal(env.payload.replyTo, 'edgepeer/v1/ch1/reply/c');
  assert.equal(env.payload.session, 's1');
  assert.equal(env.payload.creator.fingerprint, client.certificate.fingerprint);
  assert.deepEqual(env.payload.data, { k: 'v', b: Buffer.of(1, 2) });

  // Same payload with another txId, properly signed: the signature is fine, the txId binding is not.
  const outer = decodeCbor(bytes) as { payload: Uint8Array };
  const payload = decodeCbor(outer.payload) as Record<string, unknown>;
  payload['txId'] = 'ab'.repeat(32);
  const forged = signEnvelopeBytes(encodeCbor(payload), client);
  assert.throws(() => decodeEnvelope(forged), (err: unknown) => err instanceof WireError && /txId/.test(err.message));
});

/** Signs with node:crypto directly, so the forgery does not lean on the code under test. */
function signEnvelopeBytes(payloadBytes: Uint8Array, signer: Signer): Uint8Array {
  return encodeCbor({ payload: payloadBytes, signature: new Uint8Array(cryptoSign(null, payloadBytes, signer.privateKey)) });
}

test('envelope: a payload changed after signing fails ChannelState.envelopeSignatureValid', () => {
  const state = new ChannelState(channelConfig([ordererNode.certificate]), NOW_MS);
  const { bytes } = signEnvelope({ type: MessageType.TRANSACTION, channel: 'ch1', data: { amount: 10 } }, client);
  assert.equal(state.envelopeSignatureValid(decodeEnvelope(bytes)), true);

  const outer = decodeCbor(bytes) as { payload: Uint8Array; signature: Uint8Array };
  const payload = decodeCbor(outer.payload) as Record<string, unknown>;
  payload['data'] = { amount: 1000 };
  const tampered = encodeCbor({ payload: encodeCbor(payload), signature: outer.signature });
  const env = decodeEnvelope(tampered);
  assert.deepEqual(env.payload.data, { amount: 1000 });
  assert.equal(state.envelopeSignatureValid(env), false);

  const flipped = decodeEnvelope(bytes);
  flipped.signature = Uint8Array.from(flipped.signature);
  flipped.signature[10]! ^= 0x01;
  assert.equal(state.envelopeSignatureValid(flipped), false);
});

test('seek: SeekInfo round trip; MAX_BLOCK_NUMBER goes out as uint64 0xffffffffffffffff and comes back clamped', () => {
  const info: SeekInfo = { start: seekSpecified(2 ** 33), stop: seekSpecified(MAX_BLOCK_NUMBER), behavior: SeekBehavior.BLOCK_UNTIL_READY, window: 16 };
  const bytes = encodeCbor(seekInfoToWire(info));
  assertPlain(bytes, 'seekInfo');
  assert.deepEqual(seekInfoFromWire(decodeCbor(bytes)), info);

  const stop = encodeCbor(seekInfoToWire(info)['stop']);
  assert.deepEqual(
    [...stop],
    [0xa2, 0x64, ...textBytes('type'), 0x02, 0x66, ...textBytes('number'), 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  );
  const start = encodeCbor(seekInfoToWire(info)['start']);
  assert.ok(contains(start, [0x66, ...textBytes('number'), 0x1b, 0, 0, 0, 0x02, 0, 0, 0, 0]), '2^33 as a 64-bit uint');

  // Another implementation's MaxUint64 reads as "never stop" too.
  const foreign = encodeCbor({ start: { type: SeekType.OLDEST }, stop: { type: SeekType.SPECIFIED, number: 0xffff_ffff_ffff_ffffn }, behavior: 1 });
  assert.equal((seekInfoFromWire(decodeCbor(foreign)).stop as { number: number }).number, MAX_BLOCK_NUMBER);

  for (const p of [seekNewest(), seekOldest(), seekNextCommit(), seekSpecified(0)]) {
    const s: SeekInfo = { start: p, stop: p, behavior: SeekBehavior.FAIL_IF_NOT_READY };
    assert.deepEqual(seekInfoFromWire(decodeCbor(encodeCbor(seekInfoToWire(s)))), s);
  }

  // Inside a signed DELIVER_SEEK envelope.
  const env = decodeEnvelope(signEnvelope({ type: MessageType.DELIVER_SEEK, channel: 'ch1', data: seekInfoToWire(info) }, client).bytes);
  assert.deepEqual(seekInfoFromWire(env.payload.data), info);

  assert.throws(() => seekInfoFromWire({ start: { type: 9 }, stop: { type: 0 }, behavior: 0 }), WireError);
  assert.throws(() => seekInfoFromWire({ start: { type: 2 }, stop: { type: 0 }, behavior: 0 }), WireError, 'SPECIFIED without number');
  for (const type of [0, 1, 3]) {
    assert.throws(() => seekInfoFromWire({ start: { type, number: 5 }, stop: { type: 0 }, behavior: 0 }), /only a SPECIFIED position has a number/, `type ${type} with a number`);
  }
  assert.throws(() => seekInfoFromWire({ start: { type: 0 }, stop: { type: 0 }, behavior: 7 }), WireError);
  assert.throws(() => seekInfoFromWire({ start: { type: 0 }, stop: { type: 0 }, behavior: 0, window: 0 }), WireError);
  assert.throws(() => seekInfoFromWire({ start: { type: '0' }, stop: { type: 0 }, behavior: 0 }), WireError);
  assert.throws(() => seekInfoFromWire([1, 2, 3]), WireError);
});

test('frames: seek, ack, cancel, submit, deliver status and blocks, broadcast response round trip', () => {
  const seekEnv = signEnvelope({ type: MessageType.DELIVER_SEEK, channel: 'ch1', data: seekInfoToWire({ start: seekOldest(), stop: seekNewest(), behavior: 0 }), replyTo: 'r', session: 's' }, client);
  const seekFrame = decodeDeliverRequestFrame(encodeSeekFrame(seekEnv.bytes));
  assert.equal(seekFrame.kind, FrameKind.SEEK);
  if (seekFrame.kind !== FrameKind.SEEK) return;
  assert.equal(seekFrame.envelope.payload.txId, seekEnv.txId);
  assert.deepEqual(Buffer.from(seekFrame.envelopeBytes), Buffer.from(seekEnv.bytes), 'the signed envelope survives byte for byte');

  const mac = new Uint8Array(32).fill(9);
  const ack = decodeDeliverRequestFrame(encodeAckFrame('sess-1', 2 ** 40, 7, mac));
  assert.ok(ack.kind === FrameKind.ACK);
  assert.deepEqual([ack.session, ack.seq, ack.n, Buffer.from(ack.mac)], ['sess-1', 2 ** 40, 7, Buffer.from(mac)]);
  assert.ok(contains(encodeAckFrame('sess-1', 2 ** 40, 7, mac), [0x63, ...textBytes('seq'), 0x1b]));
  const cancel = decodeDeliverRequestFrame(encodeCancelFrame('sess-1', mac));
  assert.ok(cancel.kind === FrameKind.CANCEL);
  assert.deepEqual([cancel.session, Buffer.from(cancel.mac)], ['sess-1', Buffer.from(mac)]);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.CANCEL, session: 'sess-1' })), WireError, 'a CANCEL without its MAC');

  const txEnv = signEnvelope({ type: MessageType.TRANSACTION, channel: 'ch1', data: 'hello' }, client);
  const submit = decodeSubmitFrame(encodeSubmitFrame(txEnv.bytes));
  assert.equal(submit.envelope.payload.txId, txEnv.txId);
  assert.deepEqual(Buffer.from(submit.envelopeBytes), Buffer.from(txEnv.bytes));

  assert.deepEqual(decodeDeliverResponse(encodeDeliverStatus('s', 3, Status.NOT_FOUND)), { session: 's', seq: 3, status: Status.NOT_FOUND });
  const blocks = [sampleBlock().bytes, Uint8Array.of(1, 2, 3)];
  const delivered = decodeDeliverResponse(encodeDeliverBlocks('s', 4, blocks));
  assert.ok('blocks' in delivered);
  assert.equal(delivered.seq, 4);
  assert.deepEqual(delivered.blocks.map((b) => Buffer.from(b)), blocks.map((b) => Buffer.from(b)));

  assert.deepEqual(decodeBroadcastResponse(encodeBroadcastResponse({ session: 's', txId: 't', status: Status.SUCCESS })), { session: 's', txId: 't', status: Status.SUCCESS });
  assert.deepEqual(
    decodeBroadcastResponse(encodeBroadcastResponse({ session: 's', txId: 't', status: Status.FORBIDDEN, info: 'not a writer' })),
    { session: 's', txId: 't', status: Status.FORBIDDEN, info: 'not a writer' },
  );
});

test('frames: malformed CBOR and wrong types give WireError', () => {
  const isWire = (err: unknown): boolean => err instanceof WireError;
  // Malformed CBOR.
  for (const bad of [new Uint8Array(0), Uint8Array.of(0xa1, 0x61), Uint8Array.of(0x1c), Uint8Array.of(0x01, 0x02), Uint8Array.of(0x5a, 0xff, 0xff, 0xff, 0xff)]) {
    assert.throws(() => decodeCbor(bad), isWire, Buffer.from(bad).toString('hex'));
    assert.throws(() => decodeDeliverRequestFrame(bad), isWire);
    assert.throws(() => decodeDeliverResponse(bad), isWire);
    assert.throws(() => decodeBroadcastResponse(bad), isWire);
    assert.throws(() => decodeSubmitFrame(bad), isWire);
    assert.throws(() => decodeEnvelope(bad), isWire);
  }
  // Well-formed CBOR of the wrong shape.
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor([1, 2])), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: 9 })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: 'ack', session: 's', seq: 1 })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.ACK, session: 's', seq: '1' })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.ACK, session: 's', seq: -1 })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.ACK, session: 's', seq: 1.5 })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.CANCEL, session: 7 })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.CANCEL, session: 'x'.repeat(500) })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.SEEK })), isWire);
  assert.throws(() => decodeDeliverRequestFrame(encodeCbor({ kind: FrameKind.SEEK, envelope: { payload: 'x', signature: new Uint8Array(64) } })), isWire);
  assert.throws(() => decodeSubmitFrame(encodeCbor({ kind: 2, envelope: {} })), isWire);
  assert.throws(() => decodeDeliverResponse(encodeCbor({ session: 's', seq: 1, status: 299 })), isWire);
  assert.throws(() => decodeDeliverResponse(encodeCbor({ session: 's', seq: 1, blocks: ['not bytes'] })), isWire);
  assert.throws(() => decodeDeliverResponse(encodeCbor({ session: 's', seq: 1 })), isWire);
  assert.throws(() => decodeBroadcastResponse(encodeCbor({ session: 's', txId: 't', status: 'ok' })), isWire);
  assert.throws(() => decodeEnvelope(encodeCbor({ payload: encodeCbor({ type: 1 }), signature: new Uint8Array(64) })), isWire);
  assert.throws(() => decodeEnvelope(encodeCbor({ payload: new Uint8Array(4), signature: new Uint8Array(63) })), isWire);
});

test('plain CBOR: no tags for maps or byte strings, timestamps above 2^32 as uint (0x1b) not float (0xfb)', () => {
  const env = signEnvelope({ type: MessageType.TRANSACTION, channel: 'ch1', data: { bytes: randomBytes(8), nested: { list: [1, 'a'] } }, timestamp: BIG_TIMESTAMP_MS }, client);
  assertPlain(env.bytes, 'envelope');
  const payloadBytes = (decodeCbor(env.bytes) as { payload: Uint8Array }).payload;
  assertPlain(payloadBytes, 'payload');
  assert.ok(contains(payloadBytes, [0x69, ...textBytes('timestamp'), 0x1b]), 'timestamp as a 64-bit uint');
  assert.ok(!contains(payloadBytes, [0x69, ...textBytes('timestamp'), 0xfb]), 'timestamp not as a float64');
  // A byte string is major type 2 right after its key, not tag 64 (0xd8 0x40) in front of it.
  assert.ok(contains(payloadBytes, [0x65, ...textBytes('nonce'), 0x50]), 'nonce as a bare 16-byte string');

  const cert = issueCertificate(
    { id: 'c', org: 'org1', role: 'client', publicKey: generateKeyPair().publicKeyRaw, notBefore: BIG_TIMESTAMP_MS, notAfter: BIG_TIMESTAMP_MS + DAY_MS },
    orgRoot.privateKey,
  );
  assertPlain(cert.body, 'certificate body');
  assertPlain(encodeCertificate(cert), 'certificate');
  assert.ok(contains(cert.body, [0x68, ...textBytes('notAfter'), 0x1b]));
  assert.ok(contains(cert.body, [0x69, ...textBytes('publicKey'), 0x58, 0x20]));

  const configEnv = signConfigEnvelope(channelConfig([ordererNode.certificate]), client);
  assertPlain(configEnv, 'config envelope');
  assertPlain((decodeCbor(configEnv) as { payload: Uint8Array }).payload, 'config payload');

  const block = makeBlock(7, new Uint8Array(32), [env.bytes, configEnv], 0, [{ index: 0, key: ordererNode.privateKey }]).bytes;
  assertPlain(block, 'block');
  assertPlain(encodeSeekFrame(env.bytes), 'seek frame');
  assertPlain(encodeSubmitFrame(env.bytes), 'submit frame');
  assertPlain(encodeAckFrame('s', 2 ** 50, 1, new Uint8Array(32)), 'ack frame');
  assertPlain(encodeDeliverBlocks('s', 2 ** 50, [block]), 'deliver blocks');
  assertPlain(encodeDeliverStatus('s', 1, Status.SUCCESS), 'deliver status');
  assertPlain(encodeBroadcastResponse({ session: 's', txId: 't', status: Status.SUCCESS, info: 'i' }), 'broadcast response');

  // The scanner itself sees what it is looking for.
  assert.deepEqual(scanCbor(Uint8Array.of(0xd8, 0x40, 0x41, 0x00)), { tags: 1, floats: 0 });
  assert.deepEqual(scanCbor(Uint8Array.of(0xfb, 0, 0, 0, 0, 0, 0, 0, 0)), { tags: 0, floats: 1 });
});
