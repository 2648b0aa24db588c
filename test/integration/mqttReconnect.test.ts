// MQTT reconnects follow the shared jittered backoff (src/config/backoff.ts) instead of mqtt.js's fixed
// period: against a "broker" that accepts every connection and drops it at once, the gaps between a
// client's connection attempts grow from the endpoint's period towards the cap.
import assert from 'node:assert/strict';
import { type AddressInfo, type Socket, createServer } from 'node:net';
import { test } from 'node:test';
import { ManagedMqttClient } from '../../src/transport/mqtt/managedClient.js';
import { withTimeout } from '../helpers/wait.js';

const BASE_MS = 25;
const ATTEMPTS = 5;
/** The waits with the largest draws are about 74, 221, 663 and 1989 ms: the last is well under this. */
const ATTEMPTS_DEADLINE_MS = 20_000;

test('reconnect waits grow with jitter (the shared backoff), not mqtt.js\'s fixed period', async (t) => {
  const arrivals: number[] = [];
  const sockets = new Set<Socket>();
  let reached: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => { reached = resolve; });
  const server = createServer((s) => {
    arrivals.push(performance.now());
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.destroy();
    if (arrivals.length === ATTEMPTS) reached();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }));
  const { port } = server.address() as AddressInfo;
  const client = new ManagedMqttClient({
    endpoint: { url: `mqtt://127.0.0.1:${port}`, reconnectPeriodMs: BASE_MS },
    mqttClientId: 'reconnect-test', maxMessageBytes: 1024,
    onMessage: () => undefined, onState: () => undefined, onError: () => undefined,
    // The largest draws: every wait close to three times the one before.
    random: () => 0.999_999,
  });
  t.after(() => client.close());
  void client.subscribe(['edgepeer/v1/ch/deliver']).catch(() => undefined);
  await withTimeout(enough, `${ATTEMPTS} connection attempts`, ATTEMPTS_DEADLINE_MS);
  const gaps = arrivals.slice(1).map((a, i) => a - arrivals[i]!);
  // Load only adds to each gap, so it can hide growth only by adding more than ~1.8 s to the first one.
  assert.ok(gaps.at(-1)! > 2 * gaps[0]!, `gaps grow: ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`);
  assert.ok(gaps[0]! >= BASE_MS, `no wait below the endpoint's period: ${gaps[0]!.toFixed(0)} ms`);
});
