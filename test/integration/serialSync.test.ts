// Block sync over a serial line, with socat PTY pairs and the real serialport bindings: the CLI
// processes end to end (`orderer --serial`, `peer --orderer serial:…`), a line damaged by a seeded noise
// proxy (flipped bits, dropped bytes, inserted garbage), and the PTY closed and opened again.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { toHex } from '../../src/crypto/hash.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { verifyChain } from '../../src/ledger/verifyChain.js';
import { loadBoard, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Orderer } from '../../src/orderer/orderer.js';
import { Peer } from '../../src/peer/peer.js';
import type { LinkState } from '../../src/transport/link.js';
import { SerialClientLink } from '../../src/transport/serial/serialClientLink.js';
import { SerialServerLink } from '../../src/transport/serial/serialServerLink.js';
import { waitForHeight } from '../helpers/inProcessNetwork.js';
import { prepareChain } from '../helpers/preparedChain.js';
import {
  TestRig, freePort, heightOf, killAllProcesses, ledgerInfo, ledgerVerify, waitForStatus,
} from '../helpers/processes.js';
import { withTimeout } from '../helpers/wait.js';
import { NoiseProxy, ptyPair, socatMissing, stopAllPtyPairs } from '../helpers/pty.js';
import { edgepeerChainRules } from '../../src/ledger/edgepeerChainRules.js';

const BLOCKS = 2_000;
const HEIGHT = BLOCKS + 1;
const SYNC_TIMEOUT_MS = 60_000;
const STATUS_INTERVAL_MS = 100;
/** Replays a noisy run exactly: the proxy's damage depends on this seed only. */
const NOISE_SEED = 0x5e71a1;
/** One damaged byte of each kind per 150 KB: most 8 KiB responses pass, a few dozen frames do not. */
const NOISE_RATES = { flipPerByte: 1 / 150_000, dropPerByte: 1 / 150_000, insertPerByte: 1 / 150_000 };
/** Short timers so that a lost SEEK, ACK or last response is noticed in a fraction of a second. */
const FAST_DELIVER = { retryBaseDelayMs: 20, maxRetryDelayMs: 200, keepaliveMs: 200, streamStallTimeoutMs: 1_000, connectTimeoutMs: 2_000 };
const FAST_REOPEN = { baseDelayMs: 20, maxDelayMs: 200 };

after(async () => {
  await killAllProcesses();
  await stopAllPtyPairs();
});

test(`peer process syncs ${BLOCKS} blocks from the orderer process over a PTY (orderer --serial, peer --orderer serial:)`, async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const chain = await prepareChain(root, { blocks: BLOCKS });
  const pair = await ptyPair(root, 'orderer-tty', 'board-tty');
  rig.defer(() => pair.stop());
  const { ready } = await rig.orderer([
    '--network', chain.summary.dir, '--data', chain.ordererData, '--mqtt-port', String(await freePort()), '--serial', `${pair.a}@115200`,
  ]);
  assert.deepEqual((ready as unknown as { serial: string[] }).serial, [pair.a]);
  const board = chain.summary.boards[0]!.id;
  const peerData = join(root, 'peer');
  const peer = rig.spawn([
    'peer', '--network', chain.summary.dir, '--board', board, '--data', peerData,
    '--orderer', `serial:${pair.b}@115200`, '--status-interval-ms', String(STATUS_INTERVAL_MS),
  ], { name: 'peer' });
  const s = await waitForStatus(peer, (st) => heightOf(st) === HEIGHT, `height=${HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS });
  assert.equal(s['link'], 'up');
  assert.equal(s['rejected'], '0');
  await peer.stop();
  const verdict = await ledgerVerify(peerData);
  assert.equal(verdict.ok, true, JSON.stringify(verdict));
  assert.equal((await ledgerInfo(peerData)).lastHash, (await ledgerInfo(chain.ordererData)).lastHash);
});

interface SerialRun {
  orderer: Orderer;
  peer: Peer;
  peerLink: SerialClientLink;
  ordererLink: SerialServerLink;
  stop(): Promise<void>;
}

/** In-process orderer (serving `ordererPort`) and peer (on `peerPort`) for the prepared chain. */
async function startSerialRun(root: string, chain: Awaited<ReturnType<typeof prepareChain>>, ordererPort: string, peerPort: string): Promise<SerialRun> {
  const net = chain.summary.dir;
  const orderer = new Orderer({
    dataDir: chain.ordererData,
    channels: [{ channel: chain.channel, genesis: loadGenesis(net, chain.channel) }],
    signer: loadOrdererIdentities(net).node,
    log: silentLogger(),
    // A heartbeat soon after the last block: a lost last response shows as a gap quickly.
    limits: { heartbeatMs: 200 },
  });
  const ordererLink = new SerialServerLink({ port: { path: ordererPort, baudRate: 115200 }, reopen: FAST_REOPEN });
  await orderer.serve(ordererLink);
  const boardId = chain.summary.boards[0]!.id;
  const board = loadBoard(net, boardId);
  const peerLink = new SerialClientLink({ port: { path: peerPort, baudRate: 115200 }, reopen: FAST_REOPEN });
  const ledger = openLedger(ledgerPath(join(root, 'peer'), chain.channel), { channel: chain.channel });
  const peer = new Peer({
    boardId, ledger, rules: edgepeerChainRules(ledger.channel, board.genesis), signer: board.signer, links: [peerLink], log: silentLogger(),
    limits: { deliver: FAST_DELIVER },
  });
  peer.start();
  let stopping: Promise<void> | undefined;
  return {
    orderer, peer, peerLink, ordererLink,
    stop: () => {
      stopping ??= (async () => {
        await peer.stop();
        await peerLink.close();
        await ledger.close();
        await orderer.stop();
      })();
      return stopping;
    },
  };
}

async function peerLedgerCheck(root: string, channel: string, ordererHash: string): Promise<void> {
  // Reopened read-only after the run: every block on its own, signatures included.
  const ledger = openLedger(ledgerPath(join(root, 'peer'), channel), { channel });
  try {
    const verdict = verifyChain(ledger);
    assert.equal(verdict.ok, true, JSON.stringify(verdict));
    assert.equal(toHex(ledger.lastHash()), ordererHash, 'the peer ends with the orderer\'s chain');
  } finally {
    await ledger.close();
  }
}

test(`noise on the line (flipped bits, dropped bytes, garbage): no bad block is committed and ${BLOCKS} blocks still sync`, async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const chain = await prepareChain(root, { blocks: BLOCKS });
  // peer ↔ pair1 ↔ noise proxy ↔ pair2 ↔ orderer
  const pair1 = await ptyPair(root, 'peer-tty', 'proxy-peer-side');
  const pair2 = await ptyPair(root, 'proxy-orderer-side', 'orderer-tty');
  rig.defer(() => pair1.stop());
  rig.defer(() => pair2.stop());
  const proxy = new NoiseProxy(pair1.b, pair2.a, NOISE_RATES, NOISE_SEED);
  // Deferred first: a start that opens one port and fails on the other still closes the open one.
  rig.defer(() => proxy.close());
  await proxy.start();
  const run = await startSerialRun(root, chain, pair2.b, pair1.a);
  rig.defer(() => run.stop());

  await withTimeout(waitForHeight(run.peer, HEIGHT, SYNC_TIMEOUT_MS), `height ${HEIGHT} (seed ${NOISE_SEED})`, SYNC_TIMEOUT_MS + 1_000);
  const c = run.peerLink.counters;
  const noise = proxy.counters;
  t.diagnostic(`noise ${JSON.stringify(noise)}; peer link ${JSON.stringify(c)}; orderer link ${JSON.stringify(run.ordererLink.counters.dropped)}`);
  assert.ok(noise.flipped > 0 && noise.dropped > 0 && noise.inserted > 0, `noise was injected: ${JSON.stringify(noise)}`);
  const damaged = c.dropped.crc + c.dropped.cobs + c.dropped.malformed + c.dropped.version + c.dropped.oversize;
  assert.ok(damaged > 0, `the peer's link dropped damaged frames: ${JSON.stringify(c.dropped)}`);
  // Damage never reached the verifier: every damaged frame was caught by its CRC, every lost one by its seq.
  assert.equal(run.peer.status().rejected, 0, 'no block was rejected');
  const ordererHash = toHex(run.orderer.chain(chain.channel).ledger.lastHash());
  await run.stop();
  await peerLedgerCheck(root, chain.channel, ordererHash);
});

test('the PTY closed and opened again: both ends reopen it and the peer finishes the sync', async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const half = BLOCKS / 2;
  const chain = await prepareChain(root, { blocks: half });
  let pair = await ptyPair(root, 'orderer-tty', 'board-tty');
  rig.defer(() => pair.stop());
  const run = await startSerialRun(root, chain, pair.a, pair.b);
  rig.defer(() => run.stop());
  await withTimeout(waitForHeight(run.peer, half + 1, SYNC_TIMEOUT_MS), `height ${half + 1}`, SYNC_TIMEOUT_MS + 1_000);

  // The cable is pulled: socat exits, both PTYs close under their ports.
  const down = (l: { on(e: 'state', f: (s: LinkState) => void): unknown }): Promise<void> =>
    new Promise((resolve) => l.on('state', (s) => { if (s === 'down') resolve(); }));
  const bothDown = Promise.all([down(run.peerLink), down(run.ordererLink)]);
  await pair.stop();
  await withTimeout(bothDown, 'both serial links down');
  // Blocks cut while the line is down.
  const ordererChain = run.orderer.chain(chain.channel);
  for (let i = 0; i < half; i++) ordererChain.order(chain.tx);
  assert.equal(ordererChain.height(), HEIGHT);
  assert.equal(run.peer.status().height, half + 1);
  // Plugged back in under the same names.
  pair = await ptyPair(root, 'orderer-tty', 'board-tty');
  await withTimeout(waitForHeight(run.peer, HEIGHT, SYNC_TIMEOUT_MS), `height ${HEIGHT} after the reopen`, SYNC_TIMEOUT_MS + 1_000);
  assert.equal(run.peerLink.state, 'up');
  assert.equal(run.ordererLink.state, 'up');
  const ordererHash = toHex(ordererChain.ledger.lastHash());
  await run.stop();
  await peerLedgerCheck(root, chain.channel, ordererHash);
});
