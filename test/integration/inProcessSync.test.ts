import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { toHex } from '../../src/crypto/hash.js';
import { Status } from '../../src/protocol/status.js';
import { type InProcessNetwork, allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';

let net: InProcessNetwork;
before(async () => {
  net = await startInProcessNetwork({ boardsPerOrg: 3 });
});
after(async () => {
  await net.stop();
});

test('three peers in one process sync 300 transactions from the orderer over the embedded broker', async () => {
  const peers = await Promise.all(net.summary.boards.map((b) => net.startPeer(b.id)));
  const client = await net.client();
  const counts = await submitLoad(client, 300, 256, 32);
  assert.equal(counts.get(Status.SUCCESS), 300);
  const chain = net.orderer.chain(net.summary.channel);
  const height = await allCut(net);
  await Promise.all(peers.map((p) => waitForHeight(p, height)));
  for (const p of peers) {
    assert.equal(p.status().height, height);
    assert.equal(p.status().lastHash, toHex(chain.ledger.lastHash()));
  }
});
