// The DER reader Fabric's byte-for-byte comparisons rest on (src/fabric/der.ts): minimal definite
// lengths only, a certificate's and a CRL's spans found on real certificates (the issuer span is the
// issuer's subject byte for byte, the TBS span is what the issuer's key verifies), ECDSA (r, s) under Go's
// asn1 rules (minimal, positive INTEGERs, nothing but r and s), and the signature rewrite Fabric makes of
// a high-S certificate.
import assert from 'node:assert/strict';
import { verify as cryptoVerify, sign as cryptoSign } from 'node:crypto';
import { test } from 'node:test';
import {
  DerError, DerTag, algorithmOid, bitStringBytes, certificateSpans, crlSpans, ecdsaSignatureValues, encodeEcdsaSignature,
  integerValue, oidText, readTlv, withCertificateSignature,
} from '../../../src/fabric/der.js';
import { TestCa } from '../../helpers/fabric/testCa.js';

/** The order of P-256, n. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const ECDSA_SHA256_OID = '1.2.840.10045.4.3.2';

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);
const span = (buf: Uint8Array, t: { start: number; end: number }): Buffer => Buffer.from(buf.subarray(t.start, t.end));

test('readTlv: short and long definite lengths, within the limit it is given', () => {
  assert.deepEqual(readTlv(bytes(0x04, 0x02, 0xaa, 0xbb), 0), { tag: 0x04, start: 0, contentStart: 2, end: 4 });
  const long = new Uint8Array(3 + 200);
  long.set([0x04, 0x81, 200]);
  assert.deepEqual(readTlv(long, 0), { tag: 0x04, start: 0, contentStart: 3, end: 203 });
  const longer = new Uint8Array(4 + 300);
  longer.set([0x30, 0x82, 0x01, 0x2c]);
  assert.deepEqual(readTlv(longer, 0), { tag: 0x30, start: 0, contentStart: 4, end: 304 });
  // At an offset, and refused when the element runs past the limit though the buffer is long enough.
  assert.deepEqual(readTlv(bytes(0xff, 0x02, 0x01, 0x07), 1), { tag: 0x02, start: 1, contentStart: 3, end: 4 });
  assert.throws(() => readTlv(bytes(0x04, 0x02, 0xaa, 0xbb), 0, 3), /truncated DER content/);
});

test('readTlv refuses what DER forbids or this reader does not take: non-minimal lengths, indefinite, multi-byte tags, truncation', () => {
  const refused = (b: Uint8Array, message: RegExp): void => {
    assert.throws(() => readTlv(b, 0), (e: unknown) => e instanceof DerError && message.test(e.message));
  };
  refused(bytes(0x04, 0x81, 0x05, 1, 2, 3, 4, 5), /non-minimal DER length/); // 5 fits in the short form
  refused(bytes(0x04, 0x82, 0x00, 0x80, ...new Uint8Array(0x80)), /non-minimal DER length/); // a leading zero length byte
  refused(bytes(0x04, 0x80, 0x00, 0x00), /unsupported DER length/); // BER's indefinite length
  refused(bytes(0x04, 0x85, 1, 0, 0, 0, 0), /unsupported DER length/);
  refused(bytes(0x1f, 0x01, 0x00), /multi-byte DER tags/);
  refused(bytes(0x04), /truncated DER element/);
  refused(bytes(0x04, 0x82, 0x01), /truncated DER length/);
  refused(bytes(0x04, 0x03, 0xaa), /truncated DER content/);
});

test('certificateSpans on a real certificate: the issuer span is the issuer\'s subject, byte for byte; the TBS span is what its key signed', async () => {
  const ca = await TestCa.root('der-root');
  const leaf = await ca.issue({ cn: 'peer0', ous: ['peer'] });
  const s = certificateSpans(leaf.der);
  const caSpans = certificateSpans(ca.der);
  assert.deepEqual(span(leaf.der, s.issuer), span(ca.der, caSpans.subject));
  // A root is its own issuer.
  assert.deepEqual(span(ca.der, caSpans.issuer), span(ca.der, caSpans.subject));
  assert.notDeepEqual(span(leaf.der, s.subject), span(leaf.der, s.issuer));
  assert.equal(algorithmOid(leaf.der, s.signatureAlgorithm), ECDSA_SHA256_OID);
  const signature = bitStringBytes(leaf.der, s.signatureValue);
  assert.equal(cryptoVerify('sha256', span(leaf.der, s.tbs), ca.certificate.privateKey, signature), true);
  assert.equal(integerValue(leaf.der.subarray(s.serial.contentStart, s.serial.end)), BigInt(`0x${leaf.serialHex}`));
  assert.equal(leaf.der[s.spki.start], DerTag.sequence);
});

test('certificateSpans refuses bytes after the certificate, and a certificate that is not a SEQUENCE', async () => {
  const ca = await TestCa.root('der-trailing');
  assert.throws(() => certificateSpans(Uint8Array.from([...ca.der, 0x00])), /trailing bytes after the certificate/);
  const notSeq = Uint8Array.from(ca.der);
  notSeq[0] = DerTag.octetString;
  assert.throws(() => certificateSpans(notSeq), /certificate: expected tag 0x30, got 0x4/);
});

test('crlSpans on a real CRL: the TBS span is what the CA\'s key signed', async () => {
  const ca = await TestCa.root('der-crl');
  const revoked = await ca.issue({ cn: 'gone' });
  const crl = await ca.crl([revoked]);
  const s = crlSpans(crl);
  assert.equal(algorithmOid(crl, s.signatureAlgorithm), ECDSA_SHA256_OID);
  assert.equal(cryptoVerify('sha256', span(crl, s.tbs), ca.certificate.privateKey, bitStringBytes(crl, s.signatureValue)), true);
});

test('bitStringBytes refuses a signature BIT STRING with unused bits, or with no unused-bits byte at all', () => {
  const buf = bytes(0x03, 0x03, 0x00, 0xaa, 0xbb);
  assert.deepEqual(Buffer.from(bitStringBytes(buf, readTlv(buf, 0))), Buffer.from([0xaa, 0xbb]));
  const unused = bytes(0x03, 0x03, 0x04, 0xaa, 0xb0);
  assert.throws(() => bitStringBytes(unused, readTlv(unused, 0)), /unused bits/);
  const empty = bytes(0x03, 0x00);
  assert.throws(() => bitStringBytes(empty, readTlv(empty, 0)), /unused bits/);
});

test('oidText: the first byte holds two arcs (below 80), multi-byte arcs in base 128', () => {
  assert.equal(oidText(bytes(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02)), ECDSA_SHA256_OID);
  assert.equal(oidText(bytes(0x55, 0x1d, 0x13)), '2.5.29.19');
  // 2.999: the first subidentifier is 80 + 999 = 1079 (0x88 0x37), arc 1 past 39.
  assert.equal(oidText(bytes(0x88, 0x37)), '2.999');
  assert.throws(() => oidText(bytes()), /empty OID/);
});

test('integerValue reads two\'s complement: a leading high bit is negative', () => {
  assert.equal(integerValue(bytes(0x7f)), 127n);
  assert.equal(integerValue(bytes(0x00, 0x80)), 128n);
  assert.equal(integerValue(bytes(0x80)), -128n);
  assert.equal(integerValue(bytes(0xff, 0x7f)), -129n);
  assert.throws(() => integerValue(bytes()), /empty INTEGER/);
});

test('ecdsaSignatureValues reads node:crypto\'s DER signatures, and encodeEcdsaSignature writes them back byte for byte', async () => {
  const ca = await TestCa.root('der-ecdsa');
  for (let i = 0; i < 20; i++) {
    const sig = cryptoSign('sha256', Buffer.from(`message ${i}`), ca.certificate.privateKey);
    const { r, s } = ecdsaSignatureValues(sig);
    assert.ok(r > 0n && r < P256_N && s > 0n && s < P256_N);
    assert.deepEqual(Buffer.from(encodeEcdsaSignature(r, s)), sig);
  }
  // A high bit gets a leading zero (the value stays positive); a length past 127 takes the long form:
  // r of 1100 bits is 138 bytes (02 81 8a + 138), s is 02 01 01, so the SEQUENCE holds 144 (0x90).
  assert.deepEqual([...encodeEcdsaSignature(0x80n, 1n)], [0x30, 0x07, 0x02, 0x02, 0x00, 0x80, 0x02, 0x01, 0x01]);
  const big = encodeEcdsaSignature((1n << 1100n) - 1n, 1n);
  assert.deepEqual([...big.subarray(0, 6)], [0x30, 0x81, 0x90, 0x02, 0x81, 0x8a]);
  assert.deepEqual(ecdsaSignatureValues(big), { r: (1n << 1100n) - 1n, s: 1n });
});

test('ecdsaSignatureValues applies Go\'s asn1 rules: minimal positive INTEGERs, r and s only; bytes after the SEQUENCE are ignored', () => {
  const seq = (...content: number[]): Uint8Array => bytes(0x30, content.length, ...content);
  const refused = (sig: Uint8Array, message: RegExp): void => {
    assert.throws(() => ecdsaSignatureValues(sig), (e: unknown) => e instanceof DerError && message.test(e.message));
  };
  assert.deepEqual(ecdsaSignatureValues(seq(0x02, 0x01, 0x05, 0x02, 0x01, 0x07)), { r: 5n, s: 7n });
  // What Go's asn1.Unmarshal returns as "rest", Fabric drops.
  assert.deepEqual(ecdsaSignatureValues(Uint8Array.from([...seq(0x02, 0x01, 0x05, 0x02, 0x01, 0x07), 0xde, 0xad])), { r: 5n, s: 7n });
  refused(seq(0x02, 0x02, 0x00, 0x05, 0x02, 0x01, 0x07), /not minimally-encoded/); // a redundant 0x00
  refused(seq(0x02, 0x01, 0x05, 0x02, 0x02, 0xff, 0x80), /not minimally-encoded/); // a redundant 0xff
  refused(seq(0x02, 0x01, 0x05, 0x02, 0x00), /not minimally-encoded/); // an empty INTEGER
  refused(seq(0x02, 0x01, 0x00, 0x02, 0x01, 0x07), /R must be larger than zero/);
  refused(seq(0x02, 0x01, 0x85, 0x02, 0x01, 0x07), /R must be larger than zero/); // negative
  refused(seq(0x02, 0x01, 0x05, 0x02, 0x01, 0x00), /S must be larger than zero/);
  refused(seq(0x02, 0x01, 0x05, 0x02, 0x01, 0x07, 0x02, 0x01, 0x01), /extra elements/);
  refused(seq(0x02, 0x01, 0x05, 0x04, 0x01, 0x07), /ECDSA s: expected tag 0x2/);
  refused(bytes(0x31, 0x06, 0x02, 0x01, 0x05, 0x02, 0x01, 0x07), /ECDSA signature: expected tag 0x30/);
});

test('withCertificateSignature: a certificate\'s signature replaced by its other-S twin keeps its TBS and still verifies', async () => {
  const ca = await TestCa.root('der-rewrite');
  const leaf = await ca.issue({ cn: 'peer1' });
  const s = certificateSpans(leaf.der);
  const { r, s: sv } = ecdsaSignatureValues(bitStringBytes(leaf.der, s.signatureValue));
  // (r, n - s) is the same ECDSA signature's twin: Fabric rewrites high-S certificates into low-S this way.
  const twin = encodeEcdsaSignature(r, P256_N - sv);
  const rewritten = withCertificateSignature(leaf.der, s, twin);
  const t = certificateSpans(rewritten);
  assert.deepEqual(span(rewritten, t.tbs), span(leaf.der, s.tbs));
  assert.deepEqual(span(rewritten, t.signatureAlgorithm), span(leaf.der, s.signatureAlgorithm));
  assert.deepEqual(Buffer.from(bitStringBytes(rewritten, t.signatureValue)), Buffer.from(twin));
  assert.equal(cryptoVerify('sha256', span(rewritten, t.tbs), ca.certificate.privateKey, twin), true);
  // Unchanged when given its own signature.
  assert.deepEqual(Buffer.from(withCertificateSignature(leaf.der, s, bitStringBytes(leaf.der, s.signatureValue))), Buffer.from(leaf.der));
});
