// A fleet of real processes: one orderer, three board peers, one load generator, over real MQTT (the
// orderer's embedded Aedes, and Mosquitto) and real LMDB files. Every peer must end with the orderer's
// chain, block for block.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { brokerCases } from '../helpers/brokers.js';
import {
  type CliProcess, TestRig, brokerForOrderer, freePort, heightOf, initNetwork, killAllProcesses, ledgerInfo, ledgerVerify,
  readMetric, runCliJson, waitForStatus,
} from '../helpers/processes.js';

const TX_COUNT = 1000;
const TX_BYTES = 256;
/** Blocks are cut by count only (the batch timer never fires in the test), so the height is known. */
const MAX_MESSAGE_COUNT = 10;
const BATCH_TIMEOUT_MS = 60_000;
const EXPECTED_HEIGHT = 1 + TX_COUNT / MAX_MESSAGE_COUNT;
const STATUS_INTERVAL_MS = 100;
const SYNC_TIMEOUT_MS = 30_000;

after(killAllProcesses);

interface SubmitResult {
  accepted: number;
  count: number;
  byStatus: Record<string, number>;
}

for (const brokerCase of brokerCases()) {
  test(`fleet sync over ${brokerCase.name}: 3 peer processes end with the orderer's chain after ${TX_COUNT} transactions`, async (t) => {
    const rig = new TestRig();
    t.after(() => rig.close());
    const broker = await brokerForOrderer(brokerCase);
    if ('skip' in broker) {
      t.skip(broker.skip);
      return;
    }
    rig.defer(() => broker.stop());
    const root = rig.tempDir();
    const net = await initNetwork(join(root, 'network'), {
      channel: 'fleet', orgs: 3, boardsPerOrg: 1, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
    });
    assert.equal(net.boards.length, 3);
    const metricsPort = await freePort();
    const ordererData = join(root, 'orderer');
    const orderer = await rig.orderer(['--network', net.dir, '--data', ordererData, '--metrics-port', String(metricsPort), ...broker.ordererArgs]);

    const peerData = (board: string): string => join(root, 'peers', board);
    const startPeer = (board: string): CliProcess => rig.spawn([
      'peer', '--network', net.dir, '--board', board, '--data', peerData(board), '--mqtt', broker.url,
      '--status-interval-ms', String(STATUS_INTERVAL_MS),
    ], { name: `peer ${board}` });

    // Two boards follow the load live; the third joins afterwards and catches up from block 1.
    const [live1, live2, late] = net.boards.map((b) => b.id) as [string, string, string];
    const livePeers = [startPeer(live1), startPeer(live2)];
    await Promise.all(livePeers.map((p) => waitForStatus(p, (s) => s['link'] === 'up' && s['deliver'] === 'streaming', 'deliver=streaming')));

    const submit = await runCliJson<SubmitResult>([
      'submit', '--network', net.dir, '--mqtt', broker.url, '--count', String(TX_COUNT), '--size', String(TX_BYTES), '--json',
    ], { name: 'submit' });
    assert.equal(submit.accepted, TX_COUNT, `every transaction accepted: ${JSON.stringify(submit.byStatus)}`);
    // Cutting happens as each transaction is ordered, before its SUCCESS answer: nothing is left pending.
    assert.equal(await readMetric(metricsPort, 'edgepeer_ledger_height', { channel: 'fleet' }), EXPECTED_HEIGHT);

    const latePeer = startPeer(late);
    const peers = [...livePeers, latePeer];
    const finals = await Promise.all(peers.map((p) =>
      waitForStatus(p, (s) => heightOf(s) === EXPECTED_HEIGHT, `height=${EXPECTED_HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS })));
    for (const s of finals) assert.equal(s['rejected'], '0', `no block rejected by ${s['board']}`);
    // The late board committed the whole chain itself; the live ones everything after their start.
    assert.equal(finals[2]!['committed'], String(EXPECTED_HEIGHT - 1));

    for (const p of peers) await p.stop();
    await orderer.proc.stop();

    const ordererInfo = await ledgerInfo(ordererData);
    assert.equal(ordererInfo.height, EXPECTED_HEIGHT);
    const ordererCheck = await ledgerVerify(ordererData);
    assert.equal(ordererCheck.ok, true, `orderer ledger verifies: ${JSON.stringify(ordererCheck)}`);
    for (const b of net.boards) {
      const info = await ledgerInfo(peerData(b.id));
      assert.equal(info.height, ordererInfo.height, `${b.id} height`);
      assert.equal(info.lastHash, ordererInfo.lastHash, `${b.id} last hash`);
      const check = await ledgerVerify(peerData(b.id));
      assert.deepEqual(check, { ok: true, channel: 'fleet', height: EXPECTED_HEIGHT, lastHash: ordererInfo.lastHash }, `${b.id} ledger verifies`);
    }
  });
}
