// The embedded broker with access control (docs/protocol.md §11.3), against an attacker on the same broker:
// logins are members' identities, members read only their own reply topics and write only request topics,
// nothing is retained, revocation closes a live connection, and a subscriber that stops reading is cut off.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { ChannelState } from '../../src/channel/channelState.js';
import { channelBrokerAccess } from '../../src/transport/mqtt/brokerAccess.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { replyTopic, requestTopic } from '../../src/transport/mqtt/topics.js';
import { makeTestChannel } from '../helpers/testChannel.js';
import { MqttTestClients, SUBACK_FAILURE, closed, grantedQos } from '../helpers/mqttClients.js';
import { pollUntil } from '../helpers/wait.js';

const tc = makeTestChannel();
let states: ChannelState[] = [tc.state];
const refusals: string[] = [];
const slowLimitBytes = 1024 * 1024;
const broker: EmbeddedBroker = await startEmbeddedBroker({
  access: channelBrokerAccess(() => states),
  maxQueuedBytesPerClient: slowLimitBytes,
  onRefused: (what, _id, reason) => refusals.push(`${what}: ${reason}`),
});
const mqttClients = new MqttTestClients(() => broker.url);
after(async () => {
  mqttClients.endAll();
  await broker.close();
});

const board = brokerCredentials(tc.boardSigner);
const client = brokerCredentials(tc.clientSigner);
const orderer = brokerCredentials(tc.ordererSigner);
const channel = tc.config.channel;

const connect = (opts: IClientOptions): Promise<MqttClient> => mqttClients.connect(opts);
const refused = (opts: IClientOptions): Promise<string> => mqttClients.refusal(opts);

test('a keyless client, a forged password and another member\'s password are refused', async () => {
  assert.match(await refused({}), /Bad username or password|Not authorized/);
  assert.match(await refused({ username: board.username, password: 'ep1.forged.forged' }), /Bad username or password/);
  assert.match(await refused({ username: board.username, password: client.password }), /Bad username or password/);
  assert.match(await refused({ username: 'someone' }), /Bad username or password/);
  assert.ok(refusals.some((r) => r.includes('is not the one of')), refusals.join('\n'));
});

test('a member subscribes to its own reply topic only; $SYS and # are refused', async () => {
  const c = await connect({ username: board.username, password: board.password });
  const granted = (topic: string): Promise<number> => grantedQos(c, topic);
  assert.equal(await granted(replyTopic(channel, board.username)), 1);
  assert.equal(await granted(`edgepeer/v1/+/reply/${board.username}`), 1);
  assert.equal(await granted('edgepeer/v1/#'), SUBACK_FAILURE);
  assert.equal(await granted(replyTopic(channel, client.username)), SUBACK_FAILURE);
  assert.equal(await granted(`edgepeer/v1/${channel}/reply/+`), SUBACK_FAILURE);
  assert.equal(await granted(requestTopic(channel, 'deliver')), SUBACK_FAILURE);
  assert.equal(await granted('$SYS/#'), SUBACK_FAILURE);
  c.end(true);
});

test('a member cannot publish a reply nor leave a retained request; the orderer\'s reply arrives', async () => {
  const victim = await connect({ username: client.username, password: client.password });
  const got: string[] = [];
  victim.on('message', (_t, payload) => got.push(payload.toString()));
  await victim.subscribeAsync(replyTopic(channel, client.username), { qos: 1 });

  const attacker = await connect({ username: board.username, password: board.password });
  const cut = closed(attacker, 'the member publishing a reply cut off');
  attacker.publish(replyTopic(channel, client.username), 'forged status', { qos: 1 });
  await cut;

  const retainer = await connect({ username: board.username, password: board.password });
  const cut2 = closed(retainer, 'the member publishing a retained message cut off');
  retainer.publish(requestTopic(channel, 'deliver'), 'retained seek', { qos: 1, retain: true });
  await cut2;

  const o = await connect({ username: orderer.username, password: orderer.password });
  const requests: string[] = [];
  o.on('message', (_t, payload, packet) => requests.push(`${payload.toString()}${packet.retain ? ' (retained)' : ''}`));
  assert.equal(await grantedQos(o, 'edgepeer/v1/+/deliver'), 1);
  assert.equal(await grantedQos(o, replyTopic(channel, client.username)), SUBACK_FAILURE);
  await o.publishAsync(replyTopic(channel, client.username), 'real status', { qos: 1 });
  await pollUntil(() => (got.length > 0 ? true : null), 'the orderer\'s reply', 5_000);
  assert.deepEqual(got, ['real status']);

  const member = await connect({ username: board.username, password: board.password });
  await member.publishAsync(requestTopic(channel, 'deliver'), 'seek', { qos: 1 });
  await pollUntil(() => (requests.length > 0 ? true : null), 'the member\'s request', 5_000);
  assert.deepEqual(requests, ['seek']);
  assert.ok(refusals.some((r) => r === 'publish: retained messages are refused'), refusals.join('\n'));
  for (const c of [victim, o, member]) c.end(true);
});

test('a revoked member is disconnected when the configuration changes, and refused at its next login', async () => {
  const c = await connect({ username: board.username, password: board.password });
  const other = await connect({ username: client.username, password: client.password });
  const cut = closed(c, 'the revoked member disconnected');
  states = [new ChannelState({ ...tc.config, sequence: 1, revoked: [tc.boardSigner.certificate.fingerprint] })];
  assert.ok(broker.recheck() >= 1);
  await cut;
  assert.equal(other.connected, true);
  assert.match(await refused({ username: board.username, password: board.password }), /Bad username or password/);
  assert.ok(refusals.some((r) => r.includes('revoked')), refusals.join('\n'));
  states = [tc.state];
  other.end(true);
});

test('a subscriber that stops reading is cut off; the others keep receiving', async () => {
  const slow = await connect({ username: board.username, password: board.password });
  await slow.subscribeAsync(replyTopic(channel, board.username), { qos: 1 });
  const fast = await connect({ username: client.username, password: client.password });
  let fastGot = 0;
  fast.on('message', () => { fastGot++; });
  await fast.subscribeAsync(replyTopic(channel, client.username), { qos: 1 });
  // Paused, the slow client reads nothing more, so it would not see the broker's FIN either: the cut is
  // seen in the broker's refusal.
  slow.stream.pause();
  const o = await connect({ username: orderer.username, password: orderer.password });
  const payload = Buffer.alloc(256 * 1024);
  const messages = 64; // 16 MiB: past the loopback socket buffers and the 1 MiB limit
  for (let i = 0; i < messages; i++) o.publish(replyTopic(channel, board.username), payload, { qos: 0 });
  await pollUntil(() => (refusals.some((r) => r.includes('waiting to be read')) ? true : null), 'the slow subscriber cut off', 10_000);
  await o.publishAsync(replyTopic(channel, client.username), 'after', { qos: 1 });
  await pollUntil(() => (fastGot === 1 ? true : null), 'the fast subscriber\'s message', 5_000);
  for (const c of [fast, o]) c.end(true);
});
