// Gossip with real board processes on loopback: `edgepeer init --gossip`, one orderer, 4 boards in 2 orgs.
// One board per org pulls from the orderer; the others get their blocks by gossip. The org1 leader is
// then SIGKILLed: its org-mate takes over and every survivor reaches the orderer's height.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gossipDefaults } from '../../src/config/constants.js';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import {
  type CliProcess, TestRig, freePort, heightOf, killAllProcesses, lastStatus, readMetric, runCliJson, statusLines, waitForStatus,
} from '../helpers/processes.js';

const TX_COUNT = 500;
const MAX_MESSAGE_COUNT = 10;
const BATCH_TIMEOUT_MS = 60_000;
const STATUS_INTERVAL_MS = 100;
const SYNC_TIMEOUT_MS = 30_000;
/** A dead leader is noticed after aliveExpirationMs, checked every aliveIntervalMs; plus status and start-up slack. */
const TAKEOVER_BOUND_MS = gossipDefaults.aliveExpirationMs + 2 * gossipDefaults.aliveIntervalMs + 1_000;

after(killAllProcesses);

interface SubmitResult { accepted: number }

test('gossip fleet: 4 board processes in 2 orgs, one Deliver stream per org, leader SIGKILLed and replaced', { timeout: 120_000 }, async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const gossipBase = await freePort();
  const net = await runCliJson<NetworkSummary>([
    'init', '--dir', join(root, 'network'), '--channel', 'gossip', '--orgs', '2', '--boards-per-org', '2', '--json',
    '--max-message-count', String(MAX_MESSAGE_COUNT), '--batch-timeout-ms', String(BATCH_TIMEOUT_MS),
    '--gossip', '--gossip-base-port', String(gossipBase),
  ], { name: 'init' });
  const mqttPort = await freePort();
  const mqtt = `mqtt://127.0.0.1:${mqttPort}`;
  const metricsPort = await freePort();
  await rig.orderer(['--network', net.dir, '--data', join(root, 'orderer'), '--metrics-port', String(metricsPort), '--mqtt-port', String(mqttPort)]);
  const peers = new Map<string, CliProcess>();
  for (const b of net.boards) {
    peers.set(b.id, rig.spawn([
      'peer', '--network', net.dir, '--board', b.id, '--data', join(root, 'peers', b.id), '--mqtt', mqtt,
      '--status-interval-ms', String(STATUS_INTERVAL_MS),
    ], { name: `peer ${b.id}` }));
  }
  const leaderOf = async (org: string, among: string[]): Promise<string> => {
    const found = await Promise.race(net.boards.filter((b) => b.org === org && among.includes(b.id)).map((b) =>
      waitForStatus(peers.get(b.id)!, (s) => s['role'] === 'leader', 'role=leader', { since: peers.get(b.id)!.lines.length })));
    return found['board']!;
  };
  const all = net.boards.map((b) => b.id);
  await Promise.all([leaderOf('org1', all), leaderOf('org2', all)]);
  // Boards that start slowly (a loaded machine) may each elect themselves before hearing the others; the
  // claims in their ALIVEs then settle it. The property is checked from the settled state on.
  const settledLeaders = (): string[] | null => {
    const s = net.boards.map((b) => lastStatus(peers.get(b.id)!));
    const leaders = s.filter((x) => x?.['role'] === 'leader').map((x) => x!['board']!);
    const perOrg = ['org1', 'org2'].map((org) => leaders.filter((id) => net.boards.find((b) => b.id === id)!.org === org));
    return perOrg.every((l) => l.length === 1) ? perOrg.map((l) => l[0]!) : null;
  };
  const settleDeadline = Date.now() + SYNC_TIMEOUT_MS;
  let settled = settledLeaders();
  while (settled === null || (await readMetric(metricsPort, 'edgepeer_deliver_streams_open')) !== 2) {
    if (Date.now() > settleDeadline) throw new Error('the election did not settle on one streaming leader per org');
    await new Promise((r) => setTimeout(r, STATUS_INTERVAL_MS));
    settled = settledLeaders();
  }
  const [lead1, lead2] = settled as [string, string];

  // Sampled while the load runs: the orderer's open Deliver streams, all channels together.
  let maxStreams = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      maxStreams = Math.max(maxStreams, (await readMetric(metricsPort, 'edgepeer_deliver_streams_open')) ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const submit = await runCliJson<SubmitResult>([
    'submit', '--network', net.dir, '--mqtt', mqtt, '--count', String(TX_COUNT), '--size', '64', '--json',
  ], { name: 'submit' });
  assert.equal(submit.accepted, TX_COUNT);
  const height = (await readMetric(metricsPort, 'edgepeer_ledger_height', { channel: 'gossip' }))!;
  assert.equal(height, 1 + TX_COUNT / MAX_MESSAGE_COUNT);
  const finals = await Promise.all([...peers.values()].map((p) =>
    waitForStatus(p, (s) => heightOf(s) === height, `height=${height}`, { timeoutMs: SYNC_TIMEOUT_MS })));
  sampling = false;
  await sampler;
  assert.equal(new Set(finals.map((s) => s['hash'])).size, 1, 'every ledger ends with the same block');
  const roles = [...peers.entries()].map(([id, p]) => `${id}: ${statusLines(p).map((x) => `${x['role']}/${x['deliver']}`)
    .filter((x, i, a) => i === 0 || a[i - 1] !== x).join(' ')}`).join('\n');
  assert.ok(maxStreams <= 2, `the orderer served ${maxStreams} Deliver streams at once for 2 orgs; roles:\n${roles}`);
  for (const s of finals) assert.equal(s['rejected'], '0');
  for (const id of all.filter((x) => x !== lead1 && x !== lead2)) {
    assert.equal(lastStatus(peers.get(id)!)!['role'], 'follower', `${id} follows`);
  }

  // SIGKILL org1's leader: its org-mate must lead within the bound and everyone reach the new height.
  const killedAt = Date.now();
  await peers.get(lead1)!.kill('SIGKILL');
  peers.delete(lead1);
  const heir = net.boards.find((b) => b.org === 'org1' && b.id !== lead1)!.id;
  await waitForStatus(peers.get(heir)!, (s) => s['role'] === 'leader', 'role=leader', { timeoutMs: TAKEOVER_BOUND_MS + 2_000 });
  const tookMs = Date.now() - killedAt;
  assert.ok(tookMs <= TAKEOVER_BOUND_MS, `${heir} took over after ${tookMs} ms (bound ${TAKEOVER_BOUND_MS} ms)`);
  await runCliJson<SubmitResult>(['submit', '--network', net.dir, '--mqtt', mqtt, '--count', '100', '--size', '64', '--json'], { name: 'submit 2' });
  const height2 = height + 100 / MAX_MESSAGE_COUNT;
  await Promise.all([...peers.values()].map((p) =>
    waitForStatus(p, (s) => heightOf(s) === height2, `height=${height2}`, { timeoutMs: SYNC_TIMEOUT_MS })));
});
