// The peer side of `npm run bench`, in its own process so its heap, GCs and memory are its own: a fresh
// board catches up from the orderer over MQTT and reports what it measured as one JSON line.
//
// mode 'speed': blocks/s, GCs and peak memory with default V8 settings (memory sampled on a timer).
// mode 'heap':  JS-heap bytes per committed block, end to end (MQTT ingress + CBOR decode + hot path),
//               measured in windows with no GC inside (run it with a large young generation), median.
import { readFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { verifyChain } from '../src/ledger/verifyChain.js';
import { loadBoard } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Peer } from '../src/peer/peer.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';
import { chainRulesFor } from '../src/cli/fabricChannel.js';
import { brokerCredentials } from '../src/transport/mqtt/brokerIdentity.js';
import { machineCpuTicks } from './benchChild.js';

export interface BenchPeerArgs {
  network: string;
  board: string;
  data: string;
  url: string;
  /** Stop once the ledger reaches this height: the orderer's height, so the peer stops exactly there. */
  target: number;
  mode: 'speed' | 'heap';
  /** Re-check the whole chain afterwards (one signature per block: slow for long chains). */
  verify: boolean;
}

export interface BenchPeerResult {
  blocks: number;
  seconds: number;
  gcCount: number;
  /** CPU seconds of the whole process (user + system, every thread: LMDB's writer too) from start to target. */
  cpuSeconds: number;
  /**
   * Share of the machine's cores busy over the same time, all processes (this one, the orderer, anyone
   * else's); null off Linux. Above (peer + orderer CPU) / (seconds × cores), other work competed for the cores.
   */
  machineBusy: number | null;
  heapBytesPerBlock: number | null;
  heapWindows: number;
  peakRssMiB: number;
  peakRssAnonMiB: number;
  peakRssFileMiB: number;
  lastHash: string;
  /** process.memoryUsage() when the target was reached, MiB: where the private memory is. */
  memoryAtEndMiB: Record<string, number>;
  /**
   * Resident anonymous memory when the target was reached, MiB, by kind of mapping (/proc/self/smaps):
   * `mallocHeap` the main malloc arena ([heap]: native allocations, small ArrayBuffers), `mappings` the
   * other anonymous mappings (V8's heap pages, large ArrayBuffers such as the ingress rings, thread stacks).
   */
  anonAtEndMiB: { mallocHeap: number; mappings: number };
}

/** Blocks per heap-measurement window. */
const heapWindowBlocks = 2_000;
/** How often memory is sampled in the speed run. */
const memorySampleMs = 25;

function usedHeapBytes(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) used += s.space_used_size;
  return used;
}

/** VmRSS, RssAnon and RssFile in bytes (Linux). File-backed pages are the LMDB map and the node binary. */
function memory(): { rss: number; anon: number; file: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kib = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kib('VmRSS'), anon: kib('RssAnon'), file: kib('RssFile') };
}

function anonymousBreakdown(): { mallocHeap: number; mappings: number } {
  let mallocHeap = 0;
  let mappings = 0;
  let inHeap = false;
  let anonymousMapping = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      inHeap = m[1] === '[heap]';
      anonymousMapping = m[1] === '' || inHeap;
      continue;
    }
    const a = /^Anonymous:\s+(\d+) kB/.exec(line);
    if (a && anonymousMapping) {
      if (inHeap) mallocHeap += Number(a[1]);
      else mappings += Number(a[1]);
    }
  }
  const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;
  return { mallocHeap: mib(mallocHeap), mappings: mib(mappings) };
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2] ?? '') as BenchPeerArgs;
  let gcCount = 0;
  const gcObserver = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });
  gcObserver.observe({ entryTypes: ['gc'] });

  const b = loadBoard(a.network, a.board);
  // Its one listener is the deliver client, which copies every response: the link may lend its buffers.
  const link = new MqttClientLink({ endpoint: { url: a.url }, credentials: brokerCredentials(b.signer), lendPayloads: true });
  // The board's channel's rules: an edgepeer chain, or a Fabric channel (scripts/benchFabric.ts).
  const rules = chainRulesFor(b.anchor);
  const ledger = openLedger(ledgerPath(a.data, b.config.channel), { channel: b.config.channel, format: rules.format });
  const peer = new Peer({ boardId: a.board, ledger, rules, signer: b.signer, links: [link], log: silentLogger() });

  const windows: number[] = [];
  let windowStartHeight = -1;
  let windowStartHeap = 0;
  let windowStartGc = 0;
  const peak = memory();
  const sample = (): void => {
    const m = memory();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.anon = Math.max(peak.anon, m.anon);
    peak.file = Math.max(peak.file, m.file);
  };
  const sampler = a.mode === 'speed' ? setInterval(sample, memorySampleMs) : null;
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const machineAtStart = machineCpuTicks();
  const gcAtStart = gcCount;
  await new Promise<void>((resolve) => {
    peer.on('committed', (h) => {
      if (a.mode === 'heap' && (windowStartHeight < 0 || h - windowStartHeight >= heapWindowBlocks)) {
        if (windowStartHeight >= 0 && gcCount === windowStartGc) {
          windows.push((usedHeapBytes() - windowStartHeap) / (h - windowStartHeight));
        }
        windowStartHeight = h;
        windowStartHeap = usedHeapBytes();
        windowStartGc = gcCount;
      }
      if (h >= a.target) resolve();
    });
    peer.start();
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const machineAtEnd = machineCpuTicks();
  const gcs = gcCount - gcAtStart;
  if (sampler) clearInterval(sampler);
  sample();
  const anonAtEndMiB = anonymousBreakdown();
  const memoryAtEndMiB = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round((v / 2 ** 20) * 10) / 10]));
  await peer.stop();
  await link.close();
  if (ledger.height() !== a.target) throw new Error(`peer stopped at height ${ledger.height()}, expected ${a.target}`);
  const lastHash = Buffer.from(ledger.lastHash()).toString('hex');
  if (a.verify) {
    // Outside the timed part: the ledger really holds a valid chain of every block.
    const verdict = verifyChain(ledger, { rules: rules.auditRules(Date.now()) });
    if (!verdict.ok) throw new Error(`peer ledger does not verify: block ${verdict.badBlock}: ${verdict.reason}`);
  }
  await ledger.close();
  gcObserver.disconnect();
  windows.sort((x, y) => x - y);
  const result: BenchPeerResult = {
    blocks: a.target - 1,
    seconds,
    gcCount: gcs,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    machineBusy: machineAtStart === null || machineAtEnd === null || machineAtEnd.total === machineAtStart.total ? null
      : (machineAtEnd.busy - machineAtStart.busy) / (machineAtEnd.total - machineAtStart.total),
    heapBytesPerBlock: windows.length > 0 ? windows[Math.floor(windows.length / 2)]! : null,
    heapWindows: windows.length,
    peakRssMiB: peak.rss / 2 ** 20,
    peakRssAnonMiB: peak.anon / 2 ** 20,
    peakRssFileMiB: peak.file / 2 ** 20,
    lastHash,
    memoryAtEndMiB,
    anonAtEndMiB,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`benchPeer: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
