// Frames over a managed serial port (src/transport/serial/framedPort.ts) on @serialport/binding-mock: what
// goes out and comes in is counted (frames, wire bytes, message bytes), a message over the limit is
// refused before anything is written, a frame torn by a lost device is not glued to the bytes after the
// reopen, a handler that throws does not lose the frames read with its own, and the link state is told
// once per change. The links built on it: serialLink.test.ts.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { SerialPortMock } from 'serialport';
import type { LinkState } from '../../../../src/transport/link.js';
import { FramedSerialPort, type SerialDropReason } from '../../../../src/transport/serial/framedPort.js';
import { type SerialFrame, SerialFrameKind, encodeSerialFrame } from '../../../../src/transport/serial/frame.js';
import type { PortFactory } from '../../../../src/transport/serial/managedPort.js';
import { EVENT_WAIT_LIMIT_MS, ManualClock } from '../../../helpers/fakes.js';
import { pollUntil } from '../../../helpers/wait.js';

// In ESM the MockBinding export can be another instance than the one SerialPortMock uses.
const binding = SerialPortMock.binding;
const PATH = '/dev/mock-framed';
const BAUD = 115_200;
const MAX_MESSAGE_BYTES = 64;

const toClose: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0)) await c.close();
  binding.reset();
});

interface Rig {
  framed: FramedSerialPort;
  ports: SerialPortMock[];
  frames: SerialFrame[];
  states: LinkState[];
  drops: SerialDropReason[];
  errors: Error[];
  clock: ManualClock;
}

async function openRig(onFrame?: (f: SerialFrame) => void): Promise<Rig> {
  binding.createPort(PATH, { record: true });
  const ports: SerialPortMock[] = [];
  const factory: PortFactory = (o) => {
    const p = new SerialPortMock(o);
    ports.push(p);
    return p;
  };
  const r: Omit<Rig, 'framed'> = { ports, frames: [], states: [], drops: [], errors: [], clock: new ManualClock() };
  const framed = new FramedSerialPort({
    port: { path: PATH, baudRate: BAUD }, portFactory: factory, clock: r.clock, maxMessageBytes: MAX_MESSAGE_BYTES,
    reopen: { baseDelayMs: 10, maxDelayMs: 10 }, random: () => 0,
    onFrame: onFrame ?? ((f) => r.frames.push(f)),
    onState: (s) => r.states.push(s),
    onDrop: (d) => r.drops.push(d),
    onError: (e) => r.errors.push(e),
  });
  toClose.push(framed);
  framed.start();
  await pollUntil(() => (framed.state === 'up' ? true : null), 'port open', EVENT_WAIT_LIMIT_MS);
  return { ...r, framed };
}

const emit = (port: SerialPortMock, bytes: Uint8Array): void => { port.port!.emitData(Buffer.from(bytes)); };
const frame = (channel: string, bytes: number[]): Buffer => encodeSerialFrame(SerialFrameKind.REPLY, channel, Uint8Array.from(bytes));

test('what goes out and comes in is counted: frames, wire bytes (framing included) and message bytes', async () => {
  const r = await openRig();
  const out = encodeSerialFrame(SerialFrameKind.DELIVER, 'ch1', Uint8Array.from([0xa1, 1, 2]));
  await r.framed.send(SerialFrameKind.DELIVER, 'ch1', Uint8Array.from([0xa1, 1, 2]));
  assert.deepEqual(Buffer.from(r.ports[0]!.port!.recording), out, 'the frame as encodeSerialFrame writes it');
  const inA = frame('ch1', [0xa0]);
  const inB = frame('ch2', [0xa1, 0, 0, 0]);
  emit(r.ports[0]!, Buffer.concat([inA, inB]));
  await pollUntil(() => (r.frames.length === 2 ? true : null), 'two frames in', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(r.frames.map((f) => [f.channel, [...f.message]]), [['ch1', [0xa0]], ['ch2', [0xa1, 0, 0, 0]]]);
  const c = r.framed.counters;
  assert.deepEqual([c.framesOut, c.wireBytesOut, c.messageBytesOut], [1, out.length, 3]);
  assert.deepEqual([c.framesIn, c.wireBytesIn, c.messageBytesIn], [2, inA.length + inB.length, 5]);
  assert.deepEqual([...r.states], ['connecting', 'up']);
});

test('a message over maxMessageBytes is refused before anything is written; one at the limit goes', async () => {
  const r = await openRig();
  await assert.rejects(r.framed.send(SerialFrameKind.DELIVER, 'ch1', new Uint8Array(MAX_MESSAGE_BYTES + 1).fill(1)),
    new RegExp(`message of ${MAX_MESSAGE_BYTES + 1} bytes exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`));
  assert.equal(r.ports[0]!.port!.recording.length, 0);
  assert.equal(r.framed.counters.framesOut, 0);
  await r.framed.send(SerialFrameKind.DELIVER, 'ch1', new Uint8Array(MAX_MESSAGE_BYTES).fill(1));
  assert.equal(r.framed.counters.framesOut, 1);
});

test('a frame torn by a lost device is not glued to the bytes read after the reopen', async () => {
  const r = await openRig();
  const torn = frame('ch1', [0xa1, 7, 7, 7, 7, 7, 7, 7]);
  // The first half of a frame, then the device goes away.
  const half = Math.floor(torn.length / 2);
  emit(r.ports[0]!, torn.subarray(0, half));
  await pollUntil(() => (r.framed.counters.wireBytesIn === half ? true : null), 'the torn half read', EVENT_WAIT_LIMIT_MS);
  await new Promise<void>((resolve) => r.ports[0]!.close(() => resolve()));
  await pollUntil(() => (r.framed.state === 'down' ? true : null), 'link down', EVENT_WAIT_LIMIT_MS);
  await r.clock.advance(10);
  await pollUntil(() => (r.framed.state === 'up' && r.ports.length === 2 ? true : null), 'reopened', EVENT_WAIT_LIMIT_MS);
  // After the reopen the first frame's opening delimiter is lost (line noise as the device comes up): its
  // bytes still decode, because the decoder starts afresh instead of holding the torn half before them.
  const next = frame('ch2', [0xa0]);
  emit(r.ports[1]!, next.subarray(1));
  await pollUntil(() => (r.frames.length > 0 ? true : null), 'a frame after the reopen', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(r.frames.map((f) => f.channel), ['ch2']);
  assert.deepEqual([...r.states], ['connecting', 'up', 'down', 'connecting', 'up'], 'each change told once');
});

test('a frame handler that throws is reported, and the frames read with it are still handed on', async () => {
  const seen: string[] = [];
  const r = await openRig((f) => {
    seen.push(f.channel);
    if (f.channel === 'boom') throw new Error('handler failed');
  });
  emit(r.ports[0]!, Buffer.concat([frame('ch1', [1]), frame('boom', [2]), frame('ch3', [3])]));
  await pollUntil(() => (seen.length === 3 ? true : null), 'three frames', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(seen, ['ch1', 'boom', 'ch3']);
  assert.deepEqual(r.errors.map((e) => e.message), ['handler failed']);
});

test('the link state is told once per change: a port closed while it waits to reopen is still just down', async () => {
  const r = await openRig();
  await new Promise<void>((resolve) => r.ports[0]!.close(() => resolve()));
  await pollUntil(() => (r.framed.state === 'down' ? true : null), 'link down', EVENT_WAIT_LIMIT_MS);
  await r.framed.close();
  assert.equal(r.framed.port.state, 'closed');
  assert.deepEqual([...r.states], ['connecting', 'up', 'down']);
});

test('countDrop counts a frame with no business here and tells onDrop', async () => {
  const r = await openRig();
  r.framed.countDrop('badRoute');
  r.framed.countDrop('badRoute');
  r.framed.countDrop('queueFull');
  assert.deepEqual([r.framed.counters.dropped.badRoute, r.framed.counters.dropped.queueFull], [2, 1]);
  assert.deepEqual(r.drops, ['badRoute', 'badRoute', 'queueFull']);
});
