// A tty that hangs up (a USB adapter pulled, a PTY whose other side closed) with the real serialport
// bindings over socat PTY pairs. The read of such a tty returns 0 bytes; bindings-cpp 13 read it again
// for ever, so the port never reported the loss (most pulls went unnoticed). Each pull here must be seen
// as a lost device and the port reopened, with bytes flowing again, every time.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type PortState, ManagedSerialPort } from '../../src/transport/serial/managedPort.js';
import { ptyDir, ptyPair, socatMissing, stopAllPtyPairs } from '../helpers/pty.js';
import { withTimeout } from '../helpers/wait.js';

/** Before the fix about nine pulls in ten hung: twenty in a row cannot all pass by luck. */
const PULLS = 20;
const FAST_REOPEN = { baseDelayMs: 20, maxDelayMs: 100 };
const NOTICE_TIMEOUT_MS = 5_000;

after(stopAllPtyPairs);

/** A managed port whose states and received bytes a test can await. */
function watchedPort(path: string): {
  port: ManagedSerialPort;
  details: string[];
  untilOpen(): Promise<void>;
  untilState(state: PortState, since: number): Promise<string>;
  untilReceived(text: string): Promise<void>;
} {
  const log: { state: PortState; detail: string }[] = [];
  const details: string[] = [];
  let received = '';
  const waiters = new Set<() => void>();
  const wake = (): void => { for (const w of [...waiters]) w(); };
  const until = (done: () => boolean): Promise<void> => new Promise((resolve) => {
    const check = (): void => {
      if (!done()) return;
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
    check();
  });
  const port = new ManagedSerialPort({
    port: { path, baudRate: 115_200 },
    reopen: FAST_REOPEN,
    onData: (chunk) => { received += chunk.toString('latin1'); wake(); },
    onState: (state, detail) => { log.push({ state, detail }); details.push(`${state}: ${detail}`); wake(); },
  });
  return {
    port,
    details,
    untilOpen: () => until(() => port.state === 'open'),
    untilState: async (state, since) => {
      await until(() => log.slice(since).some((e) => e.state === state));
      return log.slice(since).find((e) => e.state === state)!.detail;
    },
    untilReceived: (text) => until(() => received.includes(text)),
  };
}

test(`a hung-up PTY is a lost device: ${PULLS} pulls in a row are each noticed, reopened, and carry bytes again`, async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const tmp = ptyDir();
  t.after(() => tmp.remove());
  let pair = await ptyPair(tmp.dir, 'board', 'host');
  const board = watchedPort(`${tmp.dir}/board`);
  const host = watchedPort(`${tmp.dir}/host`);
  t.after(() => Promise.all([board.port.close(), host.port.close()]));
  board.port.start();
  host.port.start();

  for (let pull = 0; pull < PULLS; pull += 1) {
    const mark = board.details.length;
    await withTimeout(Promise.all([board.untilOpen(), host.untilOpen()]), `both ends open (pull ${pull})`);
    await host.port.write(Buffer.from(`ping ${pull};`));
    await withTimeout(board.untilReceived(`ping ${pull};`), `ping ${pull} read by the board`);

    const beforePull = board.details.length;
    await pair.stop();
    const lost = await withTimeout(board.untilState('backoff', beforePull),
      `the board's port noticing pull ${pull} (states: ${board.details.slice(mark).join(' | ')})`, NOTICE_TIMEOUT_MS);
    assert.match(lost, /^\S.*; retrying in \d+ ms$/, `pull ${pull}: the reason is given`);
    pair = await ptyPair(tmp.dir, 'board', 'host');
  }
  await withTimeout(Promise.all([board.untilOpen(), host.untilOpen()]), 'both ends open after the last pull');
  await host.port.write(Buffer.from('last;'));
  await withTimeout(board.untilReceived('last;'), 'bytes after the last reopen');
  assert.equal(board.port.reopens, PULLS, 'every pull was one loss and one reopen');
  await pair.stop();
});
