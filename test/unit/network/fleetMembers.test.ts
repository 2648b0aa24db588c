// New members of a running network (src/network/fleetMembers.ts), on a real network folder made by
// createNetwork: boards planned in memory and then written, organisations added, members found by id for
// revocation, and the orderer's next identity for a key rotation. Whatever is written must load back
// through the loaders every role starts from.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { createNetwork } from '../../../src/network/createNetwork.js';
import {
  findMember, listOrg, nextOrdererIdentity, orgAdminId, planBoard, planOrg, promoteOrdererNext, removeOrgFiles, writeBoard, writeOrgFiles,
} from '../../../src/network/fleetMembers.js';
import {
  NetworkFileError, loadBoard, loadClient, loadNetworkFile, loadOrdererIdentities, loadOrgRoot, loadSigner,
} from '../../../src/network/loadNetwork.js';
import { verifyCertificate } from '../../../src/protocol/certificate.js';

const NOW_MS = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const VALIDITY = { nowMs: NOW_MS, validityMs: 30 * DAY_MS };
const CHANNELS = ['alpha', 'beta'];

/** A network folder of 2 orgs with 2 boards each, removed after the test. */
async function freshNetwork(t: TestContext): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'edgepeer-fleet-members-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = join(root, 'net');
  await createNetwork({ dir, channels: CHANNELS, orgs: 2, boardsPerOrg: 2, nowMs: NOW_MS });
  return dir;
}

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof NetworkFileError && message.test(err.message));
}

test('planBoard takes the next free <org>-board<N>, the first channel and the network\'s MQTT URL, and writes nothing', async (t) => {
  const dir = await freshNetwork(t);
  const root = loadOrgRoot(dir, 'org1');
  const before = await readdir(join(dir, 'orgs', 'org1', 'boards'));
  const b = planBoard(dir, { org: 'org1', root, validity: VALIDITY });
  assert.equal(b.config.id, 'org1-board3');
  assert.equal(b.config.channel, 'alpha');
  assert.deepEqual(b.config.orderers, [loadNetworkFile(dir).mqtt.url]);
  assert.equal(b.config.fabricGenesisSha256, undefined, 'alpha is no Fabric channel');
  assert.equal(b.relDir, join('orgs', 'org1', 'boards', 'org1-board3'));
  assert.equal(b.issued.certificate.role, 'peer');
  assert.equal(b.issued.certificate.notAfter, NOW_MS + VALIDITY.validityMs);
  verifyCertificate(b.issued.certificate, new Map([['org1', [root.publicKey]]]), NOW_MS);
  assert.deepEqual(await readdir(join(dir, 'orgs', 'org1', 'boards')), before, 'a plan writes no files');
  assert.equal(loadNetworkFile(dir).boards.length, 4);
});

test('planBoard fills a gap in the numbering, and takes an explicit id and channel', async (t) => {
  const dir = await freshNetwork(t);
  const root = loadOrgRoot(dir, 'org2');
  const named = planBoard(dir, { org: 'org2', root, id: 'kitchen.pi-1', channel: 'beta', validity: VALIDITY });
  assert.equal(named.config.id, 'kitchen.pi-1');
  assert.equal(named.config.channel, 'beta');
  await writeBoard(planBoard(dir, { org: 'org2', root, id: 'org2-board4', validity: VALIDITY }));
  assert.equal(planBoard(dir, { org: 'org2', root, validity: VALIDITY }).config.id, 'org2-board3');
});

test('planBoard refuses an id that is taken by any member, an id outside the pattern, and a channel the network lacks', async (t) => {
  const dir = await freshNetwork(t);
  const root = loadOrgRoot(dir, 'org1');
  for (const id of ['org1-board1', 'org2-board2', 'orderer0', 'orderer-admin', 'org1-client']) {
    refused(() => planBoard(dir, { org: 'org1', root, id, validity: VALIDITY }), new RegExp(`already has a member '${id}'`));
  }
  for (const id of ['', '-lead', 'a/b', 'x'.repeat(65), 'tab\there']) {
    refused(() => planBoard(dir, { org: 'org1', root, id, validity: VALIDITY }), /does not match/);
  }
  planBoard(dir, { org: 'org1', root, id: 'x'.repeat(64), validity: VALIDITY });
  refused(() => planBoard(dir, { org: 'org1', root, channel: 'gamma', validity: VALIDITY }), /channel 'gamma' is not in .*\(channels: alpha, beta\)/);
});

test('writeBoard writes the board\'s folder and lists it: loadBoard loads it with its key, and the next plan moves on', async (t) => {
  const dir = await freshNetwork(t);
  const plan = planBoard(dir, { org: 'org1', root: loadOrgRoot(dir, 'org1'), validity: VALIDITY });
  const { member, configPath } = await writeBoard(plan);
  assert.equal(configPath, join(dir, plan.relDir, 'board.json'));
  const loaded = loadBoard(dir, 'org1-board3');
  assert.deepEqual(loaded.config, plan.config);
  assert.equal(loaded.signer.certificate.fingerprint, plan.issued.certificate.fingerprint);
  assert.equal(member.signer.certificate.fingerprint, plan.issued.certificate.fingerprint);
  assert.deepEqual(loadNetworkFile(dir).boards.at(-1), { id: 'org1-board3', org: 'org1', config: join(plan.relDir, 'board.json') });
  assert.equal(planBoard(dir, { org: 'org1', root: loadOrgRoot(dir, 'org1'), validity: VALIDITY }).config.id, 'org1-board4');
  assert.deepEqual((await readdir(dir)).filter((n) => n.includes('.tmp-')), [], 'no temporary network.json is left');
});

test('an organisation: planned in memory, its files written, then listed; its client and admin load back', async (t) => {
  const dir = await freshNetwork(t);
  const org = planOrg(dir, 'org3', VALIDITY);
  assert.equal(org.admin.certificate.id, orgAdminId('org3'));
  assert.equal(org.admin.certificate.role, 'admin');
  assert.equal(org.client.certificate.role, 'client');
  const roots = new Map([['org3', [org.root.publicKey]]]);
  verifyCertificate(org.admin.certificate, roots, NOW_MS);
  verifyCertificate(org.client.certificate, roots, NOW_MS);
  assert.equal(existsSync(join(dir, 'orgs', 'org3')), false, 'a plan writes no files');

  const files = await writeOrgFiles(org);
  assert.equal(loadNetworkFile(dir).orgs.some((o) => o.name === 'org3'), false, 'written, not listed yet');
  refused(() => loadOrgRoot(dir, 'org3'), /no organisation 'org3'/);
  await listOrg(org, files);
  const net = loadNetworkFile(dir);
  assert.deepEqual(net.orgs.at(-1), { name: 'org3', rootKey: files.rootKey, rootPub: files.rootPub });
  assert.deepEqual(loadOrgRoot(dir, 'org3').publicKeyRaw, org.root.publicKeyRaw);
  assert.equal(loadClient(dir, 'org3').certificate.fingerprint, org.client.certificate.fingerprint);
  assert.deepEqual(net.admins?.map((a) => a.id), ['org3-admin']);
  assert.equal(loadSigner(dir, net.admins![0]!).certificate.fingerprint, org.admin.certificate.fingerprint);
  refused(() => planOrg(dir, 'org3', VALIDITY), /already has an organisation 'org3'/);
  const board = planBoard(dir, { org: 'org3', root: loadOrgRoot(dir, 'org3'), validity: VALIDITY });
  assert.equal(board.config.id, 'org3-board1');
});

test('removeOrgFiles takes back what writeOrgFiles wrote (the channel refused the organisation)', async (t) => {
  const dir = await freshNetwork(t);
  const org = planOrg(dir, 'org3', VALIDITY);
  await writeOrgFiles(org);
  assert.equal(existsSync(join(dir, 'orgs', 'org3', 'admin', 'key.pem')), true);
  await removeOrgFiles(org);
  assert.equal(existsSync(join(dir, 'orgs', 'org3')), false);
  assert.equal(existsSync(join(dir, 'orgs', 'org1')), true);
  planOrg(dir, 'org3', VALIDITY);
});

test('planOrg refuses a name outside the pattern, a known organisation, and one whose member ids are taken', async (t) => {
  const dir = await freshNetwork(t);
  for (const name of ['', 'org 3', 'a/b', 'x'.repeat(65), 'org.3']) refused(() => planOrg(dir, name, VALIDITY), /does not match/);
  refused(() => planOrg(dir, 'org1', VALIDITY), /already has an organisation 'org1'/);
  // A board of org1 named like the admin add-org would give an organisation 'lab'.
  await writeBoard(planBoard(dir, { org: 'org1', root: loadOrgRoot(dir, 'org1'), id: 'lab-admin', validity: VALIDITY }));
  refused(() => planOrg(dir, 'lab', VALIDITY), /already has a member 'lab-admin'/);
});

test('findMember: each kind of member by id, with the certificate its files hold; an unknown id lists the known ones', async (t) => {
  const dir = await freshNetwork(t);
  const org = planOrg(dir, 'org3', VALIDITY);
  await listOrg(org, await writeOrgFiles(org));
  const orderer = loadOrdererIdentities(dir);
  const cases: [string, string, string][] = [
    ['orderer0', 'orderer', orderer.node.certificate.fingerprint],
    ['orderer-admin', 'orderer admin', orderer.admin.certificate.fingerprint],
    ['org2-board1', 'board', loadBoard(dir, 'org2-board1').signer.certificate.fingerprint],
    ['org1-client', 'client', loadClient(dir, 'org1').certificate.fingerprint],
    ['org3-admin', 'admin', org.admin.certificate.fingerprint],
  ];
  for (const [id, kind, fingerprint] of cases) {
    const m = findMember(dir, id);
    assert.equal(m.kind, kind, id);
    assert.equal(m.certificate.fingerprint, fingerprint, id);
    assert.equal(m.certificate.id, id);
  }
  refused(() => findMember(dir, 'org9-board1'), /no member 'org9-board1' in .*org1-board1.*org3-admin/);
});

test('the orderer\'s next identity: made once under the node\'s id, taken up again when asked twice, promoted to the orderer\'s own', async (t) => {
  const dir = await freshNetwork(t);
  const old = loadOrdererIdentities(dir).node.certificate;
  await assert.rejects(promoteOrdererNext(dir), (err: unknown) => err instanceof NetworkFileError && /names no next orderer identity/.test(err.message));

  const root = loadOrgRoot(dir, loadNetworkFile(dir).ordererOrg);
  const first = await nextOrdererIdentity(dir, root, VALIDITY);
  assert.equal(first.resumed, false);
  const cert = first.member.signer.certificate;
  assert.equal(cert.id, old.id, 'the same node id, so its broker username stays');
  assert.equal(cert.role, 'orderer');
  assert.notEqual(cert.fingerprint, old.fingerprint);
  assert.equal(first.member.files.key, join('orderer', `${old.id}-${cert.fingerprint.slice(0, 12)}`, 'key.pem'));
  assert.deepEqual(loadNetworkFile(dir).ordererNext, first.member.files);

  const again = await nextOrdererIdentity(dir, root, VALIDITY);
  assert.equal(again.resumed, true);
  assert.equal(again.member.signer.certificate.fingerprint, cert.fingerprint, 'a rotation that did not finish is taken up again');

  const retired = await promoteOrdererNext(dir);
  assert.equal(loadSigner(dir, retired).certificate.fingerprint, old.fingerprint);
  const net = loadNetworkFile(dir);
  assert.equal(net.ordererNext, undefined);
  assert.equal(loadOrdererIdentities(dir).node.certificate.fingerprint, cert.fingerprint);
  assert.equal(existsSync(join(dir, retired.key)), true, 'the old files stay');
});
