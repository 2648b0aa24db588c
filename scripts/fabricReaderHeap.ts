// JS-heap bytes the Fabric in-place reader allocates per block (what the hot path does with every
// block: locate, number, previous-hash link, well-formed transactions and data hash, header hash,
// isConfig), measured as library-notes describes: own process, a young generation large enough that
// no scavenge falls in the window, warm-up, gc(), heap used before and after N passes, an N=0 baseline
// subtracted, GCs in the window counted. Prints one JSON line.
//   node --expose-gc --min-semi-space-size=256 --max-semi-space-size=256 dist/scripts/fabricReaderHeap.js [blocks]
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { FabricBlockReader } from '../src/fabric/fabricFormat.js';
import { makeTestChannel } from '../test/helpers/fabric/chainBuilder.js';

const TX_BYTES = 1024;
const WARMUP_PASSES = 3;

function usedHeapBytes(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) used += s.space_used_size;
  return used;
}

function pass(reader: FabricBlockReader, blocks: Uint8Array[], hashes: Uint8Array, count: number): number {
  let ok = 0;
  for (let i = 1; i <= count; i++) {
    const b = blocks[i]!;
    if (!reader.locate(b)) continue;
    const prevOffset = (i - 1) * 32;
    if (reader.number(b) === i && reader.previousHashEquals(b, hashes, prevOffset) && reader.dataHashValid(b) && !reader.isConfig(b)) ok++;
    reader.hashInto(b, hashes, i * 32);
  }
  return ok;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const { builder } = await makeTestChannel('heap');
  builder.genesis();
  builder.dataBlocks(n, { txBytes: TX_BYTES });
  const blocks = builder.blocks;
  const reader = new FabricBlockReader();
  const hashes = new Uint8Array((n + 1) * 32);
  reader.locate(blocks[0]!);
  reader.hashInto(blocks[0]!, hashes, 0);
  for (let w = 0; w < WARMUP_PASSES; w++) pass(reader, blocks, hashes, n);
  const gcTimes: number[] = [];
  const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) gcTimes.push(e.startTime); });
  obs.observe({ entryTypes: ['gc'] });
  const window = { start: 0, end: 0 };
  const measure = (count: number): number => {
    gc();
    window.start = performance.now();
    const before = usedHeapBytes();
    const ok = pass(reader, blocks, hashes, count);
    const after = usedHeapBytes();
    window.end = performance.now();
    if (count > 0 && ok !== count) throw new Error(`only ${ok} of ${count} blocks verified`);
    return after - before;
  };
  const baseline = measure(0);
  const used = measure(n);
  const elapsedMs = window.end - window.start;
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  const gcsInWindow = gcTimes.filter((t) => t >= window.start && t <= window.end).length;
  const blockBytes = blocks[1]!.length;
  console.log(JSON.stringify({
    blocks: n,
    blockBytes,
    heapBytesPerBlock: Number(((used - baseline) / n).toFixed(2)),
    gcsInWindow,
    blocksPerSecond: Math.round(n / (elapsedMs / 1000)),
  }));
}

await main();
