// The gateway's MSP folder (src/fabricGateway/mspIdentity.ts), beyond the plain folder of
// fabricGatewayIdentity.test.ts: a signing certificate that chains to cacerts/ only through
// intermediatecerts/, the bound on that chain's depth, and the files the loader refuses before trusting
// them (oversized, encrypted keys, keys that do not parse, a missing cacerts/); folders inside the
// folders are passed over.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { verify } from 'node:crypto';
import { MSP_CHAIN_MAX_DEPTH, MSP_FILE_MAX_BYTES, MspLoadError, loadMspIdentity } from '../../../src/fabricGateway/mspIdentity.js';
import { type IssuedCertificate, TestCa, toPem } from '../../helpers/fabric/testCa.js';

const MSP_ID = 'Org1MSP';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-msp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An MSP folder: the signer's certificate and key, the root in cacerts/, `intermediates` in intermediatecerts/. */
function mspFolder(dir: string, root: TestCa, signer: IssuedCertificate, intermediates: TestCa[] = []): string {
  for (const sub of ['signcerts', 'keystore', 'cacerts']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'signcerts', 'cert.pem'), signer.pem);
  writeFileSync(join(dir, 'keystore', 'priv_sk'), signer.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  writeFileSync(join(dir, 'cacerts', 'ca.pem'), root.pem);
  if (intermediates.length > 0) {
    mkdirSync(join(dir, 'intermediatecerts'));
    // One file holding them all, in no particular order: the loader finds each issuer.
    writeFileSync(join(dir, 'intermediatecerts', 'chain.pem'), Buffer.concat([...intermediates].reverse().map((ca) => toPem(ca.der))));
  }
  return dir;
}

/** `depth` intermediates under `root`, each issued by the one before; the last one issues the signer. */
async function chainOf(root: TestCa, depth: number): Promise<{ intermediates: TestCa[]; signer: IssuedCertificate }> {
  const intermediates: TestCa[] = [];
  let issuer = root;
  for (let i = 0; i < depth; i++) {
    issuer = await issuer.intermediate(`ica-${i}`);
    intermediates.push(issuer);
  }
  return { intermediates, signer: await issuer.issue({ cn: 'gateway@org1', ous: ['client'] }) };
}

const loadError = (message: RegExp) => (e: unknown): boolean => e instanceof MspLoadError && message.test(e.message);

test('a signing certificate issued by an intermediate chains to cacerts/ through intermediatecerts/, and signs', async (t) => {
  const root = await TestCa.root('root.org1');
  const { intermediates, signer } = await chainOf(root, 2);
  const dir = tempDir(t);
  const id = loadMspIdentity(mspFolder(join(dir, 'ok'), root, signer, intermediates), MSP_ID);
  assert.equal(id.certificate.subject, 'CN=gateway@org1\nOU=client');
  const message = Buffer.from('a Deliver request');
  assert.ok(verify('sha256', message, id.certificate.publicKey, id.sign(message)));
  // Without the intermediates, or with only the lower one, there is no chain.
  assert.throws(() => loadMspIdentity(mspFolder(join(dir, 'none'), root, signer), MSP_ID), loadError(/does not chain to a certificate in cacerts/));
  assert.throws(() => loadMspIdentity(mspFolder(join(dir, 'half'), root, signer, intermediates.slice(1)), MSP_ID), loadError(/does not chain/));
});

test(`the chain may hold up to MSP_CHAIN_MAX_DEPTH (${MSP_CHAIN_MAX_DEPTH}) intermediates, not more`, async (t) => {
  const root = await TestCa.root('root.deep');
  const dir = tempDir(t);
  const deepest = await chainOf(root, MSP_CHAIN_MAX_DEPTH);
  assert.equal(loadMspIdentity(mspFolder(join(dir, 'max'), root, deepest.signer, deepest.intermediates), MSP_ID).mspId, MSP_ID);
  const tooDeep = await chainOf(root, MSP_CHAIN_MAX_DEPTH + 1);
  assert.throws(() => loadMspIdentity(mspFolder(join(dir, 'over'), root, tooDeep.signer, tooDeep.intermediates), MSP_ID), loadError(/does not chain/));
});

test('files the loader refuses before trusting them: oversized, an encrypted key, a key that does not parse; a missing cacerts/', async (t) => {
  const root = await TestCa.root('root.refuse');
  const signer = await root.issue({ cn: 'gateway' });
  const dir = tempDir(t);

  const big = mspFolder(join(dir, 'big'), root, signer);
  writeFileSync(join(big, 'cacerts', 'huge.pem'), Buffer.alloc(MSP_FILE_MAX_BYTES + 1, 0x41));
  assert.throws(() => loadMspIdentity(big, MSP_ID), loadError(new RegExp(`huge\\.pem: ${MSP_FILE_MAX_BYTES + 1} bytes, larger than any cacerts file`)));
  // Exactly at the bound is read (and, holding no PEM, ignored).
  writeFileSync(join(big, 'cacerts', 'huge.pem'), Buffer.alloc(MSP_FILE_MAX_BYTES, 0x41));
  assert.equal(loadMspIdentity(big, MSP_ID).mspId, MSP_ID);

  const encrypted = mspFolder(join(dir, 'encrypted'), root, signer);
  writeFileSync(join(encrypted, 'keystore', 'priv_sk'), '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
  assert.throws(() => loadMspIdentity(encrypted, MSP_ID), loadError(/priv_sk: an encrypted private key/));

  const garbled = mspFolder(join(dir, 'garbled'), root, signer);
  writeFileSync(join(garbled, 'keystore', 'priv_sk'), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
  assert.throws(() => loadMspIdentity(garbled, MSP_ID), loadError(/priv_sk: PRIVATE KEY does not parse/));

  const noCa = mspFolder(join(dir, 'no-ca'), root, signer);
  rmSync(join(noCa, 'cacerts'), { recursive: true });
  assert.throws(() => loadMspIdentity(noCa, MSP_ID), loadError(/cacerts folder .*no-ca\/cacerts: ENOENT/));
  const emptyCa = mspFolder(join(dir, 'empty-ca'), root, signer);
  writeFileSync(join(emptyCa, 'cacerts', 'ca.pem'), 'no certificate here\n');
  assert.throws(() => loadMspIdentity(emptyCa, MSP_ID), loadError(/cacerts folder .* holds no PEM certificate/));
});

test('folders inside the MSP folders are passed over; a key among other PEM blocks of one file is found', async (t) => {
  const root = await TestCa.root('root.skip');
  const signer = await root.issue({ cn: 'gateway' });
  const other = await root.issue({ cn: 'other' });
  const dir = mspFolder(join(tempDir(t), 'msp'), root, signer);
  mkdirSync(join(dir, 'signcerts', 'old'));
  mkdirSync(join(dir, 'keystore', 'backup'));
  writeFileSync(join(dir, 'keystore', 'priv_sk'), [
    signer.pem, other.privateKey.export({ format: 'pem', type: 'pkcs8' }), signer.privateKey.export({ format: 'pem', type: 'pkcs8' }),
  ].map((b) => Buffer.from(b).toString()).join('\n'));
  assert.equal(loadMspIdentity(dir, MSP_ID).certificate.subject, 'CN=gateway');
});
