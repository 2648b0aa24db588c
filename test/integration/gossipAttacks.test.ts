// Attackers against a real gossiping board (in process: real orderer, MQTT, LMDB, TCP): each test is one
// attack from docs/protocol.md §12b's threat list, and fails if the bound it names is missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { submitLoad } from '../../src/client/broadcastClient.js';
import { systemClock } from '../../src/config/clock.js';
import { gossipDefaults } from '../../src/gossip/gossipDefaults.js';
import { BlocksKind, GossipType, decodeGossip, signGossip } from '../../src/gossip/messages.js';
import { type GossipTransport, startTcpTransport } from '../../src/gossip/tcpTransport.js';
import { loadBoard } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { blockNumber } from '../../src/protocol/block.js';
import type { Signer } from '../../src/protocol/envelope.js';
import { type GossipBoard, networkSite, startGossipBoard, untilNodeEvent } from '../helpers/gossipBoard.js';
import { allCut, startInProcessNetwork, waitForHeight } from '../helpers/inProcessNetwork.js';
import { withTimeout } from '../helpers/wait.js';

/** An election, a sync or an answer on loopback that takes this long is not coming. */
const EVENT_TIMEOUT_MS = 20_000;
const LIMITS = { aliveIntervalMs: 100, aliveExpirationMs: 1_000, electionStartupGraceMs: 200, leaderClaimSettleMs: 150 };

interface Attacker {
  transport: GossipTransport;
  /** Every BLOCKS message received: its kind, first block number and block bytes. */
  blocks: { kind: number; first: number; count: number; bytes: number }[];
  onBlocks: (() => void) | null;
}

async function startAttacker(): Promise<Attacker> {
  const a: Attacker = { transport: null as unknown as GossipTransport, blocks: [], onBlocks: null };
  a.transport = await startTcpTransport({
    listen: '127.0.0.1:0', clock: systemClock, log: silentLogger(), limits: gossipDefaults,
    onMessage: (bytes) => {
      const m = decodeGossip(bytes).message;
      if (m.body.type !== GossipType.BLOCKS || m.body.blocks.length === 0) return;
      let total = 0;
      for (const b of m.body.blocks) total += b.length;
      a.blocks.push({ kind: m.body.kind ?? BlocksKind.PUSH, first: blockNumber(m.body.blocks[0]!), count: m.body.blocks.length, bytes: total });
      a.onBlocks?.();
    },
  });
  return a;
}

function alive(channel: string, s: Signer, endpoint: string, seq: number, height = 0): Uint8Array {
  const c = s.certificate;
  return signGossip(channel, {
    type: GossipType.ALIVE, alive: { id: c.id, org: c.org, height, incarnation: 1, seq, endpoint, leader: false },
  }, s, Date.now());
}

test('one DIGEST replayed a thousand times: the board sends its budget for that member, not a thousand answers', { timeout: 60_000 }, async (t) => {
  const net = await startInProcessNetwork({ orgs: 1, boardsPerOrg: 3, batch: { maxMessageCount: 1 } });
  const boards: GossipBoard[] = [];
  let attacker: Attacker | null = null;
  t.after(async () => {
    await attacker?.transport.stop();
    for (const b of boards) await b.stop();
    await net.stop();
  });
  const BURST_BYTES = 16 * 1024;
  const RATE_BYTES_PER_S = 16 * 1024;
  const ids = net.summary.boards.map((b) => b.id);
  const board = await startGossipBoard(networkSite(net), ids[0]!, {
    bootstrap: [], seed: 1, limits: { ...LIMITS, digestAnswerBurstBytes: BURST_BYTES, digestAnswerBytesPerSecond: RATE_BYTES_PER_S },
  });
  boards.push(board);
  await untilNodeEvent(boards, 'role', () => board.node.role() === 'leader', 'the board to lead', EVENT_TIMEOUT_MS);
  const client = await net.client('org1');
  await submitLoad(client, 200, 64, 16);
  const height = await allCut(net);
  await waitForHeight(board.peer, height, EVENT_TIMEOUT_MS);
  let chainBytes = 0;
  for (let n = 0; n < height; n++) chainBytes += board.ledger.getBlock(n)!.length;
  assert.ok(chainBytes > 4 * BURST_BYTES, `the chain (${chainBytes} bytes) is several budgets long`);

  attacker = await startAttacker();
  const a = attacker;
  const channel = net.summary.channel;
  // Two member identities (org1's other boards' keys) at the attacker's address: the victim's answers
  // to both go down one connection, in order, so the probe's answer comes after every earlier one.
  const replayed = loadBoard(net.summary.dir, ids[1]!).signer;
  const probe = loadBoard(net.summary.dir, ids[2]!).signer;
  a.transport.send(board.node.endpoint, alive(channel, replayed, a.transport.endpoint, 1));
  a.transport.send(board.node.endpoint, alive(channel, probe, a.transport.endpoint, 1));
  // One DIGEST, captured once and sent again and again (it is signed, so every copy authenticates).
  const digest = signGossip(channel, { type: GossipType.DIGEST, height: 0 }, replayed, Date.now());
  const COPIES = 1_000;
  const startedAt = Date.now();
  for (let i = 0; i < COPIES; i++) assert.ok(a.transport.send(board.node.endpoint, digest), `copy ${i} queued`);
  const answered = new Promise<void>((resolve) => {
    a.onBlocks = () => { if (a.blocks.some((m) => m.kind === BlocksKind.PULL && m.first === height - 1)) resolve(); };
  });
  a.transport.send(board.node.endpoint, signGossip(channel, { type: GossipType.DIGEST, height: height - 1 }, probe, Date.now()));
  await withTimeout(answered, "the probe's answer, after every answer to the replayed copies", EVENT_TIMEOUT_MS);
  const elapsedMs = Date.now() - startedAt;
  const sent = a.blocks.filter((m) => m.kind === BlocksKind.PULL && m.first === 0).reduce((n, m) => n + m.bytes, 0);
  // The budget refills at the board's ticks: at most the refill of the time elapsed, plus one tick's.
  const boundBytes = BURST_BYTES + (RATE_BYTES_PER_S * (elapsedMs + LIMITS.aliveIntervalMs)) / 1000 + board.ledger.getBlock(height - 1)!.length * 2;
  assert.ok(sent <= boundBytes, `${COPIES} copies made the board send ${sent} bytes in ${elapsedMs} ms; the budget allows ${Math.round(boundBytes)} (unbounded: ${COPIES} × ${chainBytes})`);
  assert.ok(sent >= BURST_BYTES, `the first copy was answered (${sent} bytes)`);
});
