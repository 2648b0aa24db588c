// src/transport/byteRing.ts: regions handed out never overlap one still out, stay inside the buffer, and
// come back oldest first; a region that cannot fit is refused (-1), never placed over live bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ByteRing } from '../../../src/transport/byteRing.js';

test('placement: from the front, on at the end, wrapped to the front once the oldest left room, refused otherwise', () => {
  const r = new ByteRing(100);
  assert.equal(r.reserve(40), 0);
  assert.equal(r.reserve(40), 40);
  assert.equal(r.reserve(30), -1, '20 bytes left at the end, the front is taken');
  r.releaseOldest();
  assert.equal(r.reserve(30), 0, 'wraps: the oldest left 40 bytes at the front');
  assert.equal(r.reserve(15), -1, 'between the write position (30) and the oldest (40) only 10 bytes');
  assert.equal(r.reserve(10), 30);
  assert.equal(r.usedBytes, 100 - 40 + 40, 'from the oldest (40) round to the write position (40)');
  r.releaseOldest(3);
  assert.equal(r.regions, 0);
  assert.equal(r.usedBytes, 0);
  assert.equal(r.reserve(100), 0, 'empty again: starts over at the front');
  assert.equal(r.reserve(0), -1, 'an empty region is never handed out');
  assert.equal(new ByteRing(10).reserve(11), -1, 'larger than the ring');
  assert.throws(() => new ByteRing(-1), /ring size must be a byte count/);
});

type Op = { kind: 'reserve'; size: number } | { kind: 'release'; count: number };

test('property: live regions are disjoint, inside the buffer, and usedBytes covers them, whatever the sequence', () => {
  const CAPACITY = 256;
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('reserve' as const), size: fc.integer({ min: 0, max: CAPACITY + 8 }) }),
    fc.record({ kind: fc.constant('release' as const), count: fc.integer({ min: 1, max: 3 }) }),
  );
  fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
    const ring = new ByteRing(CAPACITY);
    const live: { at: number; size: number; fill: number }[] = [];
    let stamp = 0;
    for (const o of ops) {
      if (o.kind === 'release') {
        const n = Math.min(o.count, live.length);
        if (n === 0) continue;
        ring.releaseOldest(n);
        live.splice(0, n);
      } else {
        const at = ring.reserve(o.size);
        if (at < 0) continue;
        assert.ok(o.size > 0 && at >= 0 && at + o.size <= CAPACITY, `region ${at}+${o.size} inside the buffer`);
        stamp = (stamp % 250) + 1;
        ring.buffer.fill(stamp, at, at + o.size);
        live.push({ at, size: o.size, fill: stamp });
      }
      // Every live region still holds what was written into it: none was handed out over another.
      for (const l of live) assert.ok(ring.buffer.subarray(l.at, l.at + l.size).every((b) => b === l.fill), `region at ${l.at} intact`);
      assert.equal(ring.regions, live.length);
      const total = live.reduce((s, l) => s + l.size, 0);
      assert.ok(ring.usedBytes >= total && ring.usedBytes <= CAPACITY, `usedBytes ${ring.usedBytes} covers ${total}`);
    }
  }), { numRuns: 300 });
});
