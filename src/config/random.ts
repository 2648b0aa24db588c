// Randomness is injected wherever gossip chooses (push targets, pull and catch-up sources), so that a
// fleet run repeats from a seed. Boards use Math.random; tests and benchmarks use this.

/** A seeded uniform generator in [0, 1) (mulberry32): small, fast, and the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
