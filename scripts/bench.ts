// `npm run bench`: how fast a fresh board catches up from the orderer, and what it costs.
//
// 1. A fresh peer catches up N blocks of about 1 KiB over MQTT on loopback, verified and committed
//    durably (blocks/s, MB/s, GCs, peak memory), and again with a large young generation to measure
//    JS-heap bytes per committed block end to end (MQTT ingress and CBOR decode included).
// 2. The hot path alone (verify → buffer → commit, no transport): blocks/s, GCs, heap bytes per block.
// 3. The physical limits on the same bytes in the same run: SHA-256 of the block bytes, one Ed25519
//    verify, one LMDB transaction of a run of blocks, MQTT loopback; each figure beside its limit.
// 4. Full runs only: peak memory of a peer whose ledger grows to `--rss-blocks` (default 1,000,000).
//
// 5. Gossip (scripts/benchGossip.ts): 16 boards in 2 orgs, latency from cut to committed on every board,
//    gossip messages and bytes per block per board (`--gossip-only`, `--no-gossip`).
// 6. Fabric (scripts/benchFabric.ts): a board catches up Fabric-format blocks from `edgepeer gateway`
//    beside edgepeer blocks from the orderer, and the ECDSA limits (`--fabric-only`, `--no-fabric`).
//
// `-- --quick` is a short smoke run (10,000 blocks, no 1M-block run); `-- --json` prints one object.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { atLeast, wholeNumber } from '../src/cli/options.js';
import { makeBlock } from '../src/channel/blocks.js';
import { certificateKey } from '../src/protocol/certificate.js';
import { deliverClientDefaults, peerDefaults } from '../src/peer/peerDefaults.js';
import { deliverDefaults } from '../src/protocol/deliverDefaults.js';
import { PROFILE_MEMORY_MB, heapCapMb, peerNodeOptions } from '../src/deploy/heapPolicy.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { BlockLayout, locateBlock } from '../src/protocol/block.js';
import { MessageType, type Signer, signEnvelope } from '../src/protocol/envelope.js';
import type { BenchPeerArgs, BenchPeerResult } from './benchPeer.js';
import { createMemoryCgroup } from './benchCgroup.js';
import { type Limit, ed25519Limit, lmdbLimit, mqttLimit, sha256Limit } from './benchLimits.js';
import { formatGossipBench, gossipBenchSettings, runGossipBench } from './benchGossip.js';
import { formatSerialBench, runSerialBench, serialBenchBlocks } from './benchSerial.js';
import { type Child, runChild } from './benchChild.js';
import { fabricBenchBlocks, formatFabricBench, runFabricBench } from './benchFabric.js';

const fullBlocks = 100_000;
const quickBlocks = 10_000;
const fullRssBlocks = 1_000_000;
/** Bytes of random data in each block's one transaction, so that a block is about 1 KiB. */
const txDataBytes = 430;
/** Blocks written per LMDB transaction while preparing the orderer's ledger. */
const prepareRunBlocks = 1_000;
/** Young generation for the heap-measuring runs, so that most windows of blocks see no scavenge. */
const heapRunSemiSpaceMiB = 64;
/** Blocks per run in the LMDB limit: about what one Deliver response of 256 KiB carries. */
const lmdbRunBlocks = 240;
/** Blocks offered to the hot path alone (about 0.5 s of work; ten heap windows). */
const hotPathBlocks = 50_000;
/** Fewer GC-free windows than this and a heap figure is not steady state: reported as n/a. */
const minHeapWindows = 5;
/** The board the memory run stands for: its RAM gives the V8 flags its systemd unit runs the peer with. */
const memoryRunBoardMb = PROFILE_MEMORY_MB['raspberry-pi-zero-2-w']!;
/** V8 flags for the memory run, as deployed to that board (`--peer-node-flags=...` to measure others). */
const boardNodeFlags = peerNodeOptions(heapCapMb(memoryRunBoardMb), memoryRunBoardMb);

/** The memory target, as a hard limit on the peer's cgroup in the second memory run. */
const memoryCgroupLimitMiB = 64;

type CgroupRun =
  | { skip: string }
  | {
    limitMiB: number; completed: boolean; blocksPerSec: number; peakRssMiB: number; peakRssAnonMiB: number;
    peakChargeMiB: number; limitHits: number; oomKills: number; error?: string;
  };

const here = fileURLToPath(new URL('.', import.meta.url));
const cliPath = join(here, '..', 'src', 'cli', 'main.js');

/** Appends blocks to the orderer's ledger up to `height`, signed as the orderer signs them. */
function extendLedger(ledger: LmdbLedger, height: number, tx: Uint8Array, signer: Signer): number {
  let prev: Uint8Array = ledger.lastHash().slice();
  let bytes = 0;
  while (ledger.height() < height) {
    const from = ledger.height();
    const run: Uint8Array[] = [];
    const hashes: Uint8Array[] = [];
    for (let k = from; k < Math.min(from + prepareRunBlocks, height); k++) {
      const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: signer.privateKey }]);
      run.push(b.bytes);
      hashes.push(b.hash);
      prev = b.hash;
      bytes += b.bytes.length;
    }
    ledger.append(run, hashes, 0, run.length);
  }
  return bytes;
}

const ratio = (figure: number, limit: Limit): number => figure / limit.blocksPerSec;

interface BenchCliOptions {
  quick?: boolean; json?: boolean; blocks?: number; rssBlocks?: number; peerNodeFlags?: string; cpuProfDir?: string;
  serialOnly?: boolean; serial: boolean; gossipOnly?: boolean; gossip: boolean; fabricOnly?: boolean; fabric: boolean;
}

async function main(): Promise<void> {
  const values = new Command('bench')
    .option('--quick', `a short smoke run: ${quickBlocks} blocks, no memory run, the serial, gossip and fabric parts shortened too`)
    .option('--json', 'one JSON object on stdout')
    .option('--blocks <n>', `blocks a fresh peer catches up (default ${fullBlocks}, ${quickBlocks} with --quick)`, atLeast(1, wholeNumber))
    .option('--rss-blocks <n>', `ledger height of the memory run (default ${fullRssBlocks}, none with --quick; none unless above --blocks)`, wholeNumber)
    .option('--peer-node-flags <flags>', `node flags of the memory run's peer (default: those of a ${memoryRunBoardMb} MB board, ${boardNodeFlags})`)
    .option('--cpu-prof-dir <dir>', 'write V8 CPU profiles of the orderer, the speed run\'s peer and the hot path into <dir> (node --cpu-prof)')
    .option('--serial-only', 'only the serial link bench')
    .option('--no-serial', 'leave the serial link bench out')
    .option('--gossip-only', 'only the gossip bench')
    .option('--no-gossip', 'leave the gossip bench out')
    .option('--fabric-only', 'only the Fabric bench')
    .option('--no-fabric', 'leave the Fabric bench out')
    .parse().opts<BenchCliOptions>();
  // Gossip between 16 boards (scripts/benchGossip.ts): `--gossip-only` runs just that, `--no-gossip` leaves
  // it out, `--quick` runs it on fewer blocks.
  const gossipBench = async (): Promise<Awaited<ReturnType<typeof runGossipBench>> | null> => (!values.gossip ? null
    : runGossipBench({ blocks: values.quick ? gossipBenchSettings.quick.blocks : gossipBenchSettings.full.blocks, say: (s) => { if (!values.json) process.stderr.write(`${s}\n`); } }));
  const fabricBench = async (): Promise<Awaited<ReturnType<typeof runFabricBench>> | null> => (!values.fabric ? null
    : runFabricBench({ blocks: values.quick ? fabricBenchBlocks.quick : fabricBenchBlocks.full, say: (s) => { if (!values.json) process.stderr.write(`${s}\n`); } }));
  if (values.fabricOnly) {
    const fabric = await fabricBench();
    process.stdout.write(values.json ? `${JSON.stringify({ fabric })}\n` : formatFabricBench(fabric!));
    return;
  }
  if (values.gossipOnly) {
    const gossip = await gossipBench();
    process.stdout.write(values.json ? `${JSON.stringify({ gossip })}\n` : formatGossipBench(gossip!));
    return;
  }
  // The serial link (scripts/benchSerial.ts): `--serial-only` runs just that, `--no-serial` leaves it out.
  const serialBench = async (): Promise<Awaited<ReturnType<typeof runSerialBench>> | null> => (!values.serial ? null
    : runSerialBench({ blocks: values.quick ? serialBenchBlocks.quick : serialBenchBlocks.full, say: (s) => { if (!values.json) process.stderr.write(`${s}\n`); } }));
  if (values.serialOnly) {
    const serial = await serialBench();
    process.stdout.write(values.json ? `${JSON.stringify({ serial })}\n` : formatSerialBench(serial!));
    return;
  }
  const blocks = values.blocks ?? (values.quick === true ? quickBlocks : fullBlocks);
  const rssBlocks = values.rssBlocks ?? (values.quick === true ? 0 : fullRssBlocks);
  // The memory run uses the V8 flags a board runs with (see packaging/ and docs/operations.md), unless told.
  // Where the time goes: the children that measure speed are profiled (open the .cpuprofile in Chrome's DevTools).
  const profFlags = values.cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.cpuProfDir}`];
  const memoryRunFlags = (values.peerNodeFlags ?? boardNodeFlags).split(/\s+/).filter((f) => f !== '');
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-'));
  const say = (s: string): void => { if (!values.json) process.stderr.write(`${s}\n`); };
  try {
    const summary = await createNetwork({ dir: join(dir, 'network'), channels: ['bench'], orgs: 1, boardsPerOrg: 1 });
    const board = summary.boards[0]!.id;
    const ids = loadOrdererIdentities(summary.dir);
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: 'bench', data: randomBytes(txDataBytes) }, loadClient(summary.dir)).bytes;

    say(`preparing the orderer's ledger: ${blocks} blocks of ~1 KiB ...`);
    const ordererData = join(dir, 'orderer');
    let ledger = openLedger(ledgerPath(ordererData, 'bench'), { channel: 'bench' });
    ledger.append([loadGenesis(summary.dir, 'bench')], null, 0, 1);
    const bytesTotal = extendLedger(ledger, blocks + 1, tx, ids.node);
    const avgBlockBytes = bytesTotal / blocks;
    const sample = Array.from({ length: 2_000 }, (_, i) => ledger.getBlock(1 + (i % blocks))!);
    const ordererLastHash = Buffer.from(ledger.lastHash()).toString('hex');
    await ledger.close();

    say('measuring the limits on the same bytes ...');
    const layout = new BlockLayout();
    locateBlock(sample[0]!, layout);
    const sha = sha256Limit(sample);
    say(`  SHA-256: ${sha.node.detail}; ${sha.js.detail}`);
    const verify = ed25519Limit(sample[0]!, certificateKey(ids.node.certificate), layout.signaturesOffset + 2);
    say(`  Ed25519: ${verify.detail}`);
    const lmdb = await lmdbLimit(sample, lmdbRunBlocks);
    say(`  LMDB: ${lmdb.detail}`);
    // With a lending link, as the bench peer's (scripts/benchPeer.ts).
    // A stalled MQTT limit is reported as such (n/a), and the rest of the bench goes on.
    const mqtt = await mqttLimit(deliverDefaults.maxResponseBytes, values.quick ? 200 : 1_000, deliverClientDefaults.windowMessages, avgBlockBytes, true)
      .catch((err: unknown): Limit => ({ blocksPerSec: Number.NaN, detail: `not measured: ${(err as Error).message}` }));

    const startOrderer = async (): Promise<{ child: Child; url: string }> => {
      const child = runChild([...profFlags, cliPath, 'orderer', '--network', summary.dir, '--data', ordererData, '--mqtt-port', '0', '--ready-json'],
        (line) => line.startsWith('{"ready":true'));
      return { child, url: (JSON.parse(await child.done) as { mqtt: string }).mqtt };
    };
    let orderer = await startOrderer();
    const runPeer = async (name: string, mode: BenchPeerArgs['mode'], target: number, verify: boolean, flags: string[],
      cgroupProcs?: string): Promise<BenchPeerResult> => {
      const args: BenchPeerArgs = { network: summary.dir, board, data: join(dir, name), url: orderer.url, target, mode, verify };
      const out = await runChild([...flags, join(here, 'benchPeer.js'), JSON.stringify(args)], undefined, cgroupProcs).done;
      return JSON.parse(out.trim().split('\n').pop()!) as BenchPeerResult;
    };
    say('a fresh peer catches up over MQTT (speed run) ...');
    // Who used the cores during the speed run: the peer and the machine (measured by the peer over its
    // timed part), and the orderer (its whole share of the run; it idles while the peer starts and ends).
    const ordererCpuBefore = orderer.child.cpuSeconds();
    const speed = await runPeer('peer-speed', 'speed', blocks + 1, true, profFlags);
    const ordererCpuAfter = orderer.child.cpuSeconds();
    if (speed.lastHash !== ordererLastHash) throw new Error('the peer ended on another chain than the orderer');
    say(`  ${speed.seconds.toFixed(2)} s, ${speed.gcCount} GCs; the peer's chain re-verified`);
    say('... and again, measuring heap bytes per block end to end ...');
    const e2eHeap = await runPeer('peer-heap', 'heap', blocks + 1, false, [`--max-semi-space-size=${heapRunSemiSpaceMiB}`]);

    say('the hot path alone (verify → buffer → commit) ...');
    // The hot path makes its own blocks: always enough of them for steady-state windows, even in --quick.
    const hotArgs = ['--expose-gc', join(here, 'benchHotPath.js'), String(hotPathBlocks)];
    const hot = JSON.parse((await runChild([...profFlags, ...hotArgs]).done).trim()) as {
      blocksPerSec: number; gcCount: number; blockBytes: number; storageBytesPerBlock: number | null;
    };
    const hotHeap = JSON.parse((await runChild([`--max-semi-space-size=${heapRunSemiSpaceMiB}`, ...hotArgs]).done).trim()) as
      { heapBytesPerBlock: number | null; heapWindows: number };

    let rss: BenchPeerResult | null = null;
    let cgroupRun: CgroupRun | null = null;
    if (rssBlocks > blocks) {
      say(`growing the orderer's ledger to ${rssBlocks} blocks for the memory run ...`);
      orderer.child.kill();
      await orderer.child.done.catch(() => undefined);
      ledger = openLedger(ledgerPath(ordererData, 'bench'), { channel: 'bench' });
      extendLedger(ledger, rssBlocks + 1, tx, ids.node);
      const rssLastHash = Buffer.from(ledger.lastHash()).toString('hex');
      await ledger.close();
      orderer = await startOrderer();
      say(`a fresh peer catches up ${rssBlocks} blocks (memory run) ...`);
      rss = await runPeer('peer-rss', 'speed', rssBlocks + 1, false, memoryRunFlags);
      if (rss.lastHash !== rssLastHash) throw new Error('the peer ended on another chain than the orderer (memory run)');
      const group = createMemoryCgroup(`edgepeer-bench-${process.pid}`, memoryCgroupLimitMiB * 2 ** 20);
      if ('skip' in group) {
        cgroupRun = { skip: group.skip };
      } else {
        say(`... and again inside a ${memoryCgroupLimitMiB} MiB memory cgroup (RSS and page cache charged, no swap) ...`);
        try {
          const r = await runPeer('peer-cgroup', 'speed', rssBlocks + 1, false, memoryRunFlags, group.procsFile);
          const st = group.stats();
          cgroupRun = {
            limitMiB: memoryCgroupLimitMiB, completed: r.lastHash === rssLastHash, blocksPerSec: r.blocks / r.seconds, peakRssMiB: r.peakRssMiB,
            peakRssAnonMiB: r.peakRssAnonMiB, peakChargeMiB: st.peakBytes / 2 ** 20, limitHits: st.limitHits, oomKills: st.oomKills,
          };
        } catch (err) {
          const st = group.stats();
          cgroupRun = {
            limitMiB: memoryCgroupLimitMiB, completed: false, blocksPerSec: 0, peakRssMiB: 0, peakRssAnonMiB: 0,
            peakChargeMiB: st.peakBytes / 2 ** 20, limitHits: st.limitHits, oomKills: st.oomKills, error: (err as Error).message.slice(0, 300),
          };
        } finally {
          group.remove();
        }
      }
    }
    orderer.child.kill();
    await orderer.child.done.catch(() => undefined);

    const ordererCpuSeconds = ordererCpuBefore === null || ordererCpuAfter === null ? null : ordererCpuAfter - ordererCpuBefore;
    const cores = cpus().length;
    const catchUpCpu = {
      peerUsPerBlock: (speed.cpuSeconds / blocks) * 1e6,
      ordererUsPerBlock: ordererCpuSeconds === null ? null : (ordererCpuSeconds / blocks) * 1e6,
      machineBusy: speed.machineBusy,
      // What the two processes' CPU alone would allow with every core theirs and perfectly overlapped.
      cpuBoundBlocksPerSec: ordererCpuSeconds === null ? null : (cores * blocks) / (speed.cpuSeconds + ordererCpuSeconds),
    };
    const e2eHeapPerBlock = e2eHeap.heapWindows >= minHeapWindows ? e2eHeap.heapBytesPerBlock : null;
    const blocksPerSec = blocks / speed.seconds;
    const limits = {
      sha256: { ...sha.node, ratio: ratio(blocksPerSec, sha.node) },
      sha256Js: { ...sha.js, ratio: ratio(blocksPerSec, sha.js) },
      ed25519Verify: { ...verify, ratio: ratio(blocksPerSec, verify) },
      lmdbTransaction: { ...lmdb, ratio: ratio(blocksPerSec, lmdb) },
      mqttLoopback: { ...mqtt, ratio: ratio(blocksPerSec, mqtt) },
    };
    const memoryRun = rss ?? speed;
    const result = {
      machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) },
      settings: {
        blocks, avgBlockBytes: Math.round(avgBlockBytes), transport: 'MQTT 3.1.1 over TCP loopback, Aedes embedded in the orderer process',
        deliverWindowMessages: deliverClientDefaults.windowMessages, maxResponseBytes: deliverDefaults.maxResponseBytes,
        payloadBufferSlots: peerDefaults.payloadBufferSlots, commitRunMaxBlocks: peerDefaults.commitRunMaxBlocks,
        heapRunYoungGenMiB: heapRunSemiSpaceMiB, durability: 'LMDB default sync: every committed run is durable',
        signatures: 'one Ed25519 verify per contiguous run (amortised); every block hashed and chained',
      },
      blocksPerSec,
      mbPerSec: bytesTotal / speed.seconds / 1e6,
      seconds: speed.seconds,
      gcCount: speed.gcCount,
      catchUpCpu,
      heapBytesPerBlock: hotHeap.heapBytesPerBlock,
      hotPath: { blocksPerSec: hot.blocksPerSec, gcCount: hot.gcCount, blockBytes: hot.blockBytes, storageBytesPerBlock: hot.storageBytesPerBlock, heapBytesPerBlock: hotHeap.heapBytesPerBlock, heapWindows: hotHeap.heapWindows },
      endToEndHeapBytesPerBlock: e2eHeapPerBlock,
      ingressHeapBytesPerBlock: e2eHeapPerBlock !== null && hotHeap.heapBytesPerBlock !== null ? e2eHeapPerBlock - hotHeap.heapBytesPerBlock : null,
      peakRssMiB: memoryRun.peakRssMiB,
      peakRssAnonMiB: memoryRun.peakRssAnonMiB,
      peakRssFileMiB: memoryRun.peakRssFileMiB,
      memoryRunBlocks: memoryRun.blocks,
      memoryRunNodeFlags: rss ? memoryRunFlags : [],
      memoryCgroupRun: cgroupRun,
      memoryAtEndMiB: memoryRun.memoryAtEndMiB,
      anonAtEndMiB: memoryRun.anonAtEndMiB,
      limits,
    };
    const serial = await serialBench();
    const gossip = await gossipBench();
    const fabric = await fabricBench();
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...result, serial, gossip, fabric })}\n`);
      return;
    }
    const n = (x: number | null, d = 0): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
    const line = (label: string, value: string, limit = '', r = ''): string => `  ${label.padEnd(34)}${value.padStart(12)}   ${limit.padEnd(70)} ${r}`;
    const m = result.machine;
    process.stdout.write([
      'edgepeer bench',
      `  machine   node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB`,
      `  settings  ${JSON.stringify(result.settings)}`,
      '',
      line('figure', 'value', 'limit measured in this run', 'figure/limit'),
      line('catch-up over MQTT, blocks/s', n(blocksPerSec), `MQTT loopback ${n(mqtt.blocksPerSec)} blk/s (${mqtt.detail})`, n(limits.mqttLoopback.ratio, 2)),
      line('', '', `SHA-256 of the block bytes ${n(sha.node.blocksPerSec)} blk/s (${sha.node.detail})`, n(limits.sha256.ratio, 2)),
      line('', '', `  (allocation-free JS SHA-256 ${n(sha.js.blocksPerSec)} blk/s, ${sha.js.detail.split(' ').slice(-2).join(' ')})`, n(limits.sha256Js.ratio, 2)),
      line('', '', `one Ed25519 verify per block ${n(verify.blocksPerSec)} blk/s (${verify.detail})`, n(limits.ed25519Verify.ratio, 2)),
      line('', '', `LMDB ${n(lmdb.blocksPerSec)} blk/s (${lmdb.detail})`, n(limits.lmdbTransaction.ratio, 2)),
      line('catch-up MB/s', n(result.mbPerSec, 1)),
      line('catch-up GCs', n(speed.gcCount)),
      line('catch-up CPU µs / block, peer', n(catchUpCpu.peerUsPerBlock, 1), 'user + system, all threads (LMDB writer included)'),
      line('catch-up CPU µs / block, orderer', n(catchUpCpu.ordererUsPerBlock, 1),
        `both alone allow ${n(catchUpCpu.cpuBoundBlocksPerSec)} blk/s on ${cores} cores; machine ${catchUpCpu.machineBusy === null ? 'n/a' : `${n(catchUpCpu.machineBusy * 100)} %`} busy (all processes)`),
      line('hot path alone, blocks/s', n(hot.blocksPerSec)),
      line('hot path heap bytes / block', n(hotHeap.heapBytesPerBlock), `median of ${hotHeap.heapWindows} GC-free windows; target ≤ 64`),
      line('hot path GCs', n(hot.gcCount), 'default V8 settings'),
      line('hot path storage bytes / block', hot.storageBytesPerBlock === null ? 'n/a' : n(hot.storageBytesPerBlock),
        `/proc/self/io write_bytes; blocks are ${n(hot.blockBytes)} B; what an SD card wears by`),
      line('end-to-end heap bytes / block', n(e2eHeapPerBlock), `ingress (MQTT + CBOR decode) ≈ ${n(result.ingressHeapBytesPerBlock)}`),
      line(`peak RSS (${memoryRun.blocks.toLocaleString('en-US')}-block ledger)`, `${n(memoryRun.peakRssMiB, 1)} MiB`,
        `anonymous ${n(memoryRun.peakRssAnonMiB, 1)} MiB + file-backed ${n(memoryRun.peakRssFileMiB, 1)} MiB; target ≤ 64 MiB`),
      line('', '', rss ? `memory run: ${n(rss.blocks / rss.seconds)} blk/s with node ${memoryRunFlags.join(' ') || '(defaults)'}` : ''),
      line('', '', `at the end: ${Object.entries(memoryRun.memoryAtEndMiB).map(([k, v]) => `${k} ${v}`).join(', ')} (MiB)`),
      line('', '', `  anonymous at the end: malloc heap ${memoryRun.anonAtEndMiB.mallocHeap} + other mappings ${memoryRun.anonAtEndMiB.mappings} MiB`),
      line('', '', '  (arrayBuffers counts the rings whole; only their used pages are resident)'),
      ...(cgroupRun === null ? [] : 'skip' in cgroupRun
        ? [line(`in a ${memoryCgroupLimitMiB} MiB memory cgroup`, 'skipped', cgroupRun.skip)]
        : [
          line(`in a ${cgroupRun.limitMiB} MiB memory cgroup`, cgroupRun.completed ? 'completed' : 'FAILED',
            `${n(cgroupRun.blocksPerSec)} blk/s, peak RSS ${n(cgroupRun.peakRssMiB, 1)} MiB (anonymous ${n(cgroupRun.peakRssAnonMiB, 1)}), `
            + `peak charge ${n(cgroupRun.peakChargeMiB, 1)} MiB`),
          line('', '', `limit reached ${cgroupRun.limitHits} times (the kernel reclaimed page cache), OOM kills ${cgroupRun.oomKills}`
            + `${cgroupRun.error !== undefined ? `; ${cgroupRun.error}` : ''}`),
        ]),
      '',
    ].join('\n'));
    if (serial !== null) process.stdout.write(`\n${formatSerialBench(serial)}`);
    if (gossip !== null) process.stdout.write(`\n${formatGossipBench(gossip)}`);
    if (fabric !== null) process.stdout.write(`\n${formatFabricBench(fabric)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
