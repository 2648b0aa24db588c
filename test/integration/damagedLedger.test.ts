// A damaged ledger file is one line naming the file, never a signal (src/ledger/fileCheck.ts): an empty,
// random, truncated or wrong-version .mdb given to `ledger info`, `ledger verify` and `peer`; and the
// check passes every ledger LMDB itself wrote, a fresh one and a grown one.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkLedgerFile } from '../../src/ledger/fileCheck.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { TestRig, initNetwork, killAllProcesses } from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';
import { makeTestChannel } from '../helpers/testChannel.js';

after(killAllProcesses);

const CHANNEL = 'damage';
/** Enough blocks that the file spans many pages, so a cut through it lands below its last page. */
const BLOCKS = 2_000;

type Damage = { name: string; apply(path: string, good: string): void; writerStarts?: boolean };

const PAGE_BYTES = 4096;
const damages: Damage[] = [
  { name: 'empty', apply: (p) => writeFileSync(p, new Uint8Array(0)), writerStarts: true },
  { name: 'random bytes', apply: (p) => writeFileSync(p, randomBytes(32 * PAGE_BYTES)) },
  { name: 'a few random bytes', apply: (p) => writeFileSync(p, randomBytes(100)) },
  { name: 'truncated inside its pages', apply: (p, good) => { copyFileSync(good, p); truncateSync(p, 20_000); } },
  { name: 'truncated to its first page', apply: (p, good) => { copyFileSync(good, p); truncateSync(p, PAGE_BYTES); } },
  {
    name: 'meta page 1 overwritten', apply: (p, good) => {
      const b = readFileSync(good);
      b.set(randomBytes(PAGE_BYTES), PAGE_BYTES);
      writeFileSync(p, b);
    },
  },
  {
    name: 'another LMDB data version', apply: (p, good) => {
      const b = readFileSync(good);
      b.writeUInt32LE(1, 28);
      b.writeUInt32LE(1, PAGE_BYTES + 28);
      writeFileSync(p, b);
    },
  },
];

test('file check: a ledger LMDB wrote passes, fresh and grown, and its transaction id moves with commits', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const path = ledgerPath(rig.tempDir(), CHANNEL);
  assert.deepEqual(checkLedgerFile(path, { readOnly: false }), { missing: true, empty: false, txnId: 0 });
  assert.deepEqual(checkLedgerFile(path, { readOnly: true }), { missing: true, empty: false, txnId: 0 });
  const ch = makeTestChannel({ channel: CHANNEL });
  const ledger = openLedger(path, { channel: CHANNEL });
  const fresh = checkLedgerFile(path, { readOnly: true });
  ledger.append([ch.genesis, ...ch.chain(BLOCKS)], null, 0, BLOCKS + 1);
  const grown = checkLedgerFile(path, { readOnly: true });
  assert.ok(grown.txnId > fresh.txnId, `transaction id ${fresh.txnId} -> ${grown.txnId}`);
  await ledger.close();
});

test('file check: a damaged ledger file is one line naming it for ledger info, ledger verify and peer, never a signal', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1, channel: CHANNEL });
  const board = net.boards[0]!.id;
  // A good ledger of this network's channel, grown over many pages, to damage copies of.
  const goodDir = join(root, 'good');
  const good = ledgerPath(goodDir, CHANNEL);
  const ch = makeTestChannel({ channel: CHANNEL });
  const ledger = openLedger(good, { channel: CHANNEL });
  ledger.append([ch.genesis, ...ch.chain(BLOCKS)], null, 0, BLOCKS + 1);
  await ledger.close();

  for (const [i, d] of damages.entries()) {
    const dir = join(root, `d${i}`);
    mkdirSync(dir);
    const path = ledgerPath(dir, CHANNEL);
    d.apply(path, good);
    const oneLine = new RegExp(`^error: ledger file ${path} is damaged: .+$`);
    for (const args of [['ledger', 'info', '--data', dir], ['ledger', 'verify', '--data', dir]]) {
      const p = rig.spawn(args, { name: `${args.slice(0, 2).join(' ')} (${d.name})` });
      const e = await withTimeout(p.exited, `${p.name} to exit`);
      assert.deepEqual(e, { code: 1, signal: null }, p.describe());
      assert.equal(p.stderrLines.length, 1, p.describe());
      assert.match(p.stderrLines[0]!, oneLine, p.describe());
    }
    if (d.writerStarts === true) continue;
    const peer = rig.spawn(['peer', '--network', net.dir, '--board', board, '--data', dir, '--mqtt', 'mqtt://127.0.0.1:1'], { name: `peer (${d.name})` });
    const e = await withTimeout(peer.exited, `${peer.name} to exit`);
    assert.deepEqual(e, { code: 1, signal: null }, peer.describe());
    assert.ok(peer.stderrLines.some((l) => l.startsWith(`error: ledger file ${path} is damaged: `)), peer.describe());
  }
});
