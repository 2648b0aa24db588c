// Faults injected into real processes: a peer SIGKILLed mid-sync, the orderer SIGKILLed mid-sync, and
// the orderer's view of a peer that vanished without a word, with real LMDB files; the ledgers must end
// identical and verifiable. Defined once per broker; test/integration/faults.<broker>.test.ts runs them
// over the orderer's embedded Aedes and over Mosquitto, as two files so that they run side by side (and
// each stays well inside the runner's per-file timeout on a loaded machine).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { NetworkSummary } from '../../src/network/createNetwork.js';
import type { BrokerCase } from './brokers.js';
import {
  type CliProcess, type InitOptions, type OrdererBroker, TestRig, brokerForOrderer, freePort, heightOf, initNetwork,
  ledgerInfo, ledgerVerify, runCliJson, statusLines, waitForMetric, waitForStatus,
} from './processes.js';

/** Small blocks, cut by count only, so that a load gives a known height and many blocks to be killed in. */
const MAX_MESSAGE_COUNT = 5;
const BATCH_TIMEOUT_MS = 60_000;
const LOAD_TX = 3000;
const LOAD_HEIGHT = 1 + LOAD_TX / MAX_MESSAGE_COUNT;
const TX_BYTES = 256;
/** Kill once a peer has this many blocks: well inside the load, and visible on a 50 ms status line. */
const KILL_AT_HEIGHT = 100;
const STATUS_INTERVAL_MS = 50;
const HEARTBEAT_MS = 200;
const KEEPALIVE_MS = 200;
const STALL_TIMEOUT_MS = 1_500;
const MAX_RETRY_DELAY_MS = 500;
const SESSION_IDLE_TIMEOUT_MS = 1_000;
/** Room for the idle sweep's period (a quarter of the timeout), the metrics polling and a busy machine. */
const IDLE_END_SLACK_MS = 3_000;
const SYNC_TIMEOUT_MS = 30_000;

interface SubmitResult {
  accepted: number;
  byStatus: Record<string, number>;
}

interface Fixture {
  rig: TestRig;
  broker: OrdererBroker;
  root: string;
  net: NetworkSummary;
  ordererData: string;
  ordererArgs: string[];
  peerData(board: string): string;
  startPeer(board: string, extra?: string[]): CliProcess;
  submitArgs(count: number): string[];
}

async function fixture(t: TestContext, brokerCase: BrokerCase, init: InitOptions): Promise<Fixture | null> {
  const rig = new TestRig();
  t.after(() => rig.close());
  const broker = await brokerForOrderer(brokerCase);
  if ('skip' in broker) {
    t.skip(broker.skip);
    return null;
  }
  rig.defer(() => broker.stop());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS, ...init });
  const ordererData = join(root, 'orderer');
  const peerData = (board: string): string => join(root, 'peers', board);
  return {
    rig, broker, root, net, ordererData, peerData,
    ordererArgs: ['--network', net.dir, '--data', ordererData, '--heartbeat-ms', String(HEARTBEAT_MS), ...broker.ordererArgs],
    startPeer: (board, extra = []) => rig.spawn([
      'peer', '--network', net.dir, '--board', board, '--data', peerData(board), '--mqtt', broker.url,
      '--status-interval-ms', String(STATUS_INTERVAL_MS), '--keepalive-ms', String(KEEPALIVE_MS),
      '--stall-timeout-ms', String(STALL_TIMEOUT_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS), ...extra,
    ], { name: `peer ${board}` }),
    submitArgs: (count) => ['submit', '--network', net.dir, '--mqtt', broker.url, '--count', String(count), '--size', String(TX_BYTES), '--json'],
  };
}

const streaming = (s: Record<string, string>): boolean => s['link'] === 'up' && s['deliver'] === 'streaming';

/** Every ledger has the orderer's height and last hash, and passes `ledger verify`. */
async function assertIdenticalLedgers(f: Fixture, boards: readonly string[], expectedHeight: number): Promise<void> {
  const ordererInfo = await ledgerInfo(f.ordererData);
  assert.equal(ordererInfo.height, expectedHeight, 'orderer height');
  const ordererCheck = await ledgerVerify(f.ordererData);
  assert.equal(ordererCheck.ok, true, `orderer ledger verifies: ${JSON.stringify(ordererCheck)}`);
  for (const board of boards) {
    const info = await ledgerInfo(f.peerData(board));
    assert.equal(info.height, ordererInfo.height, `${board} height`);
    assert.equal(info.lastHash, ordererInfo.lastHash, `${board} last hash`);
    const check = await ledgerVerify(f.peerData(board));
    assert.equal(check.ok, true, `${board} ledger verifies: ${JSON.stringify(check)}`);
  }
}

/** The fault tests over one broker (its name in every test's title). */
export function faultTests(brokerCase: BrokerCase): void {
  test(`faults over ${brokerCase.name}: a peer SIGKILLed mid-sync resumes on its data dir with no gap and no duplicate`, async (t) => {
    const f = await fixture(t, brokerCase, { boardsPerOrg: 1 });
    if (f === null) return;
    const board = f.net.boards[0]!.id;
    const orderer = await f.rig.orderer(f.ordererArgs);
    const first = f.startPeer(board);
    await waitForStatus(first, streaming, 'deliver=streaming');

    const submit = f.rig.spawn(f.submitArgs(LOAD_TX), { name: 'submit' });
    await waitForStatus(first, (s) => heightOf(s) >= KILL_AT_HEIGHT, `height>=${KILL_AT_HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS });
    const killed = await first.kill('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');

    // What the crash left behind is a valid prefix of the chain, part of the way.
    const atKill = await ledgerInfo(f.peerData(board));
    assert.ok(atKill.height >= KILL_AT_HEIGHT && atKill.height < LOAD_HEIGHT,
      `peer killed partway: height ${atKill.height} of ${LOAD_HEIGHT}`);
    const checkAtKill = await ledgerVerify(f.peerData(board));
    assert.deepEqual(checkAtKill, { ok: true, channel: f.net.channel, height: atKill.height, lastHash: atKill.lastHash });

    await submit.succeeded();
    const submitted = JSON.parse(submit.lines.at(-1)!) as SubmitResult;
    assert.equal(submitted.accepted, LOAD_TX, JSON.stringify(submitted.byStatus));

    const second = f.startPeer(board);
    const resumed = await waitForStatus(second, () => true, 'a first status line');
    assert.equal(heightOf(resumed), atKill.height, 'the restarted peer starts from its ledger, not from scratch');
    const done = await waitForStatus(second, (s) => heightOf(s) === LOAD_HEIGHT, `height=${LOAD_HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS });
    // Each block after the crash point committed exactly once by the new process.
    assert.equal(Number(done['committed']), LOAD_HEIGHT - atKill.height);
    assert.equal(done['rejected'], '0');

    await second.stop();
    await orderer.proc.stop();
    await assertIdenticalLedgers(f, [board], LOAD_HEIGHT);
  });

  test(`faults over ${brokerCase.name}: the orderer SIGKILLed mid-sync and restarted; peers reconnect by themselves`, async (t) => {
    const f = await fixture(t, brokerCase, { boardsPerOrg: 3 });
    if (f === null) return;
    const boards = f.net.boards.map((b) => b.id);
    const firstOrderer = await f.rig.orderer(f.ordererArgs);
    const peers = boards.map((b) => f.startPeer(b));
    await Promise.all(peers.map((p) => waitForStatus(p, streaming, 'deliver=streaming')));

    const load = f.rig.spawn(f.submitArgs(LOAD_TX), { name: 'submit (killed with the orderer)' });
    await waitForStatus(peers[0]!, (s) => heightOf(s) >= KILL_AT_HEIGHT, `height>=${KILL_AT_HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS });
    const marks = peers.map((p) => p.lineCount);
    assert.equal((await firstOrderer.proc.kill('SIGKILL')).signal, 'SIGKILL');
    // Its unanswered requests would each wait out the client's answer timeout; it has served its purpose.
    await load.kill('SIGKILL');

    const atKill = await ledgerInfo(f.ordererData);
    assert.ok(atKill.height < LOAD_HEIGHT, `orderer killed mid-load: height ${atKill.height} of ${LOAD_HEIGHT}`);
    const checkAtKill = await ledgerVerify(f.ordererData);
    assert.equal(checkAtKill.ok, true, `orderer ledger after SIGKILL verifies: ${JSON.stringify(checkAtKill)}`);

    const embedded = brokerCase.name === 'aedes';
    if (embedded) {
      // The broker died with the orderer: every board sees its link go down.
      await Promise.all(peers.map((p, i) => waitForStatus(p, (s) => s['link'] !== 'up', 'link not up', { since: marks[i]! })));
    }
    const beforeRestart = peers.map((p) => p.lineCount);
    const secondOrderer = await f.rig.orderer(f.ordererArgs, { name: 'orderer (restarted)' });
    if (embedded) {
      await Promise.all(peers.map((p, i) => waitForStatus(p, streaming, 'link=up deliver=streaming after the restart', { since: beforeRestart[i]! })));
    }

    const more = await runCliJson<SubmitResult>(f.submitArgs(500), { name: 'submit (after the restart)' });
    assert.equal(more.accepted, 500, JSON.stringify(more.byStatus));
    const expected = atKill.height + 500 / MAX_MESSAGE_COUNT;
    await Promise.all(peers.map((p) =>
      waitForStatus(p, (s) => heightOf(s) === expected, `height=${expected}`, { timeoutMs: SYNC_TIMEOUT_MS })));

    for (const [i, p] of peers.entries()) {
      const seen = statusLines(p, marks[i]!);
      if (embedded) {
        const down = seen.findIndex((s) => s['link'] === 'down');
        assert.ok(down >= 0 && seen.slice(down).some((s) => s['link'] === 'up'), `${boards[i]}: link went down, then up`);
      }
      // Mosquitto outlives the orderer, so the link stays up: the silent stream is detected and re-sought.
      assert.match(p.stderr, /deliver stream ended/, `${boards[i]} ended its stream to the dead orderer and opened another`);
      assert.ok(seen.every((s) => s['rejected'] === '0'), `${boards[i]} rejected no block`);
    }
    for (const p of peers) await p.stop();
    await secondOrderer.proc.stop();
    await assertIdenticalLedgers(f, boards, expected);
  });

  test(`faults over ${brokerCase.name}: the session of a SIGKILLed peer is ended by the orderer's idle timeout`, async (t) => {
    const f = await fixture(t, brokerCase, { boardsPerOrg: 2 });
    if (f === null) return;
    const metricsPort = await freePort();
    const orderer = await f.rig.orderer([
      ...f.ordererArgs, '--metrics-port', String(metricsPort), '--session-idle-timeout-ms', String(SESSION_IDLE_TIMEOUT_MS),
    ]);
    const [victimBoard, survivorBoard] = f.net.boards.map((b) => b.id) as [string, string];
    const victim = f.startPeer(victimBoard);
    const survivor = f.startPeer(survivorBoard);
    await Promise.all([victim, survivor].map((p) => waitForStatus(p, streaming, 'deliver=streaming')));
    await waitForMetric(metricsPort, 'edgepeer_deliver_streams_open', (v) => v === 2, '== 2');

    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    await waitForMetric(metricsPort, 'edgepeer_deliver_streams_open', (v) => v === 1, '== 1 (the dead peer\'s session ended)',
      { timeoutMs: SESSION_IDLE_TIMEOUT_MS + IDLE_END_SLACK_MS });
    const endedAfterMs = Date.now() - killedAt;
    // The victim acknowledged at most KEEPALIVE_MS before it died: nothing but the idle timeout ends it sooner.
    assert.ok(endedAfterMs >= SESSION_IDLE_TIMEOUT_MS - KEEPALIVE_MS - 100,
      `session ended ${endedAfterMs} ms after the kill, before the idle timeout could have`);

    // The live board's session outlasts the idle timeout (its ACKs keep it) and still carries new blocks.
    const more = await runCliJson<SubmitResult>(f.submitArgs(10), { name: 'submit' });
    assert.equal(more.accepted, 10);
    await waitForStatus(survivor, (s) => heightOf(s) === 3, 'height=3');
    await waitForMetric(metricsPort, 'edgepeer_deliver_streams_open', (v) => v === 1, '== 1 (the live session kept)');

    await survivor.stop();
    await waitForMetric(metricsPort, 'edgepeer_deliver_streams_open', (v) => v === 0, '== 0');
    await orderer.proc.stop();
  });
}
