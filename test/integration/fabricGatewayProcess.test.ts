// `edgepeer gateway` as a real process following a real gRPC AtomicBroadcast server (mutual TLS) that
// serves a signed Fabric channel (test/helpers/fabric/chainBuilder.ts): every block lands in the LMDB
// ledger byte for byte, verified by Fabric's rules; a SIGKILL mid-stream and a restart lose and repeat
// nothing; a forged block is refused and nothing of it stored; `fabric import` loads a block file,
// idempotently, and the gateway follows on from it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fabricChannelAnchor, fabricRulesFor } from '../../src/cli/fabricChannel.js';
import { encodeBlockFile } from '../../src/fabric/blockStore.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { createNetwork } from '../../src/network/createNetwork.js';
import { type TestOrderingNode, startTestOrderingNode } from '../helpers/fabric/atomicBroadcastServer.js';
import { type FabricChainBuilder, makeTestChannel } from '../helpers/fabric/chainBuilder.js';
import { startGatewayProcess } from '../helpers/fabric/gatewayProcess.js';
import { flipSignature } from '../helpers/fabric/tamper.js';
import {
  TestRig, heightOf, ledgerInfo, ledgerVerify, readMetric, runCliJson, spawnCli, waitForMetric, waitForStatus,
} from '../helpers/processes.js';

const CHANNEL = 'edgechannel';
/** Waits on a child process: generous for a shared 2-core machine, below the runner's timeout. */
const WAIT_MS = 30_000;
const TEST_TIMEOUT_MS = 110_000;
const TX_PER_BLOCK = 2;
const TX_BYTES = 400;

interface Setup {
  rig: TestRig;
  builder: FabricChainBuilder;
  network: string;
  data: string;
  node: TestOrderingNode;
  boardId: string;
}

async function setup(t: TestContext, blocks: number, serve: number): Promise<Setup> {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir('edgepeer-fabric-gw-proc-');
  const { builder } = await makeTestChannel(CHANNEL);
  const genesis = builder.genesis();
  for (let i = 1; i < blocks; i++) builder.dataBlock({ txCount: TX_PER_BLOCK, txBytes: TX_BYTES });
  const network = join(root, 'net');
  const summary = await createNetwork({ dir: network, channels: [], fabricChannels: [{ channel: CHANNEL, genesis }], orgs: 1, boardsPerOrg: 1 });
  const node = await startTestOrderingNode(join(root, 'ordering-node'), { channel: CHANNEL, blocks: builder.blocks.slice(0, serve), mutualTls: true });
  rig.defer(() => node.server.stop());
  return { rig, builder, network, data: join(root, 'gateway-data'), node, boardId: summary.boards[0]!.id };
}

async function untilHeight(port: number, height: number): Promise<void> {
  await waitForMetric(port, 'edgepeer_ledger_height', (v) => (v ?? 0) >= height, `>= ${height}`, { labels: { channel: CHANNEL }, timeoutMs: WAIT_MS });
}

/** The gateway's ledger, read back (read-only) after the process has stopped. */
async function storedBlocks(s: Setup): Promise<Uint8Array[]> {
  const rules = fabricRulesFor(fabricChannelAnchor(s.network, CHANNEL));
  const ledger = openLedger(ledgerPath(s.data, CHANNEL), { channel: CHANNEL, format: rules.format, readOnly: true });
  try {
    const out: Uint8Array[] = [];
    for (let n = 0; n < ledger.height(); n++) out.push(ledger.getBlock(n)!);
    return out;
  } finally {
    await ledger.close();
  }
}

async function storedHeight(s: Setup): Promise<number> {
  return (await storedBlocks(s)).length;
}

function assertSameBytes(stored: Uint8Array[], chain: Uint8Array[]): void {
  assert.equal(stored.length, chain.length, 'height');
  for (let i = 0; i < chain.length; i++) assert.ok(Buffer.from(stored[i]!).equals(Buffer.from(chain[i]!)), `block ${i} byte for byte`);
}

test('the gateway process follows a signed Fabric channel over mutual TLS into its LMDB ledger, byte for byte, and a board syncs it from the gateway over MQTT', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = await setup(t, 40, 30);
  const { proc, ready } = await startGatewayProcess(s.rig, { network: s.network, data: s.data, nodes: [s.node], mutualTls: true });
  assert.equal(ready.channel, CHANNEL);
  assert.equal(ready.height, 1, 'the pinned genesis block anchors the ledger before following');
  await untilHeight(ready.metricsPort!, 30);
  s.node.server.append(...s.builder.blocks.slice(30));
  await untilHeight(ready.metricsPort!, 40);
  // A board of the network syncs the channel from the gateway over its embedded broker (the fleet test,
  // with gossip and serial, is the lead's end-to-end test).
  const boardData = s.rig.tempDir('edgepeer-fabric-board-');
  const board = s.rig.spawn(['peer', '--network', s.network, '--board', s.boardId, '--data', boardData, '--mqtt', ready.mqtt, '--status-interval-ms', '200'], { name: 'board' });
  const st = await waitForStatus(board, (x) => heightOf(x) === 40, 'height=40', { timeoutMs: WAIT_MS });
  assert.equal(st['rejected'], '0');
  await board.stop();
  await proc.stop();
  assertSameBytes(await storedBlocks(s), s.builder.blocks);
  const boardInfo = await ledgerInfo(boardData);
  assert.deepEqual([boardInfo.blockFormat, boardInfo.height, boardInfo.lastHash], ['fabric', 40, (await ledgerInfo(s.data)).lastHash]);
  assert.deepEqual(s.node.server.requests.map((r) => [r.start, r.stop, r.creatorMspId, r.txIdValid]), [[1, null, 'EdgeMSP', true]]);
  const info = await ledgerInfo(s.data);
  assert.deepEqual([info.blockFormat, info.height], ['fabric', 40]);
  const audit = await ledgerVerify(s.data);
  assert.ok(audit.ok, `ledger verify: ${JSON.stringify(audit)}`);
});

test('SIGKILL mid-stream, then a restart: the second gateway asks from its stored height, and the ledger holds every block once', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const total = 400;
  const s = await setup(t, total, 1);
  const first = await startGatewayProcess(s.rig, { network: s.network, data: s.data, nodes: [s.node], mutualTls: true });
  // The ordering node cuts blocks while the gateway follows; the kill lands while blocks are in flight.
  let next = 1;
  const cutter = setInterval(() => {
    const upTo = Math.min(total, next + 5);
    s.node.server.append(...s.builder.blocks.slice(next, upTo));
    next = upTo;
    if (next >= total) clearInterval(cutter);
  }, 2);
  t.after(() => clearInterval(cutter));
  await untilHeight(first.ready.metricsPort!, 100);
  const killed = await first.proc.kill('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const heightAtKill = await storedHeight(s);
  assert.ok(heightAtKill >= 100, `stored before the kill: ${heightAtKill}`);
  const second = await startGatewayProcess(s.rig, { network: s.network, data: s.data, nodes: [s.node], mutualTls: true });
  assert.equal(second.ready.height, heightAtKill, 'restarted from what was durably stored');
  await untilHeight(second.ready.metricsPort!, total);
  await second.proc.stop();
  assertSameBytes(await storedBlocks(s), s.builder.blocks);
  const starts = s.node.server.requests.map((r) => r.start);
  assert.deepEqual(starts, [1, heightAtKill], 'one request per process, the second from the stored height');
});

test('a forged block (its orderer signature flipped) is refused: nothing of it stored, the gateway asks again from its height and goes on with the real one', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = await setup(t, 20, 20);
  let forgedServed = 0;
  s.node.server.misbehave = { replaceBlock: (n) => (n === 12 && forgedServed++ === 0 ? flipSignature(s.builder.blocks[12]!) : undefined) };
  const { proc, ready } = await startGatewayProcess(s.rig, { network: s.network, data: s.data, nodes: [s.node], mutualTls: true, spawn: { logLevel: 'warn' } });
  await untilHeight(ready.metricsPort!, 20);
  const rejected = await readMetric(ready.metricsPort!, 'edgepeer_blocks_rejected_total', { channel: CHANNEL, reason: 'signature' });
  assert.equal(rejected, 1);
  await proc.stop();
  assert.ok(proc.stderrLines.some((l) => l.includes('sent block 12 that does not verify')), 'the refusal is logged with the block');
  assertSameBytes(await storedBlocks(s), s.builder.blocks);
  assert.deepEqual(s.node.server.requests.map((r) => r.start), [1, 12]);
});

test('fabric import loads a block file verifying every block, adds only what is missing on a re-run, and the gateway follows on from it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const s = await setup(t, 30, 30);
  const file = (count: number): string => {
    const path = join(s.rig.tempDir('edgepeer-fabric-import-'), 'blockfile_000000');
    writeFileSync(path, encodeBlockFile(s.builder.blocks.slice(0, count)));
    return path;
  };
  const importArgs = (path: string): string[] => ['fabric', 'import', path, '--network', s.network, '--data', s.data, '--json'];
  const first = await runCliJson<{ ok: boolean; added: number; alreadyHeld: number; height: number }>(importArgs(file(15)));
  assert.deepEqual([first.ok, first.added, first.alreadyHeld, first.height], [true, 14, 1, 15], 'block 0 is the anchored genesis');
  const again = await runCliJson<{ added: number; alreadyHeld: number; height: number }>(importArgs(file(15)));
  assert.deepEqual([again.added, again.alreadyHeld, again.height], [0, 15, 15], 'a re-run adds nothing');
  const longer = await runCliJson<{ added: number; alreadyHeld: number; height: number }>(importArgs(file(20)));
  assert.deepEqual([longer.added, longer.alreadyHeld, longer.height], [5, 15, 20]);

  const forgedPath = join(s.rig.tempDir('edgepeer-fabric-import-'), 'blockfile_000000');
  writeFileSync(forgedPath, encodeBlockFile([...s.builder.blocks.slice(0, 20), flipSignature(s.builder.blocks[20]!)]));
  const refused = spawnCli(importArgs(forgedPath), { name: 'fabric import (forged)' });
  const e = await refused.exited;
  assert.equal(e.code, 1, 'a refused block fails the import');
  assert.match(refused.lines.at(-1) ?? '', /"ok":false,"block":20/);
  assert.equal(await storedHeight(s), 20, 'nothing of the forged block stored');

  const { proc, ready } = await startGatewayProcess(s.rig, { network: s.network, data: s.data, nodes: [s.node], mutualTls: true });
  assert.equal(ready.height, 20);
  await untilHeight(ready.metricsPort!, 30);
  await proc.stop();
  assertSameBytes(await storedBlocks(s), s.builder.blocks);
  assert.deepEqual(s.node.server.requests.map((r) => r.start), [20]);
});
