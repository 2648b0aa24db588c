// The physical limits `npm run bench` puts beside the peer's figures, measured in the same run on the
// same bytes: hashing the block bytes, one Ed25519 verify, one LMDB transaction of a run of blocks, and
// MQTT loopback throughput for Deliver-sized messages.
import { spawn } from 'node:child_process';
import { createHash, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from 'lmdb';
import { Sha256 } from '../src/crypto/sha256.js';
import { verifyBytes } from '../src/crypto/keys.js';
import { HEADER_BYTES, HEADER_OFFSET, SIGNATURE_BYTES } from '../src/protocol/block.js';
import { MqttClientLink } from '../src/transport/mqtt/mqttClientLink.js';


export interface Limit {
  /** Blocks per second this part alone allows. */
  blocksPerSec: number;
  detail: string;
}

function timeIt(iterations: number, fn: () => void): number {
  for (let i = 0; i < Math.min(2_000, iterations); i++) fn();
  const t = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return (performance.now() - t) / 1000;
}

/** SHA-256 over every byte of each block, with node:crypto (and our allocation-free JS hasher). */
export function sha256Limit(blocks: Uint8Array[]): { node: Limit; js: Limit } {
  const n = blocks.length;
  const bytes = blocks.reduce((a, b) => a + b.length, 0);
  const tNode = timeIt(n, (() => { let i = 0; return () => { createHash('sha256').update(blocks[i++ % n]!).digest(); }; })());
  const sha = new Sha256();
  const out = new Uint8Array(32);
  const tJs = timeIt(n, (() => { let i = 0; return () => { sha.update(blocks[i++ % n]!); sha.digestInto(out); }; })());
  return {
    node: { blocksPerSec: n / tNode, detail: `node:crypto ${(bytes / tNode / 1e6).toFixed(0)} MB/s` },
    js: { blocksPerSec: n / tJs, detail: `edgepeer Sha256 ${(bytes / tJs / 1e6).toFixed(0)} MB/s` },
  };
}

/** One Ed25519 verify of a block header: the limit if every block's signature were checked. */
export function ed25519Limit(block: Uint8Array, key: KeyObject, signatureOffset: number): Limit {
  const header = block.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES);
  const sig = block.subarray(signatureOffset, signatureOffset + SIGNATURE_BYTES);
  if (!verifyBytes(key, header, sig)) throw new Error('benchmark block signature does not verify');
  const iterations = 5_000;
  const t = timeIt(iterations, () => { verifyBytes(key, header, sig); });
  const us = (t / iterations) * 1e6;
  return { blocksPerSec: 1e6 / us, detail: `${us.toFixed(1)} µs per verify` };
}

/** One durable LMDB transaction writing `runBlocks` of these blocks, repeated. */
export async function lmdbLimit(blocks: Uint8Array[], runBlocks: number): Promise<Limit> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bench-lmdb-'));
  const env = open(join(dir, 'limit.mdb'), { noSubdir: true, maxDbs: 2 });
  const db = env.openDB<Uint8Array, number>('blocks', { encoding: 'binary' });
  try {
    const runs = Math.max(20, Math.floor(blocks.length / runBlocks));
    let key = 0;
    const write = (): void => {
      env.transactionSync(() => {
        for (let i = 0; i < runBlocks; i++) void db.put(key++, blocks[key % blocks.length]!);
      });
    };
    for (let i = 0; i < 3; i++) write();
    const t = performance.now();
    for (let r = 0; r < runs; r++) write();
    const s = (performance.now() - t) / 1000;
    return { blocksPerSec: (runs * runBlocks) / s, detail: `${((s / runs) * 1000).toFixed(2)} ms per transaction of ${runBlocks} blocks` };
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const benchChannel = 'bench';
/** Bytes of the MQTT limit's acknowledgements (benchMqttSource.ts): a u32 count of messages received. */
export const MQTT_LIMIT_ACK_BYTES = 4;
/** The MQTT limit acknowledges every this many messages, as a deliver client acknowledges its responses. */
const mqttLimitAckEveryMessages = 4;
/** The MQTT limit gives up when no message has arrived for this long (a whole run takes about a second). */
const mqttLimitStallMs = 30_000;

/**
 * MQTT through an embedded Aedes in another process, with the real links, Deliver-sized messages, QoS 1;
 * `lendPayloads` as the peer's link has it.
 */
export async function mqttLimit(messageBytes: number, messages: number, window: number, avgBlockBytes: number, lendPayloads = false): Promise<Limit> {
  const clientId = `bench-${process.pid}`;
  const replyTo = `edgepeer/v1/${benchChannel}/reply/${clientId}`;
  const source = spawn(process.execPath, [fileURLToPath(new URL('./benchMqttSource.js', import.meta.url)),
    String(messages), String(messageBytes), String(window), replyTo], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      source.stdout.once('data', (d: Buffer) => resolve((JSON.parse(d.toString().split('\n')[0]!) as { url: string }).url));
      source.once('exit', (code) => reject(new Error(`MQTT source exited ${code}`)));
    });
    const link = new MqttClientLink({ endpoint: { url }, clientId, lendPayloads });
    await link.open([benchChannel]);
    if (link.replyRoute(benchChannel) !== replyTo) throw new Error('reply route mismatch');
    let received = 0;
    let first = 0;
    let stallTimer: NodeJS.Timeout | undefined;
    const done = new Promise<number>((resolve, reject) => {
      // Said, with how far it got, instead of the whole bench waiting for ever (a source paced by the
      // broker's PUBACK alone was cut off by the broker's slow-reader limit on a loaded machine).
      const armStall = (): void => {
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => reject(new Error(`stalled after ${received} of ${messages} messages (nothing for ${mqttLimitStallMs} ms)`)), mqttLimitStallMs);
      };
      armStall();
      link.on('message', () => {
        if (received === 0) first = performance.now();
        armStall();
        if (++received === messages) resolve(performance.now());
        else if (received % mqttLimitAckEveryMessages === 0) {
          const ack = new Uint8Array(MQTT_LIMIT_ACK_BYTES);
          new DataView(ack.buffer).setUint32(0, received);
          // A lost acknowledgement is made good by the next; a link going down ends in the stall above.
          link.send(benchChannel, 'deliver', ack).catch(() => undefined);
        }
      });
    });
    let last: number;
    try {
      await link.send(benchChannel, 'deliver', Uint8Array.of(0));
      last = await done;
    } finally {
      clearTimeout(stallTimer);
      await link.close();
    }
    const s = (last - first) / 1000;
    const mbps = ((messages - 1) * messageBytes) / s / 1e6;
    return { blocksPerSec: (mbps * 1e6) / avgBlockBytes, detail: `${mbps.toFixed(0)} MB/s in ${(messageBytes / 1024).toFixed(0)} KiB messages` };
  } finally {
    source.kill();
  }
}
