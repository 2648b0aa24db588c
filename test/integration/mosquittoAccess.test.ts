// A real Mosquitto on the files `edgepeer init` writes (docs/protocol.md §11.4), against an attacker on
// the same broker: a keyless client and a forged password are refused; a member that subscribes to `#`
// or to another member's replies gets nothing of them; a member's forged reply reaches nobody; a retained
// publish and a packet past max_packet_size cut the sender off; a revoked board (its line gone from the
// password file once the files are written again, Mosquitto sent SIGHUP) cannot log in again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { IClientOptions, MqttClient } from 'mqtt';
import { loadBoard, loadClient, loadSigner, loadNetworkFile } from '../../src/network/loadNetwork.js';
import { writeMosquittoConfig } from '../../src/network/mosquittoConfig.js';
import { recordRevoked } from '../../src/network/revokedMembers.js';
import { maxMessageBytes } from '../../src/transport/messageLimits.js';
import { brokerCredentials } from '../../src/transport/mqtt/brokerIdentity.js';
import { replyTopic, requestTopic } from '../../src/transport/mqtt/topics.js';
import { type MosquittoHandle, configAsTestUser, findMosquitto, freePort, mosquittoMissing, runMosquitto } from '../helpers/mosquitto.js';
import { TestRig, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { MqttTestClients, closed } from '../helpers/mqttClients.js';
import { pollUntil } from '../helpers/wait.js';

const CHANNEL = 'testchannel';
/** How long a message that must not arrive is waited for, after one sent later on the same path did. */
const QUIET_MS = 300;

after(killAllProcesses);

const binary = await findMosquitto();
const rig = new TestRig();
let mosquitto: MosquittoHandle | undefined;
let netDir = '';
const mqttClients = new MqttTestClients(() => mosquitto!.url);

before(async () => {
  if (binary === undefined) return;
  netDir = (await initNetwork(join(rig.tempDir(), 'network'), { boardsPerOrg: 2, channel: CHANNEL })).dir;
  const port = await freePort();
  const files = await writeMosquittoConfig(netDir, { port, host: '127.0.0.1' });
  mosquitto = await runMosquitto(configAsTestUser(files.config), { binary, port });
});
after(async () => {
  mqttClients.endAll();
  await mosquitto?.stop();
  await rig.close();
});

function skipWithout(t: { skip(reason: string): void }): boolean {
  if (binary !== undefined) return false;
  t.skip(mosquittoMissing);
  return true;
}

const login = (who: 'board1' | 'board2' | 'client' | 'orderer'): { username: string; password: string } => {
  const net = loadNetworkFile(netDir);
  if (who === 'client') return brokerCredentials(loadClient(netDir));
  if (who === 'orderer') return brokerCredentials(loadSigner(netDir, net.orderer));
  return brokerCredentials(loadBoard(netDir, net.boards[who === 'board1' ? 0 : 1]!.id).signer);
};

const connect = (opts: IClientOptions): Promise<MqttClient> => mqttClients.connect(opts);
const refused = (opts: IClientOptions): Promise<string> => mqttClients.refusal(opts);

test('Mosquitto on init\'s files: a keyless client, a forged password and another member\'s password are refused', async (t) => {
  if (skipWithout(t)) return;
  const board = login('board1');
  assert.match(await refused({}), /Not authorized|Bad username or password/);
  assert.match(await refused({ username: board.username, password: 'ep1.forged.forged' }), /Not authorized|Bad username or password/);
  assert.match(await refused({ username: board.username, password: login('client').password }), /Not authorized|Bad username or password/);
  assert.equal(await refused(board), 'accepted', 'the member itself logs in');
});

test('Mosquitto on init\'s files: a member reads only its own replies (# gives it nothing); its forged reply reaches nobody', async (t) => {
  if (skipWithout(t)) return;
  const [board, other, orderer] = [login('board1'), login('board2'), login('orderer')];
  const victim = await connect(other);
  const victimGot: string[] = [];
  victim.on('message', (_t, payload) => victimGot.push(payload.toString()));
  await victim.subscribeAsync(replyTopic(CHANNEL, other.username), { qos: 1 });

  const snoop = await connect(board);
  const snooped: string[] = [];
  snoop.on('message', (topic, payload) => snooped.push(`${topic} ${payload.toString()}`));
  // Mosquitto grants these subscriptions and delivers through them only what the ACL lets it read.
  await snoop.subscribeAsync(['#', `edgepeer/v1/${CHANNEL}/reply/+`, requestTopic(CHANNEL, 'deliver')], { qos: 1 }).catch(() => undefined);
  // A forged reply from a member: the ACL does not let it write there; Mosquitto drops it.
  await snoop.publishAsync(replyTopic(CHANNEL, other.username), 'forged status', { qos: 1 }).catch(() => undefined);

  const o = await connect(orderer);
  const requests: string[] = [];
  o.on('message', (_t, payload) => requests.push(payload.toString()));
  await o.subscribeAsync(requestTopic(CHANNEL, 'deliver'), { qos: 1 });
  const member = await connect(login('client'));
  await member.publishAsync(requestTopic(CHANNEL, 'deliver'), 'seek', { qos: 1 });
  await o.publishAsync(replyTopic(CHANNEL, other.username), 'real status', { qos: 1 });
  await pollUntil(() => (victimGot.includes('real status') && requests.includes('seek') ? true : null), 'the orderer\'s reply and the member\'s request', 5_000);
  // Sent after the forgery on the same broker and delivered: the forgery had its chance.
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  assert.deepEqual(victimGot, ['real status'], 'the victim got the orderer\'s reply only, not the forgery');
  assert.deepEqual(snooped, [], 'the snooping member read neither the other member\'s reply nor the request');
  for (const c of [victim, snoop, o, member]) c.end(true);
});

test('Mosquitto on init\'s files: a retained publish and a packet past max_packet_size cut the sender off', async (t) => {
  if (skipWithout(t)) return;
  const retainer = await connect(login('board1'));
  const cut = closed(retainer, 'the member publishing a retained message cut off');
  retainer.publish(requestTopic(CHANNEL, 'deliver'), 'retained seek', { qos: 1, retain: true });
  await cut;
  const big = await connect(login('board1'));
  const cut2 = closed(big, 'the member publishing a packet over max_packet_size cut off');
  big.publish(requestTopic(CHANNEL, 'deliver'), Buffer.alloc(maxMessageBytes + 256 * 1024), { qos: 1 });
  await cut2;
});

test('Mosquitto on init\'s files: a board revoked (files written again, SIGHUP) cannot log in again; the others can', async (t) => {
  if (skipWithout(t)) return;
  const net = loadNetworkFile(netDir);
  const revoked = loadBoard(netDir, net.boards[1]!.id).signer;
  await recordRevoked(netDir, net.boards[1]!.id, revoked.certificate.fingerprint);
  await writeMosquittoConfig(netDir, { port: mosquitto!.port, host: '127.0.0.1' });
  process.kill(mosquitto!.pid, 'SIGHUP');
  const creds = brokerCredentials(revoked);
  await pollUntil(async () => ((await refused(creds)) === 'accepted' ? null : true), 'Mosquitto to refuse the revoked board after its reload', 10_000);
  assert.equal(await refused(login('board1')), 'accepted', 'another board still logs in');
});
