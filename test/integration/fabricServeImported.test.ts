// A site with no link to the Fabric network: `edgepeer fabric import` loads a real Fabric peer's block file
// into the gateway's ledger, and `edgepeer gateway` with no --fabric-endpoint serves that ledger to the
// boards, which verify every block themselves and end with the file's chain, their LEDs and metrics
// showing it as for an edgepeer channel.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { blockFileBlocks } from '../../src/fabric/blockFiles.js';
import { createNetwork } from '../../src/network/createNetwork.js';
import { FABRIC_FIXTURES } from '../helpers/fabric/realData.js';
import { TestRig, freePort, heightOf, ledgerInfo, ledgerVerify, readMetric, runCli, waitForStatus } from '../helpers/processes.js';

const SAMPLE = join(FABRIC_FIXTURES, 'sample_prod.blockfile');
const SAMPLE_BLOCKS = 8;
/**
 * The status LEDs link, sync, leader on and error off, then the emulated profile's 8-LED height bar
 * showing Gray(8) = 0b1100, LED 0 first (src/board/ledModel.ts).
 */
const LEDS_IN_SYNC_AT_8 = '1110:00110000';

test('a gateway with no Fabric endpoint serves what `fabric import` loaded; a board syncs and verifies it', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir('edgepeer-fabric-serve-');
  const genesis = blockFileBlocks(SAMPLE).next().value!.block;
  assert.ok(readFileSync(SAMPLE).length > 0);
  const net = await createNetwork({ dir: join(root, 'net'), channels: [], fabricChannels: [{ channel: 'mychannel', genesis }], orgs: 1, boardsPerOrg: 1 });
  const gatewayData = join(root, 'gateway');
  await runCli(['fabric', 'import', SAMPLE, '--network', net.dir, '--data', gatewayData]);
  assert.equal((await ledgerInfo(gatewayData)).height, SAMPLE_BLOCKS);
  const gateway = rig.spawn(['gateway', '--network', net.dir, '--data', gatewayData, '--mqtt-port', '0', '--ready-json'], { name: 'gateway' });
  const ready = JSON.parse(await gateway.waitForLine((l) => l.includes('"ready":true'), 'the gateway ready line')) as { mqtt: string; fabric: string[] };
  assert.deepEqual(ready.fabric, [], 'it follows nothing');
  const boardData = join(root, 'board');
  const metricsPort = await freePort();
  const board = rig.spawn(['peer', '--network', net.dir, '--board', net.boards[0]!.id, '--data', boardData, '--mqtt', ready.mqtt,
    '--status-interval-ms', '100', '--metrics-port', String(metricsPort)], { name: 'board' });
  const s = await waitForStatus(board, (st) => heightOf(st) === SAMPLE_BLOCKS && st['leds'] === LEDS_IN_SYNC_AT_8,
    `height=${SAMPLE_BLOCKS} leds=${LEDS_IN_SYNC_AT_8}`, { timeoutMs: 30_000 });
  assert.equal(s['rejected'], '0');
  assert.equal(s['sync'], 'in-sync');
  assert.equal(await readMetric(metricsPort, 'edgepeer_ledger_height', { channel: 'mychannel' }), SAMPLE_BLOCKS);
  assert.equal(await readMetric(metricsPort, 'edgepeer_blocks_committed_total', { channel: 'mychannel' }), SAMPLE_BLOCKS - 1, 'the genesis is anchored, not committed');
  await board.stop();
  await gateway.stop();
  const verdict = await ledgerVerify(boardData);
  assert.equal(verdict.ok, true, JSON.stringify(verdict));
  assert.equal((await ledgerInfo(boardData)).lastHash, (await ledgerInfo(gatewayData)).lastHash);
});
