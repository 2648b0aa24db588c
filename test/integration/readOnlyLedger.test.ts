// `ledger info` and `ledger verify` write nothing into the folder they inspect (src/ledger/readOnlyOpen.ts):
// every file's name, size, mode, modification time and bytes are the same after as before, with and
// without an LMDB lock file left beside the ledger; beside a running peer they still read (the shared way).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LOCK_FILE_SUFFIX } from '../../src/ledger/readOnlyOpen.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { TestRig, initNetwork, killAllProcesses, ledgerInfo, ledgerVerify, runCli } from '../helpers/processes.js';
import { makeTestChannel } from '../helpers/testChannel.js';

after(killAllProcesses);

const CHANNEL = 'readonly';
const BLOCKS = 300;

/** Everything about a folder's entries that a write would change. */
function snapshot(dir: string): string[] {
  return readdirSync(dir).sort().map((name) => {
    const st = statSync(join(dir, name), { bigint: true });
    const bytes = st.isFile() ? createHash('sha256').update(readFileSync(join(dir, name))).digest('hex') : '-';
    return `${name} size=${st.size} mode=${(st.mode & 0o7777n).toString(8)} mtime=${st.mtimeNs} ctime=${st.ctimeNs} ${bytes}`;
  });
}

test('read-only commands: ledger info and verify leave the folder exactly as it was', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const dir = join(rig.tempDir(), 'data');
  const path = ledgerPath(dir, CHANNEL);
  const ch = makeTestChannel({ channel: CHANNEL });
  const ledger = openLedger(path, { channel: CHANNEL });
  ledger.append([ch.genesis, ...ch.chain(BLOCKS)], null, 0, BLOCKS + 1);
  await ledger.close();

  for (const withLockFile of [true, false]) {
    if (!withLockFile) rmSync(`${path}${LOCK_FILE_SUFFIX}`);
    const before = snapshot(dir);
    const info = await ledgerInfo(dir);
    assert.equal(info.height, BLOCKS + 1);
    const v = await ledgerVerify(dir);
    assert.equal(v.ok, true, JSON.stringify(v));
    await runCli(['ledger', 'info', '--data', dir]);
    assert.deepEqual(snapshot(dir), before, `${withLockFile ? 'with' : 'without'} a lock file, nothing in ${dir} changed`);
  }
});

test('read-only commands: beside a running peer they read its ledger', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1 });
  const { proc: orderer, ready } = await rig.orderer(['--network', net.dir, '--data', join(root, 'orderer'), '--mqtt-port', '0']);
  const data = join(root, 'peer');
  const peer = rig.spawn(['peer', '--network', net.dir, '--board', net.boards[0]!.id, '--data', data, '--mqtt', ready.mqtt], { name: 'peer' });
  await peer.waitForLine((l) => l.includes('deliver=streaming'), 'the peer streaming');
  const info = await ledgerInfo(data);
  assert.equal(info.height, 1);
  assert.equal((await ledgerVerify(data)).ok, true);
  await peer.stop();
  await orderer.stop();
});
