// Fleet operations on a running network, no new chain (`edgepeer network`, issue 12 item 6), against a
// real orderer process with its embedded broker and real peer processes: a board added to a running
// network syncs the chain; an organisation added by a configuration update, then a board of it, syncs and
// its client may write; a revoked board is cut off by the broker and its requests are refused by the
// orderer while the other boards keep syncing; the configuration sequence advances with each update. And
// the orderer's key rotated: the running orderer signs the blocks after the configuration block with the
// new key, the boards follow live, and a restarted orderer starts with the new key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BroadcastClient } from '../../src/client/broadcastClient.js';
import { genesisTrust } from '../../src/channel/responderTrust.js';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import { loadBoard, loadClient, loadGenesis, loadNetworkFile, loadSigner } from '../../src/network/loadNetwork.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { BlockLayout, HEADER_BYTES, HEADER_OFFSET, LayoutError, SIGNATURE_BYTES, locateBlock } from '../../src/protocol/block.js';
import { certificateKey } from '../../src/protocol/certificate.js';
import { verifyBytes } from '../../src/crypto/keys.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import {
  type CliProcess, TestRig, freePort, heightOf, initNetwork, killAllProcesses, ledgerInfo, runCliJson, waitForStatus,
} from '../helpers/processes.js';
import { WAIT_TIMEOUT_MS, pollUntil } from '../helpers/wait.js';

const CHANNEL = 'fleetchannel';
const STATUS_INTERVAL_MS = 50;
/** A refused peer retries within a tenth of a second (the shortest backoff the policy allows). */
const MAX_RETRY_DELAY_MS = 100;
/** Blocks are cut by count only (the timeout never fires during the test), so heights are exact. */
const MAX_MESSAGE_COUNT = 5;
const BATCH_TIMEOUT_MS = 60_000;

after(killAllProcesses);

interface SubmitResult {
  accepted: number;
}

type ConfigOutcome = { channel: string; changed: true; fromSequence: number; sequence: number; block: number }
  | { channel: string; changed: false; sequence: number };

/** A network of one org and two boards in a temp folder, and the port its orderer is to serve MQTT on. */
async function freshNetwork(rig: TestRig): Promise<{ root: string; net: NetworkSummary; dir: string; port: number; url: string }> {
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), {
    channel: CHANNEL, orgs: 1, boardsPerOrg: 2, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
  });
  const port = await freePort();
  return { root, net, dir: net.dir, port, url: `mqtt://127.0.0.1:${port}` };
}

test('add a board, add an organisation and a board of it, revoke a board: on the running network, each time a new configuration sequence', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const { root, net, dir, port, url } = await freshNetwork(rig);
  const orderer = (await rig.orderer(['--network', dir, '--data', join(root, 'orderer'), '--mqtt-port', String(port)])).proc;
  const network = (args: readonly string[]): Promise<Record<string, unknown>> =>
    runCliJson(['network', ...args, '--network', dir, '--mqtt', url, '--json'], { name: `network ${args[0]}` });
  const submit = (count: number, org?: string): Promise<SubmitResult> => runCliJson<SubmitResult>([
    'submit', '--network', dir, '--mqtt', url, '--count', String(count), '--size', '64', '--json', ...(org !== undefined ? ['--org', org] : []),
  ], { name: `submit ${count}${org !== undefined ? ` as ${org}` : ''}` });
  const peers = new Map<string, CliProcess>();
  const startPeer = (board: string): CliProcess => {
    const p = rig.spawn([
      'peer', '--network', dir, '--board', board, '--data', join(root, 'peers', board), '--mqtt', url,
      '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS),
    ], { name: `peer ${board}` });
    peers.set(board, p);
    return p;
  };
  const allAt = (boards: readonly string[], height: number): Promise<unknown> =>
    Promise.all(boards.map((b) => waitForStatus(peers.get(b)!, (s) => heightOf(s) === height, `height=${height}`)));

  for (const b of net.boards) startPeer(b.id);
  assert.equal((await submit(2 * MAX_MESSAGE_COUNT)).accepted, 2 * MAX_MESSAGE_COUNT);
  await allAt(['org1-board1', 'org1-board2'], 3);

  // 1. A board of an existing organisation: no configuration change, the running broker lets it in.
  const added = await network(['add-board', '--org', 'org1']);
  assert.equal(added['id'], 'org1-board3');
  assert.equal(added['sequence'], 0, 'the channel is still at its genesis configuration');
  assert.ok(loadNetworkFile(dir).boards.some((b) => b.id === 'org1-board3'), 'listed in network.json');
  startPeer('org1-board3');
  await allAt(['org1-board3'], 3);

  // 2. A new organisation: configuration block 3 (sequence 1), then a board of it syncs the whole chain.
  const org = await network(['add-org']);
  assert.equal(org['org'], 'org2');
  assert.deepEqual(org['channels'], [{ channel: CHANNEL, changed: true, fromSequence: 0, sequence: 1, block: 3 }] satisfies ConfigOutcome[]);
  const orgBoard = await network(['add-board', '--org', 'org2']);
  assert.equal(orgBoard['id'], 'org2-board1');
  assert.equal(orgBoard['sequence'], 1);
  startPeer('org2-board1');
  // Its client writes (the organisation is in Writers): block 4.
  assert.equal((await submit(MAX_MESSAGE_COUNT, 'org2')).accepted, MAX_MESSAGE_COUNT);
  await allAt([...peers.keys()], 5);

  // 3. Revoking a board: configuration block 5 (sequence 2); the broker closes its connection.
  const revoked = await network(['revoke', 'org1-board1']);
  assert.equal(revoked['kind'], 'board');
  assert.deepEqual(revoked['channels'], [{ channel: CHANNEL, changed: true, fromSequence: 1, sequence: 2, block: 5 }] satisfies ConfigOutcome[]);
  await pollUntil(() => (orderer.stderrLines.some((l) => l.includes('broker refused a client') && l.includes('org1-board1') && l.includes('revoked')) ? true : null),
    'the orderer\'s broker cutting off the revoked board', WAIT_TIMEOUT_MS, () => orderer.describe());
  assert.equal((await submit(MAX_MESSAGE_COUNT)).accepted, MAX_MESSAGE_COUNT);
  const others = [...peers.keys()].filter((b) => b !== 'org1-board1');
  await allAt(others, 7);
  const cut = peers.get('org1-board1')!;
  const after = await waitForStatus(cut, () => true, 'a status line after the others reached height 7', { since: cut.lineCount });
  assert.equal(heightOf(after), 5, 'the revoked board got nothing from the configuration block that revoked it on');

  // The orderer refuses what the revoked certificate signs, even when it reaches it through another
  // member's login (the broker refuses its own): the refusal is in the orderer's log.
  const carrier = loadClient(dir, 'org1');
  const link = new MqttClientLink({ endpoint: { url }, credentials: brokerCredentials(carrier) });
  rig.defer(() => link.close());
  await link.open([CHANNEL]);
  const forged = new BroadcastClient(link, CHANNEL, loadBoard(dir, 'org1-board1').signer, genesisTrust(loadGenesis(dir, CHANNEL)));
  // No answer comes (the reply route is the carrier's, not the signer's): the wait ends at its deadline.
  void forged.submit({ from: 'a revoked board' }, undefined, WAIT_TIMEOUT_MS);
  await pollUntil(() => (orderer.stderrLines.some((l) => l.includes('broadcast refused') && l.includes('"requester":"org1-board1"') && l.includes('revoked')) ? true : null),
    'the orderer refusing the revoked board\'s request', WAIT_TIMEOUT_MS, () => orderer.describe());
  forged.close();

  // Revoking again changes nothing: the sequence stays.
  const again = await network(['revoke', 'org1-board1']);
  assert.deepEqual(again['channels'], [{ channel: CHANNEL, changed: false, sequence: 2 }] satisfies ConfigOutcome[]);

  for (const p of peers.values()) await p.stop();
  await orderer.stop();
  const info = await ledgerInfo(join(root, 'orderer'));
  assert.equal(info.height, 7);
  assert.equal(info.lastConfigNumber, 5);
  for (const b of others) {
    const boardInfo = await ledgerInfo(join(root, 'peers', b));
    assert.deepEqual([boardInfo.height, boardInfo.lastHash, boardInfo.lastConfigNumber], [info.height, info.lastHash, 5], b);
  }
});

/** The Ed25519 signature of the only signer entry of a block, over its header. */
function blockSignature(block: Uint8Array): { header: Uint8Array; signature: Uint8Array } {
  const layout = new BlockLayout();
  assert.equal(locateBlock(block, layout), LayoutError.ok);
  assert.equal(layout.signatureCount, 1);
  const from = layout.signaturesOffset + 2;
  return { header: block.slice(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES), signature: block.slice(from, from + SIGNATURE_BYTES) };
}

test("rotate the orderer's key: the running orderer signs on with the new key, boards follow live, a restart keeps it", async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const { root, net, dir, port, url } = await freshNetwork(rig);
  const ordererArgs = ['--network', dir, '--data', join(root, 'orderer'), '--mqtt-port', String(port)];
  // At info: the key switch is logged there.
  let orderer = (await rig.orderer(ordererArgs, { logLevel: 'info' })).proc;
  const submit = (count: number): Promise<SubmitResult> => runCliJson<SubmitResult>([
    'submit', '--network', dir, '--mqtt', url, '--count', String(count), '--size', '64', '--json',
  ], { name: `submit ${count}` });
  const boards = net.boards.map((b) => b.id);
  const peers = boards.map((board) => rig.spawn([
    'peer', '--network', dir, '--board', board, '--data', join(root, 'peers', board), '--mqtt', url,
    '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS),
  ], { name: `peer ${board}` }));
  const allAt = (height: number): Promise<unknown> => Promise.all(peers.map((p) => waitForStatus(p, (s) => heightOf(s) === height, `height=${height}`)));
  const retired = loadSigner(dir, loadNetworkFile(dir).orderer).certificate;

  assert.equal((await submit(MAX_MESSAGE_COUNT)).accepted, MAX_MESSAGE_COUNT);
  await allAt(2);
  const rotated = await runCliJson<Record<string, unknown>>(['network', 'rotate-orderer-key', '--network', dir, '--mqtt', url, '--json'], { name: 'rotate-orderer-key' });
  assert.deepEqual(rotated['channels'], [{ channel: CHANNEL, changed: true, fromSequence: 0, sequence: 1, block: 2 }] satisfies ConfigOutcome[]);
  assert.equal(rotated['retired'], retired.fingerprint);
  const fresh = loadSigner(dir, loadNetworkFile(dir).orderer).certificate;
  assert.equal(fresh.fingerprint, rotated['fingerprint'], 'network.json names the new identity');
  assert.equal(loadNetworkFile(dir).ordererNext, undefined);
  assert.ok(orderer.stderrLines.some((l) => l.includes('orderer key rotated')), orderer.describe());

  // Block 3, cut by the same orderer process after the configuration block, and the boards take it.
  assert.equal((await submit(MAX_MESSAGE_COUNT)).accepted, MAX_MESSAGE_COUNT);
  await allAt(4);
  // Restarted, the orderer signs with the key network.json names now: block 4.
  await orderer.stop();
  orderer = (await rig.orderer(ordererArgs)).proc;
  assert.equal((await submit(MAX_MESSAGE_COUNT)).accepted, MAX_MESSAGE_COUNT);
  await allAt(5);
  for (const p of peers) await p.stop();
  await orderer.stop();

  const ledger = openLedger(ledgerPath(join(root, 'orderer'), CHANNEL), { channel: CHANNEL });
  const blocks: Uint8Array[] = [];
  try {
    ledger.readBlocks(0, 4, Number.MAX_SAFE_INTEGER, (b) => { blocks.push(Uint8Array.prototype.slice.call(b)); });
  } finally {
    await ledger.close();
  }
  const signedBy = (n: number): string[] => {
    const { header, signature } = blockSignature(blocks[n]!);
    return [retired, fresh].filter((c) => verifyBytes(certificateKey(c), header, signature)).map((c) => (c === fresh ? 'new' : 'old'));
  };
  assert.deepEqual([1, 2, 3, 4].map(signedBy), [['old'], ['old'], ['new'], ['new']], 'blocks 1 and 2 (the configuration block) by the old key, 3 and 4 by the new');
  const info = await ledgerInfo(join(root, 'orderer'));
  for (const b of boards) {
    const boardInfo = await ledgerInfo(join(root, 'peers', b));
    assert.deepEqual([boardInfo.height, boardInfo.lastHash, boardInfo.lastConfigNumber], [5, info.lastHash, 2], b);
  }
});
