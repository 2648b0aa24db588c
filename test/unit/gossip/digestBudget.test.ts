// What DIGESTs can make a board send: a budget of block bytes per requester (src/gossip/blockServer.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { BlockServer, type BlockReader, type BlockServerLimits } from '../../../src/gossip/blockServer.js';
import { type GossipBody, GossipType } from '../../../src/gossip/messages.js';
import { silentLogger } from '../../../src/observability/logger.js';

const BLOCK_BYTES = 1_000;
const HEIGHT = 10_000;

/** A ledger of HEIGHT blocks of BLOCK_BYTES each (contents do not matter to the server). */
const ledger: BlockReader = {
  height: () => HEIGHT,
  readBlocks: (from, to, maxBytes, visit) => {
    let bytes = 0;
    let n = from;
    for (; n <= to; n++) {
      if (n > from && bytes + BLOCK_BYTES > maxBytes) break;
      bytes += BLOCK_BYTES;
      visit(new Uint8Array(BLOCK_BYTES).fill(n & 0xff), n);
    }
    return n - from;
  },
};

function server(limits: Partial<BlockServerLimits>): { server: BlockServer; sentTo: Map<string, number> } {
  const sentTo = new Map<string, number>();
  const send = (member: string, body: GossipBody): boolean => {
    if (body.type !== GossipType.BLOCKS) return true;
    let bytes = 0;
    for (const b of body.blocks) bytes += b.length;
    sentTo.set(member, (sentTo.get(member) ?? 0) + bytes);
    return true;
  };
  return { server: new BlockServer({ ledger, limits: { ...gossipDefaults, ...limits }, send, log: silentLogger() }), sentTo };
}

test('one DIGEST replayed a thousand times makes the board send its budget, not a thousand answers', () => {
  const BURST = 64 * BLOCK_BYTES;
  const { server: s, sentTo } = server({ digestAnswerBurstBytes: BURST, digestAnswerBytesPerSecond: 16 * BLOCK_BYTES });
  s.expire(0);
  for (let i = 0; i < 1_000; i++) s.digest('org1/board2', 0, 0);
  const sent = sentTo.get('org1/board2')!;
  // Unbounded, that is 1,000 answers of pullBlocksMax blocks each (256 MB here).
  assert.ok(sent >= BURST && sent <= BURST + BLOCK_BYTES, `sent ${sent} bytes for 1,000 copies; budget ${BURST} (+ one block)`);
  assert.ok(s.digestAnswersCut >= 999, `${s.digestAnswersCut} answers cut`);
});

test('the budget refills at digestAnswerBytesPerSecond; each requester has its own', () => {
  const BURST = 64 * BLOCK_BYTES;
  const RATE = 16 * BLOCK_BYTES;
  const { server: s, sentTo } = server({ digestAnswerBurstBytes: BURST, digestAnswerBytesPerSecond: RATE });
  s.digest('org1/board2', 0, 0);
  s.digest('org1/board2', 0, 0);
  const first = sentTo.get('org1/board2')!;
  assert.equal(first, BURST);
  // Another member is not held back by the first one's spending.
  s.digest('org2/board5', 0, 0);
  assert.ok(sentTo.get('org2/board5')! >= BURST, 'a second requester gets its own full budget');
  // Two seconds later, two seconds' worth more (and no more).
  s.digest('org1/board2', 0, 2_000);
  const more = sentTo.get('org1/board2')! - first;
  assert.equal(more, 2 * RATE, `${more} bytes after 2 s at ${RATE} B/s`);
});

test('an honest pull within the budget is answered whole (pullBlocksMax blocks)', () => {
  const { server: s, sentTo } = server({ digestAnswerBurstBytes: gossipDefaults.pullBlocksMax * BLOCK_BYTES });
  s.digest('org1/board2', 100, 0);
  assert.equal(sentTo.get('org1/board2'), gossipDefaults.pullBlocksMax * BLOCK_BYTES);
  assert.equal(s.digestAnswersCut, 0);
});

test('budgets that have refilled are forgotten at expire (the table does not grow with every requester ever seen)', () => {
  const { server: s } = server({ digestAnswerBurstBytes: 8 * BLOCK_BYTES, digestAnswerBytesPerSecond: 8 * BLOCK_BYTES });
  for (let i = 0; i < 100; i++) s.digest(`org1/forged${i}`, 0, 0);
  s.expire(500);
  // Half refilled: still tracked (a requester forgotten with a spent budget would get a full one back).
  assert.equal(s.digestBudgetsTracked, 100);
  s.expire(5_000);
  assert.equal(s.digestBudgetsTracked, 0);
});
