// The Fabric section of `npm run bench` (`--fabric-only`, `--no-fabric`): a fresh board catches up N
// Fabric-format blocks (serialized common.Block, orderer signatures ECDSA P-256 in the SIGNATURES
// metadata, one transaction envelope of ~1 KiB each) from `edgepeer gateway` over MQTT on loopback, and,
// in the same run, the same number of edgepeer blocks from `edgepeer orderer`, interleaved, so the ratio
// of the two is read off one run of a noisy machine. Beside them the limits of a Fabric block's own
// work: one BlockValidation policy check (signature header decode, cached identity, one ECDSA verify),
// a bare ECDSA P-256 verify, and the in-place reader's per-block work (locate, well-formedness, data hash,
// DER header hash).
//
// The chain is made with the test CA and chain builder (test/helpers/fabric/): one ECDSA sign per block.
import { createHash, sign as cryptoSign, verify as cryptoVerify, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBlock } from '../src/channel/blocks.js';
import { FabricChannelRules } from '../src/fabric/channelRules.js';
import { FabricBlockReader, fabricBlockFormat } from '../src/fabric/fabricFormat.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { MessageType, signEnvelope } from '../src/protocol/envelope.js';
import { makeTestChannel } from '../test/helpers/fabric/chainBuilder.js';
import type { BenchPeerArgs, BenchPeerResult } from './benchPeer.js';
import { runChild } from './benchChild.js';
import type { Limit } from './benchLimits.js';

export const fabricBenchBlocks = { full: 100_000, quick: 10_000 } as const;
/** Bytes of each Fabric block's one transaction envelope. */
const FABRIC_TX_BYTES = 1_024;
/** Bytes of random data in each edgepeer block's one transaction: a block of about 1 KiB, as the main section's. */
const NATIVE_TX_DATA_BYTES = 430;
/** Blocks appended per LMDB transaction while the source ledgers are prepared. */
const PREPARE_RUN_BLOCKS = 1_000;
/** Catch-ups of each kind, interleaved (native, Fabric, native, ...); the medians are reported. */
const PAIRS = 3;
const LIMIT_ITERATIONS = 3_000;

const here = fileURLToPath(new URL('.', import.meta.url));
const cliPath = join(here, '..', 'src', 'cli', 'main.js');

export interface FabricBenchResult {
  blocks: number;
  avgFabricBlockBytes: number;
  avgNativeBlockBytes: number;
  pairs: number;
  fabricBlocksPerSec: number;
  nativeBlocksPerSec: number;
  /** Fabric ÷ native, median of the pairs' ratios. */
  ratio: number;
  fabricMbPerSec: number;
  fabricGcCount: number;
  fabricPeakRssMiB: number;
  limits: { blockValidation: Limit; ecdsaVerify: Limit; reader: Limit };
  runs: { fabricSeconds: number[]; nativeSeconds: number[] };
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeIt(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(500, iterations); i++) fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return (performance.now() - t) / 1000;
}

/** The limits of a Fabric block's own work, on the bench's blocks. */
function fabricLimits(genesis: Uint8Array, blocks: readonly Uint8Array[]): FabricBenchResult['limits'] {
  const rules = FabricChannelRules.fromConfigBlock(genesis);
  const sample = blocks.slice(1, 1 + LIMIT_ITERATIONS);
  const first = rules.verifyBlockSignatures(sample[0]!);
  if (!first.ok) throw new Error(`bench block does not verify: ${first.error}`);
  let i = 0;
  const tPolicy = timeIt(LIMIT_ITERATIONS, () => { rules.verifyBlockSignatures(sample[i++ % sample.length]!); });
  // A bare verify, for the cost the policy check adds around it.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = createHash('sha256').update(sample[0]!).digest();
  const signature = cryptoSign('sha256', message, privateKey);
  const tEcdsa = timeIt(LIMIT_ITERATIONS, () => { cryptoVerify('sha256', message, publicKey, signature); });
  const reader = new FabricBlockReader();
  const hash = new Uint8Array(32);
  let k = 0;
  const tReader = timeIt(sample.length * 4, () => {
    const b = sample[k++ % sample.length]!;
    reader.locate(b);
    reader.dataHashValid(b);
    reader.hashInto(b, hash, 0);
  });
  const us = (t: number, n: number): number => (t / n) * 1e6;
  return {
    blockValidation: { blocksPerSec: LIMIT_ITERATIONS / tPolicy, detail: `${us(tPolicy, LIMIT_ITERATIONS).toFixed(1)} µs per BlockValidation check (1 ECDSA P-256 verify, cached signer)` },
    ecdsaVerify: { blocksPerSec: LIMIT_ITERATIONS / tEcdsa, detail: `${us(tEcdsa, LIMIT_ITERATIONS).toFixed(1)} µs per bare ECDSA P-256 verify (node:crypto)` },
    reader: { blocksPerSec: (sample.length * 4) / tReader, detail: `${us(tReader, sample.length * 4).toFixed(2)} µs per block: locate, well-formed, data hash, header hash (allocation-free)` },
  };
}

export async function runFabricBench(o: { blocks: number; say: (s: string) => void }): Promise<FabricBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-fabric-'));
  const children: { kill(): void; done: Promise<string> }[] = [];
  try {
    o.say(`Fabric: building a Fabric-format chain of ${o.blocks.toLocaleString('en-US')} blocks (test CA, ECDSA P-256) ...`);
    const { builder } = await makeTestChannel('fabricbench');
    const genesis = builder.genesis();
    builder.dataBlocks(o.blocks, { txBytes: FABRIC_TX_BYTES });
    const fabricBlocks = builder.blocks;
    const fabricBytes = fabricBlocks.slice(1).reduce((a, b) => a + b.length, 0);

    const fabricNet = await createNetwork({ dir: join(dir, 'fabric-net'), channels: [], fabricChannels: [{ channel: 'fabricbench', genesis }], orgs: 1, boardsPerOrg: 1 });
    const gatewayData = join(dir, 'gateway');
    const gl = openLedger(ledgerPath(gatewayData, 'fabricbench'), { channel: 'fabricbench', format: fabricBlockFormat });
    for (let n = 0; n < fabricBlocks.length; n += PREPARE_RUN_BLOCKS) {
      gl.append(fabricBlocks, null, n, Math.min(PREPARE_RUN_BLOCKS, fabricBlocks.length - n));
    }
    const fabricLastHash = Buffer.from(gl.lastHash()).toString('hex');
    await gl.close();

    o.say(`Fabric: the same number of edgepeer blocks for the native side ...`);
    const nativeNet = await createNetwork({ dir: join(dir, 'native-net'), channels: ['bench'], orgs: 1, boardsPerOrg: 1 });
    const ids = loadOrdererIdentities(nativeNet.dir);
    const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: 'bench', data: new Uint8Array(NATIVE_TX_DATA_BYTES).fill(0x5a) }, loadClient(nativeNet.dir)).bytes;
    const ordererData = join(dir, 'orderer');
    const nl = openLedger(ledgerPath(ordererData, 'bench'), { channel: 'bench' });
    nl.append([loadGenesis(nativeNet.dir, 'bench')], null, 0, 1);
    let prev: Uint8Array = nl.lastHash().slice();
    let nativeBytes = 0;
    while (nl.height() < o.blocks + 1) {
      const run: Uint8Array[] = [];
      const hashes: Uint8Array[] = [];
      for (let k = nl.height(); k < Math.min(nl.height() + PREPARE_RUN_BLOCKS, o.blocks + 1); k++) {
        const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: ids.node.privateKey }]);
        run.push(b.bytes);
        hashes.push(b.hash);
        prev = b.hash;
        nativeBytes += b.bytes.length;
      }
      nl.append(run, hashes, 0, run.length);
    }
    const nativeLastHash = Buffer.from(nl.lastHash()).toString('hex');
    await nl.close();

    const limits = fabricLimits(genesis, fabricBlocks);
    o.say(`  ${limits.blockValidation.detail}; ${limits.ecdsaVerify.detail}; reader ${limits.reader.detail}`);

    const serve = async (args: string[]): Promise<string> => {
      const child = runChild([cliPath, ...args, '--mqtt-port', '0', '--ready-json'], (line) => line.startsWith('{"ready":true'));
      children.push(child);
      return (JSON.parse(await child.done) as { mqtt: string }).mqtt;
    };
    const gatewayUrl = await serve(['gateway', '--network', fabricNet.dir, '--data', gatewayData]);
    const ordererUrl = await serve(['orderer', '--network', nativeNet.dir, '--data', ordererData]);
    const catchUp = async (net: string, board: string, url: string, name: string, lastHash: string, verify: boolean): Promise<BenchPeerResult> => {
      const args: BenchPeerArgs = { network: net, board, data: join(dir, name), url, target: o.blocks + 1, mode: 'speed', verify };
      const out = await runChild([join(here, 'benchPeer.js'), JSON.stringify(args)]).done;
      const r = JSON.parse(out.trim().split('\n').pop()!) as BenchPeerResult;
      if (r.lastHash !== lastHash) throw new Error(`${name}: the board ended on another chain than its source`);
      rmSync(join(dir, name), { recursive: true, force: true });
      return r;
    };
    const fabricRuns: BenchPeerResult[] = [];
    const nativeRuns: BenchPeerResult[] = [];
    for (let p = 0; p < PAIRS; p++) {
      o.say(`Fabric: catch-up pair ${p + 1} of ${PAIRS}: edgepeer blocks from the orderer, Fabric blocks from the gateway ...`);
      nativeRuns.push(await catchUp(nativeNet.dir, nativeNet.boards[0]!.id, ordererUrl, `native-${p}`, nativeLastHash, false));
      // The first Fabric run re-checks the board's whole ledger afterwards (every block's signatures).
      fabricRuns.push(await catchUp(fabricNet.dir, fabricNet.boards[0]!.id, gatewayUrl, `fabric-${p}`, fabricLastHash, p === 0));
      o.say(`  native ${(o.blocks / nativeRuns[p]!.seconds).toFixed(0)} blk/s, Fabric ${(o.blocks / fabricRuns[p]!.seconds).toFixed(0)} blk/s`);
    }
    const fabricSeconds = fabricRuns.map((r) => r.seconds);
    const nativeSeconds = nativeRuns.map((r) => r.seconds);
    const fabricMedian = fabricRuns.find((r) => r.seconds === median(fabricSeconds))!;
    return {
      blocks: o.blocks,
      avgFabricBlockBytes: Math.round(fabricBytes / o.blocks),
      avgNativeBlockBytes: Math.round(nativeBytes / o.blocks),
      pairs: PAIRS,
      fabricBlocksPerSec: o.blocks / median(fabricSeconds),
      nativeBlocksPerSec: o.blocks / median(nativeSeconds),
      ratio: median(fabricSeconds.map((f, i) => nativeSeconds[i]! / f)),
      fabricMbPerSec: fabricBytes / median(fabricSeconds) / 1e6,
      fabricGcCount: fabricMedian.gcCount,
      fabricPeakRssMiB: fabricMedian.peakRssMiB,
      limits,
      runs: { fabricSeconds, nativeSeconds },
    };
  } finally {
    for (const c of children) c.kill();
    await Promise.allSettled(children.map((c) => c.done));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatFabricBench(r: FabricBenchResult): string {
  const n = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const line = (label: string, value: string, note = ''): string => `  ${label.padEnd(40)}${value.padStart(12)}   ${note}`;
  const per = (l: Limit): string => `${n(l.blocksPerSec)} blk/s: ${l.detail}`;
  return [
    `Fabric channel catch-up (${n(r.blocks)} blocks; Fabric blocks avg ${n(r.avgFabricBlockBytes)} B with a ${FABRIC_TX_BYTES} B transaction and the orderer's signature and certificate; edgepeer blocks avg ${n(r.avgNativeBlockBytes)} B; median of ${r.pairs} interleaved pairs)`,
    line('Fabric blocks from the gateway, blk/s', n(r.fabricBlocksPerSec), `${n(r.fabricMbPerSec, 1)} MB/s, ${r.fabricGcCount} GCs, peak RSS ${n(r.fabricPeakRssMiB, 1)} MiB`),
    line('edgepeer blocks from the orderer, blk/s', n(r.nativeBlocksPerSec)),
    line('Fabric ÷ edgepeer', n(r.ratio, 2), `per pair: Fabric ${r.runs.fabricSeconds.map((s) => s.toFixed(2)).join(', ')} s; edgepeer ${r.runs.nativeSeconds.map((s) => s.toFixed(2)).join(', ')} s`),
    line('limit: BlockValidation on every block', '', per(r.limits.blockValidation)),
    line('limit: bare ECDSA P-256 verify', '', per(r.limits.ecdsaVerify)),
    line('limit: in-place reader', '', per(r.limits.reader)),
    line('', '', `signatures: one BlockValidation check per contiguous run on the board (amortised; ${n(r.fabricBlocksPerSec / r.limits.blockValidation.blocksPerSec, 2)}× what checking every block would allow)`),
    '',
  ].join('\n');
}
