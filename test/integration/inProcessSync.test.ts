import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { toHex } from '../../src/crypto/hash.js';
import { Status } from '../../src/protocol/status.js';
import { type InProcessNetwork, allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';

let net: InProcessNetwork;
before(async () => {
  net = await startInProcessNetwork({ boardsPerOrg: 3, channels: ['testchannel', 'second'] });
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

test('one orderer serves two channels at once; each peer ledger matches its own channel', async () => {
  const [a, b] = net.summary.boards;
  // Peers of the earlier tests keep their streams open: count only the ones this test opens.
  const sessionsBefore = net.orderer.openDeliverSessions;
  const pa = await net.startPeer(a!.id, { channel: 'second' });
  const pb = await net.startPeer(b!.id, { channel: 'second' });
  const c2 = await net.client(undefined, 'second');
  const c1 = await net.client(undefined, 'testchannel');
  const [r2, r1] = await Promise.all([submitLoad(c2, 150, 128, 16), submitLoad(c1, 40, 128, 16)]);
  assert.equal(r2.get(Status.SUCCESS), 150);
  assert.equal(r1.get(Status.SUCCESS), 40);
  const height = await allCut(net, 'second');
  await Promise.all([waitForHeight(pa, height), waitForHeight(pb, height)]);
  const second = net.orderer.chain('second');
  const first = net.orderer.chain('testchannel');
  for (const p of [pa, pb]) {
    assert.equal(p.status().channel, 'second');
    assert.equal(p.status().lastHash, toHex(second.ledger.lastHash()));
  }
  assert.notEqual(toHex(first.ledger.lastHash()), toHex(second.ledger.lastHash()));
  assert.equal(net.orderer.openDeliverSessions, sessionsBefore + 2, 'both streams of the second channel are open side by side');
});
