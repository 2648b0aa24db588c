// The serial links on @serialport/binding-mock: requests and replies as frames, routes, counted drops,
// the bounded write queue, and reopening with exponential backoff when the device goes away.
import { Backoff } from '../../../../src/config/backoff.js';
import { seededRandom } from '../../../../src/config/random.js';
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { SerialPortMock } from 'serialport';
import type { IncomingRequest, LinkState } from '../../../../src/transport/link.js';
import { SerialFrameKind, type SerialFrame, encodeSerialFrame } from '../../../../src/transport/serial/frame.js';
import { SerialFrameDecoder } from '../../../../src/transport/serial/frameDecoder.js';
import { ManagedSerialPort, type PortFactory } from '../../../../src/transport/serial/managedPort.js';
import { SerialClientLink } from '../../../../src/transport/serial/serialClientLink.js';
import { SerialServerLink } from '../../../../src/transport/serial/serialServerLink.js';
import { createClientLink } from '../../../../src/transport/endpoints.js';
import { once } from 'node:events';
import { EVENT_WAIT_LIMIT_MS, ManualClock } from '../../../helpers/fakes.js';
import { pollUntil, withTimeout } from '../../../helpers/wait.js';

// In ESM the MockBinding export can be another instance than the one SerialPortMock uses.
const binding = SerialPortMock.binding;
const BAUD = 115200;

/** A factory that remembers the ports it made, so the test can feed them bytes and read what was written. */
function mockFactory(): { factory: PortFactory; ports: SerialPortMock[] } {
  const ports: SerialPortMock[] = [];
  return {
    ports,
    factory: (o) => {
      const p = new SerialPortMock(o);
      ports.push(p);
      return p;
    },
  };
}

function emit(port: SerialPortMock, bytes: Uint8Array): void {
  port.port!.emitData(Buffer.from(bytes));
}

function framesWritten(port: SerialPortMock): SerialFrame[] {
  const out: SerialFrame[] = [];
  new SerialFrameDecoder(1 << 20, (f) => out.push(f)).push(port.port!.recording);
  return out;
}

const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
  binding.reset();
});

test('server link: request frames become requests, noise and replies from the wrong side are counted and dropped', async () => {
  binding.createPort('/dev/mock-orderer', { record: true });
  const { factory, ports } = mockFactory();
  const link = new SerialServerLink({ port: { path: '/dev/mock-orderer', baudRate: BAUD }, portFactory: factory });
  toClose.push(link);
  const requests: IncomingRequest[] = [];
  await link.start((r) => requests.push(r));
  assert.equal(link.state, 'up');
  assert.equal(link.name, 'serial:/dev/mock-orderer@115200');
  const port = ports[0]!;
  const seek = Buffer.from('a1646b696e6401', 'hex');
  const good = encodeSerialFrame(SerialFrameKind.DELIVER, 'ch1', seek);
  const bad = Buffer.from(good);
  bad[5] = bad[5]! ^ 0x40;
  emit(port, Buffer.concat([
    Buffer.from('\x1b[0mlogin: '), good, bad,
    encodeSerialFrame(SerialFrameKind.BROADCAST, 'ch2', Buffer.from([0xa0])),
    encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from([0xa0])),
  ]));
  // A valid frame after all that: the stream is decoded in order, so once it arrives the frames before it were judged.
  emit(port, encodeSerialFrame(SerialFrameKind.DELIVER, 'ch3', seek));
  await pollUntil(() => (requests.at(-1)?.channel === 'ch3' ? true : null), 'the request after the noise', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(requests.map((r) => [r.channel, r.service, Buffer.from(r.message).toString('hex')]), [
    ['ch1', 'deliver', seek.toString('hex')],
    ['ch2', 'broadcast', 'a0'],
    ['ch3', 'deliver', seek.toString('hex')],
  ]);
  const c = link.counters;
  assert.equal(c.framesIn, 4);
  assert.equal(c.dropped.badRoute, 1, 'a REPLY frame sent to the orderer');
  assert.equal(c.dropped.crc + c.dropped.cobs + c.dropped.malformed, 2, `noise and the flipped frame: ${JSON.stringify(c.dropped)}`);
});

test('server link: replies go to serial/<channel> only, as REPLY frames, and wait until written', async () => {
  binding.createPort('/dev/mock-orderer', { record: true });
  const { factory, ports } = mockFactory();
  const link = new SerialServerLink({ port: { path: '/dev/mock-orderer', baudRate: BAUD }, portFactory: factory, maxResponseBytes: 4096 });
  toClose.push(link);
  await link.start(() => undefined);
  assert.equal(link.maxResponseBytes, 4096);
  assert.equal(link.replyRouteAllowed('ch1', 'serial/ch1'), true);
  assert.equal(link.replyRouteAllowed('ch1', 'serial/ch2'), false);
  assert.equal(link.replyRouteAllowed('ch1', 'edgepeer/v1/ch1/reply/board-1'), false);
  assert.equal(link.replyRouteAllowed('ch1', 'serial/ch1/x'), false);
  await link.reply('serial/ch1', Buffer.from('a3', 'hex'));
  await assert.rejects(link.reply('edgepeer/v1/ch1/reply/b', Buffer.from('a3', 'hex')), /not a serial reply route/);
  assert.deepEqual(framesWritten(ports[0]!).map((f) => [f.kind, f.channel, Buffer.from(f.message).toString('hex')]), [
    [SerialFrameKind.REPLY, 'ch1', 'a3'],
  ]);
  assert.equal(link.counters.framesOut, 1);
});

test('client link: sends DELIVER/BROADCAST frames, hands on replies for its channels only', async () => {
  binding.createPort('/dev/mock-board', { record: true });
  const { factory, ports } = mockFactory();
  const link = new SerialClientLink({ port: { path: '/dev/mock-board', baudRate: BAUD }, portFactory: factory });
  toClose.push(link);
  assert.equal(link.state, 'down');
  await link.open(['ch1']);
  assert.equal(link.state, 'up');
  assert.equal(link.replyRoute('ch1'), 'serial/ch1');
  await link.send('ch1', 'deliver', Buffer.from([0xa1]));
  await link.send('ch1', 'broadcast', Buffer.from([0xa2]));
  assert.deepEqual(framesWritten(ports[0]!).map((f) => [f.kind, f.channel]), [[SerialFrameKind.DELIVER, 'ch1'], [SerialFrameKind.BROADCAST, 'ch1']]);
  const got: [string, string][] = [];
  link.on('message', (ch, m) => got.push([ch, Buffer.from(m).toString('hex')]));
  emit(ports[0]!, Buffer.concat([
    encodeSerialFrame(SerialFrameKind.REPLY, 'ch2', Buffer.from([0x01])),
    encodeSerialFrame(SerialFrameKind.DELIVER, 'ch1', Buffer.from([0x02])),
    encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from([0x03])),
  ]));
  // A later reply: frames are handled in order, so once it is handed on the three before it were judged.
  emit(ports[0]!, encodeSerialFrame(SerialFrameKind.REPLY, 'ch1', Buffer.from([0x04])));
  await pollUntil(() => (got.at(-1)?.[1] === '04' ? true : null), 'the later reply', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(got, [['ch1', '03'], ['ch1', '04']]);
  assert.equal(link.counters.dropped.badRoute, 2);
});

/** A login as a board would have one (a serial link needs none, an MQTT link names its replies after it). */
const b1 = { username: 'b1', password: 'unused' };

test('endpoint factory: serial:PATH@BAUD makes a serial link, mqtt URLs an MQTT link, anything else is refused', async () => {
  binding.createPort('/dev/mock-board');
  const { factory } = mockFactory();
  const link = createClientLink('serial:/dev/mock-board@9600', { credentials: b1, serialPortFactory: factory });
  toClose.push(link);
  assert.ok(link instanceof SerialClientLink);
  assert.equal(link.endpoint, 'serial:/dev/mock-board@9600');
  const mqtt = createClientLink('mqtt://127.0.0.1:1', { credentials: b1 });
  assert.equal(mqtt.endpoint, 'mqtt://127.0.0.1:1');
  assert.equal(mqtt.replyRoute('ch1'), 'edgepeer/v1/ch1/reply/b1');
  assert.throws(() => createClientLink('tcp://x:1', { credentials: b1 }), /expected mqtt:\/\/.*serial:PATH/);
  assert.throws(() => createClientLink('serial:@9600', { credentials: b1 }), /no device path/);
});

const REOPEN = { baseDelayMs: 100, maxDelayMs: 1000 };
const REOPEN_SEED = 11;

test('a port that goes away is reopened with the shared jittered backoff, and sends fail while it is gone', async () => {
  binding.createPort('/dev/mock-usb');
  const { factory, ports } = mockFactory();
  const clock = new ManualClock();
  const link = new SerialClientLink({
    port: { path: '/dev/mock-usb', baudRate: BAUD }, portFactory: factory, clock, reopen: REOPEN, random: seededRandom(REOPEN_SEED),
  });
  toClose.push(link);
  const linkStates: LinkState[] = [];
  link.on('state', (s) => linkStates.push(s));
  await link.open(['ch1']);

  // Unplugged: the device node disappears and the open port closes under us.
  binding.reset();
  await new Promise<void>((resolve) => ports[0]!.close(() => resolve()));
  await pollUntil(() => (link.state === 'down' ? true : null), 'link down', EVENT_WAIT_LIMIT_MS);
  await assert.rejects(link.send('ch1', 'deliver', Buffer.from([0xa1])), /not sent/);
  // Reopen attempts fail while the device is absent, each after a jittered wait that grows up to the cap.
  for (let i = 0; i < 5; i++) {
    await clock.advance(clock.delays.at(-1)!);
    await pollUntil(() => (clock.pendingTimers === 1 && clock.delays.length === i + 2 ? true : null), `retry ${i + 1}`, EVENT_WAIT_LIMIT_MS);
  }
  // The same policy and seed outside the port: the waits it must have taken (src/config/backoff.ts).
  const policy = new Backoff(REOPEN, seededRandom(REOPEN_SEED));
  assert.deepEqual(clock.delays, Array.from({ length: 6 }, () => policy.next()));
  // Plugged back in.
  binding.createPort('/dev/mock-usb');
  await clock.advance(1000);
  await pollUntil(() => (link.state === 'up' ? true : null), 'link up again', EVENT_WAIT_LIMIT_MS);
  await link.send('ch1', 'deliver', Buffer.from([0xa1]));
  assert.ok(linkStates.includes('down') && linkStates.at(-1) === 'up', linkStates.join(','));
});

test('the write queue is bounded and respects drain: writes beyond the limit are refused at once, the rest complete in order', async () => {
  binding.createPort('/dev/mock-slow');
  const { factory, ports } = mockFactory();
  const port = new ManagedSerialPort({
    port: { path: '/dev/mock-slow', baudRate: BAUD }, portFactory: factory, onData: () => undefined,
    maxQueuedWriteBytes: 10_000, writeHighWaterMarkBytes: 1024,
  });
  toClose.push(port);
  port.start();
  await pollUntil(() => (port.state === 'open' ? true : null), 'open', EVENT_WAIT_LIMIT_MS);
  const done: number[] = [];
  const results = Array.from({ length: 20 }, (_, i) =>
    port.write(Buffer.alloc(1000, i)).then(() => { done.push(i); return 'ok'; }, (err: Error) => err.message));
  assert.ok(port.pendingWriteBytes <= 10_000, `${port.pendingWriteBytes} bytes pending`);
  // Respecting 'drain': the stream is handed more only once it drops below its high-water mark.
  assert.ok(ports[0]!.writableLength <= 1024 + 1000, `${ports[0]!.writableLength} bytes buffered in the stream`);
  const settled = await Promise.all(results);
  assert.deepEqual(settled.slice(0, 10), Array(10).fill('ok'));
  for (const r of settled.slice(10)) assert.match(r, /already waiting .*limit 10000/);
  assert.deepEqual(done, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(port.pendingWriteBytes, 0);
});

test('a port closed while its open is under way does not stay open', async () => {
  binding.createPort('/dev/mock-race');
  const { factory, ports } = mockFactory();
  const port = new ManagedSerialPort({ port: { path: '/dev/mock-race', baudRate: BAUD }, portFactory: factory, onData: () => undefined });
  port.start();
  // The device's own events: it did open late (a port that never opened emits no 'close'), then was closed.
  const openedThenClosed = Promise.all([once(ports[0]!, 'open'), once(ports[0]!, 'close')]);
  assert.equal(port.state, 'opening');
  await port.close();
  await withTimeout(openedThenClosed, 'the late-opened port opened and closed again', EVENT_WAIT_LIMIT_MS);
  assert.equal(ports[0]!.isOpen, false);
  assert.equal(port.state, 'closed');
});
