// An organisation's root rotation, unit by unit: the configuration's next root on the wire, certificates
// of either root accepted while both are named and only the new one's after the promotion
// (configWithNextRoot / configWithRootPromoted), and a running member's certificate reloaded from its file
// (CertificateWatch): taken when it is for the same key and the channel accepts it, kept waiting when the
// channel does not yet, refused when it is for another key.
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ChannelState } from '../../../src/channel/channelState.js';
import { generateKeyPair } from '../../../src/crypto/keys.js';
import { configWithNextRoot, configWithRevoked, configWithRootPromoted } from '../../../src/network/configChanges.js';
import { CertificateWatch } from '../../../src/network/certificateWatch.js';
import { decodeCbor, encodeCbor, WireError } from '../../../src/protocol/cbor.js';
import { type Certificate, type CertificateFields, encodeCertificate, issueCertificate } from '../../../src/protocol/certificate.js';
import { type ChannelConfig, channelConfigFromWire, channelConfigToWire } from '../../../src/protocol/channelConfig.js';
import type { Signer } from '../../../src/protocol/envelope.js';
import { recordingLogger } from '../../helpers/gossipBoard.js';
import { WAIT_TIMEOUT_MS, pollUntil, withTimeout } from '../../helpers/wait.js';

const NOW_MS = Date.UTC(2026, 11, 1);
const HOUR_MS = 3_600_000;
const ordererRoot = generateKeyPair();
const oldRoot = generateKeyPair();
const newRoot = generateKeyPair();
const boardKey = generateKeyPair();

const fields = (id: string, publicKey: Uint8Array): CertificateFields =>
  ({ id, org: 'org1', role: 'peer', publicKey, notBefore: NOW_MS - HOUR_MS, notAfter: NOW_MS + HOUR_MS });
const ordererCert = issueCertificate({ id: 'orderer0', org: 'orderer', role: 'orderer', publicKey: generateKeyPair().publicKeyRaw, notBefore: NOW_MS - HOUR_MS, notAfter: NOW_MS + HOUR_MS }, ordererRoot.privateKey);
const ofOldRoot = issueCertificate(fields('org1-board1', boardKey.publicKeyRaw), oldRoot.privateKey);
// The same fields, so the same body and fingerprint: only the signature tells the two apart.
const ofNewRoot = issueCertificate(fields('org1-board1', boardKey.publicKeyRaw), newRoot.privateKey);

function genesisConfig(): ChannelConfig {
  return {
    channel: 'ch1',
    sequence: 0,
    orderer: { org: 'orderer', signers: [ordererCert], minSignatures: 1 },
    orgs: [{ name: 'orderer', rootPublicKey: ordererRoot.publicKeyRaw }, { name: 'org1', rootPublicKey: oldRoot.publicKeyRaw }],
    readers: { orgs: ['orderer', 'org1'], roles: ['peer', 'client', 'admin', 'orderer'] },
    writers: { orgs: ['org1'], roles: ['client', 'peer'] },
    admins: { orgs: ['orderer'], roles: ['admin'] },
    batch: { maxMessageCount: 10, preferredMaxBytes: 1000, absoluteMaxBytes: 2000, batchTimeoutMs: 100 },
    revoked: [],
  };
}

const readersDeny = (config: ChannelConfig, cert: Certificate): string | null => {
  const state = new ChannelState(config, NOW_MS);
  return state.denyReason(cert, state.config.readers, NOW_MS);
};

test('configuration: an org with a next root goes over the wire and back; a next root equal to the root is refused', () => {
  const begun = configWithNextRoot(genesisConfig(), 'org1', newRoot.publicKeyRaw)!;
  const back = channelConfigFromWire(decodeCbor(encodeCbor(channelConfigToWire(begun))));
  const org1 = back.orgs[1]!;
  assert.deepEqual([org1.name, Buffer.from(org1.rootPublicKey).toString('hex'), Buffer.from(org1.nextRootPublicKey ?? []).toString('hex')],
    ['org1', Buffer.from(oldRoot.publicKeyRaw).toString('hex'), Buffer.from(newRoot.publicKeyRaw).toString('hex')]);
  // An org without one has no such field on the wire: configurations written before this are unchanged.
  assert.equal('nextRootPublicKey' in (channelConfigToWire(genesisConfig())['orgs'] as Record<string, unknown>[])[1]!, false);
  const wire = channelConfigToWire(begun);
  (wire['orgs'] as Record<string, unknown>[])[1]!['nextRootPublicKey'] = oldRoot.publicKeyRaw;
  assert.throws(() => channelConfigFromWire(decodeCbor(encodeCbor(wire))), (e: unknown) => e instanceof WireError && /the same key as rootPublicKey/.test(e.message));
  (wire['orgs'] as Record<string, unknown>[])[1]!['nextRootPublicKey'] = new Uint8Array(31);
  assert.throws(() => channelConfigFromWire(decodeCbor(encodeCbor(wire))), WireError);
});

test('rotation: either root certifies while both are named, only the new one after the promotion', () => {
  const genesis = genesisConfig();
  assert.equal(readersDeny(genesis, ofOldRoot), null);
  assert.match(readersDeny(genesis, ofNewRoot) ?? '', /not signed by the root of 'org1'$/);

  const begun = configWithNextRoot(genesis, 'org1', newRoot.publicKeyRaw)!;
  assert.equal(begun.sequence, 1);
  assert.equal(readersDeny(begun, ofOldRoot), null, 'the old root during the overlap');
  assert.equal(readersDeny(begun, ofNewRoot), null, 'the new root during the overlap');
  const stranger = issueCertificate(fields('org1-board1', boardKey.publicKeyRaw), generateKeyPair().privateKey);
  assert.match(readersDeny(begun, stranger) ?? '', /not signed by the root of 'org1' \(nor by its next root\)/);

  const finished = configWithRootPromoted(begun, 'org1', newRoot.publicKeyRaw)!;
  assert.equal(finished.sequence, 2);
  assert.deepEqual(finished.orgs[1], { name: 'org1', rootPublicKey: newRoot.publicKeyRaw });
  assert.match(readersDeny(finished, ofOldRoot) ?? '', /not signed by the root of 'org1'/);
  assert.equal(readersDeny(finished, ofNewRoot), null);
});

test('rotation steps: each is null once in place, and refused out of order or over another rotation', () => {
  const genesis = genesisConfig();
  const begun = configWithNextRoot(genesis, 'org1', newRoot.publicKeyRaw)!;
  assert.equal(configWithNextRoot(begun, 'org1', newRoot.publicKeyRaw), null, 'begun already');
  assert.throws(() => configWithNextRoot(begun, 'org1', generateKeyPair().publicKeyRaw), /rotating to another root already/);
  assert.throws(() => configWithRootPromoted(genesis, 'org1', newRoot.publicKeyRaw), /not named beside its root/);
  const finished = configWithRootPromoted(begun, 'org1', newRoot.publicKeyRaw)!;
  assert.equal(configWithRootPromoted(finished, 'org1', newRoot.publicKeyRaw), null, 'finished already');
  assert.equal(configWithNextRoot(finished, 'org1', newRoot.publicKeyRaw), null, 'the new root is the root: nothing to begin');
  assert.throws(() => configWithNextRoot(genesis, 'org9', newRoot.publicKeyRaw), /no organisation 'org9'/);
});

/** A cert file in a fresh folder, replaced as the rotation does (a temporary file, then a rename). */
function certFile(first: Certificate): { path: string; replace: (c: Certificate | Uint8Array) => void; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-certwatch-'));
  const path = join(dir, 'cert.cbor');
  writeFileSync(path, encodeCertificate(first));
  return {
    path,
    replace: (c) => {
      writeFileSync(`${path}.tmp`, c instanceof Uint8Array ? c : encodeCertificate(c));
      renameSync(`${path}.tmp`, path);
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('CertificateWatch: a new certificate for the same key is taken when the channel accepts it; one waiting is taken at retry', async (t) => {
  const file = certFile(ofOldRoot);
  t.after(file.close);
  const signer: Signer = { certificate: ofOldRoot, privateKey: boardKey.privateKey };
  let config = genesisConfig();
  const adopted: Certificate[] = [];
  let onAdopted: () => void = () => undefined;
  const { log, records } = recordingLogger('certwatch');
  const watch = new CertificateWatch({
    signer, path: file.path, log, settleMs: 10,
    judge: (cert) => readersDeny(config, cert),
    adopted: (cert) => { adopted.push(cert); onAdopted(); },
  });
  t.after(() => watch.stop());
  watch.start();
  // Written before the board has the configuration naming the new root: it waits, the old one stays.
  file.replace(ofNewRoot);
  await pollUntil(() => (records.some((r) => String(r['msg']).includes('not accepted by the channel yet')) ? true : null), 'the watch noticing the new certificate', WAIT_TIMEOUT_MS);
  assert.equal(signer.certificate, ofOldRoot);
  assert.deepEqual(adopted, []);
  // The configuration block arrives: judged again, taken.
  config = configWithNextRoot(config, 'org1', newRoot.publicKeyRaw)!;
  watch.retry();
  const hex = (c: Certificate): string => Buffer.from(c.signature).toString('hex');
  assert.equal(hex(signer.certificate), hex(ofNewRoot), 'the signer holds the new root\'s certificate');
  assert.deepEqual(adopted.map(hex), [hex(ofNewRoot)]);
  assert.ok(records.some((r) => r['msg'] === 'certificate reloaded' && r['fingerprint'] === ofNewRoot.fingerprint));
  // A later write the channel accepts at once is taken from the file event alone.
  const renewed = issueCertificate({ ...fields('org1-board1', boardKey.publicKeyRaw), notAfter: NOW_MS + 2 * HOUR_MS }, newRoot.privateKey);
  const taken = new Promise<void>((resolve) => { onAdopted = resolve; });
  file.replace(renewed);
  await withTimeout(taken, 'the renewed certificate taken up');
  assert.equal(signer.certificate.fingerprint, renewed.fingerprint);
});

test('CertificateWatch: a certificate for another key, or a file that is no certificate, is refused and the current one kept', async (t) => {
  const file = certFile(ofOldRoot);
  t.after(file.close);
  const signer: Signer = { certificate: ofOldRoot, privateKey: boardKey.privateKey };
  const { log, records } = recordingLogger('certwatch');
  let adopted = 0;
  const watch = new CertificateWatch({ signer, path: file.path, log, settleMs: 10, judge: () => null, adopted: () => { adopted++; } });
  t.after(() => watch.stop());
  const otherKey = issueCertificate(fields('org1-board1', generateKeyPair().publicKeyRaw), oldRoot.privateKey);
  file.replace(otherKey);
  watch.reload();
  file.replace(Uint8Array.of(1, 2, 3));
  watch.reload();
  const otherId = issueCertificate(fields('org1-board2', boardKey.publicKeyRaw), oldRoot.privateKey);
  file.replace(otherId);
  watch.reload();
  assert.equal(signer.certificate, ofOldRoot);
  assert.equal(adopted, 0);
  assert.equal(records.filter((r) => String(r['msg']).includes("not for this member's key")).length, 2);
  assert.equal(records.filter((r) => String(r['msg']).includes('certificate file unreadable')).length, 1);
});

test('revoking during the overlap names the certificate and the one it replaced, each once', () => {
  const previous = issueCertificate({ ...fields('org1-board1', boardKey.publicKeyRaw), notBefore: NOW_MS - 2 * HOUR_MS }, oldRoot.privateKey);
  const config = configWithRevoked(genesisConfig(), [ofNewRoot.fingerprint, previous.fingerprint, ofNewRoot.fingerprint])!;
  assert.deepEqual(config.revoked, [ofNewRoot.fingerprint, previous.fingerprint]);
  assert.equal(config.sequence, 1);
  assert.equal(configWithRevoked(config, [previous.fingerprint]), null, 'revoked already');
  // Both are refused: the new root's certificate, and (while both roots are named) the old one's.
  const overlap = configWithNextRoot(config, 'org1', newRoot.publicKeyRaw)!;
  assert.match(readersDeny(overlap, ofNewRoot) ?? '', /revoked/);
  assert.match(readersDeny(overlap, previous) ?? '', /revoked/);
});
