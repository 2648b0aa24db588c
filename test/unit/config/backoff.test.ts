// The one retry policy (src/config/backoff.ts): decorrelated jitter, never below the base nor above the
// cap, restarted by reset(), and spread: boards that failed at the same moment do not retry together.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Backoff } from '../../../src/config/backoff.js';
import { seededRandom } from '../../../src/config/random.js';

test('every wait is within [base, min(max, 3 × previous wait)], whatever the randomness', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 40 }),
    (base, extra, draws) => {
      const max = base + extra;
      let i = 0;
      const b = new Backoff({ baseDelayMs: base, maxDelayMs: max }, () => draws[i++ % draws.length]!);
      let previous = base;
      for (let n = 0; n < draws.length; n++) {
        const wait = b.next();
        assert.ok(Number.isInteger(wait), `${wait} is whole`);
        assert.ok(wait >= base && wait <= max, `${wait} in [${base}, ${max}]`);
        assert.ok(wait <= Math.max(base, 3 * previous), `${wait} <= 3 × ${previous}`);
        previous = wait;
      }
      assert.equal(b.attempts, draws.length);
    },
  ));
});

test('without jitter (random 0) every wait is the base; with the largest draws waits triple up to the cap', () => {
  const flat = new Backoff({ baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0);
  assert.deepEqual([flat.next(), flat.next(), flat.next()], [100, 100, 100]);
  const steep = new Backoff({ baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0.999_999);
  assert.deepEqual([steep.next(), steep.next(), steep.next(), steep.next()], [299, 896, 999, 999]);
});

test('reset() starts over from the base', () => {
  const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 10_000 }, () => 0.999_999);
  b.next();
  b.next();
  b.reset();
  assert.equal(b.attempts, 0);
  assert.ok(b.next() <= 300, 'the first wait after a reset is at most 3 × base');
});

test('a fleet that failed at the same moment spreads out: 100 boards, no instant shared by more than a few', () => {
  const BOARDS = 100;
  const retryAt = Array.from({ length: BOARDS }, (_, seed) => {
    const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 10_000 }, seededRandom(seed + 1));
    let t = 0;
    for (let i = 0; i < 5; i++) t += b.next();
    return t;
  });
  const perInstant = new Map<number, number>();
  for (const t of retryAt) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
  // A fixed sequence (no jitter) puts all 100 boards on one instant.
  assert.ok(Math.max(...perInstant.values()) <= 3, `largest group retrying together: ${Math.max(...perInstant.values())}`);
});

test('a cap below the base makes every wait the base (an operator asking for quick retries), not a refusal', () => {
  const b = new Backoff({ baseDelayMs: 100, maxDelayMs: 50 }, () => 0.999_999);
  assert.deepEqual([b.next(), b.next(), b.next()], [100, 100, 100]);
  assert.throws(() => new Backoff({ baseDelayMs: -1, maxDelayMs: 50 }), /baseDelayMs must be 0 or more/);
});
