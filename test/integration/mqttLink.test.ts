// MqttServerLink and MqttClientLink over real brokers (embedded Aedes and Mosquitto) on real TCP.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { maxMessageBytes } from '../../src/transport/messageLimits.js';
import { topicRoot } from '../../src/transport/mqtt/topics.js';
import type { IncomingRequest, LinkState } from '../../src/transport/link.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import type { DropReason } from '../../src/transport/mqtt/managedClient.js';
import { parseMqttUrl, toClientOptions, MqttEndpointError } from '../../src/transport/mqtt/endpoint.js';
import { parseReplyTopic, parseRequestTopic, replyTopic, requestTopic } from '../../src/transport/mqtt/topics.js';
import { brokerCases, type RunningBroker } from '../helpers/brokers.js';

const testTimeoutMs = 60_000;
/**
 * Short, so the restart test does not wait a whole default reconnect period; the server's is shorter
 * than the client's so that the restart test can bring the server back first.
 */
const serverReconnectPeriodMs = 100;
const clientReconnectPeriodMs = 400;
const burstMessages = 2_000;
const burstMessageBytes = 1024;
const latencyRoundTrips = 200;
/** Enough bytes that some sends are still unacknowledged when the broker is stopped. */
const inFlightSends = 200;
const inFlightSendBytes = 64 * 1024;

/** Items pushed by a callback, taken in order by awaiting code. */
class Inbox<T> {
  private readonly items: T[] = [];
  private readonly takers: ((item: T) => void)[] = [];

  push = (item: T): void => {
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
  };

  next(): Promise<T> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  async take(n: number): Promise<T[]> {
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next());
    return out;
  }

  get size(): number {
    return this.items.length;
  }
}

interface StateSource {
  readonly state: LinkState;
  on(event: 'state', listener: (state: LinkState) => void): unknown;
  off(event: 'state', listener: (state: LinkState) => void): unknown;
}

/** Resolves when `link` emits `state` (set up before the action that causes it). */
function nextState(link: StateSource, state: LinkState): Promise<void> {
  return new Promise((resolve) => {
    const listener = (s: LinkState): void => {
      if (s !== state) return;
      link.off('state', listener);
      resolve();
    };
    link.on('state', listener);
  });
}

function patterned(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function numbered(index: number, bytes: number): Uint8Array {
  const out = patterned(bytes, index);
  new DataView(out.buffer).setUint32(0, index);
  return out;
}

function numberOf(message: Uint8Array): number {
  return new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(0);
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(actual.byteLength, expected.byteLength);
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected), 'bytes differ');
}

test('topics and endpoints', async () => {
  assert.equal(requestTopic('alpha', 'deliver'), `${topicRoot}/alpha/deliver`);
  assert.equal(replyTopic('alpha', 'board-1'), `${topicRoot}/alpha/reply/board-1`);
  assert.deepEqual(parseRequestTopic(`${topicRoot}/alpha/broadcast`), { channel: 'alpha', service: 'broadcast' });
  assert.equal(parseRequestTopic(`${topicRoot}/alpha/gossip`), undefined);
  assert.equal(parseRequestTopic(`${topicRoot}/.alpha/deliver`), undefined);
  assert.deepEqual(parseReplyTopic(`${topicRoot}/a.b_c-9/reply/x`), { channel: 'a.b_c-9', clientId: 'x' });
  assert.throws(() => requestTopic('al/pha', 'deliver'), /invalid channel/);
  assert.throws(() => requestTopic('a'.repeat(65), 'deliver'), /invalid channel/);
  assert.throws(() => replyTopic('alpha', 'board+1'), /invalid client id/);
  assert.throws(() => new MqttClientLink({ endpoint: { url: 'mqtt://127.0.0.1:1' }, clientId: '#' }), /invalid client id/);

  assert.deepEqual(parseMqttUrl('mqtt://broker.local'), { scheme: 'mqtt', host: 'broker.local', port: 1883 });
  assert.deepEqual(parseMqttUrl('mqtts://[::1]:8884'), { scheme: 'mqtts', host: '::1', port: 8884 });
  assert.deepEqual(parseMqttUrl('mqtts://broker'), { scheme: 'mqtts', host: 'broker', port: 8883 });
  assert.throws(() => parseMqttUrl('ws://broker:80'), (e: unknown) => e instanceof MqttEndpointError && /unsupported scheme/.test(e.message));
  assert.throws(() => parseMqttUrl('mqtt://u:secret@broker'), (e: unknown) => e instanceof Error && !e.message.includes('secret'));
  assert.throws(() => parseMqttUrl('broker:1883'), /unsupported scheme/);
  assert.throws(() => new MqttServerLink({ endpoint: { url: 'mqtt://b', caFile: '/x' } }), /use mqtts/);
  await assert.rejects(toClientOptions({ url: 'mqtts://b', caFile: '/nonexistent/ca.pem' }, 'c'), /cannot read caFile \/nonexistent\/ca.pem/);
  const options = await toClientOptions({ url: 'mqtt://127.0.0.1:1884', username: 'u', password: 'p' }, 'c');
  assert.equal(options.protocolVersion, 4);
  assert.equal(options.resubscribe, false);
  assert.equal(options.clean, true);
  assert.equal(options.port, 1884);
  assert.equal(options.username, 'u');
});

test('send() on a link that is not up rejects at once', async () => {
  const link = new MqttClientLink({ endpoint: { url: 'mqtt://127.0.0.1:1' }, clientId: 'never-opened' });
  assert.equal(link.state, 'down');
  await assert.rejects(link.send('alpha', 'deliver', new Uint8Array(1)), /is down: not sent/);
  await link.close();
});

for (const brokerCase of brokerCases()) {
  test(`MQTT links over ${brokerCase.name}`, { timeout: testTimeoutMs }, async (t: TestContext) => {
    const first = await brokerCase.start();
    if ('skip' in first) {
      t.skip(first.skip);
      return;
    }
    let broker: RunningBroker | undefined = first;
    const endpoint = { url: first.url, reconnectPeriodMs: serverReconnectPeriodMs };
    const clientEndpoint = { url: first.url, reconnectPeriodMs: clientReconnectPeriodMs };
    const drops = new Inbox<{ reason: DropReason; topic: string }>();
    const server = new MqttServerLink({ endpoint, onDrop: (reason, topic) => drops.push({ reason, topic }) });
    const client = new MqttClientLink({ endpoint: clientEndpoint, clientId: 'board-1' });
    const requests = new Inbox<IncomingRequest>();
    const replies = new Inbox<{ channel: string; message: Uint8Array }>();
    client.on('message', (channel, message) => replies.push({ channel, message }));
    const extra: { close(): Promise<unknown> }[] = [];

    try {
      await server.start(requests.push);
      assert.equal(server.state, 'up');
      await client.open(['alpha', 'beta']);
      assert.equal(client.state, 'up');

      await t.test('requests carry channel, service and bytes on the deliver and broadcast routes', async () => {
        const a = patterned(300, 1);
        const b = patterned(5000, 2);
        await client.send('alpha', 'deliver', a);
        await client.send('beta', 'broadcast', b);
        const [ra, rb] = await requests.take(2);
        assert.equal(ra?.channel, 'alpha');
        assert.equal(ra?.service, 'deliver');
        assertBytes(ra!.message, a);
        assert.equal(rb?.channel, 'beta');
        assert.equal(rb?.service, 'broadcast');
        assertBytes(rb!.message, b);
      });

      await t.test('replies arrive on the channel they were sent for', async () => {
        const x = patterned(64, 3);
        const y = patterned(64, 4);
        await server.reply(client.replyRoute('beta'), x);
        await server.reply(client.replyRoute('alpha'), y);
        const [rx, ry] = await replies.take(2);
        assert.equal(rx?.channel, 'beta');
        assertBytes(rx!.message, x);
        assert.equal(ry?.channel, 'alpha');
        assertBytes(ry!.message, y);
      });

      await t.test(`${burstMessages} messages of ${burstMessageBytes} B arrive complete and in order, both ways`, async () => {
        const sent = Array.from({ length: burstMessages }, (_, i) => numbered(i, burstMessageBytes));
        await Promise.all(sent.map((m) => client.send('alpha', 'deliver', m)));
        const got = await requests.take(burstMessages);
        assert.deepEqual(got.map((r) => numberOf(r.message)), sent.map((_, i) => i));
        for (let i = 0; i < burstMessages; i++) assertBytes(got[i]!.message, sent[i]!);

        const route = client.replyRoute('alpha');
        await Promise.all(sent.map((m) => server.reply(route, m)));
        const back = await replies.take(burstMessages);
        assert.deepEqual(back.map((r) => numberOf(r.message)), sent.map((_, i) => i));
        assert.ok(back.every((r) => r.channel === 'alpha'));
      });

      await t.test('a message of exactly maxMessageBytes passes; a larger one is refused', async () => {
        const big = patterned(maxMessageBytes, 5);
        await client.send('alpha', 'broadcast', big);
        assertBytes((await requests.next()).message, big);
        await assert.rejects(client.send('alpha', 'broadcast', new Uint8Array(maxMessageBytes + 1)), /exceeds the limit/);
        await assert.rejects(server.reply(client.replyRoute('alpha'), new Uint8Array(maxMessageBytes + 1)), /exceeds the limit/);
      });

      await t.test('replyRouteAllowed accepts only the requester\'s own reply topics of the own channel', () => {
        const requester = { org: 'org1', id: 'board-1' };
        assert.equal(server.replyRouteAllowed('alpha', `${topicRoot}/alpha/reply/org1.board-1`, requester), true);
        assert.equal(server.replyRouteAllowed('alpha', `${topicRoot}/alpha/reply/other.client_2`, requester), false, 'another member\'s replies');
        for (const route of [
          client.replyRoute('beta'),
          `${topicRoot}/alpha/deliver`,
          `${topicRoot}/alpha/broadcast`,
          `${topicRoot}/alpha/reply/+`,
          `${topicRoot}/alpha/reply/#`,
          `${topicRoot}/alpha/reply/`,
          `${topicRoot}/alpha/reply/a/b`,
          `${topicRoot}/+/reply/board-1`,
          `edgepeer/v2/alpha/reply/board-1`,
          `/${topicRoot}/alpha/reply/board-1`,
          `${topicRoot}/beta/reply/org1.board-1`,
          '#',
          '',
        ]) {
          assert.equal(server.replyRouteAllowed('alpha', route, requester), false, route);
        }
      });

      await t.test('garbage topics, invalid channels, retained and oversized requests are dropped; serving goes on', async () => {
        const raw: MqttClient = await connectAsync(first.url, { protocolVersion: 4, clean: true, reconnectPeriod: 0 });
        extra.push({ close: () => raw.endAsync() });
        const before = { ...server.counters.dropped };

        await raw.publishAsync(`${topicRoot}/-bad/deliver`, Buffer.from('x'), { qos: 1 });
        assert.deepEqual(await drops.next(), { reason: 'badTopic', topic: `${topicRoot}/-bad/deliver` });

        await raw.publishAsync(`${topicRoot}/alpha/deliver`, Buffer.alloc(maxMessageBytes + 1), { qos: 1 });
        assert.deepEqual(await drops.next(), { reason: 'oversize', topic: `${topicRoot}/alpha/deliver` });

        // A retained request is flagged as retained only to a subscriber that comes afterwards; the main
        // server, already subscribed, gets it as an ordinary request.
        const retainedTopic = `${topicRoot}/gamma/deliver`;
        await raw.publishAsync(retainedTopic, Buffer.from('stale'), { qos: 1, retain: true });
        const ordinary = await requests.next();
        // The raw client's messages arrive in the order it sent them: the two before were not handed on.
        assert.equal(ordinary.channel, 'gamma');
        assert.equal(Buffer.from(ordinary.message).toString(), 'stale');
        const lateDrops = new Inbox<DropReason>();
        const late = new MqttServerLink({ endpoint, onDrop: (reason) => lateDrops.push(reason) });
        extra.push(late);
        const lateRequests = new Inbox<IncomingRequest>();
        await late.start(lateRequests.push);
        assert.equal(await lateDrops.next(), 'retained');
        assert.equal(lateRequests.size, 0);
        await raw.publishAsync(retainedTopic, Buffer.alloc(0), { qos: 1, retain: true });
        await late.close();

        assert.equal(server.counters.dropped.badTopic, before.badTopic + 1);
        assert.equal(server.counters.dropped.oversize, before.oversize + 1);
        const ok = patterned(10, 6);
        await client.send('beta', 'deliver', ok);
        let r = await requests.next();
        // Brokers forward the empty message that clears a retained one to current subscribers.
        while (r.channel === 'gamma' && r.message.byteLength === 0) r = await requests.next();
        assert.equal(r.channel, 'beta');
        assertBytes(r.message, ok);
      });

      await t.test('round-trip latency of a tiny request/reply (measured, not asserted)', async (st) => {
        const echo = new MqttServerLink({ endpoint, clientId: `echo-${brokerCase.name}` });
        extra.push(echo);
        // A dedicated client so the echo server, not the main one, answers.
        const pinger = new MqttClientLink({ endpoint, clientId: 'pinger' });
        extra.push(pinger);
        const pongs = new Inbox<Uint8Array>();
        pinger.on('message', (_c, m) => pongs.push(m));
        await echo.start((req) => {
          if (req.channel === 'ping') void echo.reply(pinger.replyRoute('ping'), req.message);
        });
        await pinger.open(['ping']);
        const samplesMs: number[] = [];
        for (let i = 0; i < latencyRoundTrips; i++) {
          const t0 = process.hrtime.bigint();
          await pinger.send('ping', 'deliver', numbered(i, 8));
          const pong = await pongs.next();
          samplesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
          assert.equal(numberOf(pong), i);
        }
        samplesMs.sort((p, q) => p - q);
        const median = samplesMs[Math.floor(samplesMs.length / 2)]!;
        const p99 = samplesMs[Math.floor(samplesMs.length * 0.99)]!;
        st.diagnostic(`${brokerCase.name}: request/reply round trip median ${median.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
        await pinger.close();
        await echo.close();
        // The main server saw the pings too (it serves every channel); they are not this test's business.
        while (requests.size > 0) await requests.next();
      });

      await t.test('MQTT 5 where the broker speaks it; a clear refusal where it does not', async () => {
        const v5Endpoint = { url: first.url, protocolVersion: 5 as const };
        const v5 = new MqttClientLink({ endpoint: v5Endpoint, clientId: 'v5-board' });
        extra.push(v5);
        if (brokerCase.name === 'aedes') {
          await assert.rejects(v5.open(['alpha']), /refused the connection: Unacceptable protocol version \(this broker does not speak MQTT 5/);
          assert.equal(v5.state, 'down');
          return;
        }
        const v5Replies = new Inbox<{ channel: string; message: Uint8Array }>();
        v5.on('message', (channel, message) => v5Replies.push({ channel, message }));
        await v5.open(['alpha']);
        const m = patterned(100, 9);
        await v5.send('alpha', 'broadcast', m);
        const r = await requests.next();
        assert.equal(r.service, 'broadcast');
        assertBytes(r.message, m);
        await server.reply(v5.replyRoute('alpha'), m);
        const back = await v5Replies.next();
        assert.equal(back.channel, 'alpha');
        assertBytes(back.message, m);
        await v5.close();
      });

      await t.test('broker stops: links go down, sends reject; broker back on the same port: links resubscribe', async () => {
        const port = broker!.port;
        const clientDown = nextState(client, 'down');
        const serverDown = nextState(server, 'down');
        // Sends still awaiting their PUBACK when the broker goes must settle, none may hang.
        let settled = 0;
        let rejected = 0;
        const inFlight = Array.from({ length: inFlightSends }, (_, i) =>
          client.send('alpha', 'deliver', numbered(i, inFlightSendBytes)).then(
            () => void (settled += 1),
            () => void ((settled += 1), (rejected += 1)),
          ),
        );
        const stopping = broker!.stop();
        broker = undefined;
        await clientDown;
        assert.equal(settled, inFlight.length, 'every send settled by the time the link reported down');
        assert.ok(rejected > 0, 'some sends were still in flight when the broker went away');
        // The client's first reconnect attempt fails; the broker comes back only then, so the server
        // (shorter reconnect period) is subscribed again before the client's next attempt, and a stale
        // resend of the failed sends would reach it ahead of the marker below.
        const clientAttemptFailed = nextState(client, 'connecting').then(() => nextState(client, 'down'));
        await serverDown;
        await stopping;
        await assert.rejects(client.send('alpha', 'deliver', new Uint8Array(1)), /is (down|connecting): not sent/);
        await assert.rejects(server.reply(client.replyRoute('alpha'), new Uint8Array(1)), /is (down|connecting): not sent/);
        while (requests.size > 0) await requests.next();
        await clientAttemptFailed;

        const clientUp = nextState(client, 'up');
        const serverUp = nextState(server, 'up');
        const again = await brokerCase.start({ port });
        assert.ok(!('skip' in again));
        broker = again;
        await serverUp;
        await clientUp;

        const marker = patterned(33, 7);
        await client.send('beta', 'deliver', marker);
        const r = await requests.next();
        assert.equal(r.channel, 'beta', 'the first request after the restart is the new one, not a stale resend');
        assertBytes(r.message, marker);
        const answer = patterned(17, 8);
        await server.reply(client.replyRoute('beta'), answer);
        const reply = await replies.next();
        assert.equal(reply.channel, 'beta');
        assertBytes(reply.message, answer);
      });
    } finally {
      for (const e of extra) await e.close().catch(() => undefined);
      await client.close();
      await server.close();
      await broker?.stop();
    }
  });
}
