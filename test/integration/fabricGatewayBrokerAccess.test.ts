// `edgepeer gateway`'s embedded broker applies the orderer's access rules (docs/protocol.md §11.3), judged
// by the Fabric channel's edge access configuration: a client without a member's key is refused, a member
// that subscribes to '#', to another member's reply topic or to the request topics is refused and reads
// nothing of the blocks and SEEKs that pass while a real board syncs through the gateway, and the board,
// logging in as a member, and the gateway, logging in as the orderer, still do their work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { IClientOptions, MqttClient } from 'mqtt';
import { MqttTestClients, SUBACK_FAILURE, grantedQos } from '../helpers/mqttClients.js';
import { createNetwork } from '../../src/network/createNetwork.js';
import { loadBoard, loadClient } from '../../src/network/loadNetwork.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { replyTopic, requestTopic } from '../../src/transport/mqtt/topics.js';
import { startTestOrderingNode } from '../helpers/fabric/atomicBroadcastServer.js';
import { makeTestChannel } from '../helpers/fabric/chainBuilder.js';
import { startGatewayProcess } from '../helpers/fabric/gatewayProcess.js';
import { TestRig, heightOf, waitForMetric, waitForStatus } from '../helpers/processes.js';

const CHANNEL = 'edgechannel';
const BLOCKS = 12;
const TX_PER_BLOCK = 2;
const TX_BYTES = 400;
/** Waits on a child process: generous for a shared 2-core machine, below the runner's timeout. */
const WAIT_MS = 30_000;
const TEST_TIMEOUT_MS = 110_000;
/** The board's status line period: short, so that its height is seen soon after it changes. */
const STATUS_INTERVAL_MS = 200;

test('the gateway\'s embedded broker refuses keyless and forged logins and members\' reads of others\' topics, and a board still syncs through it', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  let mqttUrl = '';
  const mqttClients = new MqttTestClients(() => mqttUrl);
  rig.defer(() => mqttClients.endAll());
  const root = rig.tempDir('edgepeer-fabric-gw-acl-');
  const { builder } = await makeTestChannel(CHANNEL);
  const genesis = builder.genesis();
  for (let i = 1; i < BLOCKS; i++) builder.dataBlock({ txCount: TX_PER_BLOCK, txBytes: TX_BYTES });
  const network = join(root, 'net');
  const summary = await createNetwork({ dir: network, channels: [], fabricChannels: [{ channel: CHANNEL, genesis }], orgs: 1, boardsPerOrg: 1 });
  const node = await startTestOrderingNode(join(root, 'ordering-node'), { channel: CHANNEL, blocks: builder.blocks, mutualTls: true });
  rig.defer(() => node.server.stop());
  const { ready } = await startGatewayProcess(rig, { network, data: join(root, 'gateway-data'), nodes: [node], mutualTls: true });
  await waitForMetric(ready.metricsPort!, 'edgepeer_ledger_height', (v) => (v ?? 0) >= BLOCKS, `>= ${BLOCKS}`, { labels: { channel: CHANNEL }, timeoutMs: WAIT_MS });

  const boardId = summary.boards[0]!.id;
  const board = brokerCredentials(loadBoard(network, boardId).signer);
  const member = brokerCredentials(loadClient(network));
  mqttUrl = ready.mqtt;
  const connect = (opts: IClientOptions): Promise<MqttClient> => mqttClients.connect(opts);
  const refusal = (opts: IClientOptions): Promise<string> => mqttClients.refusal(opts);
  assert.match(await refusal({}), /Bad username or password|Not authorized/, 'anonymous');
  assert.match(await refusal({ username: board.username }), /Bad username or password/, 'a username without a password');
  assert.match(await refusal({ username: board.username, password: 'ep1.forged.forged' }), /Bad username or password/, 'a forged password');
  assert.match(await refusal({ username: board.username, password: member.password }), /Bad username or password/, 'another member\'s password');

  // A member of the channel that wants to read what is not its own.
  const snoop = await connect({ username: member.username, password: member.password });
  const snooped: string[] = [];
  snoop.on('message', (topic) => snooped.push(topic));
  for (const filter of ['#', 'edgepeer/v1/#', replyTopic(CHANNEL, board.username), `edgepeer/v1/${CHANNEL}/reply/+`, requestTopic(CHANNEL, 'deliver'), '$SYS/#']) {
    assert.equal(await grantedQos(snoop, filter), SUBACK_FAILURE, `subscription to '${filter}'`);
  }
  assert.equal(await grantedQos(snoop, replyTopic(CHANNEL, member.username)), 1, 'its own reply topic');

  // The board logs in with its own identity and syncs every block: its SEEKs on the request topic and the
  // gateway's replies on its reply topic all pass after the refused subscriptions, which the broker never
  // registered, so none of them reaches the snoop.
  const boardProc = rig.spawn(['peer', '--network', network, '--board', boardId, '--data', rig.tempDir('edgepeer-fabric-gw-acl-board-'),
    '--mqtt', ready.mqtt, '--status-interval-ms', String(STATUS_INTERVAL_MS)], { name: 'board' });
  const st = await waitForStatus(boardProc, (x) => heightOf(x) === BLOCKS, `height=${BLOCKS}`, { timeoutMs: WAIT_MS });
  assert.equal(st['rejected'], '0');
  await boardProc.stop();
  assert.deepEqual(snooped, [], 'nothing of the board\'s session reached the snoop');
  assert.equal(snoop.connected, true, 'a refused subscription does not cost the member its connection');
});
