// A board that finds itself on a fork (docs/operations.md, "Forks"): the board syncs a chain from an
// orderer process, then the orderer is restarted on another chain of the same network (same genesis,
// same keys, the first blocks byte for byte, different blocks after them: what an orderer that lost
// blocks in a power cut, or one handed a substituted ledger, serves). The board's next block is signed
// by the orderer but does not follow its tip. It must report the fork (status line, log, metrics,
// `edgepeer health`), stop pulling instead of re-requesting for ever, and keep its ledger as it was.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeBlock } from '../../src/channel/blocks.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { loadClient, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import { MessageType, signEnvelope } from '../../src/protocol/envelope.js';
import { type PreparedChain, prepareChain } from '../helpers/preparedChain.js';
import {
  TestRig, freePort, heightOf, killAllProcesses, ledgerInfo, ledgerVerify, readMetric, spawnCli, statusLines, waitForMetric, waitForStatus,
} from '../helpers/processes.js';

after(killAllProcesses);

/** Blocks of the first chain after genesis: the board syncs all of them. */
const BLOCKS = 30;
const HEIGHT = BLOCKS + 1;
/** The other chain holds the first chain's blocks 1..SHARED_BLOCKS, then blocks of its own up to OTHER_BLOCKS. */
const SHARED_BLOCKS = 20;
const OTHER_BLOCKS = 40;
const STATUS_INTERVAL_MS = 100;
/** Short retries, so that a board that re-requested after the fork would do so many times within the checks below. */
const MAX_RETRY_DELAY_MS = 200;
/** Status lines the board prints after the fork before the test judges it still stopped: 10 × MAX_RETRY_DELAY_MS. */
const QUIET_STATUS_LINES = Math.ceil((10 * MAX_RETRY_DELAY_MS) / STATUS_INTERVAL_MS);
const SYNC_TIMEOUT_MS = 30_000;
/** pino's number for `error`. */
const PINO_ERROR_LEVEL = 50;

/** Writes the other chain into `dataDir`: the prepared chain's genesis and blocks 1..shared, then its own, signed by the same orderer. */
async function writeOtherChain(chain: PreparedChain, dataDir: string, shared: number, blocks: number): Promise<void> {
  const source = openLedger(ledgerPath(chain.ordererData, chain.channel), { channel: chain.channel });
  const target = openLedger(ledgerPath(dataDir, chain.channel), { channel: chain.channel });
  try {
    for (let n = 0; n <= shared; n++) target.append([source.getBlock(n)!], null, 0, 1);
    const key = loadOrdererIdentities(chain.summary.dir).node.privateKey;
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: chain.channel, data: randomBytes(100) }, loadClient(chain.summary.dir)).bytes;
    let prev: Uint8Array = target.lastHash().slice();
    for (let n = shared + 1; n <= blocks; n++) {
      const b = makeBlock(n, prev, [tx], 0, [{ index: 0, key }]);
      target.append([b.bytes], [b.hash], 0, 1);
      prev = b.hash;
    }
  } finally {
    await source.close();
    await target.close();
  }
}

test('a board whose orderer comes back on another signed chain reports the fork, stops pulling, and keeps its ledger', { timeout: 120_000 }, async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const chain = await prepareChain(root, { channel: 'forkchannel', blocks: BLOCKS });
  const otherData = join(root, 'orderer-other');
  await writeOtherChain(chain, otherData, SHARED_BLOCKS, OTHER_BLOCKS);
  const net = chain.summary.dir;
  const mqttPort = await freePort();
  const first = await rig.orderer(['--network', net, '--data', chain.ordererData, '--mqtt-port', String(mqttPort)]);

  const peerData = join(root, 'peer');
  const metricsPort = await freePort();
  const peer = rig.spawn([
    'peer', '--network', net, '--board', chain.summary.boards[0]!.id, '--data', peerData, '--mqtt', `mqtt://127.0.0.1:${mqttPort}`,
    '--metrics-port', String(metricsPort), '--status-interval-ms', String(STATUS_INTERVAL_MS), '--max-retry-delay-ms', String(MAX_RETRY_DELAY_MS),
  ], { name: 'peer' });
  const synced = await waitForStatus(peer, (s) => heightOf(s) === HEIGHT, `height=${HEIGHT}`, { timeoutMs: SYNC_TIMEOUT_MS });
  assert.equal(synced['error'], '-');
  assert.equal(await readMetric(metricsPort, 'edgepeer_fork_detected', { channel: chain.channel }), undefined, 'no fork reported before');

  // The orderer comes back on the other chain, on the same broker port.
  await first.proc.stop();
  const second = await rig.orderer(['--network', net, '--data', otherData, '--mqtt-port', String(mqttPort), '--metrics-port', String(await freePort())]);
  const ordererMetricsPort = second.ready.metricsPort!;

  const forked = await waitForStatus(peer, (s) => s['sync'] === 'forked', 'sync=forked', { timeoutMs: SYNC_TIMEOUT_MS });
  const linesAtFork = peer.lines.length;
  assert.equal(heightOf(forked), HEIGHT, 'nothing of the other chain committed');
  assert.match(forked['error']!, new RegExp(`^fork detected at block ${BLOCKS}: this board holds [0-9a-f]{64}, the orderer at .* sent an orderer-signed block ${HEIGHT} that follows [0-9a-f]{64};`));

  assert.equal(await readMetric(metricsPort, 'edgepeer_fork_detected', { channel: chain.channel }), 1);
  assert.equal(await readMetric(metricsPort, 'edgepeer_fork_block', { channel: chain.channel }), BLOCKS);
  await waitForMetric(metricsPort, 'edgepeer_deliver_active', (v) => v === 0, 'to drop to 0 (the deliver client stopped)', { labels: { channel: chain.channel } });

  const health = spawnCli(['health', '--metrics-port', String(metricsPort)], { name: 'health' });
  assert.equal((await health.exited).code, 1, health.describe());
  assert.match(health.lines.join('\n'), new RegExp(`^unhealthy: fork detected on channel ${chain.channel} at block ${BLOCKS}: `));

  // It stopped pulling: the orderer's session ends (the board cancels it) and no new one opens while the
  // board prints QUIET_STATUS_LINES more status lines, ten times the longest retry delay it runs with.
  await waitForMetric(ordererMetricsPort, 'edgepeer_deliver_streams_open', (v) => v === 0, 'to drop to 0 (the board cancelled its stream)');
  let seen = 0;
  const quiet = await waitForStatus(peer, () => ++seen >= QUIET_STATUS_LINES, `${QUIET_STATUS_LINES} more status lines`, { since: linesAtFork, timeoutMs: SYNC_TIMEOUT_MS });
  assert.deepEqual([quiet['sync'], quiet['deliver'], heightOf(quiet)], ['forked', 'stopped', HEIGHT]);
  // The (emulated) LEDs: sync and error blink in turn (~ and ^), the pattern of a fork and of nothing else.
  assert.match(quiet['leds'] ?? '', /^.~.\^:/);
  const since = statusLines(peer, linesAtFork);
  assert.deepEqual([...new Set(since.map((s) => `${s['sync']} ${heightOf(s)}`))], [`forked ${HEIGHT}`], 'forked, at the same height, in every line after');
  assert.equal(await readMetric(ordererMetricsPort, 'edgepeer_deliver_streams_open'), 0, 'no stream opened again');
  const logged = peer.stderrLines.filter((l) => l.includes('fork detected'));
  assert.equal(logged.length, 1, `the fork is logged once:\n${logged.join('\n')}`);
  const entry = JSON.parse(logged[0]!) as { level: number; block: number; hash: string; conflictingHash: string; offeredBlock: number };
  assert.equal(entry.level, PINO_ERROR_LEVEL, 'logged as an error');
  assert.deepEqual([entry.block, entry.offeredBlock], [BLOCKS, HEIGHT]);
  assert.match(entry.conflictingHash, /^[0-9a-f]{64}$/);
  assert.notEqual(entry.conflictingHash, entry.hash);

  // Its ledger is the first chain, whole and unchanged.
  await peer.stop();
  const verdict = await ledgerVerify(peerData);
  assert.equal(verdict.ok, true, JSON.stringify(verdict));
  const [mine, original, other] = await Promise.all([ledgerInfo(peerData), ledgerInfo(chain.ordererData), ledgerInfo(otherData)]);
  assert.deepEqual([mine.height, mine.lastHash], [HEIGHT, original.lastHash]);
  assert.notEqual(mine.lastHash, other.lastHash);
  assert.equal(entry.hash, mine.lastHash, 'the logged hash is the one the board holds');
});
