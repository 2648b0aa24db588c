// PEM as the gateway reads Fabric's files and writes its SerializedIdentity (src/fabricGateway/pem.ts): every
// block of a file with the text around them ignored, certificates only where certificates are asked for
// (a bad one named by file and position), and Go's pem.EncodeToMemory layout (64-character lines).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { certificatePem, pemBlocks, pemCertificates } from '../../../src/fabricGateway/pem.js';
import { TestCa } from '../../helpers/fabric/testCa.js';

test('pemBlocks: every block in order, of any type, with the text around and between them ignored', () => {
  const text = [
    'Bag Attributes: openssl writes these', '-----BEGIN CERTIFICATE-----', 'AAEC', 'AwQ=', '-----END CERTIFICATE-----',
    'between', '-----BEGIN EC PRIVATE KEY-----\r', 'BQY=\r', '-----END EC PRIVATE KEY-----', 'after',
  ].join('\n');
  assert.deepEqual(pemBlocks(text).map((b) => ({ type: b.type, der: [...b.der] })), [
    { type: 'CERTIFICATE', der: [0, 1, 2, 3, 4] },
    { type: 'EC PRIVATE KEY', der: [5, 6] },
  ]);
  // An END of another type does not close a block.
  assert.deepEqual(pemBlocks('-----BEGIN CERTIFICATE-----\nAAEC\n-----END PRIVATE KEY-----\n'), []);
  assert.deepEqual(pemBlocks('no PEM at all'), []);
});

test('pemCertificates: the CERTIFICATE blocks only, parsed; one that does not parse is named by file and position', async () => {
  const a = await TestCa.root('pem-a');
  const b = await TestCa.root('pem-b');
  const key = '-----BEGIN PRIVATE KEY-----\nAAEC\n-----END PRIVATE KEY-----\n';
  const text = `${Buffer.from(a.pem).toString()}${key}${Buffer.from(b.pem).toString()}`;
  assert.deepEqual(pemCertificates(text, 'chain.pem').map((c) => c.subject), ['CN=pem-a\nO=pem-a', 'CN=pem-b\nO=pem-b']);
  const broken = `${Buffer.from(a.pem).toString()}-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n`;
  assert.throws(() => pemCertificates(broken, 'chain.pem'), /^Error: chain\.pem: certificate 2 does not parse: /);
});

test('certificatePem: 64-character base64 lines, BEGIN/END CERTIFICATE, a final newline; it reads back to the same DER', async () => {
  const ca = await TestCa.root('pem-write');
  const pem = certificatePem(ca.der);
  const lines = pem.split('\n');
  assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
  assert.equal(lines.at(-2), '-----END CERTIFICATE-----');
  assert.equal(lines.at(-1), '');
  const body = lines.slice(1, -2);
  assert.ok(body.slice(0, -1).every((l) => l.length === 64), 'every line but the last is 64 characters');
  assert.ok(body.at(-1)!.length > 0 && body.at(-1)!.length <= 64);
  assert.equal(body.join(''), Buffer.from(ca.der).toString('base64'));
  // The test CA writes the same layout (as Go does): byte for byte equal.
  assert.equal(pem, Buffer.from(ca.pem).toString());
  assert.deepEqual(pemBlocks(pem)[0]!.der, Buffer.from(ca.der));
  // A body of exactly 48 bytes is one full line, with no empty line after it.
  assert.equal(certificatePem(new Uint8Array(48)), `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n-----END CERTIFICATE-----\n`);
});
