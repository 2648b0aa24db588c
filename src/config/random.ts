// Randomness is injected wherever gossip chooses (push targets, pull and catch-up sources), so that a
// fleet run repeats from a seed. Boards use Math.random; tests and benchmarks use this.

/** A seeded uniform generator in [0, 1) (mulberry32): small, fast, and the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4_294_967_296;
  };
}
