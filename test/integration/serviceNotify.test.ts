// sd_notify for real: systemd-notify carrying READY=1, WATCHDOG=1 and STOPPING=1 to a unix datagram
// socket standing in for systemd's (test/helpers/notifySocket.ts), from the notifier alone and from an
// `edgepeer peer` process started the way systemd starts the unit (NOTIFY_SOCKET, WATCHDOG_USEC).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createServiceNotifier } from '../../src/platform/systemd.js';
import { notifyToolsMissing, startNotifySocket } from '../helpers/notifySocket.js';
import { TestRig, freePort, initNetwork, killAllProcesses, ledgerVerify } from '../helpers/processes.js';

after(killAllProcesses);

/** WatchdogSec=2s: pings every second; each must come before the period runs out. */
const WATCHDOG_USEC = 2_000_000;
const PING_MS = WATCHDOG_USEC / 1000 / 2;
/** Spawning systemd-notify and the listener's clock make arrivals a little early or late. */
const JITTER_MS = 200;

test('systemd-notify delivers READY=1 at once and WATCHDOG=1 every half watchdog period', async (t) => {
  const missing = await notifyToolsMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const sock = await startNotifySocket(rig.tempDir('edgepeer-notify-'));
    rig.defer(() => sock.stop());
    const n = createServiceNotifier({ log: { warn: () => undefined }, env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(WATCHDOG_USEC) } });
    rig.defer(() => n.close());
    await n.ready('test ready');
    const ready = await sock.waitFor('READY=1', 'READY');
    assert.ok(ready.fields.includes(`MAINPID=${process.pid}`), JSON.stringify(ready.fields));
    assert.ok(ready.fields.includes('STATUS=test ready'));
    const first = await sock.waitFor('WATCHDOG=1', 'the first ping');
    const i = sock.messages.indexOf(first);
    const second = await sock.waitFor('WATCHDOG=1', 'the second ping', { since: i + 1 });
    const gaps = [(first.at - ready.at) * 1000, (second.at - first.at) * 1000];
    for (const g of gaps) {
      assert.ok(g >= PING_MS - JITTER_MS, `a ping every ${PING_MS} ms, not sooner (gaps ${gaps.map(Math.round).join(', ')} ms)`);
      assert.ok(g < WATCHDOG_USEC / 1000, `each ping within WatchdogSec (gaps ${gaps.map(Math.round).join(', ')} ms)`);
    }
    await n.stopping('bye');
    await sock.waitFor('STOPPING=1', 'STOPPING');
  } finally {
    await rig.close();
  }
});

test('edgepeer peer under a service manager: READY=1 with its PID once started, watchdog pings, STOPPING=1 and a clean ledger on SIGTERM', async (t) => {
  const missing = await notifyToolsMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-notify-');
    const sock = await startNotifySocket(dir);
    rig.defer(() => sock.stop());
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 1 });
    // No orderer: READY does not wait for the link (a board must start while its orderer is away).
    const nobody = await freePort();
    const data = join(dir, 'data');
    const peer = rig.spawn(['peer', '--network', net, '--board', 'org1-board1', '--data', data, '--mqtt', `mqtt://127.0.0.1:${nobody}`], {
      name: 'peer', env: { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: String(WATCHDOG_USEC) },
    });
    const ready = await sock.waitFor('READY=1', 'READY from the peer');
    assert.ok(ready.fields.includes(`MAINPID=${peer.pid}`), `MAINPID names the peer itself: ${JSON.stringify(ready.fields)}`);
    assert.ok(ready.fields.some((f) => f.startsWith('STATUS=board org1-board1 ')), JSON.stringify(ready.fields));
    await sock.waitFor('WATCHDOG=1', 'a watchdog ping from the peer', { since: sock.messages.indexOf(ready) + 1 });
    await peer.stop();
    await sock.waitFor('STOPPING=1', 'STOPPING from the peer');
    assert.equal((await ledgerVerify(data)).ok, true);
  } finally {
    await rig.close();
  }
});
