// LAN discovery over real UDP multicast on the loopback interface: two discovery channels on one host
// hear each other, a real signed ALIVE fits a datagram and authenticates at the receiver, oversize
// datagrams are ignored, and failing sends are counted and logged once per interval without stopping it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import type { Clock } from '../../../src/config/clock.js';
import { gossipMulticastDefaults } from '../../../src/gossip/gossipDefaults.js';
import { GossipType, openGossip, signGossip } from '../../../src/gossip/messages.js';
import {
  type MulticastDiscovery, MulticastDiscoveryError, multicastDiscovery,
} from '../../../src/gossip/multicastDiscovery.js';
import { type Logger, silentLogger } from '../../../src/observability/logger.js';
import { LOOPBACK, firstOf, freeUdpPort, loopbackMulticastProblem } from '../../helpers/multicastProbe.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

/** Each test its own group, so that tests running side by side on this host do not hear each other. */
const GROUP_PREFIX = '239.255.71.';
const WINDOW_MS = 60_000;
/** Beyond what IPv4 UDP can carry (65,507 bytes of payload): the OS refuses to send it. */
const UNSENDABLE_BYTES = 70_000;

interface Warning {
  fields: Record<string, unknown>;
  msg: string;
}

/** A logger that keeps warnings (the thing beside multicastDiscovery; everything else is dropped). */
function recordingLogger(warnings: Warning[]): Logger {
  const base = silentLogger();
  const logger: Logger = Object.create(base) as Logger;
  logger.warn = ((fields: Record<string, unknown> | string, msg?: string) => {
    warnings.push(typeof fields === 'string' ? { fields: {}, msg: fields } : { fields, msg: msg ?? '' });
  }) as Logger['warn'];
  logger.child = () => logger;
  return logger;
}

const fixedClock: Clock = { now: () => 1_000, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** Two channels on one group (interface 127.0.0.1); `received` collects what B gets. */
async function pair(group: string, opts: { aWarnings?: Warning[]; aMaxDatagramBytes?: number } = {}): Promise<{
  a: MulticastDiscovery; b: MulticastDiscovery; received: Buffer[]; nextAtB: () => Promise<Buffer>; port: number;
}> {
  const port = await freeUdpPort();
  const received: Buffer[] = [];
  let waiter: ((m: Buffer) => void) | null = null;
  const b = await multicastDiscovery({ group, port, interface: LOOPBACK, log: silentLogger() })((m) => {
    received.push(Buffer.from(m));
    const w = waiter;
    waiter = null;
    w?.(Buffer.from(m));
  });
  const a = await multicastDiscovery({
    group, port, interface: LOOPBACK, clock: fixedClock, log: recordingLogger(opts.aWarnings ?? []),
    ...(opts.aMaxDatagramBytes !== undefined ? { limits: { maxDatagramBytes: opts.aMaxDatagramBytes } } : {}),
  })(() => undefined);
  const nextAtB = (): Promise<Buffer> => firstOf<Buffer>((done) => { waiter = done; }, 'datagram at B');
  return { a, b, received, nextAtB, port };
}

test('two boards on one host hear each other: a signed ALIVE fits a datagram and authenticates at the receiver', async (t) => {
  const group = `${GROUP_PREFIX}201`;
  const skip = await loopbackMulticastProblem(group);
  if (skip !== null) {
    console.log(`SKIP: ${skip}`);
    t.skip(skip);
    return;
  }
  const { a, b, nextAtB } = await pair(group);
  try {
    const tc = makeTestChannel();
    const now = Date.now();
    const c = tc.boardSigner.certificate;
    const alive = { id: c.id, org: c.org, height: 42, incarnation: now, seq: 1, endpoint: '192.0.2.10:7100', leader: false };
    const message = signGossip(tc.config.channel, { type: GossipType.ALIVE, alive }, tc.boardSigner, now);
    assert.ok(message.length <= gossipMulticastDefaults.maxDatagramBytes, `a signed ALIVE is ${message.length} bytes`);
    const arrived = nextAtB();
    a.send(message);
    const got = await arrived;
    assert.deepEqual(got, Buffer.from(message));
    const opened = openGossip(got, tc.state, now, WINDOW_MS);
    assert.ok(opened.ok && opened.message.body.type === GossipType.ALIVE);
    assert.deepEqual(opened.message.body.alive, alive);
    assert.equal(a.sendErrors, 0);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a datagram over maxDatagramBytes is ignored; the next one is taken', async (t) => {
  const group = `${GROUP_PREFIX}202`;
  const skip = await loopbackMulticastProblem(group);
  if (skip !== null) {
    t.skip(skip);
    return;
  }
  const { a, b, received, nextAtB, port } = await pair(group);
  const raw = createSocket('udp4');
  try {
    raw.bind(0, LOOPBACK);
    await once(raw, 'listening');
    raw.setMulticastInterface(LOOPBACK);
    const small = Buffer.from('after the big one');
    const arrived = nextAtB();
    // Datagrams from one socket on loopback arrive in order: when the small one is in, the big one was seen.
    raw.send(Buffer.alloc(gossipMulticastDefaults.maxDatagramBytes + 1, 7), port, group);
    raw.send(small, port, group);
    assert.deepEqual(await arrived, small);
    assert.equal(received.length, 1, 'only the small datagram was handed on');
    assert.equal(b.oversizeReceived, 1);
    // And what this side would send over the limit is not sent at all.
    a.send(new Uint8Array(gossipMulticastDefaults.maxDatagramBytes + 1));
    assert.equal(a.oversizeNotSent, 1);
  } finally {
    await new Promise<void>((r) => raw.close(() => r()));
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('sends the OS refuses are counted and logged once per interval; the channel keeps working', async (t) => {
  const group = `${GROUP_PREFIX}203`;
  const skip = await loopbackMulticastProblem(group);
  if (skip !== null) {
    t.skip(skip);
    return;
  }
  const warnings: Warning[] = [];
  // The limit raised past what UDP can carry, so that the OS (not this code) refuses the send.
  const { a, b, nextAtB } = await pair(group, { aWarnings: warnings, aMaxDatagramBytes: UNSENDABLE_BYTES + 1 });
  let stopped = false;
  try {
    for (let i = 0; i < 3; i++) a.send(new Uint8Array(UNSENDABLE_BYTES));
    const ok = Buffer.from('still here');
    const arrived = nextAtB();
    a.send(ok);
    assert.deepEqual(await arrived, ok);
    // Closing runs every pending send callback first: after it, all three failures are in.
    await a.stop();
    stopped = true;
    assert.equal(a.sendErrors, 3);
    const sendWarnings = warnings.filter((w) => /send failed/.test(w.msg));
    assert.equal(sendWarnings.length, 1, 'three failures within one interval: one warning');
    assert.match(String(sendWarnings[0]!.fields['err']), /EMSGSIZE|too long/i);
  } finally {
    await Promise.all([stopped ? Promise.resolve() : a.stop(), b.stop()]);
  }
});

test('joining on an address that is no local interface fails with a clear error', async () => {
  const port = await freeUdpPort();
  await assert.rejects(
    multicastDiscovery({ group: `${GROUP_PREFIX}204`, port, interface: '192.0.2.254', log: silentLogger() })(() => undefined),
    (err: unknown) => err instanceof MulticastDiscoveryError && err.message.includes(`239.255.71.204:${port} on 192.0.2.254`),
  );
});
