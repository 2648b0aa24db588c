// `ledger verify --network` checks block 0 against the network's genesis block: a chain substituted for
// the real one (another network's, self-consistent and signed under its own genesis) passes the plain
// audit, and fails with --network naming block 0, exit code 1.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { TestRig, initNetwork, killAllProcesses, spawnCli } from '../helpers/processes.js';

after(killAllProcesses);

const CHANNEL = 'anchored';

async function verify(args: string[]): Promise<{ code: number | null; result: { ok: boolean; badBlock?: number; reason?: string; genesis?: string } }> {
  const p = spawnCli(['ledger', 'verify', ...args, '--json'], { name: 'ledger verify' });
  const e = await p.exited;
  return { code: e.code, result: JSON.parse(p.lines.at(-1) ?? 'null') as { ok: boolean } };
}

test('ledger verify --network: a substituted chain passes the plain audit and fails against the genesis', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const real = await initNetwork(join(root, 'real'), { boardsPerOrg: 1, channel: CHANNEL });
  const other = await initNetwork(join(root, 'other'), { boardsPerOrg: 1, channel: CHANNEL });
  const data = join(root, 'data');
  const ledger = openLedger(ledgerPath(data, CHANNEL), { channel: CHANNEL });
  ledger.append([new Uint8Array(readFileSync(join(other.dir, 'channels', CHANNEL, 'genesis.block')))], null, 0, 1);
  await ledger.close();

  const plain = await verify(['--data', data]);
  assert.equal(plain.code, 0);
  assert.equal(plain.result.ok, true);
  assert.equal(plain.result.genesis, undefined);
  const anchored = await verify(['--data', data, '--network', real.dir]);
  assert.equal(anchored.code, 1);
  assert.equal(anchored.result.ok, false);
  assert.equal(anchored.result.badBlock, 0);
  assert.match(anchored.result.reason!, /block 0 \(SHA-256 [0-9a-f]{64}\) is not the genesis block of channel 'anchored' in .* this is another chain/);
  const own = await verify(['--data', data, '--network', other.dir]);
  assert.deepEqual([own.code, own.result.ok, own.result.genesis], [0, true, 'checked']);
});
