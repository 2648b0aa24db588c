// A connection a board opened and has written nothing on for outboundIdleTimeoutMs is closed by the board
// (src/gossip/tcpTransport.ts): in relay mode a board writes to most members only now and then, and each
// connection kept for the receiver's connectionIdleTimeoutMs would hold one of its inboundConnectionsMax.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { performance } from 'node:perf_hooks';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { startTcpTransport } from '../../../src/gossip/tcpTransport.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ManualClock } from '../../helpers/fakes.js';
import { withTimeout } from '../../helpers/wait.js';

/** Short, so the test is quick; far below the receiver-side idle timeout, which must not be what closes it. */
const OUTBOUND_IDLE_MS = 300;
const EVENT_TIMEOUT_MS = 10_000;

test('a connection the board opened is closed after outboundIdleTimeoutMs without a write, and the next send opens a new one', async (t) => {
  const connections: { closed: Promise<number>; lastByteMs: () => number }[] = [];
  const arrived: (() => void)[] = [];
  const server = net.createServer((socket) => {
    let last = performance.now();
    socket.on('data', () => {
      last = performance.now();
      arrived.shift()?.();
    });
    connections.push({ closed: new Promise((resolve) => socket.on('close', () => resolve(performance.now()))), lastByteMs: () => last });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const to = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const transport = await startTcpTransport({
    listen: '127.0.0.1:0', clock: new ManualClock(), log: silentLogger(), onMessage: () => true,
    limits: { ...gossipDefaults, outboundIdleTimeoutMs: OUTBOUND_IDLE_MS, connectionIdleTimeoutMs: 60_000 },
  });
  t.after(() => transport.stop());

  const delivered = (): Promise<void> => new Promise((resolve) => arrived.push(resolve));
  let got = delivered();
  assert.equal(transport.send(to, Uint8Array.of(1)), true);
  await withTimeout(got, 'the first message', EVENT_TIMEOUT_MS);
  const closedAt = await withTimeout(connections[0]!.closed, 'the idle connection closed by its opener', EVENT_TIMEOUT_MS);
  // Not before the idle time since the last write (a lower bound holds however loaded the machine).
  assert.ok(closedAt - connections[0]!.lastByteMs() >= OUTBOUND_IDLE_MS - 50, `closed ${closedAt - connections[0]!.lastByteMs()} ms after the last byte`);
  // The transport forgot the closed connection: the next message dials anew, without backoff.
  got = delivered();
  assert.equal(transport.send(to, Uint8Array.of(2)), true);
  await withTimeout(got, 'the message after the close', EVENT_TIMEOUT_MS);
  assert.equal(connections.length, 2);
});
