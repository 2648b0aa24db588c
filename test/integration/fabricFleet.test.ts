// A real Fabric channel carried to boards end to end (issue 11 §3): a gRPC AtomicBroadcast server (real
// protos, real TLS with mutual TLS) serves a Fabric-format chain signed by a test CA's orderer, including
// a config update block; `edgepeer gateway` follows it; two board processes of one org sync it over
// MQTT with gossip (one leads and pulls, the other takes its blocks from its neighbour), and a board of
// another org syncs over a serial line (socat PTY pair). The gateway is SIGKILLed while it streams and
// restarted on the same data folder. At the end every ledger holds exactly the source's bytes, block for
// block, and `ledger verify` (Fabric's rules, every block's signatures) passes on each.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fabricBlockFormat } from '../../src/fabric/fabricFormat.js';
import { findFreePortRange } from '../../src/fleet/freePorts.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { createNetwork } from '../../src/network/createNetwork.js';
import { TEST_ORDERER_MSP_ID, startTestOrderingNode } from '../helpers/fabric/atomicBroadcastServer.js';
import { makeTestChannel } from '../helpers/fabric/chainBuilder.js';
import { startGatewayProcess } from '../helpers/fabric/gatewayProcess.js';
import {
  type CliProcess, TestRig, freePort, heightOf, killAllProcesses, ledgerInfo, ledgerVerify, waitForStatus,
} from '../helpers/processes.js';
import { ptyPair, socatMissing, stopAllPtyPairs } from '../helpers/pty.js';

const CHANNEL = 'edgechannel';
/** Blocks the ordering node holds when the gateway starts (the genesis and a config update among them). */
const FIRST_BLOCKS = 400;
/** Blocks added while everything runs; the gateway is killed while it streams them. */
const MORE_BLOCKS = 600;
/** Of those, the gateway stores at most this many before it is killed. */
const KILL_AFTER_BLOCKS = 200;
const TX_BYTES = 1_024;
const SYNC_TIMEOUT_MS = 90_000;
const STATUS_INTERVAL_MS = 100;
/**
 * The gateway's heartbeat on an idle Deliver session, and the boards' stall timeout: several heartbeats.
 * The serial board learns of the gateway's death only by the silence (socat keeps the line's other end
 * open), so the default 20 s stall timeout would be most of this test's run time.
 */
const HEARTBEAT_MS = 500;
const STALL_TIMEOUT_MS = 6 * HEARTBEAT_MS;

after(async () => {
  await killAllProcesses();
  await stopAllPtyPairs();
});

test('a Fabric channel through the gateway to boards over MQTT with gossip and over serial; the gateway killed mid-stream loses and duplicates nothing', async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir('edgepeer-fabric-fleet-');

  // The Fabric chain: genesis, data, a config update (the next sequence) half-way, data.
  const { spec, builder } = await makeTestChannel(CHANNEL);
  assert.equal(spec.ordererOrgs[0]!.mspId, TEST_ORDERER_MSP_ID);
  builder.genesis();
  builder.dataBlocks(FIRST_BLOCKS / 2 - 1, { txBytes: TX_BYTES });
  builder.configBlock(spec);
  builder.dataBlocks(FIRST_BLOCKS / 2 - 1, { txBytes: TX_BYTES });
  builder.dataBlocks(MORE_BLOCKS, { txBytes: TX_BYTES });
  const source = builder.blocks;
  const total = source.length;
  assert.equal(total, FIRST_BLOCKS + MORE_BLOCKS);

  // The edge network: org1's two boards gossip; org2's board takes the serial line.
  const netDir = join(root, 'net');
  const gossipBase = await findFreePortRange('127.0.0.1', 4);
  const summary = await createNetwork({
    dir: netDir, channels: [], fabricChannels: [{ channel: CHANNEL, genesis: source[0]! }], orgs: 2, boardsPerOrg: 2,
    gossip: { basePort: gossipBase },
  });
  const node = await startTestOrderingNode(join(root, 'fabric'), { channel: CHANNEL, blocks: source.slice(0, FIRST_BLOCKS), mutualTls: true });
  rig.defer(() => node.server.stop());
  const pair = await ptyPair(root, 'gateway-tty', 'board-tty');
  rig.defer(() => pair.stop());

  const gatewayData = join(root, 'gateway');
  const mqttPort = await freePort();
  const gatewayOptions = {
    network: netDir, data: gatewayData, nodes: [node], mutualTls: true,
    args: ['--mqtt-port', String(mqttPort), '--serial', `${pair.a}@115200`, '--heartbeat-ms', String(HEARTBEAT_MS)],
  };
  let gateway = (await startGatewayProcess(rig, gatewayOptions)).proc;
  const mqtt = `mqtt://127.0.0.1:${mqttPort}`;

  const boards = ['org1-board1', 'org1-board2', 'org2-board1'] as const;
  const boardData = (id: string): string => join(root, 'boards', id);
  const startBoard = (id: string, endpoint: string): CliProcess => rig.spawn([
    'peer', '--network', netDir, '--board', id, '--data', boardData(id), '--orderer', endpoint,
    '--status-interval-ms', String(STATUS_INTERVAL_MS), '--gossip-seed', '7', '--stall-timeout-ms', String(STALL_TIMEOUT_MS),
  ], { name: id });
  const procs = [startBoard(boards[0], mqtt), startBoard(boards[1], mqtt), startBoard(boards[2], `serial:${pair.b}@115200`)];
  assert.ok(summary.boards.some((b) => b.id === boards[2]));

  for (const p of procs) {
    await waitForStatus(p, (s) => heightOf(s) === FIRST_BLOCKS, `height=${FIRST_BLOCKS}`, { timeoutMs: SYNC_TIMEOUT_MS });
  }

  // The chain grows while everything runs: the first part arrives, and the gateway dies with its Fabric
  // stream open in the middle of the chain; the rest is cut while it is down, and it comes back on its ledger.
  node.server.append(...source.slice(FIRST_BLOCKS, FIRST_BLOCKS + KILL_AFTER_BLOCKS));
  const since = procs[0]!.lines.length;
  await waitForStatus(procs[0]!, (s) => heightOf(s) > FIRST_BLOCKS, `height>${FIRST_BLOCKS}`, { since, timeoutMs: SYNC_TIMEOUT_MS });
  await gateway.kill('SIGKILL');
  assert.equal(node.server.openStreams <= 1, true);
  node.server.append(...source.slice(FIRST_BLOCKS + KILL_AFTER_BLOCKS));
  const seeksBefore = node.server.requests.length;
  gateway = (await startGatewayProcess(rig, gatewayOptions)).proc;

  for (const p of procs) {
    const s = await waitForStatus(p, (st) => heightOf(st) === total, `height=${total}`, { timeoutMs: SYNC_TIMEOUT_MS }).catch((err: unknown) => {
      // The warnings say why a board is stuck (a rejected block names its reason).
      for (const q of [...procs, gateway]) process.stderr.write(`---- ${q.name} (stderr, last lines)\n${q.stderrLines.slice(-20).join('\n')}\n`);
      throw err;
    });
    assert.equal(s['rejected'], '0', `${p.name} rejected blocks`);
  }
  // The restarted gateway asked Fabric only for what it lacked: from its own stored height, which is
  // past the blocks the boards had before the kill and short of the blocks cut while it was down.
  const resumed = node.server.requests.slice(seeksBefore);
  assert.ok(resumed.length > 0, 'the restarted gateway sought again');
  const starts = resumed.map((seek) => seek.start);
  assert.ok(starts.every((n) => typeof n === 'number' && n > FIRST_BLOCKS && n <= FIRST_BLOCKS + KILL_AFTER_BLOCKS), `restarted seeks start at ${starts.join(', ')}`);
  // One org streamed through one leader; the follower's blocks came by gossip.
  const from = (p: CliProcess): string => p.lines.filter((l) => l.startsWith('edgepeer-status')).pop() ?? '';
  const roles = procs.slice(0, 2).map((p) => /role=(\w+)/.exec(from(p))?.[1]);
  assert.deepEqual([...roles].sort(), ['follower', 'leader'], `org1 roles: ${roles.join(', ')}`);

  for (const p of procs) await p.stop();
  await gateway.stop();

  // The four ledgers are read only: their checks run side by side.
  await Promise.all([gatewayData, ...boards.map(boardData)].map(async (data) => {
    const verdict = await ledgerVerify(data);
    assert.equal(verdict.ok, true, `${data}: ${JSON.stringify(verdict)}`);
    const info = await ledgerInfo(data);
    assert.equal(info.height, total);
    assert.equal(info.blockFormat, 'fabric');
    const ledger = openLedger(ledgerPath(data, CHANNEL), { channel: CHANNEL, readOnly: true, format: fabricBlockFormat });
    try {
      for (let n = 0; n < total; n++) {
        const stored = ledger.getBlockUnsafe(n);
        assert.ok(stored !== undefined && Buffer.compare(Buffer.from(stored), Buffer.from(source[n]!)) === 0, `${data}: block ${n} differs from the source`);
      }
    } finally {
      await ledger.close();
    }
  }));
});
