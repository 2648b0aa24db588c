// The gossip listener against attackers with raw TCP sockets on loopback: it is open to anyone before
// anything is authenticated, so how many connections, how many bytes of unfinished frames and how long a
// silent connection may cost it are bounded (src/gossip/tcpTransport.ts, docs/protocol.md §12b.1).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { systemClock } from '../../../src/config/clock.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { FRAME_HEADER_BYTES, encodeFrame } from '../../../src/gossip/frameCodec.js';
import { type GossipTransport, type GossipTransportLimits, startTcpTransport } from '../../../src/gossip/tcpTransport.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { pollUntil, withTimeout } from '../../helpers/wait.js';

/** Loopback connects, closes and frames arrive within this long, or not at all. */
const EVENT_TIMEOUT_MS = 10_000;

/** A listener whose every message counts as authenticated unless `onMessage` says otherwise. */
async function listener(limits: Partial<GossipTransportLimits>, onMessage: (m: Uint8Array) => boolean = () => true): Promise<GossipTransport> {
  return startTcpTransport({ listen: '127.0.0.1:0', limits: { ...gossipDefaults, ...limits }, clock: systemClock, log: silentLogger(), onMessage });
}

function port(t: GossipTransport): number {
  return Number(t.endpoint.split(':')[1]);
}

/** A raw client socket, connected; `closed` resolves when the server (or anyone) closes it. */
async function attacker(to: GossipTransport): Promise<{ socket: net.Socket; closed: Promise<void>; isClosed: () => boolean }> {
  const socket = net.connect(port(to), '127.0.0.1');
  socket.on('error', () => undefined);
  let done = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => { done = true; resolve(); }));
  await withTimeout(new Promise<void>((resolve) => socket.once('connect', resolve)), 'attacker connect', EVENT_TIMEOUT_MS);
  return { socket, closed, isClosed: () => done };
}

test('connections beyond inboundConnectionsMax are closed at once; those within it are served', async (t) => {
  const got: Uint8Array[] = [];
  let arrived: () => void = () => undefined;
  const server = await listener({ inboundConnectionsMax: 3 }, (m) => { got.push(m); arrived(); return true; });
  const clients: net.Socket[] = [];
  t.after(async () => {
    for (const c of clients) c.destroy();
    await server.stop();
  });
  const held = [];
  for (let i = 0; i < 3; i++) {
    const a = await attacker(server);
    clients.push(a.socket);
    held.push(a);
  }
  const extra = await attacker(server);
  clients.push(extra.socket);
  await withTimeout(extra.closed, 'the fourth connection closed by the listener', EVENT_TIMEOUT_MS);
  // The three held connections are still read: a frame on one of them arrives.
  const frame = new Promise<void>((resolve) => { arrived = resolve; });
  held[2]!.socket.write(encodeFrame(Uint8Array.of(7, 7)));
  await withTimeout(frame, 'a frame on a connection within the limit', EVENT_TIMEOUT_MS);
  assert.deepEqual([...got[0]!], [7, 7]);
  assert.ok(held.every((h) => !h.isClosed()), 'the connections within the limit stay open');
});

test('a silent connection is closed after connectionIdleTimeoutMs; one that keeps sending frames is not', async (t) => {
  const IDLE_MS = 1_000;
  /** The talker's frames come ten times per idle timeout: only a stall of most of a second would look idle. */
  const TALK_EVERY_MS = IDLE_MS / 10;
  const server = await listener({ connectionIdleTimeoutMs: IDLE_MS });
  const silent = await attacker(server);
  const talker = await attacker(server);
  const talking = setInterval(() => talker.socket.write(encodeFrame(Uint8Array.of(1))), TALK_EVERY_MS);
  t.after(async () => {
    clearInterval(talking);
    silent.socket.destroy();
    talker.socket.destroy();
    await server.stop();
  });
  const openedAt = Date.now();
  await withTimeout(silent.closed, 'the silent connection closed', EVENT_TIMEOUT_MS);
  const tookMs = Date.now() - openedAt;
  assert.ok(tookMs >= IDLE_MS - 50, `closed after ${tookMs} ms, not before the idle timeout (${IDLE_MS} ms)`);
  // Twice as long again: the talker's connection stays open while it talks.
  await new Promise((resolve) => setTimeout(resolve, 2 * IDLE_MS));
  assert.equal(talker.isClosed(), false, 'the connection that kept sending frames is open');
  clearInterval(talking);
  await withTimeout(talker.closed, 'the talker, silent from then on, closed in turn', EVENT_TIMEOUT_MS);
});

test('unfinished frames of all connections together are bounded by inboundBufferedBytesMax: the connection that goes past it is closed', async (t) => {
  const FRAME_BYTES = 1_000;
  const got: Uint8Array[] = [];
  let arrived: () => void = () => undefined;
  const server = await listener({ maxFrameBytes: FRAME_BYTES, inboundBufferedBytesMax: FRAME_BYTES + FRAME_HEADER_BYTES }, (m) => { got.push(m); arrived(); return true; });
  const first = await attacker(server);
  const second = await attacker(server);
  t.after(async () => {
    first.socket.destroy();
    second.socket.destroy();
    await server.stop();
  });
  const whole = encodeFrame(new Uint8Array(FRAME_BYTES).fill(9));
  // Each sends most of a large frame and stops: 2 × 904 bytes held is more than the listener allows.
  const part = FRAME_HEADER_BYTES + 900;
  await new Promise<void>((resolve) => first.socket.write(whole.subarray(0, part), () => resolve()));
  // The first part is in before the second is sent: the second connection is the one past the bound.
  await new Promise((resolve) => setImmediate(resolve));
  second.socket.write(whole.subarray(0, part));
  await withTimeout(second.closed, 'the connection past the bound closed', EVENT_TIMEOUT_MS);
  assert.equal(first.isClosed(), false);
  // The first one finishes its frame: it arrives whole.
  const frame = new Promise<void>((resolve) => { arrived = resolve; });
  first.socket.write(whole.subarray(part));
  await withTimeout(frame, 'the first frame, finished', EVENT_TIMEOUT_MS);
  assert.equal(got[0]!.length, FRAME_BYTES);
});

test('a connection none of whose messages authenticates is closed past inboundUnauthenticatedBytesMax; one that authenticated is not', async (t) => {
  const LIMIT = 10_000;
  // Frames starting with 1 stand for authenticated messages, anything else for junk.
  let real = 0;
  let secondReal: () => void = () => undefined;
  const server = await listener({ inboundUnauthenticatedBytesMax: LIMIT }, (m) => {
    if (m[0] !== 1) return false;
    if (++real === 2) secondReal();
    return true;
  });
  const stranger = await attacker(server);
  const member = await attacker(server);
  t.after(async () => {
    stranger.socket.destroy();
    member.socket.destroy();
    await server.stop();
  });
  const junk = encodeFrame(new Uint8Array(1_000).fill(2));
  const authentic = encodeFrame(new Uint8Array(1_000).fill(1));
  member.socket.write(authentic);
  let sent = 0;
  while (sent <= 3 * LIMIT) {
    stranger.socket.write(junk);
    member.socket.write(junk);
    sent += junk.length;
  }
  await withTimeout(stranger.closed, 'the stranger closed', EVENT_TIMEOUT_MS);
  // The member sent as much junk after its authenticated message: its second one, after all of it, arrives.
  const arrived = new Promise<void>((resolve) => { secondReal = resolve; });
  member.socket.write(authentic);
  await withTimeout(arrived, "the member's second authenticated message, after its junk", EVENT_TIMEOUT_MS);
  assert.equal(member.isClosed(), false, 'the connection that authenticated stays open');
});

test('a frame whose length is above maxFrameBytes closes its connection, after the whole frames before it', async (t) => {
  const got: number[] = [];
  const server = await listener({ maxFrameBytes: 16 }, (m) => { got.push(m[0]!); return true; });
  const a = await attacker(server);
  t.after(async () => {
    a.socket.destroy();
    await server.stop();
  });
  const huge = Buffer.alloc(FRAME_HEADER_BYTES);
  huge.writeUInt32BE(0xffff_ffff, 0);
  a.socket.write(Buffer.concat([encodeFrame(Uint8Array.of(5)), huge]));
  await withTimeout(a.closed, 'the connection with the oversized frame closed', EVENT_TIMEOUT_MS);
  assert.deepEqual(got, [5]);
});

/**
 * A listener that completes no more handshakes: a child node process listening with a backlog of 1,
 * stopped (SIGSTOP) and its backlog filled, so the kernel drops further SYNs and a connect hangs.
 */
async function blackHole(t: { after(fn: () => unknown): void }): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ['-e',
    "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"],
  { stdio: ['ignore', 'pipe', 'ignore'] });
  const fillers: net.Socket[] = [];
  t.after(() => {
    for (const f of fillers) f.destroy();
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });
  const p = await withTimeout(new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim())))), 'black hole port', EVENT_TIMEOUT_MS);
  process.kill(child.pid!, 'SIGSTOP');
  // Fill the backlog until a connect does not complete: that one proves the hole.
  const FILL_ATTEMPTS = 8;
  const HANDSHAKE_MS = 300;
  for (let i = 0; i < FILL_ATTEMPTS; i++) {
    const s = net.connect(p, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), HANDSHAKE_MS);
      s.once('connect', () => { clearTimeout(timer); resolve(true); });
    });
    if (!connected) return p;
  }
  throw new Error(`the stopped listener still completed ${FILL_ATTEMPTS} handshakes`);
}

test('an outgoing connection that does not complete within connectTimeoutMs is given up, and retried only after reconnectDelayMs', async (t) => {
  const CONNECT_TIMEOUT_MS = 300;
  const hole = await blackHole(t);
  const sender = await listener({ connectTimeoutMs: CONNECT_TIMEOUT_MS, reconnectDelayMs: 60_000 });
  t.after(() => sender.stop());
  const to = `127.0.0.1:${hole}`;
  // While connecting, messages queue (send says true); once given up, the member counts as unreachable.
  assert.equal(sender.send(to, Uint8Array.of(1)), true);
  const startedAt = Date.now();
  // The transport announces no event for it: what send() says is what a node sees.
  await pollUntil(() => (sender.send(to, Uint8Array.of(1)) ? null : true), 'the hanging connect given up', EVENT_TIMEOUT_MS);
  const tookMs = Date.now() - startedAt;
  assert.ok(tookMs >= CONNECT_TIMEOUT_MS - 50, `given up after ${tookMs} ms, not before connectTimeoutMs`);
});
