// The board's LEDs end to end in one process: a real Peer (LMDB ledger in a temp dir) fed by a fake orderer
// link, the real johnny-five on the virtual IO plugin, and the LED driver on a manual clock. After the peer
// commits height H the height-bar pins hold Gray(H); the status pins follow link loss, catch-up, leadership,
// errors and forks.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { VirtualIo, virtualBoardIo } from '../../../src/board/io/virtualIo.js';
import { LedDriver } from '../../../src/board/ledDriver.js';
import { loadProfile } from '../../../src/board/profile.js';
import { ledDefaults } from '../../../src/board/ledDefaults.js';
import { ledgerPath, openLedger } from '../../../src/ledger/lmdbLedger.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { Peer } from '../../../src/peer/peer.js';
import type { BoardRole } from '../../../src/peer/role.js';
import { Status } from '../../../src/protocol/status.js';
import { OrdererReplies } from '../../helpers/ordererReplies.js';
import { EVENT_WAIT_LIMIT_MS, FakeClientLink, ManualClock } from '../../helpers/fakes.js';
import { pollUntil, withTimeout } from '../../helpers/wait.js';
import { waitForHeight } from '../../helpers/inProcessNetwork.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';
import { edgepeerChainRules } from '../../../src/ledger/edgepeerChainRules.js';
import { makeBlock } from '../../../src/channel/blocks.js';
import { HASH_BYTES } from '../../../src/protocol/block.js';

const CHANNEL = 'testchannel';
const REFRESH_MS = 100;
const BLINK_MS = ledDefaults.blinkPeriodMs;
const RETRY_BASE_MS = 100;
const pins = loadProfile('emulated').pins;
const TX_DATA_BYTES = 200;
/** Every block with one such transaction has the same size, so "full" is easy to arrange. */
const BLOCK_BYTES = makeTestChannel({ channel: CHANNEL, txDataBytes: TX_DATA_BYTES }).nextBlock().length;
/** The fake orderer packs 10 blocks into a full response. */
const PACKING_LIMIT_BYTES = 10 * BLOCK_BYTES;

interface Rig {
  chain: TestChannel;
  peer: Peer;
  link: FakeClientLink;
  clock: ManualClock;
  io: VirtualIo;
  driver: LedDriver;
  role: { value: BoardRole };
  /** The session of the newest SEEK and the next seq to use on it. */
  stream(): { session: string; seq: number };
  send(blocks: Uint8Array[]): void;
  status(code: number): void;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function rig(o: { wrongStatusThreshold?: number } = {}): Promise<Rig> {
  const chain = makeTestChannel({ channel: CHANNEL, txDataBytes: TX_DATA_BYTES });
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-leds-'));
  const ledger = openLedger(ledgerPath(dir, CHANNEL), { channel: CHANNEL });
  cleanups.push(async () => { await ledger.close(); rmSync(dir, { recursive: true, force: true }); });
  const link = new FakeClientLink('orderer0');
  const clock = new ManualClock();
  const role = { value: 'leader' as BoardRole };
  const peer = new Peer({
    boardId: 'board1', ledger, rules: edgepeerChainRules(ledger.channel, chain.genesis), signer: chain.boardSigner, links: [link], log: silentLogger(), clock,
    role: { role: () => role.value },
    responsePackingLimitBytes: () => PACKING_LIMIT_BYTES,
    limits: { deliver: { retryBaseDelayMs: RETRY_BASE_MS, maxRetryDelayMs: RETRY_BASE_MS, wrongStatusThreshold: o.wrongStatusThreshold ?? 10 } },
  });
  const io = new VirtualIo();
  const driver = await LedDriver.start({
    boardIo: virtualBoardIo(io), pins, source: () => peer.status(), refreshMs: REFRESH_MS, clock, log: silentLogger(),
  });
  cleanups.push(async () => { await peer.stop(); await driver.stop(); });
  peer.start();
  const seqs = new Map<string, number>();
  const replies = new OrdererReplies(chain.ordererSigner);
  const stream = (): { session: string; seq: number } => {
    const last = replies.seeks(link.sent.map((s) => s.message)).at(-1);
    if (last === undefined) throw new Error('no SEEK sent yet');
    const session = last.envelope.payload.session!;
    return { session, seq: seqs.get(session) ?? 1 };
  };
  const next = (): { session: string; seq: number } => {
    const s = stream();
    seqs.set(s.session, s.seq + 1);
    return s;
  };
  await link.waitForSent(1);
  return {
    chain, peer, link, clock, io, driver, role, stream,
    send: (blocks) => { const s = next(); link.receive(CHANNEL, replies.blocks(s.session, s.seq, blocks)); },
    status: (code) => { const s = next(); link.receive(CHANNEL, replies.status(s.session, s.seq, code as typeof Status.FORBIDDEN)); },
  };
}

const heightPins = (io: VirtualIo): number[] => pins.height.map((p) => io.level(p));
/** Gray(H) written out here, not taken from the code under test: H XOR (H >> 1), bit i on LED i. */
const grayBits = (h: number): number[] => pins.height.map((_, i) => ((h ^ (h >> 1)) >> i) & 1);

/** The levels `pin` takes over one blink period, sampled at every refresh. */
async function levelsOverBlinkPeriod(r: Rig, pin: number): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let t = 0; t < BLINK_MS; t += REFRESH_MS) {
    await r.clock.advance(REFRESH_MS);
    seen.add(r.io.level(pin));
  }
  return seen;
}

test('after the peer commits height H the height-bar pins hold Gray(H), one pin changing per block', async () => {
  const r = await rig();
  r.send(r.chain.chain(9));
  await waitForHeight(r.peer, 10);
  await r.clock.advance(REFRESH_MS);
  assert.deepEqual(heightPins(r.io), grayBits(10));
  for (let h = 11; h <= 14; h++) {
    const before = heightPins(r.io);
    r.send([r.chain.nextBlock()]);
    await waitForHeight(r.peer, h);
    await r.clock.advance(REFRESH_MS);
    const after = heightPins(r.io);
    assert.deepEqual(after, grayBits(h), `height ${h}`);
    assert.equal(after.filter((v, i) => v !== before[i]).length, 1, `one LED changed from ${h - 1} to ${h}`);
  }
  assert.deepEqual(r.driver.state?.height, grayBits(14).map((b) => b === 1), 'the state reported on the status line matches the pins');
});

test('a burst of commits between two refreshes is one update: LED writes are bounded by the refresh, not by commits', async () => {
  const r = await rig();
  await r.clock.advance(REFRESH_MS);
  const writesBefore = r.io.writeCount;
  for (let i = 0; i < 5; i++) {
    r.send(r.chain.chain(3));
    await waitForHeight(r.peer, 1 + 3 * (i + 1));
  }
  assert.equal(r.io.writeCount, writesBefore, 'no pin written while the clock stands still');
  await r.clock.advance(REFRESH_MS);
  assert.deepEqual(heightPins(r.io), grayBits(16));
  assert.ok(r.io.writeCount - writesBefore <= pins.height.length + 4, 'at most one write per pin');
  r.send([]); // heartbeat: in sync, nothing blinks
  await r.clock.advance(REFRESH_MS);
  const steady = r.io.writeCount;
  await r.clock.advance(3 * REFRESH_MS);
  assert.equal(r.io.writeCount, steady, 'refreshes that change nothing write nothing');
});

test('sync LED: blinks while catching up (full responses), steady once the orderer shows it has nothing more', async () => {
  const r = await rig();
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.link), 1, 'link up');
  r.send(r.chain.chain(10));
  r.send(r.chain.chain(10));
  await waitForHeight(r.peer, 21);
  assert.equal(r.peer.status().sync, 'syncing');
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.sync)].sort(), [0, 1], 'blinking');
  r.send([]); // heartbeat
  await pollUntil(() => (r.peer.status().sync === 'in-sync' ? true : null), 'in sync after the heartbeat', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.sync)], [1], 'steady');
  // Following the tip: single blocks well under the packing limit keep it steady.
  r.send([r.chain.nextBlock()]);
  r.send([r.chain.nextBlock()]);
  await waitForHeight(r.peer, 23);
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.sync)], [1]);
  assert.deepEqual(heightPins(r.io), grayBits(23));
});

test('link loss turns the link and sync LEDs off; reconnecting brings link back and sync blinking until caught up', async () => {
  const r = await rig();
  r.send([]);
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.link), 1);
  assert.equal(r.io.level(pins.sync), 1);
  const seeks = r.link.sent.length;
  r.link.setState('down');
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.link), 0, 'link LED off');
  assert.equal(r.io.level(pins.sync), 0, 'no stream: sync LED off');
  assert.equal(r.peer.status().sync, 'offline');
  r.link.setState('up');
  await r.clock.advance(RETRY_BASE_MS);
  await r.link.waitForSent(seeks + 1);
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.link), 1, 'link LED back on');
  assert.equal(r.peer.status().sync, 'syncing', 'a new stream must show again that it is caught up');
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.sync)].sort(), [0, 1]);
});

test('leader LED follows the role the peer reports', async () => {
  const r = await rig();
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.leader), 1, 'every board leads itself until gossip says otherwise');
  r.role.value = 'follower';
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.leader), 0);
  r.role.value = 'leader';
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.leader), 1);
});

test('error LED: blinks for a while after a rejected block, steady when the board stops on an error', async () => {
  const r = await rig({ wrongStatusThreshold: 0 });
  await r.clock.advance(REFRESH_MS);
  assert.equal(r.io.level(pins.error), 0);
  const seeks = r.link.sent.length;
  const rejected = once(r.peer, 'rejected');
  r.send([r.chain.forge.badSignature(r.chain.nextBlock())]);
  await withTimeout(rejected, 'the forged block rejected', EVENT_WAIT_LIMIT_MS);
  assert.equal(r.peer.status().rejected, 1);
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.error)].sort(), [0, 1], 'blinking after the rejection');
  await r.clock.advance(ledDefaults.rejectionFlashMs);
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.error)], [0], 'dark again once the flash is over');
  await r.link.waitForSent(seeks + 1);
  const stopped = once(r.peer, 'stopped');
  r.status(Status.FORBIDDEN);
  await withTimeout(stopped, 'the deliver client giving up', EVENT_WAIT_LIMIT_MS);
  assert.notEqual(r.peer.status().error, null, 'the deliver client gave up');
  assert.deepEqual([...await levelsOverBlinkPeriod(r, pins.error)], [1], 'steady');
  assert.equal(r.driver.state?.error, 'on');
});

/** SEEKs the board has sent so far (ACKs and CANCELs are not counted). */
const seeksSent = (r: Rig): number => new OrdererReplies(r.chain.ordererSigner).seeks(r.link.sent.map((f) => f.message)).length;

/** Block `n` of another chain of the channel, signed by its orderer: its previous hash is `fill` repeated. */
const otherChainBlock = (r: Rig, n: number, fill: number): Uint8Array =>
  makeBlock(n, new Uint8Array(HASH_BYTES).fill(fill), [r.chain.txEnvelope], 0, r.chain.blockSigners).bytes;

test('a fork: the deliver client stops for good (no SEEK again), sync and error blink in turn, nothing more is taken', async () => {
  const r = await rig();
  r.send(r.chain.chain(5));
  await waitForHeight(r.peer, 6);
  const held = r.peer.status().lastHash;
  const seeks = seeksSent(r);
  const forked = once(r.peer, 'forked');
  r.send([otherChainBlock(r, 6, 0x0f)]);
  const [fork] = await withTimeout(forked, 'the fork reported', EVENT_WAIT_LIMIT_MS);
  assert.deepEqual(fork, { block: 5, heldHash: held, conflictingHash: '0f'.repeat(HASH_BYTES), offeredBlock: 6, source: 'orderer', endpoint: 'orderer0' });
  const s = r.peer.status();
  assert.deepEqual([s.sync, s.height, s.rejected, s.lastHash], ['forked', 6, 0, held]);
  assert.match(s.error ?? '', /^fork detected at block 5: this board holds [0-9a-f]{64}, the orderer at orderer0 sent an orderer-signed block 6 that follows (0f){32}; /);

  // Stopped, and stays so through many retry delays, whatever leadership asks.
  await pollUntil(() => (r.peer.status().deliver === 'stopped' ? true : null), 'the deliver client stopped', EVENT_WAIT_LIMIT_MS);
  await r.peer.setDelivering(true);
  await r.clock.advance(20 * RETRY_BASE_MS);
  assert.equal(seeksSent(r), seeks, 'no SEEK after the fork');
  assert.equal(r.peer.isDelivering, false);

  // The LEDs: at every refresh of a blink period exactly one of sync and error is lit, and each is lit once.
  const pairs: string[] = [];
  for (let t = 0; t < BLINK_MS; t += REFRESH_MS) {
    await r.clock.advance(REFRESH_MS);
    pairs.push(`${r.io.level(pins.sync)}${r.io.level(pins.error)}`);
  }
  assert.deepEqual([...new Set(pairs)].sort(), ['01', '10'], pairs.join(' '));
  assert.deepEqual([r.driver.state?.sync, r.driver.state?.error], ['blink', 'alternate']);

  // Nothing more is taken, not even the genuine next block from gossip; the ledger is as it was.
  assert.equal(r.peer.offerFromGossip([r.chain.nextBlock()], 0), 0);
  assert.deepEqual([r.peer.status().height, r.peer.status().lastHash], [6, held]);
});

test('gossip: an orderer-signed conflicting block from a neighbour is a fork too; a badly signed one an ordinary rejection', async () => {
  const r = await rig();
  r.send(r.chain.chain(3));
  await waitForHeight(r.peer, 4);
  const conflicting = otherChainBlock(r, 4, 0x0e);
  assert.equal(r.peer.offerFromGossip([r.chain.forge.badSignature(conflicting)], 0), -1);
  assert.deepEqual([r.peer.fork, r.peer.status().rejected, r.peer.status().error], [null, 1, null], 'a forgery: rejected, no fork');
  assert.equal(r.peer.offerFromGossip([conflicting], 0), -1);
  assert.deepEqual(r.peer.fork && [r.peer.fork.block, r.peer.fork.source, r.peer.fork.endpoint], [3, 'gossip', null]);
  assert.match(r.peer.status().error ?? '', /^fork detected at block 3: .* a gossip neighbour sent /);
  await pollUntil(() => (r.peer.status().deliver === 'stopped' ? true : null), 'the deliver client stopped', EVENT_WAIT_LIMIT_MS);
  assert.equal(r.peer.status().sync, 'forked');
});
