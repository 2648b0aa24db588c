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

/** Up to `k` of `items`, chosen uniformly (a partial Fisher-Yates shuffle of `items`, which it reorders). */
export function randomSubset<T>(items: T[], k: number, random: () => number): T[] {
  const n = Math.min(k, items.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (items.length - i));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items.slice(0, n);
}
