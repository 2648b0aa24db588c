// A gossip connection that failed is redialled after the shared jittered backoff (src/config/backoff.ts),
// per member: waits grow while the member stays unreachable, and the time is the injected clock's.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
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

/** A transport on a manual clock with the test's backoff, and a member of it that refuses every dial. */
async function refusedMember(t: TestContext) {
  const clock = new ManualClock();
  const transport = await startTcpTransport({
    listen: '127.0.0.1:0', clock, log: silentLogger(), onMessage: () => true, random: () => DRAW,
    limits: { ...gossipDefaults, reconnectDelayMs: POLICY.baseDelayMs, reconnectMaxDelayMs: POLICY.maxDelayMs },
  });
  t.after(() => transport.stop());
  return { clock, transport, to: `127.0.0.1:${await closedPort()}` };
}

/** Send one message to a member that refuses, and wait until the refusal has put it in backoff. */
async function dialRefused(transport: { send(to: string, m: Uint8Array): boolean }, to: string, attempt: number) {
  assert.equal(transport.send(to, Uint8Array.of(attempt)), true, `attempt ${attempt} dials`);
  await pollUntil(() => (transport.send(to, Uint8Array.of(0)) ? null : true), `refusal ${attempt}`, EVENT_TIMEOUT_MS);
}

test('a refused member is redialled only after each jittered, growing wait of the shared backoff', async (t) => {
  const { clock, transport, to } = await refusedMember(t);
  const expected = new Backoff(POLICY, () => DRAW);
  for (let attempt = 1; attempt <= 3; attempt++) {
    // Dialling: the message waits for the connection (send says true) until the refusal arrives.
    await dialRefused(transport, to, attempt);
    const wait = expected.next();
    await clock.advance(wait - 1);
    assert.equal(transport.send(to, Uint8Array.of(0)), false, `no redial before ${wait} ms (attempt ${attempt})`);
    await clock.advance(1);
  }
});

test('a member heard from again is redialled at once, whatever its backoff said', async (t) => {
  const { clock, transport, to } = await refusedMember(t);
  for (let attempt = 1; attempt <= 3; attempt++) {
    await dialRefused(transport, to, attempt);
    await clock.advance(POLICY.maxDelayMs);
  }
  await dialRefused(transport, to, 4);
  assert.equal(transport.send(to, Uint8Array.of(0)), false, 'in backoff after four refusals');
  transport.redial(to);
  assert.equal(transport.send(to, Uint8Array.of(5)), true, 'dials at once after redial, the clock not moved');
});
