// The peer side of `npm run bench`, in its own process so its heap, GCs and RSS are its own: a fresh
// board catches up from the orderer over MQTT, and reports what it measured as one JSON line.
//
// Heap bytes per block are measured in windows of blocks with no GC inside (the process runs with a
// large young generation so most windows have none), as /work/shared/reference/library-notes.md
// describes; the median over those windows is reported.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { verifyChain } from '../src/ledger/verifyChain.js';
import { loadBoard } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Peer } from '../src/peer/peer.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';

/** Blocks per heap-measurement window. */
const heapWindowBlocks = 2_000;

function usedHeapBytes(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) used += s.space_used_size;
  return used;
}

function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const [network, board, dataDir, url, targetText] = process.argv.slice(2);
  if (!network || !board || !dataDir || !url || !targetText) throw new Error('usage: benchPeer NETWORK BOARD DATA URL TARGET_HEIGHT');
  const target = Number(targetText);
  let gcCount = 0;
  const gcObserver = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });
  gcObserver.observe({ entryTypes: ['gc'] });

  const b = loadBoard(network, board);
  const link = new MqttClientLink({ endpoint: { url }, clientId: board });
  const ledger = openLedger(ledgerPath(dataDir, b.config.channel), { channel: b.config.channel });
  const peer = new Peer({ boardId: board, ledger, genesis: b.genesis, signer: b.signer, links: [link], log: silentLogger() });

  const windows: number[] = [];
  let windowStartHeight = -1;
  let windowStartHeap = 0;
  let windowStartGc = 0;
  let peakRss = process.memoryUsage.rss();
  const started = performance.now();
  const gcAtStart = gcCount;
  await new Promise<void>((resolve) => {
    peer.on('committed', (h) => {
      const rss = process.memoryUsage.rss();
      if (rss > peakRss) peakRss = rss;
      if (windowStartHeight < 0 || h - windowStartHeight >= heapWindowBlocks) {
        if (windowStartHeight >= 0 && gcCount === windowStartGc) {
          windows.push((usedHeapBytes() - windowStartHeap) / (h - windowStartHeight));
        }
        windowStartHeight = h;
        windowStartHeap = usedHeapBytes();
        windowStartGc = gcCount;
      }
      if (h >= target) resolve();
    });
    peer.start();
  });
  const seconds = (performance.now() - started) / 1000;
  const gcs = gcCount - gcAtStart;
  await peer.stop();
  await link.close();
  // Outside the timed part: the ledger really holds a valid chain of every block.
  const verdict = verifyChain(ledger);
  await ledger.close();
  if (!verdict.ok) throw new Error(`peer ledger does not verify: block ${verdict.badBlock}: ${verdict.reason}`);
  if (verdict.height !== target) throw new Error(`peer ledger height ${verdict.height}, expected ${target}`);
  gcObserver.disconnect();
  const res = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({
    blocks: target - 1,
    seconds,
    gcCount: gcs,
    heapBytesPerBlock: median(windows),
    heapWindows: windows.length,
    peakRssMiB: Math.max(peakRss, res.maxRSS * 1024) / 2 ** 20,
  })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`benchPeer: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
