import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type NotifyFields, createServiceNotifier, watchdogIntervalMs } from '../../src/platform/systemd.js';

const quietLog = { warn: () => undefined };

/** Lets queued promise callbacks (the notifier's message queue) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

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
  const r = recorder();
  const n = createServiceNotifier({
    log: quietLog, env: { NOTIFY_SOCKET: '/run/x', WATCHDOG_USEC: '30000000' }, pid: 1234, send: r.send,
  });
  assert.equal(n.watchdogIntervalMs, 15_000);
  await n.ready('board b1\nheight 7');
  assert.deepEqual(r.sent, [['READY=1', 'MAINPID=1234', 'STATUS=board b1 height 7']]);

  t.mock.timers.tick(14_999);
  await settle();
  assert.equal(r.sent.length, 1, 'no ping before half the period');
  t.mock.timers.tick(1);
  await settle();
  t.mock.timers.tick(15_000);
  await settle();
  assert.deepEqual(r.sent.slice(1), [['WATCHDOG=1'], ['WATCHDOG=1']]);

  await n.stopping('stopping on SIGTERM');
  t.mock.timers.tick(60_000);
  await settle();
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
  await settle();
  assert.equal(warnings.length, 1, 'the READY failure, and no pings');
  assert.match(warnings[0]!, /ENOENT/);
  n.close();
});
