// The hot path alone (verify → buffer → commit), in its own process: pre-made blocks, already decoded
// from the wire, are offered to a real Peer over a real LMDB ledger in runs the size of a Deliver
// response, with no transport at all. Reports JS-heap bytes per committed block (median of windows with
// no GC inside) and the GCs over the whole run, as one JSON line. Run with a large young generation
// (--max-semi-space-size) so that windows without a scavenge exist; a GC that still happens is counted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { randomBytes } from 'node:crypto';
import { makeBlock } from '../src/channel/blocks.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadBoard, loadClient, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { silentLogger } from '../src/observability/logger.js';
import { Peer } from '../src/peer/peer.js';
import { MessageType, signEnvelope } from '../src/protocol/envelope.js';
import type { ClientLink } from '../src/transport/link.js';
import { edgepeerChainRules } from '../src/ledger/edgepeerChainRules.js';

/** Blocks per offer, as a Deliver response of 256 KiB carries about this many 1 KiB blocks. */
const runBlocks = 240;
const txDataBytes = 430;
const windowBlocks = 4_800;

/** A link that never comes up: the hot path is driven directly, not by the deliver client. */
const idleLink: ClientLink = {
  endpoint: 'none://',
  state: 'down',
  replyRoute: () => 'none',
  open: () => new Promise<void>(() => undefined),
  send: () => Promise.reject(new Error('idle link')),
  on() { return this; },
  off() { return this; },
  close: () => Promise.resolve(),
};

function usedHeapBytes(): number {
  let used = 0;
  for (const s of v8.getHeapSpaceStatistics()) used += s.space_used_size;
  return used;
}

/** Bytes this process has had written to storage (/proc/self/io write_bytes; null where there is none). */
function storageWriteBytes(): number | null {
  try {
    const m = /^write_bytes:\s*(\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const blocksTotal = Number(process.argv[2] ?? 50_000);
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-hotpath-'));
  try {
    const summary = await createNetwork({ dir: join(dir, 'network'), channels: ['bench'], orgs: 1, boardsPerOrg: 1 });
    const board = loadBoard(summary.dir, summary.boards[0]!.id);
    const signer = loadOrdererIdentities(summary.dir).node;
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: 'bench', data: randomBytes(txDataBytes) }, loadClient(summary.dir)).bytes;
    const ledger = openLedger(ledgerPath(join(dir, 'peer'), 'bench'), { channel: 'bench' });
    const peer = new Peer({ boardId: board.config.id, ledger, rules: edgepeerChainRules(ledger.channel, board.genesis), signer: board.signer, links: [idleLink], log: silentLogger() });
    const runs: Uint8Array[][] = [];
    let prev: Uint8Array = ledger.lastHash().slice();
    for (let n = 1; n <= blocksTotal; n += runBlocks) {
      const run: Uint8Array[] = [];
      for (let k = n; k < Math.min(n + runBlocks, blocksTotal + 1); k++) {
        const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: signer.privateKey }]);
        run.push(b.bytes);
        prev = b.hash;
      }
      runs.push(run);
    }
    // Garbage from making the blocks must not be counted against the hot path.
    (globalThis as { gc?: () => void }).gc?.();
    let gcs = 0;
    const obs = new PerformanceObserver((l) => { gcs += l.getEntries().length; });
    obs.observe({ entryTypes: ['gc'] });
    const windows: number[] = [];
    let wStartHeight = ledger.height();
    let wStartHeap = usedHeapBytes();
    let wStartGc = gcs;
    const writtenBefore = storageWriteBytes();
    const started = performance.now();
    for (const run of runs) {
      let from = 0;
      while (from < run.length) {
        const taken = peer.offer(run, from);
        if (taken < 0) throw new Error('a good block was rejected');
        from += taken;
        // A full payload buffer drains when the run in flight is durable: wait for that, not in a spin.
        if (taken === 0) await once(peer, 'committed');
        else await turn();
      }
      const h = ledger.height();
      if (h - wStartHeight >= windowBlocks) {
        if (gcs === wStartGc) windows.push((usedHeapBytes() - wStartHeap) / (h - wStartHeight));
        wStartHeight = h;
        wStartHeap = usedHeapBytes();
        wStartGc = gcs;
      }
    }
    while (ledger.height() < blocksTotal + 1) await turn();
    const seconds = (performance.now() - started) / 1000;
    const writtenAfter = storageWriteBytes();
    // What an SD card wears by, beside the block bytes (runs of ~1 KiB blocks, one fsync'd commit per run).
    const storageBytesPerBlock = writtenBefore === null || writtenAfter === null ? null : (writtenAfter - writtenBefore) / blocksTotal;
    const blockBytes = runs.reduce((sum, run) => sum + run.reduce((s2, b) => s2 + b.length, 0), 0) / blocksTotal;
    obs.disconnect();
    windows.sort((a, b) => a - b);
    process.stdout.write(`${JSON.stringify({
      blocks: blocksTotal, seconds, blocksPerSec: blocksTotal / seconds, gcCount: gcs, blockBytes, storageBytesPerBlock,
      heapBytesPerBlock: windows.length > 0 ? windows[Math.floor(windows.length / 2)] : null, heapWindows: windows.length,
    })}\n`);
    await ledger.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`benchHotPath: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
