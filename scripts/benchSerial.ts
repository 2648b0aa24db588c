// The serial part of `npm run bench` (also runnable alone: `node dist/scripts/benchSerial.js [--blocks N]
// [--json]`): a fresh board catches up N blocks of about 1 KiB from an orderer process serving a socat
// PTY pair (`orderer --serial`), over the real serialport bindings. Reports blocks/s over the PTY, the
// framing efficiency measured on the wire (message bytes and block bytes per byte read), and from the
// measured wire bytes the time a real UART at 115200 baud would need for 1,000 blocks of 1 KiB.
// PTYs ignore the baud rate, so the PTY figure is the software's ceiling, and the projection is the line's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialDefaults } from '../src/transport/serial/serialDefaults.js';
import { SOCAT_MISSING, findSocat, startPtyPair } from '../src/fleet/ptyPair.js';
import { makeBlock } from '../src/channel/blocks.js';
import { ledgerPath, openLedger } from '../src/ledger/lmdbLedger.js';
import { verifyChain } from '../src/ledger/verifyChain.js';
import { createNetwork } from '../src/network/createNetwork.js';
import { loadBoard, loadClient, loadGenesis, loadOrdererIdentities } from '../src/network/loadNetwork.js';
import { MessageType, signEnvelope } from '../src/protocol/envelope.js';
import { silentLogger } from '../src/observability/logger.js';
import { Peer } from '../src/peer/peer.js';
import { SerialClientLink } from '../src/transport/serial/serialClientLink.js';
import { edgepeerChainRules } from '../src/ledger/edgepeerChainRules.js';
import { Command } from 'commander';
import { wholeNumber } from '../src/cli/options.js';

export const serialBenchBlocks = { full: 5_000, quick: 1_000 } as const;
/** The line the projection is for: 8N1 puts 10 bits on the wire per byte. */
const projectedBaud = 115_200;
const bitsPerByte8N1 = 10;
const projectedBlocks = 1_000;
const projectedBlockBytes = 1_024;
const readyTimeoutMs = 30_000;
/** Random bytes in each block's one transaction: a block of about 1 KiB, as in the MQTT bench. */
const txDataBytes = 430;
/** Blocks written per LMDB transaction while preparing the orderer's ledger. */
const prepareRunBlocks = 1_000;

const here = fileURLToPath(new URL('.', import.meta.url));
const cliPath = join(here, '..', 'src', 'cli', 'main.js');

export interface SerialBenchResult {
  transport: string;
  blocks: number;
  avgBlockBytes: number;
  maxResponseBytes: number;
  seconds: number;
  blocksPerSec: number;
  mbPerSec: number;
  /** Bytes read by the board (orderer → board direction), delimiters, COBS, header and CRC included. */
  wireBytesIn: number;
  /** Bytes the board wrote (SEEK and ACKs), on the other half of the full-duplex line. */
  wireBytesOut: number;
  framesIn: number;
  /** CBOR message bytes / wire bytes: the cost of the serial framing alone. */
  framingEfficiency: number;
  /** Block bytes / wire bytes: framing plus the Deliver response around the blocks. */
  payloadEfficiency: number;
  projection: { baud: number; blocks: number; blockBytes: number; wireBytes: number; seconds: number };
}

export type SerialBenchOutcome = SerialBenchResult | { skipped: string };

interface BenchChain { networkDir: string; ordererData: string; channel: string; board: string; blockBytes: number }

/** A network whose orderer ledger already holds `blocks` blocks of about 1 KiB. */
async function prepareBenchChain(dir: string, blocks: number): Promise<BenchChain> {
  const channel = 'bench';
  const summary = await createNetwork({ dir: join(dir, 'network'), channels: [channel], orgs: 1, boardsPerOrg: 1 });
  const ids = loadOrdererIdentities(summary.dir);
  const tx = signEnvelope({ type: MessageType.TRANSACTION, channel, data: randomBytes(txDataBytes) }, loadClient(summary.dir)).bytes;
  const ordererData = join(dir, 'orderer');
  const ledger = openLedger(ledgerPath(ordererData, channel), { channel });
  let blockBytes = 0;
  try {
    ledger.append([loadGenesis(summary.dir, channel)], null, 0, 1);
    let prev: Uint8Array = ledger.lastHash().slice();
    for (let n = 1; n <= blocks; n += prepareRunBlocks) {
      const run: Uint8Array[] = [];
      const hashes: Uint8Array[] = [];
      for (let k = n; k < Math.min(n + prepareRunBlocks, blocks + 1); k++) {
        const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: ids.node.privateKey }]);
        run.push(b.bytes);
        hashes.push(b.hash);
        prev = b.hash;
        blockBytes += b.bytes.length;
      }
      ledger.append(run, hashes, 0, run.length);
    }
  } finally {
    await ledger.close();
  }
  return { networkDir: summary.dir, ordererData, channel, board: summary.boards[0]!.id, blockBytes };
}

export async function runSerialBench(o: { blocks: number; say?: (s: string) => void }): Promise<SerialBenchOutcome> {
  const say = o.say ?? (() => undefined);
  if ((await findSocat()) === undefined) return { skipped: SOCAT_MISSING };
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-serial-'));
  const stops: (() => Promise<void> | void)[] = [];
  try {
    say(`serial: preparing ${o.blocks} blocks of ~1 KiB ...`);
    const chain = await prepareBenchChain(dir, o.blocks);
    const pair = await startPtyPair(join(dir, 'orderer-tty'), join(dir, 'board-tty'));
    stops.push(() => pair.stop());
    const orderer = spawn(process.execPath, [cliPath, 'orderer', '--network', chain.networkDir, '--data', chain.ordererData,
      '--mqtt-port', '0', '--serial', pair.a, '--ready-json'], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, EDGEPEER_LOG_LEVEL: 'warn' } });
    const exited = new Promise<void>((resolve) => orderer.once('exit', () => resolve()));
    stops.push(async () => { orderer.kill('SIGTERM'); await exited; });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('serial bench: the orderer did not get ready')), readyTimeoutMs);
      let out = '';
      orderer.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"ready":true')) { clearTimeout(timer); resolve(); }
      });
      void exited.then(() => { clearTimeout(timer); reject(new Error('serial bench: the orderer exited')); });
    });

    const board = loadBoard(chain.networkDir, chain.board);
    const link = new SerialClientLink({ port: { path: pair.b, baudRate: projectedBaud } });
    stops.push(() => link.close());
    const ledger = openLedger(ledgerPath(join(dir, 'peer'), chain.channel), { channel: chain.channel });
    stops.push(() => ledger.close());
    const peer = new Peer({ boardId: chain.board, ledger, rules: edgepeerChainRules(ledger.channel, board.genesis), signer: board.signer, links: [link], log: silentLogger() });
    say('serial: a fresh peer catches up over the PTY ...');
    const target = o.blocks + 1;
    const started = performance.now();
    const done = new Promise<void>((resolve) => peer.on('committed', (h) => { if (h >= target) resolve(); }));
    peer.start();
    await done;
    const seconds = (performance.now() - started) / 1000;
    await peer.stop();
    const verdict = verifyChain(ledger);
    if (!verdict.ok || verdict.height !== target) throw new Error(`serial bench: the peer's chain is wrong: ${JSON.stringify(verdict)}`);

    const c = link.counters;
    const payloadEfficiency = chain.blockBytes / c.wireBytesIn;
    const wireBytes = Math.round((projectedBlocks * projectedBlockBytes) / payloadEfficiency);
    return {
      transport: 'socat PTY pair, real serialport bindings, orderer process (--serial) → in-process peer',
      blocks: o.blocks,
      avgBlockBytes: Math.round(chain.blockBytes / o.blocks),
      maxResponseBytes: serialDefaults.maxResponseBytes,
      seconds,
      blocksPerSec: o.blocks / seconds,
      mbPerSec: chain.blockBytes / seconds / 1e6,
      wireBytesIn: c.wireBytesIn,
      wireBytesOut: c.wireBytesOut,
      framesIn: c.framesIn,
      framingEfficiency: c.messageBytesIn / c.wireBytesIn,
      payloadEfficiency,
      projection: {
        baud: projectedBaud, blocks: projectedBlocks, blockBytes: projectedBlockBytes, wireBytes,
        seconds: (wireBytes * bitsPerByte8N1) / projectedBaud,
      },
    };
  } finally {
    for (const stop of stops.reverse()) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatSerialBench(r: SerialBenchOutcome): string {
  if ('skipped' in r) return `edgepeer bench: serial skipped: ${r.skipped}\n`;
  const p = r.projection;
  return [
    'edgepeer bench: fresh peer catch-up over a serial link (PTY)',
    `  settings            ${r.blocks} blocks, average ${r.avgBlockBytes} bytes; ${r.maxResponseBytes} block bytes per response; ${r.transport}`,
    `  blocks/s over PTY   ${r.blocksPerSec.toFixed(0)} (${r.mbPerSec.toFixed(2)} MB/s of blocks, ${r.seconds.toFixed(2)} s)`,
    `  framing efficiency  ${(r.framingEfficiency * 100).toFixed(2)} % (message bytes / wire bytes; COBS, header, CRC, delimiters)`,
    `  payload efficiency  ${(r.payloadEfficiency * 100).toFixed(2)} % (block bytes / wire bytes; Deliver responses included)`,
    `  wire                ${r.wireBytesIn} bytes in ${r.framesIn} frames to the board; ${r.wireBytesOut} bytes back (SEEK, ACKs)`,
    `  at ${p.baud} baud (8N1) ${p.blocks} blocks of ${p.blockBytes} B = ${p.wireBytes} wire bytes = ${p.seconds.toFixed(1)} s (${(p.blocks / p.seconds).toFixed(1)} blocks/s)`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const values = new Command('bench-serial')
    .option('--quick', `${serialBenchBlocks.quick} blocks instead of ${serialBenchBlocks.full}`)
    .option('--json', 'one JSON object on stdout')
    .option('--blocks <n>', 'blocks to send over the PTY', wholeNumber)
    .parse().opts<{ quick?: boolean; json?: boolean; blocks?: number }>();
  const blocks = values.blocks ?? (values.quick === true ? serialBenchBlocks.quick : serialBenchBlocks.full);
  const r = await runSerialBench({ blocks, say: (s) => { if (values.json !== true) process.stderr.write(`${s}\n`); } });
  process.stdout.write(values.json === true ? `${JSON.stringify({ serial: r })}\n` : formatSerialBench(r));
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench serial: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
