// `npm run bench`: a fresh board catching up N blocks of about 1 KiB from the orderer over MQTT on
// loopback, verified and committed durably. Prints blocks/s, MB/s, JS-heap bytes per committed block,
// GC count and peak RSS, with the machine and the settings. `-- --quick` for a short run, `-- --json`
// for one JSON object.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { makeBlock } from '../src/channel/blocks.js';
import { deliverClientDefaults, deliverDefaults, peerDefaults } from '../src/config/constants.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { MessageType, signEnvelope } from '../src/protocol/envelope.js';

const fullBlocks = 100_000;
const quickBlocks = 10_000;
/** Bytes of random data in each block's one transaction, so a block is about 1 KiB on the wire. */
const txDataBytes = 430;
/** Blocks written per LMDB transaction while preparing the orderer's ledger. */
const prepareRunBlocks = 1_000;
/** Young-generation size for the peer process, so heap windows are measured without a scavenge inside. */
const peerSemiSpaceMiB = 64;

const here = fileURLToPath(new URL('.', import.meta.url));
const cliPath = join(here, '..', 'src', 'cli', 'main.js');
const benchPeerPath = join(here, 'benchPeer.js');

interface PeerResult {
  blocks: number;
  seconds: number;
  gcCount: number;
  heapBytesPerBlock: number;
  heapWindows: number;
  peakRssMiB: number;
}

function runChild(args: string[], onLine?: (line: string) => boolean): { done: Promise<string>; pid: number; kill(): void } {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, EDGEPEER_LOG_LEVEL: 'warn' } });
  let out = '';
  let err = '';
  let matched = false;
  const done = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onLine && !matched) {
        for (const line of out.split('\n')) if (onLine(line)) { matched = true; resolve(line); }
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 || matched ? resolve(out) : reject(new Error(`${args[0]} exited ${code}: ${err.slice(-2000)}`))));
  });
  return { done, pid: child.pid!, kill: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'boolean' }, blocks: { type: 'string' } } });
  const blocks = values.blocks !== undefined ? Number(values.blocks) : values.quick ? quickBlocks : fullBlocks;
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-'));
  const log = (s: string): void => { if (!values.json) process.stderr.write(`${s}\n`); };
  try {
    const summary = await createNetwork({ dir: join(dir, 'network'), channels: ['bench'], orgs: 1, boardsPerOrg: 1 });
    const board = summary.boards[0]!.id;

    log(`preparing the orderer's ledger: ${blocks} blocks of ~1 KiB ...`);
    const prepStarted = performance.now();
    const ids = loadOrdererIdentities(summary.dir);
    const ledger = openLedger(ledgerPath(join(dir, 'orderer'), 'bench'), { channel: 'bench' });
    ledger.append([loadGenesis(summary.dir, 'bench')], null, 0, 1);
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: 'bench', data: randomBytes(txDataBytes) }, loadClient(summary.dir)).bytes;
    let prev: Uint8Array = ledger.lastHash().slice();
    let bytesTotal = 0;
    for (let n = 1; n <= blocks; n += prepareRunBlocks) {
      const run: Uint8Array[] = [];
      const hashes: Uint8Array[] = [];
      for (let k = n; k < Math.min(n + prepareRunBlocks, blocks + 1); k++) {
        const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: ids.node.privateKey }]);
        run.push(b.bytes);
        hashes.push(b.hash);
        prev = b.hash;
        bytesTotal += b.bytes.length;
      }
      ledger.append(run, hashes, 0, run.length);
    }
    await ledger.close();
    log(`  done in ${((performance.now() - prepStarted) / 1000).toFixed(1)} s; average block ${(bytesTotal / blocks).toFixed(0)} bytes`);

    const orderer = runChild([cliPath, 'orderer', '--network', summary.dir, '--data', join(dir, 'orderer'), '--mqtt-port', '0', '--ready-json'],
      (line) => line.startsWith('{"ready":true'));
    const ready = JSON.parse(await orderer.done) as { mqtt: string };
    log(`orderer serving on ${ready.mqtt}; a fresh peer catches up ...`);
    // Run 1, default V8 settings: speed, GCs, RSS. Run 2, a young generation large enough that most
    // windows of blocks see no scavenge: heap bytes per block.
    const runPeer = async (name: string, flags: string[]): Promise<PeerResult> => {
      const peer = runChild([...flags, benchPeerPath, summary.dir, board, join(dir, name), ready.mqtt, String(blocks + 1)]);
      return JSON.parse((await peer.done).trim().split('\n').pop()!) as PeerResult;
    };
    const r = await runPeer('peer-speed', []);
    log(`  speed run: ${r.seconds.toFixed(2)} s, ${r.gcCount} GCs, peak RSS ${r.peakRssMiB.toFixed(1)} MiB`);
    const heap = await runPeer('peer-heap', [`--max-semi-space-size=${peerSemiSpaceMiB}`]);
    log(`  heap run: ${heap.heapBytesPerBlock.toFixed(0)} B/block over ${heap.heapWindows} GC-free windows`);
    orderer.kill();

    const result = {
      machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memGiB: Math.round(totalmem() / 2 ** 30) },
      settings: {
        blocks, avgBlockBytes: Math.round(bytesTotal / blocks), transport: 'MQTT 3.1.1 over TCP loopback, embedded Aedes in the orderer process',
        deliverWindowMessages: deliverClientDefaults.windowMessages, maxResponseBytes: deliverDefaults.maxResponseBytes,
        payloadBufferSlots: peerDefaults.payloadBufferSlots, commitRunMaxBlocks: peerDefaults.commitRunMaxBlocks,
        peerYoungGenMiB: peerSemiSpaceMiB, durability: 'LMDB default sync (durable commit per run)',
      },
      blocksPerSec: r.blocks / r.seconds,
      mbPerSec: (bytesTotal / r.seconds) / 1e6,
      seconds: r.seconds,
      heapBytesPerBlock: heap.heapBytesPerBlock,
      heapWindows: heap.heapWindows,
      gcCount: r.gcCount,
      peakRssMiB: r.peakRssMiB,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const m = result.machine;
      process.stdout.write([
        `edgepeer bench: fresh peer catch-up over MQTT (loopback)`,
        `  machine   node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB`,
        `  settings  ${JSON.stringify(result.settings)}`,
        `  blocks/s            ${result.blocksPerSec.toFixed(0)}`,
        `  MB/s                ${result.mbPerSec.toFixed(2)}`,
        `  catch-up time       ${result.seconds.toFixed(2)} s`,
        `  heap bytes / block  ${result.heapBytesPerBlock.toFixed(0)} (median of ${result.heapWindows} GC-free windows, ingress included)`,
        `  GCs during catch-up ${result.gcCount}`,
        `  peak RSS            ${result.peakRssMiB.toFixed(1)} MiB`,
        '',
      ].join('\n'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
