// One process per data folder (src/ledger/dataLock.ts): a second lock on a folder is refused with the
// holder's pid, the kernel frees the lock of a SIGKILLed holder at once, and a second `edgepeer orderer`
// or `edgepeer peer` on the same --data exits non-zero with that message while the first keeps serving.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DataFolderInUseError, dataFolderHolder, lockDataFolder } from '../../src/ledger/dataLock.js';
import { TestRig, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';

after(killAllProcesses);

const CHILD_HOLD_SCRIPT = `
  const { lockDataFolder } = await import(process.argv[1]);
  await lockDataFolder(process.argv[2], 'test holder');
  process.stdout.write('locked\\n');
  setInterval(() => undefined, 1000);
`;
const DATA_LOCK_MODULE = fileURLToPath(new URL('../../src/ledger/dataLock.js', import.meta.url));

test('data lock: a second lock on a folder is refused naming the holder; released, it can be taken again', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const dir = join(rig.tempDir(), 'data');
  assert.equal(await dataFolderHolder(dir), null, 'a folder that does not exist has no holder');
  const first = await lockDataFolder(dir, 'edgepeer test');
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'the data folder is made private to its user');
  await assert.rejects(lockDataFolder(dir, 'edgepeer second'), (err: unknown) => {
    assert.ok(err instanceof DataFolderInUseError);
    assert.match(err.message, new RegExp(`in use by pid ${process.pid} \\(edgepeer test, since `));
    return true;
  });
  const holder = await dataFolderHolder(dir);
  assert.ok(holder !== null && holder !== 'unknown' && holder.pid === process.pid);
  await first.release();
  assert.equal(await dataFolderHolder(dir), null);
  const again = await lockDataFolder(dir, 'edgepeer again');
  await again.release();
});

test('data lock: the kernel frees the lock of a holder killed with SIGKILL', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const dir = join(rig.tempDir(), 'data');
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD_HOLD_SCRIPT, DATA_LOCK_MODULE, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  rig.defer(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  await withTimeout(new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve(); })), 'the child holding the lock');
  await assert.rejects(lockDataFolder(dir, 'edgepeer test'), new RegExp(`in use by pid ${child.pid} \\(test holder`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
  const lock = await lockDataFolder(dir, 'edgepeer test');
  await lock.release();
});

test('data lock: a second orderer and a second peer on the same --data exit non-zero naming the first', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1 });
  const ordererData = join(root, 'orderer');
  const { proc: orderer, ready } = await rig.orderer(['--network', net.dir, '--data', ordererData, '--mqtt-port', '0']);
  const second = rig.spawn(['orderer', '--network', net.dir, '--data', ordererData, '--mqtt-port', '0'], { name: 'second orderer' });
  const e = await withTimeout(second.exited, 'the second orderer to exit');
  assert.equal(e.code, 1, second.describe());
  assert.match(second.stderr, new RegExp(`error: data folder ${ordererData} is in use by pid ${orderer.pid} \\(edgepeer orderer`));
  assert.ok(orderer.running, 'the first orderer still runs');

  const board = net.boards[0]!.id;
  const peerData = join(root, 'peer');
  const peerArgs = ['peer', '--network', net.dir, '--board', board, '--data', peerData, '--mqtt', ready.mqtt];
  const peer = rig.spawn(peerArgs, { name: 'peer' });
  await peer.waitForLine((l) => l.includes('height='), 'a status line');
  const secondPeer = rig.spawn(peerArgs, { name: 'second peer' });
  const pe = await withTimeout(secondPeer.exited, 'the second peer to exit');
  assert.equal(pe.code, 1, secondPeer.describe());
  assert.match(secondPeer.stderr, new RegExp(`in use by pid ${peer.pid} \\(edgepeer peer ${board}`));
  assert.ok(peer.running, 'the first peer still runs');
  await peer.stop();
  await orderer.stop();
});
