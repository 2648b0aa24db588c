// The commit loop over a real LMDB ledger: runs go to the ledger's writer thread one at a time, blocks
// that become ready during a commit go as the next run, a run leaves the payload buffer only once it is
// durable, and a refused run stops the loop for good.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { blockHash } from '../../../src/protocol/blockHash.js';
import { ledgerPath, openLedger, type LmdbLedger } from '../../../src/ledger/lmdbLedger.js';
import { Committer } from '../../../src/peer/committer.js';
import { PayloadBuffer } from '../../../src/peer/payloadBuffer.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'commitchannel';
let root: string;
let dirs = 0;
before(() => { root = mkdtempSync(join(tmpdir(), 'edgepeer-committer-')); });
after(() => { rmSync(root, { recursive: true, force: true }); });

function setUp(maxRunBlocks: number): {
  ledger: LmdbLedger; buffer: PayloadBuffer; committer: Committer; runs: number[]; failures: Error[];
  push: (blocks: Uint8Array[], firstNumber: number) => void; blocks: Uint8Array[];
} {
  const ch = makeTestChannel({ channel: CHANNEL });
  const ledger = openLedger(ledgerPath(join(root, `d${dirs++}`), CHANNEL), { channel: CHANNEL });
  ledger.append([ch.genesis], null, 0, 1);
  const blocks = ch.chain(40);
  const buffer = new PayloadBuffer(64, 1);
  const runs: number[] = [];
  const failures: Error[] = [];
  const committer = new Committer(ledger, buffer, maxRunBlocks, {
    committed: (_height, n) => runs.push(n),
    failed: (err) => failures.push(err),
  });
  const push = (bs: Uint8Array[], firstNumber: number): void => {
    bs.forEach((b, i) => assert.equal(buffer.push(firstNumber + i, b, blockHash(b), 0), 'added'));
  };
  return { ledger, buffer, committer, runs, failures, push, blocks };
}

test('one run in flight; blocks ready meanwhile go as the next run; released from the buffer only when durable', async () => {
  const { ledger, buffer, committer, runs, push, blocks } = setUp(16);
  push(blocks.slice(0, 5), 1);
  committer.drain();
  assert.equal(committer.state, 'committing');
  // More blocks arrive while the first run is on the writer thread: they wait for it.
  push(blocks.slice(5, 12), 6);
  committer.drain();
  assert.equal(ledger.height(), 1, 'nothing committed yet');
  assert.equal(buffer.next, 1, 'the run in flight is still held by the buffer');
  await committer.flush();
  assert.deepEqual(runs, [5, 7], 'two runs: the first, then all that became ready during it');
  assert.equal(ledger.height(), 13);
  assert.equal(buffer.next, 13);
  assert.equal(buffer.size, 0);
  assert.equal(committer.state, 'idle');
  await ledger.close();
});

test('runs are cut at maxRunBlocks', async () => {
  const { ledger, committer, runs, push, blocks } = setUp(4);
  push(blocks.slice(0, 10), 1);
  await committer.flush();
  assert.deepEqual(runs, [4, 4, 2]);
  assert.equal(ledger.height(), 11);
  await ledger.close();
});

test('a run the ledger refuses stops the loop for good and reports it once', async () => {
  const { ledger, buffer, committer, runs, failures, push, blocks } = setUp(16);
  // Another writer moved the ledger on under the committer: its run no longer starts at the height.
  ledger.append(blocks, null, 0, 2);
  push(blocks.slice(0, 4), 1);
  committer.drain();
  assert.equal(committer.state, 'failed');
  assert.equal(failures.length, 1);
  assert.match(failures[0]!.message, /expected block number 3 /);
  push(blocks.slice(4, 6), 5);
  committer.schedule();
  await committer.flush();
  assert.deepEqual(runs, []);
  assert.equal(failures.length, 1);
  assert.equal(buffer.next, 1);
  await ledger.close();
});
