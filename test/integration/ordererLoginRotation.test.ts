// The orderer's own broker login across a rotation of its key (src/transport/mqtt/brokerAccess.ts and
// MqttServerLink.setCredentials): its open connection outlives the configuration that retires its old
// certificate as block signer; given the new credentials, the link logs in with them when it reconnects
// (here: after the old certificate is revoked and the broker closes the connection) and serves requests
// again, as the orderer.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connectAsync } from 'mqtt';
import { ChannelState } from '../../src/channel/channelState.js';
import { generateKeyPair } from '../../src/crypto/keys.js';
import { issueCertificate } from '../../src/protocol/certificate.js';
import type { IncomingRequest } from '../../src/transport/link.js';
import { channelBrokerAccess } from '../../src/transport/mqtt/brokerAccess.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import { requestTopic } from '../../src/transport/mqtt/topics.js';
import { makeTestChannel } from '../helpers/testChannel.js';
import { pollUntil, withTimeout } from '../helpers/wait.js';

/** The link's reconnect wait (the broker is local: a short one keeps the test short). */
const RECONNECT_PERIOD_MS = 50;
const HOUR_MS = 3_600_000;

const tc = makeTestChannel();
let states: ChannelState[] = [tc.state];
const refusals: string[] = [];
const broker = await startEmbeddedBroker({
  access: channelBrokerAccess(() => states),
  onRefused: (what, _id, reason) => refusals.push(`${what}: ${reason}`),
});
after(() => broker.close());

test("the orderer's connection survives its key's retirement and logs in with the new key when it reconnects", async () => {
  const key = generateKeyPair();
  const now = Date.now();
  const old = tc.ordererSigner;
  const fresh = {
    certificate: issueCertificate(
      { id: old.certificate.id, org: old.certificate.org, role: 'orderer', publicKey: key.publicKeyRaw, notBefore: now - HOUR_MS, notAfter: now + HOUR_MS },
      tc.orgRoots.get('orderer')!.privateKey,
    ),
    privateKey: key.privateKey,
  };
  const requests: IncomingRequest[] = [];
  const link = new MqttServerLink({ endpoint: { url: broker.url, reconnectPeriodMs: RECONNECT_PERIOD_MS, ...brokerCredentials(old) } });
  await link.start((r) => requests.push(r));
  const member = await connectAsync(broker.url, { reconnectPeriod: 0, protocolVersion: 4, ...brokerCredentials(tc.clientSigner) });
  try {
    const requested = async (what: string): Promise<void> => {
      const before = requests.length;
      await member.publishAsync(requestTopic(tc.config.channel, 'deliver'), what, { qos: 1 });
      await pollUntil(() => (requests.length > before ? true : null), `the orderer link receiving ${what}`, 5_000);
    };
    await requested('before');

    // The configuration that makes the new key the block signer: the old connection stays.
    const rotated = { ...tc.config, sequence: 1, orderer: { ...tc.config.orderer, signers: [fresh.certificate] } };
    states = [new ChannelState(rotated)];
    assert.equal(broker.recheck(), 0, 'no connection closed by the rotation');
    await requested('after the rotation');

    // The old certificate revoked: its connection is closed, and the link comes back with the new login.
    link.setCredentials(brokerCredentials(fresh));
    const down = new Promise<void>((resolve) => link.on('state', (s) => { if (s !== 'up') resolve(); }));
    states = [new ChannelState({ ...rotated, sequence: 2, revoked: [old.certificate.fingerprint] })];
    assert.equal(broker.recheck(), 1);
    await withTimeout(down, 'the old login closed');
    await pollUntil(() => (link.state === 'up' ? true : null), 'the link up again with the new login', 5_000);
    await requested('after the reconnection');
    assert.ok(refusals.some((r) => r.startsWith('connection:') && r.includes('revoked')), refusals.join('\n'));
    assert.ok(!refusals.some((r) => r.startsWith('login:') || r.startsWith('subscribe:')), `the new login and its subscriptions are accepted: ${refusals.join('\n')}`);
  } finally {
    await member.endAsync(true);
    await link.close();
  }
});
