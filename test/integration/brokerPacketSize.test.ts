// The embedded broker (Aedes) bounds what one client can make it hold: a client announcing a 200 MB
// PUBLISH is cut off from the header, before the payload is buffered, and said why; another client's
// large messages still pass.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { embeddedBrokerDefaults, startEmbeddedBroker } from '../../src/transport/mqtt/embeddedBroker.js';
import { withTimeout } from '../helpers/wait.js';
import { remainingLength } from '../helpers/mqttPackets.js';

const ANNOUNCED_BYTES = 200 * 1024 * 1024;
const SENT_BYTES = 1024 * 1024;
const LARGE_MESSAGE_BYTES = 3 * 1024 * 1024;

test('a client announcing a 200 MB packet is cut off at its header; a 3 MiB message from another still passes', { timeout: 60_000 }, async (t) => {
  const refusals: string[] = [];
  const broker = await startEmbeddedBroker({ onRefused: (what, _id, reason) => refusals.push(`${what}: ${reason}`) });
  t.after(() => broker.close());
  const attacker = connect(broker.port, '127.0.0.1');
  t.after(() => { attacker.destroy(); });
  await once(attacker, 'connect');
  // The broker destroys the socket: a reset of the bytes still in flight is expected, the close is the point.
  attacker.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => attacker.once('close', () => resolve()));
  attacker.write(Uint8Array.from([0x30, ...remainingLength(ANNOUNCED_BYTES)]));
  // Keep sending: were the header not judged, the broker would take all of it into its parser.
  attacker.write(new Uint8Array(SENT_BYTES), () => undefined);
  await withTimeout(closed, 'the broker closing the oversized client');
  assert.equal(refusals.length, 1, refusals.join('\n'));
  assert.match(refusals[0]!, new RegExp(`connection: packet of ${ANNOUNCED_BYTES + 5} bytes announced, more than the ${embeddedBrokerDefaults.maxPacketBytes} allowed`));

  const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
  t.after(() => client.endAsync(true));
  await client.subscribeAsync('t', { qos: 1 });
  const got = new Promise<[string, Buffer]>((resolve) => client.once('message', (topic, payload) => resolve([topic, payload])));
  await client.publishAsync('t', Buffer.alloc(LARGE_MESSAGE_BYTES, 7), { qos: 1 });
  const [topic, payload] = await withTimeout(got, 'the large message back');
  assert.equal(topic, 't');
  assert.equal(payload.length, LARGE_MESSAGE_BYTES);
});
