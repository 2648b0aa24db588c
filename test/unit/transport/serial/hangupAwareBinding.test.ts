// serialport's binding with hung-up ttys reported (src/transport/serial/hangupAwareBinding.ts): the reads
// run on real descriptors (a FIFO opened non-blocking, a regular file at its end) under a stand-in of
// bindings-cpp's Unix port (its fd and poller): data is passed through, EAGAIN waits for the poller, a
// 0-byte read is a disconnect (SerialHangupError) instead of a read again at once for ever, a port closed
// while waiting ends the read as cancelled, other errors pass as they are; ports that are not Unix
// descriptors are not wrapped. The real thing on a PTY: test/integration/serialHangup.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
// The package's "exports" give types only to require() (as in the module under test).
import type { BindingInterface, BindingPortInterface, OpenOptions } from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };
import { SerialHangupError, hangupAwareBinding } from '../../../../src/transport/serial/hangupAwareBinding.js';

const PATH = '/dev/ttyTEST0';
const OPEN: OpenOptions = { path: PATH, baudRate: 115_200 };

/** bindings-cpp's Unix port as far as the wrapper uses it: an fd, a poller, and the calls it delegates. */
class StandInUnixPort extends EventEmitter {
  readonly poller = new EventEmitter();
  readonly delegated: string[] = [];
  readonly openOptions = { ...OPEN } as BindingPortInterface['openOptions'];
  isOpen = true;
  constructor(public fd: number | null) {
    super();
  }

  close(): Promise<void> { this.delegated.push('close'); this.isOpen = false; return Promise.resolve(); }
  write(): Promise<void> { this.delegated.push('write'); return Promise.resolve(); }
  update(): Promise<void> { this.delegated.push('update'); return Promise.resolve(); }
  set(): Promise<void> { this.delegated.push('set'); return Promise.resolve(); }
  get(): Promise<{ cts: boolean; dsr: boolean; dcd: boolean }> { this.delegated.push('get'); return Promise.resolve({ cts: true, dsr: false, dcd: false }); }
  getBaudRate(): Promise<{ baudRate: number }> { this.delegated.push('getBaudRate'); return Promise.resolve({ baudRate: 115_200 }); }
  flush(): Promise<void> { this.delegated.push('flush'); return Promise.resolve(); }
  drain(): Promise<void> { this.delegated.push('drain'); return Promise.resolve(); }
  read(): Promise<{ buffer: Buffer; bytesRead: number }> { throw new Error('the wrapper reads the fd itself'); }
}

function baseOpening(port: object): BindingInterface {
  return { list: () => Promise.resolve([]), open: () => Promise.resolve(port as BindingPortInterface) } as unknown as BindingInterface;
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-hangup-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A FIFO with its read end open non-blocking (as a tty's) and its write end open. */
function fifo(t: { after(fn: () => void): void }): { readFd: number; writeFd: number } {
  const path = join(tempDir(t), 'tty.fifo');
  execFileSync('mkfifo', [path]);
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY);
  t.after(() => { closeSync(readFd); closeSync(writeFd); });
  return { readFd, writeFd };
}

const read = (port: BindingPortInterface, bytes = 16): Promise<{ buffer: Buffer; bytesRead: number }> => port.read(Buffer.alloc(bytes), 0, bytes);

test('data on the descriptor is read through; a read that returns 0 bytes (end of file, a hung-up tty) is a disconnect', async (t) => {
  const path = join(tempDir(t), 'bytes');
  writeFileSync(path, 'abc');
  const fd = openSync(path, 'r');
  t.after(() => closeSync(fd));
  const port = await hangupAwareBinding(baseOpening(new StandInUnixPort(fd))).open(OPEN);
  const first = await read(port);
  assert.equal(first.buffer.subarray(0, first.bytesRead).toString(), 'abc');
  await assert.rejects(read(port), (e: unknown) => e instanceof SerialHangupError && e.disconnect && e.code === 'EHANGUP'
    && e.message === `${PATH} hung up (the device went away or the other end closed)`);
});

test('nothing to read yet (EAGAIN): the read waits for the poller, then reads what came', async (t) => {
  const { readFd, writeFd } = fifo(t);
  const inner = new StandInUnixPort(readFd);
  const port = await hangupAwareBinding(baseOpening(inner)).open(OPEN);
  const pending = read(port);
  // The wrapper asks the poller once the descriptor said EAGAIN.
  await new Promise<void>((resolve) => inner.poller.on('newListener', () => resolve()));
  writeSync(writeFd, 'xyz');
  inner.poller.emit('readable', null);
  const got = await pending;
  assert.equal(got.buffer.subarray(0, got.bytesRead).toString(), 'xyz');
});

test('a poller error ends the read with it; a port closed while the read waited ends it as cancelled, not as a disconnect', async (t) => {
  const { readFd } = fifo(t);
  const inner = new StandInUnixPort(readFd);
  const port = await hangupAwareBinding(baseOpening(inner)).open(OPEN);
  const failing = read(port);
  await new Promise<void>((resolve) => inner.poller.once('newListener', () => resolve()));
  inner.poller.emit('readable', new Error('poll failed'));
  await assert.rejects(failing, /^Error: poll failed$/);

  const closing = read(port);
  await new Promise<void>((resolve) => inner.poller.once('newListener', () => resolve()));
  // bindings-cpp's close sets fd to null, then the poller fires.
  inner.fd = null;
  inner.poller.emit('readable', null);
  await assert.rejects(closing, (e: unknown) => (e as { canceled?: boolean }).canceled === true && !(e instanceof SerialHangupError));
  await assert.rejects(read(port), (e: unknown) => (e as { canceled?: boolean }).canceled === true, 'a read on a closed port');
});

test('a port closed while its read was in flight (EAGAIN on the way back) ends the read as cancelled, without waiting for the poller', async (t) => {
  const { readFd } = fifo(t);
  const inner = new StandInUnixPort(readFd);
  const port = await hangupAwareBinding(baseOpening(inner)).open(OPEN);
  let polled = false;
  inner.poller.on('newListener', () => { polled = true; });
  const inFlight = read(port);
  // Closed now: the read already took the descriptor and is on its way to EAGAIN.
  inner.fd = null;
  await assert.rejects(inFlight, (e: unknown) => (e as { canceled?: boolean }).canceled === true);
  assert.equal(polled, false);
});

test('other read errors pass as they are (EBADF from a descriptor already closed)', async (t) => {
  const path = join(tempDir(t), 'gone');
  writeFileSync(path, 'x');
  const fd = openSync(path, 'r');
  closeSync(fd);
  const port = await hangupAwareBinding(baseOpening(new StandInUnixPort(fd))).open(OPEN);
  await assert.rejects(read(port), (e: unknown) => (e as NodeJS.ErrnoException).code === 'EBADF');
});

test('the other calls go to the inner port; a port that is not a Unix descriptor is returned unwrapped; list is the base\'s', async () => {
  const inner = new StandInUnixPort(-1);
  const binding = hangupAwareBinding(baseOpening(inner));
  const port = await binding.open(OPEN);
  assert.notEqual(port, inner as unknown as BindingPortInterface);
  assert.equal(port.isOpen, true);
  assert.deepEqual(port.openOptions, inner.openOptions);
  await port.write(Buffer.from('a'));
  await port.update({ baudRate: 9_600 });
  await port.set({});
  assert.deepEqual(await port.get(), { cts: true, dsr: false, dcd: false });
  assert.deepEqual(await port.getBaudRate(), { baudRate: 115_200 });
  await port.flush();
  await port.drain();
  await port.close();
  assert.deepEqual(inner.delegated, ['write', 'update', 'set', 'get', 'getBaudRate', 'flush', 'drain', 'close']);
  assert.equal(port.isOpen, false);
  // A port without fd and poller (a mock, Windows): as it is.
  const plain = { isOpen: true, read: () => Promise.resolve({ buffer: Buffer.alloc(0), bytesRead: 0 }) };
  assert.equal(await hangupAwareBinding(baseOpening(plain)).open(OPEN), plain);
  assert.deepEqual(await binding.list(), []);
});
