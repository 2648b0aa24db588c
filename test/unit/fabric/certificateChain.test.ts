// Go's x509 Verify as Fabric's MSP calls it (src/fabric/certificateChain.ts), on chains made by the test
// CA: every chain to a root found through the intermediates pool, each certificate valid at the time
// asked, intermediates CAs within their path lengths, ServerAuth implied by the extended key usages, name
// constraints and unknown critical extensions refused, and a bound on signature checks.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CertificateError, EKU, type ParsedCertificate, parseCertificate } from '../../../src/fabric/certificate.js';
import { type ChainPools, verifyChains } from '../../../src/fabric/certificateChain.js';
import { Extension } from '../../../src/fabric/x509Library.js';
import { TestCa } from '../../helpers/fabric/testCa.js';

const DAY_MS = 86_400_000;
const NOW_MS = Date.now();
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** NameConstraints { permittedSubtrees [0] { GeneralSubtree { dNSName "example.com" } } }. */
const NAME_CONSTRAINTS_DER = Uint8Array.from([
  0x30, 0x11, 0xa0, 0x0f, 0x30, 0x0d, 0x82, 0x0b, ...Buffer.from('example.com'),
]);
const NAME_CONSTRAINTS_OID = '2.5.29.30';

const cert = (c: { der: Uint8Array }): ParsedCertificate => parseCertificate(c.der);
const pools = (roots: { der: Uint8Array }[], intermediates: { der: Uint8Array }[] = []): ChainPools => ({
  roots: roots.map(cert), intermediates: intermediates.map(cert),
});
const names = (chains: ParsedCertificate[][]): string[][] => chains.map((chain) => chain.map((c) => c.commonName));
const certError = (message: RegExp) => (e: unknown): boolean => e instanceof CertificateError && message.test(e.message);

test('a leaf chains to its root directly, or through an intermediate from the pool', async () => {
  const root = await TestCa.root('root-a');
  const ica = await root.intermediate('ica-a');
  const direct = await root.issue({ cn: 'direct' });
  const viaIca = await ica.issue({ cn: 'via-ica' });
  assert.deepEqual(names(verifyChains(cert(direct), pools([root]), NOW_MS)), [['direct', 'root-a']]);
  assert.deepEqual(names(verifyChains(cert(viaIca), pools([root], [ica]), NOW_MS)), [['via-ica', 'ica-a', 'root-a']]);
  // Without the intermediate in the pool there is no chain; nor to a root that did not issue it.
  assert.throws(() => verifyChains(cert(viaIca), pools([root]), NOW_MS), certError(/^x509: certificate signed by unknown authority: CN=via-ica$/));
  const stranger = await TestCa.root('root-b');
  assert.throws(() => verifyChains(cert(direct), pools([stranger]), NOW_MS), certError(/signed by unknown authority/));
});

test('every chain is returned: a leaf under an intermediate cross-signed by two roots has two', async () => {
  const rootA = await TestCa.root('root-x');
  const rootB = await TestCa.root('root-y');
  const ica = await rootA.intermediate('ica-x');
  // The same intermediate (name and key) issued by the other root as well.
  const cross = await rootB.crossCertify(ica);
  const leaf = await ica.issue({ cn: 'leaf-x' });
  const chains = verifyChains(cert(leaf), pools([rootA, rootB], [ica, cross]), NOW_MS);
  assert.deepEqual(names(chains).sort(), [['leaf-x', 'ica-x', 'root-x'], ['leaf-x', 'ica-x', 'root-y']]);
});

test('a certificate already in the chain is not added again: a root also in the intermediates pool gives one chain, not a loop', async () => {
  const root = await TestCa.root('root-loop');
  const leaf = await root.issue({ cn: 'leaf-loop' });
  assert.deepEqual(names(verifyChains(cert(leaf), pools([root], [root]), NOW_MS)), [['leaf-loop', 'root-loop']]);
});

test('a root certificate given as the leaf is its own chain', async () => {
  const root = await TestCa.root('self');
  assert.deepEqual(names(verifyChains(cert(root), pools([root]), NOW_MS)), [['self']]);
});

test('validity: the leaf and every certificate of the chain must be valid at the time asked', async () => {
  const root = await TestCa.root('root-t');
  const leaf = await root.issue({ cn: 'leaf-t', notBefore: new Date(NOW_MS - DAY_MS), notAfter: new Date(NOW_MS + DAY_MS) });
  assert.equal(verifyChains(cert(leaf), pools([root]), NOW_MS).length, 1);
  assert.throws(() => verifyChains(cert(leaf), pools([root]), NOW_MS + 2 * DAY_MS), certError(/expired or is not yet valid: CN=leaf-t is valid from/));
  assert.throws(() => verifyChains(cert(leaf), pools([root]), NOW_MS - 2 * DAY_MS), certError(/expired or is not yet valid/));
  // An expired intermediate: no chain, and the refusal says why the candidate failed.
  const oldIca = await root.intermediate('ica-old', { notBefore: new Date(NOW_MS - 10 * DAY_MS), notAfter: new Date(NOW_MS - DAY_MS) });
  const underOld = await oldIca.issue({ cn: 'under-old' });
  assert.throws(() => verifyChains(cert(underOld), pools([root], [oldIca]), NOW_MS),
    certError(/signed by unknown authority \(possibly because of "x509: certificate has expired or is not yet valid: CN=ica-old/));
});

test('path length: a root limited to no intermediates refuses a chain through one; one allowed passes', async () => {
  const strict = await TestCa.root('root-p0', { pathLength: 0 });
  const ica = await strict.intermediate('ica-p0');
  const leaf = await ica.issue({ cn: 'leaf-p0' });
  assert.throws(() => verifyChains(cert(leaf), pools([strict], [ica]), NOW_MS), certError(/too many intermediates for path length constraint/));
  assert.equal(verifyChains(cert(await strict.issue({ cn: 'direct-p0' })), pools([strict]), NOW_MS).length, 1);
  const loose = await TestCa.root('root-p1', { pathLength: 1 });
  const ica1 = await loose.intermediate('ica-p1');
  assert.equal(verifyChains(cert(await ica1.issue({ cn: 'leaf-p1' })), pools([loose], [ica1]), NOW_MS).length, 1);
  // Two intermediates under a root that allows one.
  const ica2 = await ica1.intermediate('ica-p1-below');
  const deep = await ica2.issue({ cn: 'leaf-deep' });
  assert.throws(() => verifyChains(cert(deep), pools([loose], [ica1, ica2]), NOW_MS), certError(/too many intermediates/));
});

test('extended key usage: a chain is usable only if every certificate allows ServerAuth (or any, or says nothing)', async () => {
  const root = await TestCa.root('root-eku');
  const ok = async (ekus: string[] | undefined): Promise<number> => verifyChains(cert(await root.issue({ cn: 'e', ...(ekus === undefined ? {} : { extKeyUsages: ekus }) })),
    pools([root]), NOW_MS).length;
  assert.equal(await ok(undefined), 1);
  assert.equal(await ok([EKU.serverAuth]), 1);
  assert.equal(await ok([EKU.any]), 1);
  assert.equal(await ok([CLIENT_AUTH, EKU.serverAuth]), 1);
  await assert.rejects(ok([CLIENT_AUTH]), certError(/^x509: certificate specifies an incompatible key usage$/));
  // An intermediate that allows only ClientAuth spoils every chain through it.
  const ica = await root.intermediate('ica-client', { extKeyUsages: [CLIENT_AUTH] });
  const underIca = await ica.issue({ cn: 'l' });
  assert.throws(() => verifyChains(cert(underIca), pools([root], [ica]), NOW_MS), certError(/incompatible key usage/));
});

test('a CA with name constraints is refused (not implemented, so not accepted unchecked); a leaf with an unknown critical extension too', async () => {
  const root = await TestCa.root('root-nc');
  const constrained = await root.intermediate('ica-nc', { extensions: [new Extension(NAME_CONSTRAINTS_OID, true, NAME_CONSTRAINTS_DER)] });
  assert.equal(cert(constrained).hasNameConstraints, true);
  const underConstrained = await constrained.issue({ cn: 'l' });
  assert.throws(() => verifyChains(cert(underConstrained), pools([root], [constrained]), NOW_MS),
    certError(/possibly because of "name constraints are not supported \(CA CN=ica-nc carries them\)/));
  const odd = await root.issue({ cn: 'odd', extensions: [new Extension('1.3.6.1.4.1.55555.1', true, Uint8Array.from([0x05, 0x00]))] });
  assert.throws(() => verifyChains(cert(odd), pools([root]), NOW_MS), certError(/unhandled critical extension \(1\.3\.6\.1\.4\.1\.55555\.1\) in CN=odd/));
});

test('a forged leaf (right issuer name, wrong key) has no chain, and the refusal carries the signature failure', async () => {
  const root = await TestCa.root('root-f');
  const impostor = await TestCa.root('root-f');
  const leaf = await impostor.issue({ cn: 'forged' });
  assert.throws(() => verifyChains(cert(leaf), pools([root]), NOW_MS), certError(/possibly because of "x509: ECDSA verification failure"/));
});

test('signature checks are bounded: a pool of more same-named candidates than Go\'s limit (100) ends the search', async () => {
  const root = await TestCa.root('root-many');
  const leaf = await root.issue({ cn: 'leaf-many' });
  // Intermediates named like the leaf's issuer, none of which signed it.
  const decoys = await Promise.all(Array.from({ length: 101 }, () => TestCa.root('root-many')));
  assert.throws(() => verifyChains(cert(leaf), pools([], decoys), NOW_MS),
    certError(/^x509: signature check attempts limit reached while verifying certificate chain$/));
  // With the real root among the roots, the roots are tried first and the chain is found.
  assert.equal(verifyChains(cert(leaf), pools([root], decoys.slice(0, 50)), NOW_MS).length, 1);
});
