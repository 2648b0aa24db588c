// Ledger files and the folders made for them are private to the user that runs the node
// (src/ledger/privateFiles.ts): a new ledger's folder is 0700 and its file and lock file 0600 whatever
// the umask; an existing ledger left world-readable by an older version is made 0600 by a writer.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';

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
