// A writer killed with SIGKILL at random points never leaves a ledger that lies: after each kill the
// reopened ledger verifies (segments, chain, and a hash index that is a correct prefix of it), holds
// every run the child reported committed, holds the run under way either whole or not at all, ends on
// the expected chain's hash, keeps every index slice committed before the kill, and takes the next block.
// Rounds alternate between killing as an append begins and just after a slice of an index catch-up
// (so the kill lands while the next slice is written).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockHash } from '../../src/protocol/blockHash.js';
import { toHex } from '../../src/crypto/hash.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { verifyChain } from '../../src/ledger/verifyChain.js';
import { writeChainFile } from '../helpers/crashAppender.js';
import { makeTestChannel } from '../helpers/testChannel.js';

const CHANNEL = 'crash';
const CRASH_ROUNDS = 6;
/** The parent kills at the first run the child begins after committing this many blocks past its start. */
const KILL_AFTER_MIN_BLOCKS = 40;
const KILL_AFTER_MAX_BLOCKS = 400;
/** Far more than the rounds can use, so the child is always killed mid-stream, never finished. */
const CHAIN_BLOCKS = 6_000;
const TEST_TIMEOUT_MS = 60_000;
const CHILD_SCRIPT = fileURLToPath(new URL('../helpers/crashAppender.js', import.meta.url));

type KillPoint = 'begin' | 'slice';

interface RoundResult {
  openedAt: number;
  lastReported: number;
  /** The run the child announced last: [from, to). */
  lastBegun: { from: number; to: number } | null;
  /** The index catch-up the child announced last: indexed height when it began, and its target. */
  lastIndexBegun: { from: number; to: number } | null;
  /** Indexed height the child reported last (after a slice or a catch-up). */
  lastIndexed: number;
  finished: boolean;
}

/**
 * Runs the child until, having reported a height >= `killAt`, it announces `killPoint` (a run or an
 * index catch-up); SIGKILLs it then, and resolves once every line it printed has been read.
 */
function runChildUntil(
  path: string, chainFile: string, killAt: number, killPoint: KillPoint, track: (c: ChildProcess | null) => void,
): Promise<RoundResult> {
  const child = spawn(process.execPath, [CHILD_SCRIPT, path, CHANNEL, chainFile], { stdio: ['ignore', 'pipe', 'inherit'] });
  track(child);
  const result: RoundResult = { openedAt: -1, lastReported: -1, lastBegun: null, lastIndexBegun: null, lastIndexed: 0, finished: false };
  let killed = false;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    const [word, a, b] = line.split(' ');
    if (word === 'open') result.openedAt = Number(a);
    else if (word === 'committed') result.lastReported = Number(a);
    else if (word === 'done') result.finished = true;
    else if (word === 'indexed') result.lastIndexed = Number(a);
    else if (word === 'index') result.lastIndexBegun = { from: Number(a), to: Number(b) };
    else if (word === 'begin' || word === 'slice') {
      if (word === 'begin') result.lastBegun = { from: Number(a), to: Number(b) };
      else result.lastIndexed = Number(a);
      // A slice that leaves more to index: the kill lands in the catch-up, not after it.
      const due = word === 'begin' || result.lastIndexed < result.lastIndexBegun!.to;
      if (word === killPoint && due && !killed && result.lastReported >= killAt) {
        killed = true;
        child.kill('SIGKILL');
      }
    }
  });
  // 'close' comes after the exit and after stdout is drained.
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      track(null);
      if (signal !== 'SIGKILL' && !result.finished) reject(new Error(`child ended with code ${code}, signal ${signal}`));
      else resolve(result);
    });
  });
}

test('SIGKILL during appends never loses a reported commit nor leaves a partial run', { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-crash-'));
  let running: ChildProcess | null = null;
  try {
    const ch = makeTestChannel({ channel: CHANNEL });
    const chain = [ch.genesis, ...ch.chain(CHAIN_BLOCKS - 1)];
    const expectedHashes = chain.map((b) => toHex(blockHash(b)));
    const chainFile = join(dir, 'chain.bin');
    writeChainFile(chainFile, chain);
    const path = ledgerPath(dir, CHANNEL);

    let height = 0;
    let indexed = 0;
    let runsCaughtCommitted = 0;
    let killsMidIndex = 0;
    for (let round = 0; round < CRASH_ROUNDS; round++) {
      const killPoint: KillPoint = round % 2 === 0 ? 'begin' : 'slice';
      const killAt = height + KILL_AFTER_MIN_BLOCKS + Math.floor(Math.random() * (KILL_AFTER_MAX_BLOCKS - KILL_AFTER_MIN_BLOCKS));
      const r = await runChildUntil(path, chainFile, killAt, killPoint, (c) => { running = c; });
      assert.equal(r.finished, false, 'the child ran out of chain before it was killed');
      assert.equal(r.openedAt, height, `round ${round}: the child opened the ledger at the height the parent left`);
      assert.ok(r.lastReported >= killAt && r.lastBegun !== null, `round ${round}: killed before the kill point`);
      const begun = r.lastBegun;

      const ledger = openLedger(path, { channel: CHANNEL });
      try {
        const v = verifyChain(ledger);
        assert.ok(v.ok, `round ${round}: ${v.ok ? '' : `block ${v.badBlock}: ${v.reason}`}`);
        height = ledger.height();
        t.diagnostic(`round ${round}: reported ${r.lastReported}, last run begun [${begun.from}, ${begun.to}), reopened at ${height}`);
        assert.ok(height >= r.lastReported, `round ${round}: height ${height} below the reported commit ${r.lastReported}`);
        if (height > r.lastReported) {
          // Only the run under way may have landed unreported, and only whole.
          assert.ok(begun.from === r.lastReported && height === begun.to,
            `round ${round}: height ${height} is not the end of the run [${begun.from}, ${begun.to}) under way`);
          runsCaughtCommitted++;
        }
        assert.equal(toHex(ledger.lastHash()), expectedHashes[height - 1]);

        // The index: never ahead of the blocks, and no committed slice lost.
        const reopenedIndexed = ledger.indexedHeight();
        assert.ok(reopenedIndexed <= height, `round ${round}: indexed height ${reopenedIndexed} above the height ${height}`);
        const durableIndexed = Math.max(indexed, r.lastIndexed);
        assert.ok(reopenedIndexed >= durableIndexed, `round ${round}: indexed height ${reopenedIndexed} below ${durableIndexed}, reported before the kill`);
        if (killPoint === 'slice') {
          const begun = r.lastIndexBegun!;
          t.diagnostic(`round ${round}: index catch-up [${begun.from}, ${begun.to}) under way; reopened with ${reopenedIndexed} indexed`);
          if (reopenedIndexed > begun.from && reopenedIndexed < begun.to) killsMidIndex++;
        }
        indexed = reopenedIndexed;

        ledger.append(chain, null, height, 1);
        height++;
        assert.equal(ledger.height(), height);
        assert.equal(toHex(ledger.lastHash()), expectedHashes[height - 1]);
      } finally {
        await ledger.close();
      }
    }
    t.diagnostic(`runs found committed but unreported after the kill: ${runsCaughtCommitted} of ${CRASH_ROUNDS}`);
    t.diagnostic(`kills that left an index catch-up part done: ${killsMidIndex} of ${CRASH_ROUNDS / 2}`);
  } finally {
    const child = running as ChildProcess | null;
    if (child !== null && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
