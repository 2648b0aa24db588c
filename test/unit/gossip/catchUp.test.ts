// Streamed catch-up between a BlockServer over a real LMDB ledger and a CatchUp requester, wired directly
// (no sockets): the window bounds what is in flight, acknowledgements follow what the requester took,
// and a stalled, refusing or lying source is left for another.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { BlockServer } from '../../../src/gossip/blockServer.js';
import { CatchUp } from '../../../src/gossip/catchUp.js';
import { BlocksKind, type GossipBody, GossipType } from '../../../src/gossip/messages.js';
import { type LmdbLedger, openLedger } from '../../../src/ledger/lmdbLedger.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { blockNumber } from '../../../src/protocol/block.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const BLOCKS = 3_000;
const limits = { ...gossipDefaults, blocksPerMessageMax: 100, catchUpWindowMessages: 4, catchUpMinGapBlocks: 50 };

async function withLedger(fn: (ledger: LmdbLedger) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-catchup-'));
  const tc = makeTestChannel({ txDataBytes: 64 });
  const ledger = openLedger(join(dir, 'ledger'), { channel: tc.config.channel });
  try {
    ledger.append([tc.genesis], null, 0, 1);
    const chain = tc.chain(BLOCKS - 1);
    ledger.append(chain, null, 0, chain.length);
    await fn(ledger);
  } finally {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A requester at `next`, a server `source`, and the messages between them, delivered when the test says. */
function rig(ledger: LmdbLedger) {
  const toServer: GossipBody[] = [];
  const toClient: GossipBody[] = [];
  // As the node's send does (it signs, which encodes): the blocks are copied before send returns.
  const encoded = (b: GossipBody): GossipBody => (b.type === GossipType.BLOCKS ? { ...b, blocks: b.blocks.map((x) => Uint8Array.from(x)) } : b);
  const server = new BlockServer({ ledger, limits, send: (_m, b) => { toClient.push(encoded(b)); return true; }, log: silentLogger() });
  const client = new CatchUp({ limits, send: (_m, b) => { toServer.push(b); return true; }, random: () => 0, log: silentLogger() });
  const toServerNow = (now: number): void => {
    for (const b of toServer.splice(0)) {
      if (b.type === GossipType.RANGE_REQUEST) server.request('asker', b.request, now);
      else if (b.type === GossipType.RANGE_ACK) server.ack('asker', b.ack, now);
    }
  };
  return { server, client, toServer, toClient, toServerNow };
}

test('a range stream sends at most the window ahead of what the requester took, and completes the range', async () => {
  await withLedger((ledger) => {
    const { client, toClient, toServerNow } = rig(ledger);
    let next = 10;
    assert.equal(client.maybeStart(next, [{ id: 'source', height: BLOCKS }], 0), true);
    toServerNow(0);
    // Nothing taken yet: exactly the window's worth is in flight, no more.
    assert.equal(toClient.length, limits.catchUpWindowMessages);
    let messages = 0;
    while (toClient.length > 0) {
      const m = toClient.shift()!;
      assert.ok(m.type === GossipType.BLOCKS && m.kind === BlocksKind.RANGE && m.range !== undefined);
      messages++;
      assert.equal(blockNumber(m.blocks[0]!), next, 'blocks arrive in order, without gaps');
      assert.ok(client.received('source', m.range, blockNumber(m.blocks[m.blocks.length - 1]!), 0));
      next += m.blocks.length;
      client.progress(next);
      toServerNow(0);
      // Every acknowledgement buys credit for what was taken, never more: the window holds throughout.
      assert.ok(toClient.length <= limits.catchUpWindowMessages, `${toClient.length} messages in flight, window ${limits.catchUpWindowMessages}`);
    }
    assert.equal(next, BLOCKS);
    assert.equal(client.state.kind, 'idle', 'the stream finished');
    assert.equal(messages, Math.ceil((BLOCKS - 10) / limits.blocksPerMessageMax));
  });
});

test('a requester that takes nothing gets nothing more than the window; a silent stream is abandoned', async () => {
  await withLedger((ledger) => {
    const { server, client, toClient, toServerNow } = rig(ledger);
    client.maybeStart(0, [{ id: 'source', height: BLOCKS }], 0);
    toServerNow(0);
    for (const m of toClient.splice(0)) {
      assert.ok(m.type === GossipType.BLOCKS && m.range !== undefined);
      client.received('source', m.range, blockNumber(m.blocks[m.blocks.length - 1]!), 0);
    }
    client.progress(0);
    toServerNow(0);
    assert.equal(toClient.length, 0, 'no credit, no messages');
    assert.equal(server.openSessions, 1);
    client.tick(limits.catchUpStallTimeoutMs + 1);
    assert.equal(client.state.kind, 'idle');
    toServerNow(limits.catchUpStallTimeoutMs + 1);
    assert.equal(server.openSessions, 0, 'the cancel ends the served session');
    // The stalled source cools down: with no other source, no stream starts.
    assert.equal(client.maybeStart(0, [{ id: 'source', height: BLOCKS }], limits.catchUpStallTimeoutMs + 2), false);
    assert.equal(client.maybeStart(0, [{ id: 'source', height: BLOCKS }, { id: 'other', height: BLOCKS }], limits.catchUpStallTimeoutMs + 2), true);
    const s = client.state as { kind: string; source?: string };
    assert.deepEqual([s.kind, s.source], ['streaming', 'other']);
  });
});

test('a lying source (a block of its stream fails verification) is left: its session is cancelled, it cools down, another source is asked', async () => {
  await withLedger((ledger) => {
    const { server, client, toClient, toServerNow } = rig(ledger);
    assert.equal(client.maybeStart(0, [{ id: 'source', height: BLOCKS }], 0), true);
    toServerNow(0);
    const m = toClient.shift()!;
    assert.ok(m.type === GossipType.BLOCKS && m.range !== undefined);
    assert.ok(client.received('source', m.range, blockNumber(m.blocks[m.blocks.length - 1]!), 1));
    assert.equal(server.openSessions, 1);
    // The node verifies the stream's blocks and reports the sender of one that failed (gossipNode.ts).
    client.misbehaved('source', 1);
    assert.equal(client.state.kind, 'idle', 'the stream from the liar stops');
    toServerNow(1);
    assert.equal(server.openSessions, 0, 'the cancel ends the served session');
    // What it had in flight is not taken any more.
    const late = toClient.shift();
    assert.ok(late !== undefined && late.type === GossipType.BLOCKS && late.range !== undefined);
    assert.equal(client.received('source', late.range, blockNumber(late.blocks[late.blocks.length - 1]!), 2), false);
    // Cooling down: alone it is not asked again, beside another holder the other one is.
    assert.equal(client.maybeStart(0, [{ id: 'source', height: BLOCKS }], 2), false);
    assert.equal(client.maybeStart(0, [{ id: 'source', height: BLOCKS }, { id: 'other', height: BLOCKS }], 2), true);
    const s = client.state as { kind: string; source?: string };
    assert.deepEqual([s.kind, s.source], ['streaming', 'other']);
  });
});

test('a busy server refuses with an empty last message; a small gap does not start a stream', async () => {
  await withLedger((ledger) => {
    const { server, client, toClient, toServerNow } = rig(ledger);
    assert.equal(client.maybeStart(BLOCKS - limits.catchUpMinGapBlocks + 1, [{ id: 'source', height: BLOCKS }], 0), false, 'pull repairs that');
    for (let s = 1; s <= limits.rangeSessionsMax; s++) server.request(`other${s}`, { session: 1, start: 0, end: BLOCKS, window: 1 }, 0);
    toClient.splice(0);
    client.maybeStart(0, [{ id: 'source', height: BLOCKS }], 0);
    toServerNow(0);
    const m = toClient.shift()!;
    assert.ok(m.type === GossipType.BLOCKS && m.range !== undefined && m.range.last && m.blocks.length === 0);
    assert.equal(client.received('source', m.range, -1, 0), false);
    assert.equal(client.state.kind, 'idle', 'refused: the requester turns elsewhere');
  });
});

test('a DIGEST is answered with what the asker lacks, at most pullBlocksMax blocks', async () => {
  await withLedger((ledger) => {
    const { server, toClient } = rig(ledger);
    server.digest('asker', BLOCKS - 30, 0);
    const got = toClient.splice(0).flatMap((m) => (m.type === GossipType.BLOCKS && m.kind === BlocksKind.PULL ? m.blocks : []));
    assert.deepEqual(got.map(blockNumber), Array.from({ length: 30 }, (_, i) => BLOCKS - 30 + i));
    server.digest('asker', 0, 0);
    const far = toClient.splice(0).flatMap((m) => (m.type === GossipType.BLOCKS ? m.blocks : []));
    assert.equal(far.length, limits.pullBlocksMax);
    server.digest('asker', BLOCKS, 0);
    assert.equal(toClient.length, 0, 'nothing to give to a board as high as this one');
  });
});
