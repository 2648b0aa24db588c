// The operator's chain reader (src/client/chainReader.ts) against an in-process orderer: it reads a chain
// of many small responses (more than its Deliver window) to the tip, verifying every block and following
// the configuration blocks on the way; a reader anchored at another network's genesis block refuses the
// chain; an update submitted through updateChannelConfig is confirmed with its configuration block.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { ChainReader } from '../../src/client/chainReader.js';
import { updateChannelConfig } from '../../src/client/configUpdate.js';
import { createNetwork } from '../../src/network/createNetwork.js';
import { configWithRevoked } from '../../src/network/configChanges.js';
import { loadBoard, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import { Status } from '../../src/protocol/status.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { join } from 'node:path';
import { type InProcessNetwork, allCut, startInProcessNetwork } from '../helpers/inProcessNetwork.js';
import { WAIT_TIMEOUT_MS } from '../helpers/wait.js';

/** One transaction a block and one block a response: many more responses than the reader's window (16). */
const TRANSACTIONS = 60;
const channel = 'testchannel';
let net: InProcessNetwork;
let link: MqttClientLink;
before(async () => {
  net = await startInProcessNetwork({ boardsPerOrg: 1, batch: { maxMessageCount: 1 }, deliverLimits: { maxResponseBytes: 1 } });
  link = new MqttClientLink({ endpoint: { url: net.brokerUrl }, credentials: brokerCredentials(loadOrdererIdentities(join(net.dir, 'network')).admin) });
  await link.open([channel]);
});
after(async () => {
  await link.close();
  await net.stop();
});

test('the reader verifies a chain of many responses to its tip, across a configuration block, and the update is confirmed', async () => {
  const dir = join(net.dir, 'network');
  const admin = loadOrdererIdentities(dir).admin;
  const client = await net.client();
  assert.equal((await submitLoad(client, TRANSACTIONS, 32, 8)).get(Status.SUCCESS), TRANSACTIONS);
  const height = await allCut(net);
  const revoked = loadBoard(dir, net.summary.boards[0]!.id).signer.certificate.fingerprint;
  const outcome = await updateChannelConfig({
    link, channel, admin, genesis: loadGenesis(dir, channel), change: (c) => configWithRevoked(c, [revoked]),
    answerTimeoutMs: WAIT_TIMEOUT_MS, readTimeoutMs: WAIT_TIMEOUT_MS,
  });
  assert.deepEqual(outcome, { channel, changed: true, fromSequence: 0, sequence: 1, block: height });
  assert.equal((await submitLoad(client, 3, 32, 1)).get(Status.SUCCESS), 3);
  await allCut(net);

  const reader = new ChainReader(link, channel, admin, loadGenesis(dir, channel));
  await reader.readToTip(WAIT_TIMEOUT_MS);
  const chain = net.orderer.chain(channel);
  assert.equal(reader.height, chain.height());
  assert.equal(reader.lastConfigNumber, height);
  assert.deepEqual(reader.state.config.revoked, [revoked]);
  // Read again: nothing new, the same tip.
  await reader.readToTip(WAIT_TIMEOUT_MS);
  assert.equal(reader.height, chain.height());
});

/** Long enough for the orderer's answers to arrive (and be ignored) on loopback; the read cannot succeed. */
const FOREIGN_READ_TIMEOUT_MS = 2_000;

test("a reader anchored at another network's genesis block takes nothing of this orderer's, and says why at its deadline", async () => {
  const other = await createNetwork({ dir: join(net.dir, 'other'), channels: [channel], orgs: 1, boardsPerOrg: 1 });
  const admin = loadOrdererIdentities(join(net.dir, 'network')).admin;
  const reader = new ChainReader(link, channel, admin, loadGenesis(other.dir, channel));
  // This orderer's ReplyKey is signed by an orderer the other genesis does not name: its answers are not
  // authenticated for the reader, which keeps only its genesis block.
  await assert.rejects(reader.readToTip(FOREIGN_READ_TIMEOUT_MS), /not read to its tip within 2000 ms \(1 blocks verified; last response ignored: reply key signer: certificate orderer0: not signed by the root of 'orderer'/);
  assert.equal(reader.height, 1);
});
