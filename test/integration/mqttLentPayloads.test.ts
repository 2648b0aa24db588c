// An MQTT client link that lends its payloads (src/transport/mqtt/framedSocket.ts) over a real broker on
// real TCP: messages of every size arrive whole and in order, small and large, pipelined, larger than
// its packet ring or not, and they come in the link's own reused buffers rather than one each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mqttDefaults } from '../../src/transport/mqtt/mqttDefaults.js';
import { startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';
import { withTimeout } from '../helpers/wait.js';

/** Every wait here is on loopback: one that takes this long is a lost message or a link that stays down. */
const WAIT_MS = 20_000;

function patterned(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test('a lending link delivers every message intact, in order, in buffers it reuses', { timeout: 60_000 }, async () => {
  const broker = await startEmbeddedBroker();
  const server = new MqttServerLink({ endpoint: { url: broker.url } });
  const client = new MqttClientLink({ endpoint: { url: broker.url }, clientId: 'lender', lendPayloads: true });
  try {
    await server.start(() => undefined);
    await client.open(['alpha']);
    // One byte, small ones either side of MQTT's one- and two-byte length boundaries (128, 16,384), about
    // a Deliver response (256 KiB), and one larger than the whole packet ring.
    const sizes = [1, 10, 127, 128, 16_383, 16_384, 256 * 1024, 300_000, mqttDefaults.lentPacketRingBytes + 4096, 5, 256 * 1024];
    const messages = Array.from({ length: 40 }, (_, i) => patterned(sizes[i % sizes.length]!, i));
    const got: Uint8Array[] = [];
    const channels: string[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => { done = resolve; });
    // Only recorded here (an assertion thrown from an emitter's listener would not fail this test where
    // it happens): checked below, once every message is in.
    client.on('message', (channel, message) => {
      channels.push(channel);
      buffers.add(message.buffer);
      got.push(new Uint8Array(message));
      if (got.length === messages.length) done();
    });
    // All at once: the link has many packets in flight and assembles them across socket reads.
    await Promise.all(messages.map((m) => server.reply(client.replyRoute('alpha'), m)));
    await withTimeout(all, `${messages.length} messages (${got.length} in so far)`, WAIT_MS);
    assert.equal(got.length, messages.length);
    assert.deepEqual([...new Set(channels)], ['alpha'], 'every message on the channel it was sent on');
    assert.deepEqual(got.map((m) => m.length), messages.map((m) => m.length));
    got.forEach((m, i) => assert.deepEqual(m, messages[i], `message ${i} (${messages[i]!.length} bytes) intact`));
    // One ring for the ordinary packets; only the ones larger than the ring got buffers of their own.
    const oversize = messages.filter((m) => m.length > mqttDefaults.lentPacketRingBytes - 16).length;
    assert.ok(buffers.size <= 1 + oversize, `${buffers.size} buffers for ${messages.length} messages`);
  } finally {
    await client.close();
    await server.close();
    await broker.close();
  }
});

test('a lending link comes back after the broker restarts, and still delivers whole messages', { timeout: 60_000 }, async () => {
  let broker = await startEmbeddedBroker();
  const port = broker.port;
  const client = new MqttClientLink({ endpoint: { url: broker.url, reconnectPeriodMs: 50 }, clientId: 'lender2', lendPayloads: true });
  let server: MqttServerLink | null = null;
  const state = (): string => client.state;
  /** Resolves at the link's next state change, fails after WAIT_MS naming `what`. */
  const stateChange = (what: string): Promise<void> => {
    let on: () => void = () => undefined;
    const changed = new Promise<void>((resolve) => { on = resolve; client.on('state', on); });
    return withTimeout(changed, `${what} (state ${state()})`, WAIT_MS).finally(() => client.off('state', on));
  };
  try {
    await client.open(['alpha']);
    await broker.close();
    // The link notices the broker gone, and comes back once it is up again (each wait is bounded).
    while (state() === 'up') await stateChange('the link to notice the broker gone');
    broker = await startEmbeddedBroker({ port });
    while (state() !== 'up') await stateChange('the link to come back up');
    server = new MqttServerLink({ endpoint: { url: broker.url } });
    await server.start(() => undefined);
    const got: Uint8Array[] = [];
    const arrived = new Promise<void>((resolve) => client.on('message', (_c, m) => { got.push(new Uint8Array(m)); if (got.length === 2) resolve(); }));
    const a = patterned(200_000, 1);
    const b = patterned(3, 2);
    await Promise.all([server.reply(client.replyRoute('alpha'), a), server.reply(client.replyRoute('alpha'), b)]);
    await withTimeout(arrived, `2 messages after the reconnect (${got.length} in so far)`, WAIT_MS);
    assert.deepEqual(got, [a, b]);
  } finally {
    await client.close();
    await server?.close();
    await broker.close();
  }
});
