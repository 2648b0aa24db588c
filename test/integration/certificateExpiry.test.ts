// A real orderer process whose certificate ends in 15 days says so at start, on stderr and on its
// metrics (src/observability/certificateExpiry.ts): the network is made 350 days in the past.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createNetwork } from '../../src/network/createNetwork.js';
import { DAY_MS } from '../../src/observability/certificateExpiry.js';
import { certificateValidityMs } from '../../src/network/networkDefaults.js';
import { TestRig, freePort, killAllProcesses, readMetric } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';

const DAYS_LEFT = 15;

after(killAllProcesses);

test('an orderer whose certificate ends in 15 days warns at start and exports the end date', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const madeAtMs = Date.now() - certificateValidityMs + DAYS_LEFT * DAY_MS;
  const net = await createNetwork({ dir: join(root, 'network'), channels: ['expiry'], orgs: 1, boardsPerOrg: 1, nowMs: madeAtMs });
  let sawWarning: (fields: Record<string, unknown>) => void = () => undefined;
  const warned = new Promise<Record<string, unknown>>((resolve) => { sawWarning = resolve; });
  const metricsPort = await freePort();
  await rig.orderer(['--network', net.dir, '--data', join(root, 'orderer'), '--mqtt-port', String(await freePort()), '--metrics-port', String(metricsPort)], {
    onStderrLine: (line) => {
      if (line.includes('own certificate expires soon')) sawWarning(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const fields = await withTimeout(warned, 'the expiry warning on stderr');
  assert.equal(fields['daysLeft'], DAYS_LEFT - 1, 'whole days left, rounded down');
  const notAfterS = await readMetric(metricsPort, 'edgepeer_certificate_not_after_seconds');
  assert.equal(notAfterS, Math.floor((madeAtMs + certificateValidityMs) / 1000));
  assert.equal(new Date(String(fields['notAfter'])).getTime(), madeAtMs + certificateValidityMs);
});
