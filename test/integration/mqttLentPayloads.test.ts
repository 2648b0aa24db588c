// An MQTT client link that lends its payloads (src/transport/mqtt/framedSocket.ts) over a real broker on
// real TCP: messages of every size arrive whole and in order, small and large, pipelined, larger than
// its packet ring or not, and they come in the link's own reused buffers rather than one each.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mqttDefaults } from '../../src/config/constants.js';
import { startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { MqttClientLink } from '../../src/transport/mqtt/mqttClientLink.js';
import { MqttServerLink } from '../../src/transport/mqtt/mqttServerLink.js';

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
    // 0 bytes, small, about a Deliver response, and one larger than the whole packet ring.
    const sizes = [1, 10, 127, 128, 16_383, 16_384, 256 * 1024, 300_000, mqttDefaults.lentPacketRingBytes + 4096, 5, 256 * 1024];
    const messages = Array.from({ length: 40 }, (_, i) => patterned(sizes[i % sizes.length]!, i));
    const got: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => { done = resolve; });
    client.on('message', (channel, message) => {
      assert.equal(channel, 'alpha');
      buffers.add(message.buffer);
      got.push(new Uint8Array(message));
      if (got.length === messages.length) done();
    });
    // All at once: the link has many packets in flight and assembles them across socket reads.
    await Promise.all(messages.map((m) => server.reply(client.replyRoute('alpha'), m)));
    await all;
    assert.equal(got.length, messages.length);
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
  const states: string[] = [];
  client.on('state', (s) => states.push(s));
  const state = (): string => client.state;
  const stateChange = (): Promise<void> => new Promise<void>((resolve) => { const on = (): void => { client.off('state', on); resolve(); }; client.on('state', on); });
  try {
    await client.open(['alpha']);
    await broker.close();
    while (state() === 'up') await stateChange();
    broker = await startEmbeddedBroker({ port });
    while (state() !== 'up') await stateChange();
    server = new MqttServerLink({ endpoint: { url: broker.url } });
    await server.start(() => undefined);
    const got: Uint8Array[] = [];
    const arrived = new Promise<void>((resolve) => client.on('message', (_c, m) => { got.push(new Uint8Array(m)); if (got.length === 2) resolve(); }));
    const a = patterned(200_000, 1);
    const b = patterned(3, 2);
    await Promise.all([server.reply(client.replyRoute('alpha'), a), server.reply(client.replyRoute('alpha'), b)]);
    await arrived;
    assert.deepEqual(got, [a, b]);
    assert.ok(states.includes('down') || states.includes('connecting'), `went down and came back: ${states.join(' ')}`);
  } finally {
    await client.close();
    await server?.close();
    await broker.close();
  }
});
