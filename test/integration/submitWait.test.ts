// `edgepeer submit --wait` (docs/protocol.md §10): a Broadcast SUCCESS means "ordered", not "in a block";
// --wait reads the chain until every accepted transaction is in a block. With a batch that is cut by its
// timeout it reports them all in blocks; with a batch that is never cut in the wait (a long timeout, not
// full) it reports none, and exits 1, although every one was answered SUCCESS.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TestRig, freePort, initNetwork, killAllProcesses, ledgerInfo } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';

after(killAllProcesses);

const TX = 25;
const SHORT_BATCH_TIMEOUT_MS = 200;
/** Longer than the test: the batch of TX (below maxMessageCount) is never cut while submit waits. */
const LONG_BATCH_TIMEOUT_MS = 600_000;
const WAIT_TIMEOUT_MS = 2_000;
/** Process start-up under load on top of the wait. */
const START_SLACK_MS = 15_000;

async function orderedNetwork(rig: TestRig, batchTimeoutMs: number): Promise<{ dir: string; url: string; data: string }> {
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1, maxMessageCount: 100, batchTimeoutMs });
  const port = await freePort();
  const data = join(root, 'orderer');
  await rig.orderer(['--network', net.dir, '--data', data, '--mqtt-port', String(port)]);
  return { dir: net.dir, url: `mqtt://127.0.0.1:${port}`, data };
}

function submitWait(rig: TestRig, n: { dir: string; url: string }): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const p = rig.spawn(['submit', '--network', n.dir, '--mqtt', n.url, '--count', String(TX), '--size', '32', '--wait', '--wait-timeout-ms', String(WAIT_TIMEOUT_MS), '--json']);
  return withTimeout(p.exited, 'submit --wait to end', WAIT_TIMEOUT_MS + START_SLACK_MS).then((e) => ({
    code: e.code, result: JSON.parse(p.lines.at(-1) ?? '{}') as Record<string, unknown>, stderr: p.stderr,
  }));
}

test('submit --wait: every accepted transaction is found in a block once its batch is cut', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const n = await orderedNetwork(rig, SHORT_BATCH_TIMEOUT_MS);
  const r = await submitWait(rig, n);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.result['accepted'], TX);
  assert.equal(r.result['inBlocks'], TX);
  assert.ok((await ledgerInfo(n.data)).height >= 2, 'a block was cut');
});

test('submit --wait: transactions answered SUCCESS whose batch is not cut yet are not in a block, and it says so (exit 1)', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const n = await orderedNetwork(rig, LONG_BATCH_TIMEOUT_MS);
  const r = await submitWait(rig, n);
  assert.equal(r.code, 1);
  assert.equal(r.result['accepted'], TX, 'every transaction was answered SUCCESS');
  assert.equal(r.result['inBlocks'], 0, 'none is in a block: SUCCESS means ordered');
});
