// `npm start -- --fabric FILE` as a user runs it: the demo's boards follow the real Fabric channel of a
// Fabric peer's block file (8 blocks of channel 'mychannel', signed by a solo orderer), verify every block
// under Fabric's rules themselves, and end with the file's chain in their ledgers; the demo's broker lets
// no keyless client in (docs/protocol.md §11.3).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectAsync } from 'mqtt';
import { DEMO_START_PREFIX } from '../../src/fleet/plainReport.js';
import { FABRIC_FIXTURES } from '../helpers/fabric/realData.js';
import { TestRig, ledgerInfo, ledgerVerify } from '../helpers/processes.js';

const SAMPLE_BLOCKS = 8;
/** Startup (network, broker, board processes) plus gossip's settle times, on a 2-core machine under load. */
const BOARDS_SYNCED_TIMEOUT_MS = 60_000;
const BOARDS = ['org1-board1', 'org1-board2'];

test('demo --fabric: the boards follow a Fabric block file through a gateway, verify it and hold its chain', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const dir = rig.tempDir('edgepeer-fabric-demo-');
  const demo = rig.spawn(['demo', '--plain', '--dir', dir, '--boards', '2', '--orgs', '1', '--fabric', join(FABRIC_FIXTURES, 'sample_prod.blockfile')], { name: 'demo' });
  for (const board of BOARDS) {
    await demo.waitForLine((l) => l.startsWith(`edgepeer-status board=${board} `) && l.includes(` height=${SAMPLE_BLOCKS} `),
      `${board} at height ${SAMPLE_BLOCKS}`, { timeoutMs: BOARDS_SYNCED_TIMEOUT_MS });
  }
  const orderer = demo.lines.filter((l) => l.startsWith('edgepeer-demo-orderer ')).pop() ?? '';
  assert.match(orderer, /channel=mychannel height=8 /);
  assert.match(orderer, /target_txps=0 /, 'nothing is submitted to a Fabric channel');
  // The boards logged in with their own identities; a client without one reads nothing of the channel.
  const brokerUrl = /(?:^| )broker=(\S+)/.exec(demo.lines.find((l) => l.startsWith(`${DEMO_START_PREFIX} `)) ?? '')?.[1];
  assert.ok(brokerUrl !== undefined, 'the start line names the broker');
  const anonymous = await connectAsync(brokerUrl, { reconnectPeriod: 0, protocolVersion: 4 })
    .then((c) => { c.end(true); return 'accepted'; }, (err: Error) => err.message);
  assert.match(anonymous, /Bad username or password|Not authorized/, 'an anonymous login');
  await demo.stop();
  for (const board of BOARDS) {
    const data = join(dir, 'boards', board);
    const info = await ledgerInfo(data);
    assert.equal(info.height, SAMPLE_BLOCKS);
    assert.equal(info.blockFormat, 'fabric');
    const verdict = await ledgerVerify(data);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
  }
});
