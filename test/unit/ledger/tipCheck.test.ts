// The check of a ledger's newest block at start (src/ledger/tipCheck.ts) on real edgepeer blocks, with a
// stand-in ledger the test damages one way at a time: missing, unreadable, misnumbered, data not its data
// hash, hashing to another than the recorded last hash, not chained to the block below, the block below
// gone. Each is named; an empty ledger and a sound one pass. On a real ledger file, in a peer:
// test/integration/ledgerTip.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { edgepeerBlockFormat } from '../../../src/channel/edgepeerFormat.js';
import { blockHash } from '../../../src/protocol/blockHash.js';
import { DATA_HASH_OFFSET, HEADER_BYTES, HEADER_OFFSET, PREVIOUS_HASH_OFFSET } from '../../../src/protocol/block.js';
import type { BlockLedger } from '../../../src/ledger/ledger.js';
import { LedgerTipError, checkLedgerTip } from '../../../src/ledger/tipCheck.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const TC = makeTestChannel();
const BLOCKS = [TC.genesis, ...TC.chain(4)];

/** A ledger holding `blocks` (a slot may be missing), with `lastHash` recorded. */
function ledger(blocks: (Uint8Array | undefined)[], lastHash = blocks.length === 0 ? new Uint8Array(32) : blockHash(blocks.at(-1)!)): Parameters<typeof checkLedgerTip>[0] {
  return {
    channel: TC.config.channel, path: '/data/test.lmdb', format: edgepeerBlockFormat,
    height: () => blocks.length,
    getBlock: (n: number) => blocks[n],
    lastHash: () => lastHash,
  } as unknown as BlockLedger & { format: typeof edgepeerBlockFormat; path: string };
}

const damaged = (n: number, why: RegExp) => (e: unknown): boolean => e instanceof LedgerTipError
  && e.message.startsWith(`ledger /data/test.lmdb: its newest block ${n} `) && why.test(e.message)
  && e.message.endsWith('; run `edgepeer ledger verify`, then move the folder aside so the board syncs again');

function flipped(block: Uint8Array, at: number): Uint8Array {
  const b = Uint8Array.from(block);
  b[at] = b[at]! ^ 0x01;
  return b;
}

test('an empty ledger, a genesis-only one and a sound chain pass', () => {
  checkLedgerTip(ledger([]));
  checkLedgerTip(ledger([BLOCKS[0]!]));
  checkLedgerTip(ledger(BLOCKS));
});

test('a tip that is missing, unreadable or carries another number is named', () => {
  const tip = BLOCKS.length - 1;
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), undefined], blockHash(BLOCKS.at(-1)!))), damaged(tip, /is missing/));
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), Uint8Array.from([0x83, 0x00])], blockHash(BLOCKS.at(-1)!))),
    damaged(tip, /is unreadable \(/));
  // Block 3 stored where block 4 belongs.
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), BLOCKS[3]!])), damaged(tip, /carries the number 3/));
});

test('a tip whose data is not what its data hash names, or that hashes to another than the recorded last hash, is named', () => {
  const tip = BLOCKS.length - 1;
  // A byte well inside the data (after the header and the data's CBOR head).
  const inData = HEADER_OFFSET + HEADER_BYTES + 10;
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), flipped(BLOCKS[tip]!, inData)], blockHash(BLOCKS[tip]!))),
    damaged(tip, /does not hold the data its data hash names/));
  assert.throws(() => checkLedgerTip(ledger(BLOCKS, blockHash(BLOCKS[tip - 1]!))), damaged(tip, /hashes to [0-9a-f]{64}, not the recorded last hash [0-9a-f]{64}/));
  // Its data hash field changed: data and field disagree.
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), flipped(BLOCKS[tip]!, DATA_HASH_OFFSET)])), damaged(tip, /data hash/));
});

test('a tip that does not chain to the block below, or whose block below is gone, is named', () => {
  const tip = BLOCKS.length - 1;
  const unchained = flipped(BLOCKS[tip]!, PREVIOUS_HASH_OFFSET);
  // Recorded as the last hash, so only the chaining is wrong.
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -1), unchained], blockHash(unchained))), damaged(tip, /does not chain to block 3/));
  // From the second block on: block 1 over genesis.
  const one = flipped(BLOCKS[1]!, PREVIOUS_HASH_OFFSET);
  assert.throws(() => checkLedgerTip(ledger([BLOCKS[0]!, one], blockHash(one))), damaged(1, /does not chain to block 0/));
  assert.throws(() => checkLedgerTip(ledger([...BLOCKS.slice(0, -2), undefined, BLOCKS[tip]!])), damaged(tip - 1, /is missing or unreadable/));
});
