import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type NotifyFields, createServiceNotifier, watchdogIntervalMs } from '../../../src/platform/systemd.js';
import { EVENT_WAIT_LIMIT_MS, drainImmediates } from '../../helpers/fakes.js';
import { pollUntil } from '../../helpers/wait.js';

const quietLog = { warn: () => undefined };

function recorder(): { sent: string[][]; send: (f: NotifyFields) => Promise<void> } {
  const sent: string[][] = [];
  return { sent, send: async (f) => { sent.push(f.map(([k, v]) => `${k}=${v}`)); } };
}

test('the watchdog period is half of WATCHDOG_USEC, and only for this process', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42), 15_000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), null, 'inherited from a parent');
  assert.equal(watchdogIntervalMs({}, 42), null);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42), null);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '-5' }, 42), null);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42), null);
});

test('without NOTIFY_SOCKET the notifier does nothing', async () => {
  const r = recorder();
  const n = createServiceNotifier({ log: quietLog, env: { WATCHDOG_USEC: '1000' }, send: r.send });
  assert.equal(n.active, false);
  await n.ready('up');
  await n.stopping('down');
  n.close();
  assert.deepEqual(r.sent, []);
});

test('READY carries MAINPID and STATUS; WATCHDOG follows every half period until STOPPING', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const env = { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' };
  // No ping before half the period: STOPPING goes through the same ordered queue, so a ping the timer
  // had started would be sent before it.
  const early = recorder();
  const e = createServiceNotifier({ log: quietLog, env, pid: 1234, send: early.send });
  await e.ready('up');
  t.mock.timers.tick(14_999);
  await e.stopping('stopping early');
  assert.deepEqual(early.sent.map((m) => m[0]), ['READY=1', 'STOPPING=1'], 'no ping before half the period');
  e.close();

  const r = recorder();
  const n = createServiceNotifier({ log: quietLog, env, pid: 1234, send: r.send });
  assert.equal(n.watchdogIntervalMs, 15_000);
  await n.ready('board b1\nheight 7');
  assert.deepEqual(r.sent, [['READY=1', 'MAINPID=1234', 'STATUS=board b1 height 7']]);
  t.mock.timers.tick(15_000);
  await pollUntil(() => (r.sent.length === 2 ? true : null), 'the first ping', EVENT_WAIT_LIMIT_MS);
  t.mock.timers.tick(15_000);
  await pollUntil(() => (r.sent.length === 3 ? true : null), 'the second ping', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(r.sent.slice(1), [['WATCHDOG=1'], ['WATCHDOG=1']]);

  await n.stopping('stopping on SIGTERM');
  t.mock.timers.tick(60_000);
  // Nothing can follow STOPPING to witness the silence. A ping is enqueued inside tick() and, the queue
  // being idle, reaches send() through promise callbacks only, all of which run before the next immediate.
  await drainImmediates(1);
  assert.deepEqual(r.sent.slice(3), [['STOPPING=1', 'STATUS=stopping on SIGTERM']], 'no ping after STOPPING');
  n.close();
});

test('no watchdog pings when systemd asked for none; a failed message is logged, not thrown', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const warnings: string[] = [];
  const n = createServiceNotifier({
    log: { warn: (f: Record<string, unknown> | string) => { warnings.push(JSON.stringify(f)); } },
    env: { NOTIFY_SOCKET: '/run/x' },
    send: async () => { throw new Error('systemd-notify: spawn systemd-notify ENOENT'); },
  });
  assert.equal(n.watchdogIntervalMs, null);
  await n.ready('up');
  t.mock.timers.tick(3_600_000);
  // STOPPING goes through the same ordered queue and fails too: a ping started before it would be logged before it.
  await n.stopping('down');
  assert.deepEqual(warnings.map((w) => (JSON.parse(w) as { message: string }).message), ['READY,MAINPID,STATUS', 'STOPPING,STATUS'],
    'the READY failure, no pings, then the STOPPING failure');
  assert.match(warnings[0]!, /ENOENT/);
  n.close();
});
