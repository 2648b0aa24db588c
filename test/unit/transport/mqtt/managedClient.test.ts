// The MQTT client both links sit on (src/transport/mqtt/managedClient.ts), against a real embedded Aedes
// broker each test starts and stops: 'up' means subscribed, reconnect waits come from the shared jittered
// backoff and start again from the base after a connect, the subscriptions come back after a broker
// restart, what is reported on errors (refused attempts while the broker is away, a login refused before
// the link ever worked, a refused subscription), and close() while a connection is under way.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { Backoff } from '../../../../src/config/backoff.js';
import { seededRandom } from '../../../../src/config/random.js';
import type { LinkState } from '../../../../src/transport/link.js';
import type { BrokerAccess, BrokerPrincipal } from '../../../../src/transport/mqtt/brokerAccess.js';
import { type EmbeddedBroker, type EmbeddedBrokerOptions, startEmbeddedBroker } from '../../../../src/transport/mqtt/embeddedBroker.js';
import { mqttDefaults } from '../../../../src/transport/mqtt/mqttDefaults.js';
import { ManagedMqttClient, type ManagedMqttClientOptions } from '../../../../src/transport/mqtt/managedClient.js';
import { EVENT_WAIT_LIMIT_MS } from '../../../helpers/fakes.js';
import { withTimeout } from '../../../helpers/wait.js';

const TOPIC = 'edgepeer/v1/ch1/reply/board1';
const OTHER_TOPIC = 'edgepeer/v1/ch2/reply/board1';
const RECONNECT_BASE_MS = 40;
const SEED = 14;

/** A broker stopped by the test (or, when it stops it itself, stopped again harmlessly: close() is idempotent). */
async function broker(t: TestContext, options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const b = await startEmbeddedBroker(options);
  t.after(() => b.close());
  return b;
}

interface Recorder {
  states: LinkState[];
  errors: Error[];
  messages: { topic: string; payload: string; retained: boolean }[];
  /** Resolves when `pred` holds for the recorded states (checked now and on every change). */
  stateWhen(pred: (states: LinkState[]) => boolean, what: string): Promise<void>;
  messageOn(topic: string, what: string): Promise<string>;
  errorMatching(re: RegExp, what: string): Promise<Error>;
}

interface ManagedExtras {
  endpoint?: Partial<ManagedMqttClientOptions['endpoint']>;
  random?: () => number;
  /** Called on each state change before the recorder's waiters look. */
  onState?: (s: LinkState) => void;
}

function managed(t: TestContext, url: string, extra: ManagedExtras = {}): { client: ManagedMqttClient; rec: Recorder } {
  const checks = new Set<() => void>();
  const changed = (): void => { for (const c of [...checks]) c(); };
  const until = <T>(probe: () => T | undefined, what: string): Promise<T> => withTimeout(new Promise<T>((resolve) => {
    const check = (): void => {
      const v = probe();
      if (v === undefined) return;
      checks.delete(check);
      resolve(v);
    };
    checks.add(check);
    check();
  }), what, EVENT_WAIT_LIMIT_MS * 5);
  const rec: Recorder = {
    states: [], errors: [], messages: [],
    stateWhen: (pred, what) => until(() => (pred(rec.states) ? true : undefined), what).then(() => undefined),
    messageOn: (topic, what) => until(() => rec.messages.find((m) => m.topic === topic)?.payload, what),
    errorMatching: (re, what) => until(() => rec.errors.find((e) => re.test(e.message)), what),
  };
  const client = new ManagedMqttClient({
    endpoint: { url, reconnectPeriodMs: RECONNECT_BASE_MS, ...extra.endpoint },
    mqttClientId: `managed-${Math.random().toString(16).slice(2)}`,
    maxMessageBytes: 1024,
    onMessage: (topic, payload, retained) => { rec.messages.push({ topic, payload: payload.toString(), retained }); changed(); },
    onState: (s) => { rec.states.push(s); extra.onState?.(s); changed(); },
    onError: (e) => { rec.errors.push(e); changed(); },
    ...(extra.random !== undefined && { random: extra.random }),
  });
  t.after(() => client.close());
  return { client, rec };
}

async function peer(t: TestContext, url: string, username?: string): Promise<MqttClient> {
  const c = await connectAsync(url, { reconnectPeriod: 0, clientId: `peer-${Math.random().toString(16).slice(2)}`, ...(username !== undefined && { username }) });
  t.after(() => c.endAsync(true));
  return c;
}

/** The mqtt.js client inside: where the managed client sets the wait before the next reconnect. */
function innerReconnectPeriod(client: ManagedMqttClient): number | undefined {
  return (client as unknown as { client?: MqttClient }).client?.options.reconnectPeriod;
}

test('subscribe() resolves once up and subscribed: states connecting then up, and a message to the topic arrives', async (t) => {
  const b = await broker(t);
  const { client, rec } = managed(t, b.url);
  assert.equal(client.state, 'down');
  await withTimeout(client.subscribe([TOPIC]), 'subscribe', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(rec.states, ['connecting', 'up']);
  assert.equal(client.state, 'up');
  // Resolved means subscribed on the broker: a message published now is delivered, not lost.
  const p = await peer(t, b.url);
  await p.publishAsync(TOPIC, 'hello', { qos: 1 });
  assert.equal(await rec.messageOn(TOPIC, 'the message'), 'hello');
  assert.equal(rec.messages[0]!.retained, false);
  // A later subscription on the open connection resolves once that topic is subscribed too.
  await withTimeout(client.subscribe([OTHER_TOPIC]), 'second subscribe', EVENT_WAIT_LIMIT_MS);
  await p.publishAsync(OTHER_TOPIC, 'second', { qos: 1 });
  assert.equal(await rec.messageOn(OTHER_TOPIC, 'the message on the second topic'), 'second');
  // Publishing settles on PUBACK; over the limit it is refused without sending.
  await client.publish('edgepeer/v1/ch1/deliver', Buffer.from('x'));
  await assert.rejects(client.publish('edgepeer/v1/ch1/deliver', Buffer.alloc(1025)), /1025 bytes exceeds the limit of 1024/);
  assert.deepEqual(rec.errors, []);
});

test('broker gone: refused attempts are reported, waits follow the jittered backoff and restart from the base after a connect; back on the same port it resubscribes', async (t) => {
  let b = await broker(t);
  const port = b.port;
  // The waits the client hands mqtt.js, read as each close is reported ('down' comes after the wait is set).
  const waits: number[] = [];
  const downAt: number[] = [];
  const connectingAt: number[] = [];
  const { client, rec } = managed(t, b.url, {
    random: seededRandom(SEED),
    onState: (s) => {
      if (s === 'down') { waits.push(innerReconnectPeriod(client)!); downAt.push(performance.now()); }
      if (s === 'connecting') connectingAt.push(performance.now());
    },
  });
  await withTimeout(client.subscribe([TOPIC]), 'subscribe', EVENT_WAIT_LIMIT_MS);

  const expected = new Backoff({ baseDelayMs: RECONNECT_BASE_MS, maxDelayMs: mqttDefaults.reconnectMaxDelayMs }, seededRandom(SEED));
  await b.close();
  const DOWNS = 4;
  await rec.stateWhen(() => waits.length >= DOWNS, `${DOWNS} closes while the broker is away`);
  // Every attempt in between was refused by the OS, and each refusal was reported (not swallowed, not fatal).
  const codes = rec.errors.map((e) => (e as NodeJS.ErrnoException).code);
  assert.ok(codes.filter((c) => c === 'ECONNREFUSED').length >= DOWNS - 1, rec.errors.map((e) => e.message).join('; '));
  // (The broker's own close may reset the connection it had.)
  for (const e of rec.errors) assert.ok(['ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes((e as NodeJS.ErrnoException).code ?? ''), e.message);
  assert.equal(client.state === 'up', false);
  // While it is away nothing is sent.
  await assert.rejects(client.publish(TOPIC, Buffer.from('x')), /is (down|connecting): not sent/);

  b = await broker(t, { port });
  await rec.stateWhen((s) => s.at(-1) === 'up', 'up again after the broker came back');
  const attemptsWhileAway = waits.length;
  assert.deepEqual(waits, Array.from({ length: attemptsWhileAway }, () => expected.next()));
  // mqtt.js did wait each of them: a reconnect ('connecting') never came sooner than the wait set before it.
  for (let i = 0; i < attemptsWhileAway; i++) {
    const gap = connectingAt[i + 1]! - downAt[i]!;
    assert.ok(gap >= waits[i]! - 2, `attempt ${i + 1}: ${gap.toFixed(1)} ms after a wait of ${waits[i]} ms`);
  }
  // 'up' again means subscribed again (clean session, no mqtt.js resubscription: the client's own).
  const p = await peer(t, b.url);
  await p.publishAsync(TOPIC, 'after restart', { qos: 1 });
  assert.equal(await rec.messageOn(TOPIC, 'a message after the restart'), 'after restart');

  // A connect resets the backoff: the next loss starts from the base's range again.
  const before = waits.length;
  await b.close();
  await rec.stateWhen(() => waits.length > before, 'the close after the second loss');
  expected.reset();
  assert.equal(waits[before], expected.next());
});

/** 'orderer0' logs in as the orderer, any other name as a member; no certificate (the topic rules need only role and name). */
function principal(username: string): BrokerPrincipal {
  const role = username === 'orderer0' ? 'orderer' : 'member';
  return { username, role, fingerprint: 'test', certificate: undefined as unknown as BrokerPrincipal['certificate'] };
}

test('a refused subscription rejects the subscribe() that asked for it and is reported; the other topics stay subscribed', async (t) => {
  const access: BrokerAccess = { login: (u) => principal(u), stillAllowed: () => null };
  const b = await broker(t, { access });
  const { client, rec } = managed(t, b.url, { endpoint: { username: 'board1' } });
  const foreign = 'edgepeer/v1/ch1/reply/board2';
  // Refused in the connection's first SUBACK, beside an allowed topic.
  await assert.rejects(withTimeout(client.subscribe([TOPIC, foreign]), 'the first, partly refused subscription', EVENT_WAIT_LIMIT_MS),
    new RegExp(`broker ${b.url} refused the subscription to ${foreign}`));
  assert.equal(client.state, 'up');
  await withTimeout(client.subscribe([TOPIC]), 'the allowed topic alone', EVENT_WAIT_LIMIT_MS);
  // Refused on the open connection.
  const foreign2 = 'edgepeer/v1/ch2/reply/board3';
  await assert.rejects(withTimeout(client.subscribe([foreign2]), 'the later refused subscription', EVENT_WAIT_LIMIT_MS),
    new RegExp(`refused the subscription to ${foreign2}`));
  assert.deepEqual(rec.errors.map((e) => e.message), [
    `broker ${b.url} refused the subscription to ${foreign}`,
    `broker ${b.url} refused the subscription to ${foreign2}`,
  ]);
  assert.equal(client.state, 'up');
  // The allowed one is in place: the orderer's reply on it arrives.
  const p = await peer(t, b.url, 'orderer0');
  await p.publishAsync(TOPIC, 'reply', { qos: 1 });
  assert.equal(await rec.messageOn(TOPIC, 'the reply on the allowed topic'), 'reply');
});

test('a login refused before the link ever worked is a configuration error: reported once, the waiters rejected, no retrying', async (t) => {
  let logins = 0;
  const access: BrokerAccess = { login: () => { logins++; return 'not a member of any channel'; }, stillAllowed: () => null };
  const b = await broker(t, { access });
  const { client, rec } = managed(t, b.url, { endpoint: { username: 'board1' } });
  await assert.rejects(withTimeout(client.subscribe([TOPIC]), 'subscribe', EVENT_WAIT_LIMIT_MS),
    new RegExp(`MQTT broker ${b.url} refused the connection: Bad username or password`));
  assert.equal(rec.errors.length, 1);
  assert.match(rec.errors[0]!.message, /refused the connection: Bad username or password/);
  await rec.stateWhen((s) => s.at(-1) === 'down', 'down');
  // It closed itself: nothing more to wait for.
  await assert.rejects(client.subscribe([TOPIC]), /is closed/);
  assert.equal(logins, 1);
});

test('a broker that does not speak MQTT 5 is named as such', async (t) => {
  const b = await broker(t);
  const { client, rec } = managed(t, b.url, { endpoint: { protocolVersion: 5 } });
  await assert.rejects(withTimeout(client.subscribe([TOPIC]), 'subscribe', EVENT_WAIT_LIMIT_MS),
    /refused the connection: .*protocol version.*\(this broker does not speak MQTT 5: use protocolVersion 4\)/i);
  assert.equal(rec.errors.length, 1);
});

test('close() while connecting: the waiting subscribe() is rejected, close resolves, the link never comes up', async (t) => {
  // Before the first connection exists (the options are still being prepared).
  const b = await broker(t);
  const first = managed(t, b.url);
  const pending = first.client.subscribe([TOPIC]);
  await first.client.close();
  await assert.rejects(pending, /was closed/);
  assert.equal(first.rec.states.includes('up'), false);
  assert.equal(first.client.state, 'down');
  await assert.rejects(first.client.publish(TOPIC, Buffer.from('x')), /is closed: not sent/);

  // While retrying against a broker that is away.
  const port = b.port;
  await b.close();
  const second = managed(t, `mqtt://127.0.0.1:${port}`);
  const waiting = second.client.subscribe([TOPIC]);
  await second.rec.errorMatching(/ECONNREFUSED/, 'a refused attempt');
  await withTimeout(second.client.close(), 'close while reconnecting', EVENT_WAIT_LIMIT_MS);
  await assert.rejects(waiting, /was closed/);
  assert.equal(second.client.state, 'down');
  assert.equal(second.rec.states.at(-1), 'down');
  assert.equal(second.rec.states.includes('up'), false);
});

test('close() while a CONNECT goes unanswered ends that connection: the server sees it closed', async (t) => {
  // A TCP server that takes the connection and never answers CONNECT: the connection is under way for good.
  const sockets = new Set<Socket>();
  let arrived: (s: Socket) => void = () => undefined;
  const first = new Promise<Socket>((resolve) => { arrived = resolve; });
  const server = createServer((s) => { sockets.add(s); s.on('error', () => undefined); arrived(s); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  const { port } = server.address() as AddressInfo;
  const { client, rec } = managed(t, `mqtt://127.0.0.1:${port}`);
  const waiting = client.subscribe([TOPIC]);
  const socket = await withTimeout(first, 'the connection', EVENT_WAIT_LIMIT_MS);
  const socketClosed = once(socket, 'close');
  assert.equal(client.state, 'connecting');
  await withTimeout(client.close(), 'close during the connect', EVENT_WAIT_LIMIT_MS);
  await assert.rejects(waiting, /was closed/);
  await withTimeout(socketClosed, 'the client to end its connection', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(rec.states, ['connecting', 'down']);
  assert.equal(sockets.size, 1, 'no second connection');
});
