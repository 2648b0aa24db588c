// A gossip connection that failed is redialled after the shared jittered backoff (src/config/backoff.ts),
// per member: waits grow while the member stays unreachable, and the time is the injected clock's.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { Backoff } from '../../../src/config/backoff.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { startTcpTransport } from '../../../src/gossip/tcpTransport.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ManualClock } from '../../helpers/fakes.js';
import { pollUntil } from '../../helpers/wait.js';

const EVENT_TIMEOUT_MS = 10_000;
const POLICY = { baseDelayMs: 1_000, maxDelayMs: 10_000 };
const DRAW = 0.999_999;

/** A loopback port nobody listens on: a connect there is refused at once. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

test('a refused member is redialled only after each jittered, growing wait of the shared backoff', async (t) => {
  const clock = new ManualClock();
  const transport = await startTcpTransport({
    listen: '127.0.0.1:0', clock, log: silentLogger(), onMessage: () => true, random: () => DRAW,
    limits: { ...gossipDefaults, reconnectDelayMs: POLICY.baseDelayMs, reconnectMaxDelayMs: POLICY.maxDelayMs },
  });
  t.after(() => transport.stop());
  const to = `127.0.0.1:${await closedPort()}`;
  const expected = new Backoff(POLICY, () => DRAW);
  for (let attempt = 1; attempt <= 3; attempt++) {
    // Dialling: the message waits for the connection (send says true) until the refusal arrives.
    assert.equal(transport.send(to, Uint8Array.of(attempt)), true, `attempt ${attempt} dials`);
    await pollUntil(() => (transport.send(to, Uint8Array.of(0)) ? null : true), `refusal ${attempt}`, EVENT_TIMEOUT_MS);
    const wait = expected.next();
    await clock.advance(wait - 1);
    assert.equal(transport.send(to, Uint8Array.of(0)), false, `no redial before ${wait} ms (attempt ${attempt})`);
    await clock.advance(1);
  }
});
