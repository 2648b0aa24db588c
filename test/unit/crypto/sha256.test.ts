// src/crypto/sha256.ts: known-answer vectors (FIPS 180-2 appendix B and the NIST CAVS short/long
// messages' classic examples) and a property against node:crypto over any input split in any way.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { SHA256_BYTES, Sha256 } from '../../../src/crypto/sha256.js';

function hex(sha: Sha256): string {
  const out = new Uint8Array(SHA256_BYTES);
  sha.digestInto(out, 0);
  return Buffer.from(out).toString('hex');
}

const VECTORS: { name: string; input: Uint8Array; digest: string }[] = [
  { name: 'empty', input: new Uint8Array(0), digest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { name: '"abc" (FIPS 180-2 B.1)', input: Buffer.from('abc'), digest: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  {
    name: '448-bit message (FIPS 180-2 B.2: two blocks, the padding in the second)',
    input: Buffer.from('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    digest: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  },
  { name: 'one million "a" (FIPS 180-2 B.3)', input: Buffer.alloc(1_000_000, 'a'), digest: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0' },
  {
    name: '896-bit message (FIPS 180-4 examples)',
    input: Buffer.from('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    digest: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  },
];

test('known answers: FIPS 180-2 / 180-4 example messages', () => {
  const sha = new Sha256();
  for (const v of VECTORS) assert.equal(hex(sha.reset().update(v.input)), v.digest, v.name);
});

test('the digest lands at the offset asked, and the hasher is reusable after reset()', () => {
  const sha = new Sha256();
  const out = new Uint8Array(40).fill(0xee);
  sha.update(Buffer.from('abc')).digestInto(out, 4);
  assert.deepEqual(out.subarray(0, 4), Uint8Array.of(0xee, 0xee, 0xee, 0xee));
  assert.equal(Buffer.from(out.subarray(4, 36)).toString('hex'), VECTORS[1]!.digest);
  assert.deepEqual(out.subarray(36), Uint8Array.of(0xee, 0xee, 0xee, 0xee));
  assert.equal(hex(sha.reset().update(Buffer.from('abc'))), VECTORS[1]!.digest);
});

test('property: equal to node:crypto for any input, fed in any chunks and at any offsets', () => {
  const sha = new Sha256();
  fc.assert(fc.property(
    fc.uint8Array({ maxLength: 2_048 }), fc.array(fc.nat({ max: 300 }), { maxLength: 12 }), fc.nat({ max: 16 }),
    (data, cuts, pad) => {
      // The input sits inside a larger buffer, at an offset, as blocks do inside a response.
      const backing = new Uint8Array(pad + data.length + pad).fill(0x5a);
      backing.set(data, pad);
      sha.reset();
      let at = 0;
      for (const c of cuts) {
        const n = Math.min(c, data.length - at);
        sha.update(backing, pad + at, n);
        at += n;
      }
      sha.update(backing, pad + at, data.length - at);
      assert.equal(hex(sha), createHash('sha256').update(data).digest('hex'));
    },
  ), { numRuns: 500 });
});
