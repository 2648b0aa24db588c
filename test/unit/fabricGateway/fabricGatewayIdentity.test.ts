// The gateway's Fabric identity and request: an MSP folder loaded as Fabric lays it out, signatures
// that Fabric's verifiers accept (DER, low-S), and the signed DELIVER_SEEK_INFO envelope field by field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { common, msp, orderer } from '@hyperledger/fabric-protos';
import jspb from 'google-protobuf';
import { curveOrder, isLowS, parseDerSignature, signLowS } from '../../../src/fabricGateway/ecdsaSigner.js';
import { MspLoadError, loadMspIdentity } from '../../../src/fabricGateway/mspIdentity.js';
import { SEEK_MAX_NUMBER, computeTxId, signedSeekEnvelope } from '../../../src/fabricGateway/seekEnvelope.js';
import { makeTestCa, writeMspFolder } from '../../helpers/fabric/gatewayPki.js';

/** Signatures made to see both halves of S: about half of raw ECDSA signatures have a high S. */
const SIGNATURES_TRIED = 64;
const MSP_ID = 'EdgeMSP';

/** SeekInfo.stop.specified.number as the exact uint64 (field 2 -> field 3 -> field 1). */
function exactStopNumber(seekInfo: Uint8Array): bigint | null {
  const field = (bytes: Uint8Array, wanted: number): Uint8Array | null => {
    const r = new jspb.BinaryReader(bytes);
    while (r.nextField()) {
      if (r.getFieldNumber() === wanted) return r.readBytes();
      r.skipField();
    }
    return null;
  };
  const stop = field(seekInfo, 2);
  const specified = stop && field(stop, 3);
  if (specified === null) return null;
  const r = new jspb.BinaryReader(specified);
  return r.nextField() && r.getFieldNumber() === 1 ? BigInt(r.readUint64String()) : 0n;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-fabric-msp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('signLowS: every signature verifies and has S in the lower half, where raw ECDSA gives high S about half the time', () => {
  for (const namedCurve of ['P-256', 'P-384']) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
    const order = curveOrder(privateKey);
    const msg = Buffer.from(`message on ${namedCurve}`);
    let rawHigh = 0;
    for (let i = 0; i < SIGNATURES_TRIED; i++) {
      const raw = parseDerSignature(sign('sha256', msg, privateKey))!;
      if (!isLowS(raw.s, order)) rawHigh++;
      const sig = signLowS(privateKey, msg);
      const rs = parseDerSignature(sig);
      assert.ok(rs !== null, 'DER SEQUENCE of two INTEGERs');
      assert.ok(isLowS(rs.s, order), `S in the lower half on ${namedCurve}`);
      assert.ok(verify('sha256', msg, publicKey, sig), `verifies on ${namedCurve}`);
    }
    assert.ok(rawHigh > 0, `raw signatures on ${namedCurve} had some high S (${rawHigh}/${SIGNATURES_TRIED}): the normalisation is exercised`);
  }
});

test('curveOrder refuses keys Fabric does not sign with', () => {
  const { privateKey } = generateKeyPairSync('ed25519');
  assert.throws(() => curveOrder(privateKey), /Fabric signs with ECDSA on P-256 or P-384/);
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
  assert.throws(() => curveOrder(k1), /curve secp256k1/);
});

test('loadMspIdentity: a Fabric MSP folder gives a SerializedIdentity (MSP id, PEM certificate) and signatures its certificate verifies', async (t) => {
  const ca = await makeTestCa('ca.edge.example.com');
  const signer = await ca.issue({ commonName: 'gateway@edge', ou: 'client' });
  const dir = writeMspFolder(join(tempDir(t), 'msp'), ca, signer);
  const id = loadMspIdentity(dir, MSP_ID);
  const sid = msp.SerializedIdentity.deserializeBinary(id.serialize());
  assert.equal(sid.getMspid(), MSP_ID);
  const pem = Buffer.from(sid.getIdBytes_asU8()).toString('utf8');
  assert.equal(pem, new X509Certificate(signer.certPem).toString(), 'the certificate as PEM, 64-column lines');
  assert.ok(pem.startsWith('-----BEGIN CERTIFICATE-----\n') && pem.endsWith('-----END CERTIFICATE-----\n'));
  const msg = Buffer.from('payload');
  const cert = new X509Certificate(signer.certPem);
  assert.ok(verify('sha256', msg, cert.publicKey, id.sign(msg)));
  assert.equal(id.notAfterMs, Date.parse(cert.validTo));
});

test('loadMspIdentity finds the key by its public half whatever the file is called, and reads SEC 1 keys', async (t) => {
  const ca = await makeTestCa('ca.edge.example.com');
  const signer = await ca.issue({ commonName: 'gateway@edge' });
  const other = await ca.issue({ commonName: 'someone-else' });
  const dir = writeMspFolder(join(tempDir(t), 'msp'), ca, signer);
  unlinkSync(join(dir, 'keystore', 'priv_sk'));
  writeFileSync(join(dir, 'keystore', 'aaaa_sk'), other.keyPem);
  const sec1 = createPrivateKey(signer.keyPem).export({ format: 'pem', type: 'sec1' });
  writeFileSync(join(dir, 'keystore', '0123abcd_sk'), sec1);
  const id = loadMspIdentity(dir, MSP_ID);
  assert.ok(verify('sha256', Buffer.from('x'), new X509Certificate(signer.certPem).publicKey, id.sign(Buffer.from('x'))));
});

test('loadMspIdentity refuses a folder whose parts do not belong together, naming what is wrong', async (t) => {
  const ca = await makeTestCa('ca.edge.example.com');
  const otherCa = await makeTestCa('ca.other.example.com');
  const signer = await ca.issue({ commonName: 'gateway@edge' });
  const root = tempDir(t);

  const noKey = writeMspFolder(join(root, 'no-key'), ca, signer);
  writeFileSync(join(noKey, 'keystore', 'priv_sk'), (await ca.issue({ commonName: 'x' })).keyPem);
  assert.throws(() => loadMspIdentity(noKey, MSP_ID), (e: Error) => e instanceof MspLoadError && /no private key matches the signing certificate/.test(e.message));

  const wrongCa = writeMspFolder(join(root, 'wrong-ca'), otherCa, signer);
  assert.throws(() => loadMspIdentity(wrongCa, MSP_ID), /does not chain to a certificate in cacerts/);

  const two = writeMspFolder(join(root, 'two-certs'), ca, signer);
  writeFileSync(join(two, 'signcerts', 'second.pem'), (await ca.issue({ commonName: 'y' })).certPem);
  assert.throws(() => loadMspIdentity(two, MSP_ID), /holds 2 certificates/);

  const none = join(root, 'empty');
  mkdirSync(join(none, 'signcerts'), { recursive: true });
  assert.throws(() => loadMspIdentity(none, MSP_ID), /signcerts folder .* holds no file/);

  assert.throws(() => loadMspIdentity(writeMspFolder(join(root, 'ok'), ca, signer), ''), /MSP id is empty/);
  // The good folder loads: the refusals above are about what was changed.
  assert.equal(loadMspIdentity(join(root, 'ok'), MSP_ID).mspId, MSP_ID);
  assert.ok(readFileSync(join(root, 'ok', 'config.yaml'), 'utf8').includes('NodeOUs'), 'config.yaml present and ignored');
});

test('signedSeekEnvelope: DELIVER_SEEK_INFO for the channel, Fabric tx id, whole-second timestamp, TLS binding, SeekInfo from the height to 2^64-1, signed over the payload', async (t) => {
  const ca = await makeTestCa('ca.edge.example.com');
  const signer = await ca.issue({ commonName: 'gateway@edge' });
  const id = loadMspIdentity(writeMspFolder(join(tempDir(t), 'msp'), ca, signer), MSP_ID);
  const nonce = Buffer.alloc(24, 7);
  const tlsCertHash = createHash('sha256').update('client cert').digest();
  const nowMs = 1_700_000_123_456;
  const { envelope, txId } = signedSeekEnvelope({ channel: 'mychannel', start: { specified: 42 }, tlsCertHash }, id, nowMs, nonce);

  const env = common.Envelope.deserializeBinary(envelope);
  const cert = new X509Certificate(signer.certPem);
  assert.ok(verify('sha256', env.getPayload_asU8(), cert.publicKey, env.getSignature_asU8()), 'signature over the payload bytes');
  assert.ok(isLowS(parseDerSignature(env.getSignature_asU8())!.s, curveOrder(cert.publicKey)));
  const payload = common.Payload.deserializeBinary(env.getPayload_asU8());
  const ch = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8());
  const sh = common.SignatureHeader.deserializeBinary(payload.getHeader()!.getSignatureHeader_asU8());
  assert.equal(ch.getType(), common.HeaderType.DELIVER_SEEK_INFO);
  assert.equal(ch.getChannelId(), 'mychannel');
  assert.equal(ch.getTimestamp()!.getSeconds(), 1_700_000_123);
  assert.equal(ch.getTimestamp()!.getNanos(), 0);
  assert.deepEqual(Buffer.from(ch.getTlsCertHash_asU8()), tlsCertHash);
  assert.deepEqual(Buffer.from(sh.getCreator_asU8()), Buffer.from(id.serialize()));
  assert.deepEqual(Buffer.from(sh.getNonce_asU8()), nonce);
  const expectedTxId = createHash('sha256').update(Buffer.concat([nonce, Buffer.from(id.serialize())])).digest('hex');
  assert.equal(ch.getTxId(), expectedTxId);
  assert.equal(txId, expectedTxId);
  assert.equal(computeTxId(nonce, id.serialize()), expectedTxId);

  const seek = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
  assert.equal(seek.getStart()!.getSpecified()!.getNumber(), 42);
  assert.equal(seek.getBehavior(), orderer.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY);
  // The stop's uint64 read exactly (the generated class would round it to a double).
  assert.equal(exactStopNumber(payload.getData_asU8()), SEEK_MAX_NUMBER);
  assert.equal(SEEK_MAX_NUMBER, 2n ** 64n - 1n);
});

test('signedSeekEnvelope without TLS binding leaves tls_cert_hash empty; a fresh nonce gives a fresh tx id', async (t) => {
  const ca = await makeTestCa('ca.edge.example.com');
  const id = loadMspIdentity(writeMspFolder(join(tempDir(t), 'msp'), ca, await ca.issue({ commonName: 'g' })), MSP_ID);
  const a = signedSeekEnvelope({ channel: 'c', start: { specified: 0 } }, id, Date.now());
  const b = signedSeekEnvelope({ channel: 'c', start: { specified: 0 } }, id, Date.now());
  assert.notEqual(a.txId, b.txId);
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(a.envelope).getPayload_asU8());
  const ch = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8());
  assert.equal(ch.getTlsCertHash_asU8().length, 0);
  const seek = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
  assert.ok(seek.getStart()!.hasSpecified(), 'start 0 is Specified{0}, as Fabric 2 asks');
  assert.equal(seek.getStart()!.getSpecified()!.getNumber(), 0);
});
