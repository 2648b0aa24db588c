// Is src/crypto/sha256.ts worth keeping? Time and JS-heap bytes per hash against node:crypto, for the
// sizes the hot path hashes (a block header with its signatures; a block's data), measured here rather
// than asserted anywhere. `node --expose-gc dist/scripts/benchSha256.js [iterations]`.
import { createHash } from 'node:crypto';
import { PerformanceObserver } from 'node:perf_hooks';
import { Sha256 } from '../src/crypto/sha256.js';

const SIZES = [{ name: 'header+signatures', bytes: 76 + 96 }, { name: '1 KiB data', bytes: 1024 }, { name: '64 KiB data', bytes: 64 * 1024 }];
const iterations = Number(process.argv[2] ?? 50_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

let gcs = 0;
new PerformanceObserver((list) => { gcs += list.getEntries().length; }).observe({ entryTypes: ['gc'] });

/** Time per hash, and garbage collections per 10,000 hashes (what allocation costs the hot path). */
async function measure(hashOnce: () => void, n: number): Promise<{ nsPerHash: number; gcsPer10k: number }> {
  for (let i = 0; i < 1_000; i++) hashOnce();
  gc!();
  await new Promise((resolve) => setImmediate(resolve));
  const gcsBefore = gcs;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) hashOnce();
  const ns = Number(process.hrtime.bigint() - t0);
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50));
  return { nsPerHash: ns / n, gcsPer10k: ((gcs - gcsBefore) * 10_000) / n };
}

const out = new Uint8Array(32);
const sha = new Sha256();
for (const s of SIZES) {
  const data = new Uint8Array(s.bytes).map((_, i) => i & 0xff);
  const n = Math.max(1_000, Math.round(iterations * 1024 / Math.max(1024, s.bytes)));
  const js = await measure(() => sha.reset().update(data).digestInto(out, 0), n);
  const native = await measure(() => { createHash('sha256').update(data).digest(); }, n);
  process.stdout.write(`${s.name.padEnd(18)} Sha256 ${js.nsPerHash.toFixed(0).padStart(7)} ns ${js.gcsPer10k.toFixed(1).padStart(5)} GC/10k`
    + `   node:crypto ${native.nsPerHash.toFixed(0).padStart(7)} ns ${native.gcsPer10k.toFixed(1).padStart(5)} GC/10k   (${n} hashes)\n`);
}
