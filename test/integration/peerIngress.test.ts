// A real peer over an MQTT link that lends its payloads (one reused read buffer, a packet ring of one
// response), with an ingress ring much smaller than what the orderer keeps in flight and a payload
// buffer smaller than one response: every block must still be committed intact. The ring comes round
// many times over the run, so a region reused before its blocks are committed shows as a rejected
// block, a failed commit or a ledger that does not verify. (That the deliver client copies before the
// link reuses its bytes is pinned down in test/unit/peer/deliverClient.test.ts: here the peer commits
// asynchronously, so a response stays in the ring until its blocks are durable.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliverDefaults } from '../../src/protocol/deliverDefaults.js';
import { toHex } from '../../src/crypto/hash.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { verifyChain } from '../../src/ledger/verifyChain.js';
import { loadBoard, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Orderer } from '../../src/orderer/orderer.js';
import { Peer } from '../../src/peer/peer.js';
import { startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import { prepareChain } from '../helpers/preparedChain.js';
import { waitForHeight } from '../helpers/inProcessNetwork.js';
import { edgepeerChainRules } from '../../src/ledger/edgepeerChainRules.js';

/** About 25 Deliver responses of 256 KiB. */
const BLOCKS = 6_000;
/** The orderer's response size (the default) and the peer's ingress ring: room for RING_SLOTS (3) responses. */
const RESPONSE_BYTES = deliverDefaults.maxResponseBytes;
const INGRESS_RING_BYTES = 896 * 1024;
const RING_SLOTS = Math.floor(INGRESS_RING_BYTES / RESPONSE_BYTES);

test('a peer on a lending link with a small ingress ring commits every block intact', { timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'edgepeer-ingress-'));
  const broker = await startEmbeddedBroker();
  let orderer: Orderer | null = null;
  let link: MqttClientLink | null = null;
  let peer: Peer | null = null;
  let ledger: ReturnType<typeof openLedger> | null = null;
  try {
    const chain = await prepareChain(root, { channel: 'ingress', blocks: BLOCKS, txDataBytes: 430 });
    const net = chain.summary.dir;
    orderer = new Orderer({
      dataDir: chain.ordererData,
      channels: [{ channel: chain.channel, genesis: loadGenesis(net, chain.channel) }],
      signer: loadOrdererIdentities(net).node,
      log: silentLogger(),
    });
    await orderer.serve(new MqttServerLink({ endpoint: { url: broker.url } }));
    const board = loadBoard(net, chain.summary.boards[0]!.id);
    // A packet ring of one response: the link reuses its bytes for nearly every packet.
    link = new MqttClientLink({ endpoint: { url: broker.url }, credentials: brokerCredentials(board.signer), lendPayloads: true, lentPacketRingBytes: 300 * 1024 });
    ledger = openLedger(ledgerPath(join(root, 'peer'), chain.channel), { channel: chain.channel });
    peer = new Peer({
      boardId: board.config.id, ledger, rules: edgepeerChainRules(ledger.channel, board.genesis), signer: board.signer, links: [link], log: silentLogger(),
      // Three and a half responses of ring, the default window (16 responses may arrive unasked: many
      // more than the ring holds) and a payload buffer smaller than one response: every response is taken
      // in parts over several commits, held in the ring meanwhile, and the ring is reused while runs
      // from earlier responses are still being made durable.
      limits: { payloadBufferSlots: 100, deliver: { ingressRingBytes: INGRESS_RING_BYTES } },
    });
    peer.start();
    await waitForHeight(peer, chain.height, 100_000);
    const status = peer.status();
    assert.equal(status.rejected, 0, 'no block was rejected');
    assert.equal(status.error, null);
    assert.equal(status.lastHash, toHex(orderer.chain(chain.channel).ledger.lastHash()));
    const verdict = verifyChain(ledger);
    assert.ok(verdict.ok, verdict.ok ? '' : `block ${verdict.badBlock}: ${verdict.reason}`);
    // The ring was used and came round: more responses were copied into it than it has room for at
    // once, so regions were reused (while the others, arriving with the ring full, got buffers of their
    // own: correct, and not this test's subject). A peer that let a region be overwritten before its
    // blocks were durable fails the checks above.
    const { inRing, outsideRing } = peer.ingress;
    t.diagnostic(`responses in the ingress ring ${inRing}, outside it ${outsideRing} (ring room for ${RING_SLOTS})`);
    assert.ok(RING_SLOTS >= 2, 'the ring holds two responses');
    assert.ok(inRing > RING_SLOTS, `the ring came round: ${inRing} responses went through a ring of ${RING_SLOTS}`);
  } finally {
    await peer?.stop();
    await link?.close();
    await ledger?.close();
    await orderer?.stop();
    await broker.close();
    rmSync(root, { recursive: true, force: true });
  }
});
