// An organisation's root key rotated on a running channel (`edgepeer network rotate-org-key`, issue 12
// item 6), against a real orderer process with its embedded broker and real peer processes: the first step
// names the new root beside the old one and certifies every member again; the running boards take up their
// new certificates live; members of either root are the organisation's until `--finish` retires the old
// root; then the old root's certificates are refused, the boards keep syncing on their new ones (their
// sessions and broker connections opened with the old certificate are ended and opened again), and a
// restarted board starts on its new certificate. The boards gossip, so each board's new certificate is
// judged by the others too.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BroadcastClient } from '../../src/client/broadcastClient.js';
import { genesisTrust } from '../../src/channel/responderTrust.js';
import { PREVIOUS_CERTIFICATE_SUFFIX, signedByRoot } from '../../src/network/fleetMembers.js';
import { loadBoard, loadClient, loadGenesis, loadNetworkFile, loadOrgRoots } from '../../src/network/loadNetwork.js';
import { decodeCertificate } from '../../src/protocol/certificate.js';
import { Status } from '../../src/protocol/status.js';
import type { Signer } from '../../src/protocol/envelope.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import {
  TestRig, freePort, heightOf, initNetwork, killAllProcesses, lastStatus, ledgerInfo, runCliJson, waitForStatus,
} from '../helpers/processes.js';
import { WAIT_TIMEOUT_MS, pollUntil } from '../helpers/wait.js';

const CHANNEL = 'rootchannel';
const ORG = 'org1';
const STATUS_INTERVAL_MS = 50;
const MAX_RETRY_DELAY_MS = 100;
/** Blocks are cut by count only (the timeout never fires during the test), so heights are exact. */
const MAX_MESSAGE_COUNT = 5;
const BATCH_TIMEOUT_MS = 60_000;

after(killAllProcesses);

type ConfigOutcome = { channel: string; changed: true; fromSequence: number; sequence: number; block: number }
  | { channel: string; changed: false; sequence: number };

test("rotate an organisation's root: both roots during the overlap, boards reload their certificates live, the old root refused after --finish", async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  // Gossiping boards: one leader pulls, the others take the blocks from it, so the new certificates are
  // checked by the orderer, the broker and the other boards alike.
  const net = await initNetwork(join(root, 'network'), {
    channel: CHANNEL, orgs: 1, boardsPerOrg: 3, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS, gossipBasePort: await freePort(),
  });
  const dir = net.dir;
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const orderer = (await rig.orderer(['--network', dir, '--data', join(root, 'orderer'), '--mqtt-port', String(port)])).proc;
  const boards = net.boards.map((b) => b.id);
  // At info: the certificate reload is logged there.
  const startPeer = (board: string) => rig.spawn([
    'peer', '--network', dir, '--board', board, '--data', join(root, 'peers', board), '--mqtt', url,
    '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS),
  ], { name: `peer ${board}`, logLevel: 'info' });
  const peers = boards.map(startPeer);
  const allAt = (height: number): Promise<unknown> => Promise.all(peers.map((p) => waitForStatus(p, (s) => heightOf(s) === height, `height=${height}`)));
  const rotate = (args: readonly string[] = []): Promise<Record<string, unknown>> =>
    runCliJson(['network', 'rotate-org-key', '--org', ORG, ...args, '--network', dir, '--mqtt', url, '--json'], { name: `rotate-org-key ${args.join(' ')}` });

  // A client of the old root, kept in memory past the rotation, to submit as.
  const oldClient = loadClient(dir, ORG);
  const { current: oldRoot } = loadOrgRoots(dir, ORG);
  const openLink = async (login: Signer): Promise<MqttClientLink> => {
    const l = new MqttClientLink({ endpoint: { url }, credentials: brokerCredentials(login) });
    rig.defer(() => l.close());
    await l.open([CHANNEL]);
    return l;
  };
  let link = await openLink(oldClient);
  const submitAs = async (signer: Signer, n: number): Promise<string[]> => {
    const client = new BroadcastClient(link, CHANNEL, signer, genesisTrust(loadGenesis(dir, CHANNEL)));
    try {
      const answers: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await client.submit({ n: i, by: signer.certificate.fingerprint.slice(0, 8) });
        answers.push(r.status === Status.SUCCESS ? 'SUCCESS' : r.status === Status.FORBIDDEN ? 'FORBIDDEN' : `${r.status} ${r.info ?? ''}`);
      }
      return answers;
    } finally {
      client.close();
    }
  };
  const successes = (n: number): string[] => Array.from({ length: n }, () => 'SUCCESS');

  assert.deepEqual(await submitAs(oldClient, MAX_MESSAGE_COUNT), successes(MAX_MESSAGE_COUNT));
  await allAt(2);

  // 1. The new root beside the old one (configuration block 2, sequence 1), every member certified again.
  const begun = await rotate();
  assert.deepEqual(begun['channels'], [{ channel: CHANNEL, changed: true, fromSequence: 0, sequence: 1, block: 2 }] satisfies ConfigOutcome[]);
  const { next: newRoot } = loadOrgRoots(dir, ORG);
  assert.ok(newRoot !== null, 'network.json names the next root');
  const recertified = (begun['recertified'] as { id: string }[]).map((m) => m.id).sort();
  assert.deepEqual(recertified, [...boards, `${ORG}-client`].sort(), 'the boards and the client certified again');
  for (const b of boards) {
    const board = loadBoard(dir, b);
    assert.ok(signedByRoot(board.signer.certificate, newRoot), `${b}'s cert.cbor is of the new root`);
    const previous = decodeCertificate(new Uint8Array(readFileSync(`${board.certPath}${PREVIOUS_CERTIFICATE_SUFFIX}`)));
    assert.ok(signedByRoot(previous, oldRoot), `${b}'s previous certificate is kept beside it`);
  }
  // The running boards take their new certificates up, once they have the block naming the new root.
  await Promise.all(peers.map((p) => pollUntil(() => (p.stderrLines.some((l) => l.includes('certificate reloaded')) ? true : null),
    `${p.name} reloading its certificate`, WAIT_TIMEOUT_MS, () => p.describe())));

  // 2. The overlap: the old root's client and the new root's are both writers (block 3, then block 4).
  const newClient = loadClient(dir, ORG);
  assert.notEqual(newClient.certificate.fingerprint, oldClient.certificate.fingerprint);
  assert.deepEqual(await submitAs(oldClient, MAX_MESSAGE_COUNT), successes(MAX_MESSAGE_COUNT), 'the old root still certifies during the overlap');
  assert.deepEqual(await submitAs(newClient, MAX_MESSAGE_COUNT), successes(MAX_MESSAGE_COUNT), 'the new root certifies already');
  await allAt(5);

  // 3. --finish: the new root alone (configuration block 5, sequence 2).
  const finished = await rotate(['--finish']);
  assert.deepEqual(finished['channels'], [{ channel: CHANNEL, changed: true, fromSequence: 1, sequence: 2, block: 5 }] satisfies ConfigOutcome[]);
  assert.deepEqual(loadOrgRoots(dir, ORG), { current: newRoot, next: null }, 'network.json names the new root as the root');
  // The old root's certificate is refused from here on: the broker closed the connection it logged in
  // (the boards' too, which log in again with their new ones), and the orderer refuses what it signs when
  // it comes by another member's login.
  const cutOff = (id: string): boolean => orderer.stderrLines.some((l) => l.includes('broker refused a client') && l.includes(`${ORG}.${id}`) && l.includes("not signed by the root of 'org1'"));
  // (Followers of a gossiping org hold no broker connection while they do not lead: the leader's is cut.)
  await pollUntil(() => (cutOff(`${ORG}-client`) && boards.some(cutOff) ? true : null), "the broker closing the old root's logins", WAIT_TIMEOUT_MS, () => orderer.describe());
  link = await openLink(newClient);
  assert.deepEqual(await submitAs(oldClient, 1), ['FORBIDDEN'], 'the old root no longer certifies');
  assert.deepEqual(await submitAs(newClient, MAX_MESSAGE_COUNT), successes(MAX_MESSAGE_COUNT));
  // The boards keep syncing on their new certificates: block 6.
  await allAt(7);
  // Finishing again changes nothing, and says so.
  const again = rig.spawn(['network', 'rotate-org-key', '--org', ORG, '--finish', '--network', dir, '--mqtt', url], { name: 'rotate-org-key --finish again' });
  assert.equal((await again.exited).code, 2, again.describe());
  assert.ok(again.stderrLines.some((l) => l.includes('no root rotation under way')), again.describe());

  // A restarted board starts on its new certificate, and syncs on (a follower: restarting the leader
  // would add an election to the test, not a certificate).
  const f = peers.findIndex((p) => lastStatus(p)?.['role'] === 'follower');
  assert.ok(f >= 0, 'a follower among the boards');
  await peers[f]!.stop();
  peers[f] = startPeer(boards[f]!);
  assert.deepEqual(await submitAs(newClient, MAX_MESSAGE_COUNT), successes(MAX_MESSAGE_COUNT));
  await allAt(8);
  for (const p of peers) await p.stop();
  await orderer.stop();
  const info = await ledgerInfo(join(root, 'orderer'));
  assert.equal(info.height, 8);
  assert.equal(info.lastConfigNumber, 5);
  for (const b of boards) {
    const boardInfo = await ledgerInfo(join(root, 'peers', b));
    assert.deepEqual([boardInfo.height, boardInfo.lastHash, boardInfo.lastConfigNumber], [info.height, info.lastHash, 5], b);
  }
  assert.equal(loadNetworkFile(dir).orgs.find((o) => o.name === ORG)?.nextRootKey, undefined);
});
