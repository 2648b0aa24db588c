// Every network wait of the CLI has a deadline and says why (issue 12 §5): `submit` with no broker
// exits 1 within its --connect-timeout-ms naming the URL and the reason; `console` on a port that does
// not exist exits 1 within its --open-timeout-ms naming the port and the reason; a peer whose orderer
// cannot be reached warns at the default log level with the reason, once per interval, not once per retry.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRig, freePort, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';

after(killAllProcesses);

const CONNECT_TIMEOUT_MS = 1_500;
/** Process start-up (module loading under load) on top of the deadline. */
const START_SLACK_MS = 8_000;
/** The peer's reconnect period is 1 s: this many seconds give several failed attempts, and one warning. */
const PEER_WATCH_MS = 4_000;

test('deadlines: submit with no broker exits 1 within its connect timeout, naming the URL and why', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const net = await initNetwork(join(rig.tempDir(), 'network'), { boardsPerOrg: 1 });
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const p = rig.spawn(['submit', '--network', net.dir, '--mqtt', url, '--count', '1', '--size', '8', '--connect-timeout-ms', String(CONNECT_TIMEOUT_MS)]);
  const e = await withTimeout(p.exited, 'submit to give up', CONNECT_TIMEOUT_MS + START_SLACK_MS);
  assert.equal(e.code, 1, p.describe());
  assert.ok(Date.now() - started >= CONNECT_TIMEOUT_MS);
  assert.match(p.stderr, new RegExp(`error: no MQTT broker answered at ${url} within ${CONNECT_TIMEOUT_MS} ms \\(.*ECONNREFUSED.*\\)`));
});

test('deadlines: console on a port that does not exist exits 1 within its open timeout, naming it and why', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const p = rig.spawn(['console', '/dev/nonexistent-edgepeer', '--plain', '--open-timeout-ms', String(CONNECT_TIMEOUT_MS)]);
  const e = await withTimeout(p.exited, 'console to give up', CONNECT_TIMEOUT_MS + START_SLACK_MS);
  assert.equal(e.code, 1, p.describe());
  assert.match(p.stderr, /error: console port \/dev\/nonexistent-edgepeer did not open within 1500 ms \(.*(ENOENT|No such file).*\)/);
});

test('deadlines: a peer whose orderer is unreachable warns at the default level with the reason, rate-limited', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1 });
  const url = `mqtt://127.0.0.1:${await freePort()}`;
  const warnings: string[] = [];
  const peer = rig.spawn(['peer', '--network', net.dir, '--board', net.boards[0]!.id, '--data', join(root, 'peer'), '--mqtt', url], {
    logLevel: 'info', onStderrLine: (l) => { if (l.includes('orderer endpoint unreachable')) warnings.push(l); },
  });
  await peer.waitForLine((l) => l.includes('height='), 'a first status line');
  await new Promise((r) => setTimeout(r, PEER_WATCH_MS));
  assert.ok(warnings.length >= 1, `a warning about ${url}\n${peer.describe()}`);
  const first = JSON.parse(warnings[0]!) as { level: number; endpoint: string; err: string };
  assert.equal(first.level, 40, 'warn level');
  assert.equal(first.endpoint, url);
  assert.match(first.err, /ECONNREFUSED/);
  assert.equal(warnings.length, 1, `one warning per ${PEER_WATCH_MS} ms watch, not one per reconnect: ${warnings.join('\n')}`);
  await peer.stop();
});
