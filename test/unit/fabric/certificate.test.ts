// An X.509 certificate as Fabric's MSP reads it (src/fabric/certificate.ts), on certificates made by the
// test CA: the fields chain building and NodeOUs use, Go's CheckSignatureFrom (who may sign, with which
// algorithm, with which key), and Go's pem.Decode (the first block of any type, headers skipped).
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { test } from 'node:test';
import {
  CertificateError, EKU, KEY_USAGE_CERT_SIGN, certificateFromPem, parseCertificate, pemDecodeFirst,
} from '../../../src/fabric/certificate.js';
import { Extension, KeyUsageFlags } from '../../../src/fabric/x509Library.js';
import { TestCa, toPem } from '../../helpers/fabric/testCa.js';

const DAY_MS = 86_400_000;
/** An extension Go's x509 does not know (a private arc). */
const UNKNOWN_EXTENSION_OID = '1.3.6.1.4.1.55555.1';
/** ASN.1 NULL, a value for an extension whose content does not matter. */
const DER_NULL = Uint8Array.from([0x05, 0x00]);
const certError = (message: RegExp) => (e: unknown): boolean => e instanceof CertificateError && message.test(e.message);
const text = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

test('the fields chain building and the MSP read: names, keys, key identifiers, usages, OUs, validity', async () => {
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + 30 * DAY_MS);
  const ca = await TestCa.root('fields-root', { pathLength: 1 });
  const leaf = await ca.issue({ cn: 'peer0.org1', ous: ['peer', 'org1'], notBefore, notAfter, extKeyUsages: [EKU.serverAuth] });
  const root = parseCertificate(ca.der);
  const c = parseCertificate(leaf.der);
  assert.equal(c.version, 3);
  assert.equal(c.commonName, 'peer0.org1');
  assert.deepEqual([...c.organizationalUnits], ['peer', 'org1']);
  assert.deepEqual(Buffer.from(c.rawIssuer), Buffer.from(root.rawSubject));
  assert.equal(c.authorityKeyId, root.subjectKeyId);
  assert.notEqual(c.subjectKeyId, null);
  assert.equal(c.serial, BigInt(`0x${leaf.serialHex}`));
  // X.509 times have whole seconds.
  assert.equal(c.notBeforeMs, Math.floor(notBefore.getTime() / 1000) * 1000);
  assert.equal(c.notAfterMs, Math.floor(notAfter.getTime() / 1000) * 1000);
  assert.equal(c.keyType, 'ec');
  assert.equal(c.namedCurve, 'prime256v1');
  assert.deepEqual([...c.extKeyUsage], [EKU.serverAuth]);
  assert.equal(c.basicConstraintsValid, true);
  assert.equal(c.isCA, false);
  assert.equal(c.keyUsage & KEY_USAGE_CERT_SIGN, 0);
  assert.equal(root.isCA, true);
  assert.equal(root.maxPathLen, 1);
  assert.notEqual(root.keyUsage & KEY_USAGE_CERT_SIGN, 0);
  assert.equal(c.maxPathLen, -1);
  assert.equal(c.isEcdsaSigned, true);
  assert.equal(c.hasNameConstraints, false);
  assert.equal(c.subjectAltNameHex, null);
  assert.deepEqual([...c.unhandledCriticalExtensions], []);
  assert.equal(c.fingerprint, createHash('sha256').update(leaf.der).digest('hex'));
  assert.equal(c.spkiHex === root.spkiHex, false);
  assert.ok(c.equals(parseCertificate(Uint8Array.from(leaf.der))));
  assert.ok(!c.equals(root));
});

test('a critical extension Go does not handle is listed; a known critical one and an unknown non-critical one are not', async () => {
  const ca = await TestCa.root('critical-root');
  const unknownCritical = await ca.issue({ cn: 'a', extensions: [new Extension(UNKNOWN_EXTENSION_OID, true, DER_NULL)] });
  const unknownPlain = await ca.issue({ cn: 'b', extensions: [new Extension(UNKNOWN_EXTENSION_OID, false, DER_NULL)] });
  assert.deepEqual([...parseCertificate(unknownCritical.der).unhandledCriticalExtensions], [UNKNOWN_EXTENSION_OID]);
  assert.deepEqual([...parseCertificate(unknownPlain.der).unhandledCriticalExtensions], []);
  // The test CA's basic constraints and key usage are critical, and handled.
  assert.deepEqual([...parseCertificate(ca.der).unhandledCriticalExtensions], []);
});

test('checkSignatureFrom: the issuing CA\'s key verifies; another key, a non-CA parent, or a CA without certSign does not', async () => {
  const ca = await TestCa.root('sig-root');
  const other = await TestCa.root('sig-root');
  const leaf = parseCertificate((await ca.issue({ cn: 'peer0' })).der);
  const root = parseCertificate(ca.der);
  leaf.checkSignatureFrom(root);
  root.checkSignatureFrom(root);
  // Same name, another key: Go matches by name and then the signature fails.
  assert.throws(() => leaf.checkSignatureFrom(parseCertificate(other.der)), certError(/ECDSA verification failure/));
  const forger = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const forged = parseCertificate((await ca.issue({ cn: 'peer1', forgedSigner: forger.privateKey })).der);
  assert.throws(() => forged.checkSignatureFrom(root), certError(/ECDSA verification failure/));
  // A leaf (basic constraints, not a CA) may not sign, whatever its key, even with certSign in its key usage.
  assert.throws(() => leaf.checkSignatureFrom(leaf), certError(/parent certificate cannot sign this kind of certificate/));
  const notCa = parseCertificate((await ca.issue({ cn: 'not-a-ca', keyUsages: KeyUsageFlags.keyCertSign })).der);
  assert.equal(notCa.isCA, false);
  assert.throws(() => leaf.checkSignatureFrom(notCa), certError(/parent certificate cannot sign this kind of certificate/));
  // A CA whose key usage lacks certSign may not sign certificates either.
  const noCertSign = await ca.intermediate('no-cert-sign', { keyUsages: KeyUsageFlags.digitalSignature | KeyUsageFlags.cRLSign });
  const child = parseCertificate((await noCertSign.issue({ cn: 'child' })).der);
  assert.throws(() => child.checkSignatureFrom(parseCertificate(noCertSign.der)), certError(/parent certificate cannot sign this kind of certificate/));
});

test('checkSignatureFrom refuses a SHA-1 signature as insecure, and an algorithm Go does not implement', async () => {
  const ca = await TestCa.root('alg-root');
  const root = parseCertificate(ca.der);
  const sha1 = parseCertificate((await ca.issue({ cn: 'old', signingHash: 'SHA-1' })).der);
  assert.equal(sha1.signatureAlgorithmOid, '1.2.840.10045.4.1');
  assert.equal(sha1.isEcdsaSigned, true);
  assert.throws(() => sha1.checkSignatureFrom(root), certError(/insecure algorithm 1\.2\.840\.10045\.4\.1/));
  // The outer algorithm's OID made ecdsa-with-SHA256's unassigned sibling .9 (same length, same DER).
  const leaf = await ca.issue({ cn: 'new' });
  const c = parseCertificate(leaf.der);
  const der = Uint8Array.from(leaf.der);
  const oidEnd = c.spans.signatureAlgorithm.contentStart + 2 + 8;
  assert.equal(der[oidEnd - 1], 0x02);
  der[oidEnd - 1] = 0x09;
  const odd = parseCertificate(der);
  assert.equal(odd.signatureAlgorithmOid, '1.2.840.10045.4.3.9');
  assert.throws(() => odd.checkSignatureFrom(root), certError(/algorithm unimplemented \(1\.2\.840\.10045\.4\.3\.9\)/));
});

test('parseCertificate turns any parser failure into a CertificateError naming x509', async () => {
  const ca = await TestCa.root('bad-root');
  assert.throws(() => parseCertificate(Uint8Array.from([0x30, 0x03, 0x02, 0x01, 0x01])), certError(/^x509: malformed certificate: /));
  assert.throws(() => parseCertificate(Uint8Array.from([...ca.der, 0])), certError(/^x509: malformed certificate: trailing bytes/));
  assert.throws(() => parseCertificate(ca.der.subarray(0, ca.der.length - 1)), certError(/^x509: malformed certificate: /));
});

test('pemDecodeFirst: the first block of any type anywhere in the input, PEM headers skipped, or null', async () => {
  const ca = await TestCa.root('pem-root');
  const pem = Buffer.from(ca.pem).toString('latin1');
  const b64 = pem.split('\n').slice(1, -2).join('\n');
  assert.deepEqual(Buffer.from(pemDecodeFirst(ca.pem)!.der), Buffer.from(ca.der));
  const key = '-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n';
  // Text before it, another block after it: the first is taken, whatever its type.
  assert.deepEqual(pemDecodeFirst(text(`junk before\n${key}${pem}`)), { type: 'PRIVATE KEY', der: Uint8Array.from([0, 1, 2]) });
  const withHeaders = `-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: none\n\n${b64}\n-----END CERTIFICATE-----\n`;
  assert.deepEqual(Buffer.from(pemDecodeFirst(text(withHeaders))!.der), Buffer.from(ca.der));
  assert.deepEqual(Buffer.from(pemDecodeFirst(text(pem.replace(/\n/g, '\r\n')))!.der), Buffer.from(ca.der));
  assert.equal(pemDecodeFirst(text('no PEM here')), null);
  assert.equal(pemDecodeFirst(text('-----BEGIN CERTIFICATE-----\nAAEC\n-----END KEY-----\n')), null); // END of another type
  assert.equal(pemDecodeFirst(text('-----BEGIN CERTIFICATE-----\nAA*C\n-----END CERTIFICATE-----\n')), null); // not base64
  assert.equal(pemDecodeFirst(text('-----BEGIN CERTIFICATE-----\nAAE\n-----END CERTIFICATE-----\n')), null); // not whole quads
});

test('certificateFromPem: a certificate from its PEM, Fabric\'s error when there is no PEM at all', async () => {
  const ca = await TestCa.root('from-pem');
  assert.ok(certificateFromPem(toPem(ca.der)).equals(parseCertificate(ca.der)));
  assert.throws(() => certificateFromPem(ca.der), certError(/^could not decode the PEM structure$/));
  assert.throws(() => certificateFromPem(text('-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n')), certError(/^x509: malformed certificate/));
});
