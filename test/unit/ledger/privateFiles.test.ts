// Ledger files and the folders made for them are private to the user that runs the node
// (src/ledger/privateFiles.ts): a new ledger's folder is 0700 and its file and lock file 0600 whatever
// the umask; an existing ledger left world-readable by an older version is made 0600 by a writer.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ledgerPath, openLedger } from '../../../src/ledger/lmdbLedger.js';

const CHANNEL = 'private';
const mode = (path: string): number => statSync(path).mode & 0o777;

test('private files: a new ledger is 0700/0600 under a permissive umask; an old 0644 one is tightened on open', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'edgepeer-private-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const previous = process.umask(0o022);
  t.after(() => process.umask(previous));
  const dir = join(root, 'data');
  const path = ledgerPath(dir, CHANNEL);
  await openLedger(path, { channel: CHANNEL }).close();
  assert.equal(mode(dir).toString(8), '700');
  assert.equal(mode(path).toString(8), '600');
  assert.equal(mode(`${path}-lock`).toString(8), '600');
  assert.equal(process.umask(0o022), 0o022, 'the umask is restored');

  chmodSync(path, 0o644);
  chmodSync(`${path}-lock`, 0o664);
  await openLedger(path, { channel: CHANNEL }).close();
  assert.equal(mode(path).toString(8), '600');
  assert.equal(mode(`${path}-lock`).toString(8), '600');
});

test('private files: a ledger opened in a worker thread (which may not set the umask) is 0600 too', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'edgepeer-private-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const path = ledgerPath(join(root, 'data'), CHANNEL);
  const ledgerModule = new URL('../../../src/ledger/lmdbLedger.js', import.meta.url).href;
  const worker = new Worker(`
    const { workerData, parentPort } = require('node:worker_threads');
    import(workerData.ledgerModule)
      .then(async ({ openLedger }) => { await openLedger(workerData.path, { channel: workerData.channel }).close(); parentPort.postMessage('ok'); })
      .catch((err) => parentPort.postMessage(String(err && err.message)));
  `, { eval: true, workerData: { ledgerModule, path, channel: CHANNEL } });
  const answer = await new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  assert.equal(answer, 'ok');
  assert.equal(mode(path).toString(8), '600');
  assert.equal(mode(`${path}-lock`).toString(8), '600');
});
