// How much JS heap a board's peer may use (node --max-old-space-size), from the board's RAM. The rest is
// for the OS, LMDB's page cache (the ledger is memory-mapped: those pages are not heap) and Node itself.

/** RAM of the smallest variant of each profile's board model. */
export const PROFILE_MEMORY_MB: Readonly<Record<string, number>> = {
  'raspberry-pi-zero-2-w': 512,
  'raspberry-pi-4': 1024,
  'raspberry-pi-5': 2048,
  emulated: 1024,
};
/** For a profile not in the table (and no memoryMb given). */
export const UNKNOWN_BOARD_MEMORY_MB = 512;
/** The heap's share of RAM, as a fraction: 3/8 (a Pi Zero 2 W's 512 MB gives 192 MB). */
export const HEAP_SHARE_NUMERATOR = 3;
export const HEAP_SHARE_DENOMINATOR = 8;
export const HEAP_MIN_MB = 96;
/** Above this the peer has no use for more (its buffers are bounded by peerDefaults). */
export const HEAP_MAX_MB = 1024;
const HEAP_STEP_MB = 32;

export function boardMemoryMb(profile: string, memoryMb: number | null): number {
  return memoryMb ?? PROFILE_MEMORY_MB[profile] ?? UNKNOWN_BOARD_MEMORY_MB;
}

export function heapCapMb(memoryMb: number): number {
  const share = Math.floor((memoryMb * HEAP_SHARE_NUMERATOR) / HEAP_SHARE_DENOMINATOR / HEAP_STEP_MB) * HEAP_STEP_MB;
  return Math.min(HEAP_MAX_MB, Math.max(HEAP_MIN_MB, share));
}

/**
 * Boards with at most this much RAM run with a small young generation: V8's default semi-space grows to
 * 16 MiB, and the peer's private memory at a 1,000,000-block catch-up with it is ~75 MiB instead of ~47
 * (measured by `npm run bench`, memory run) for a few per cent of speed.
 */
export const SMALL_BOARD_MAX_MEMORY_MB = 1024;
/** node --max-semi-space-size for those boards, in MiB. */
export const SMALL_BOARD_SEMI_SPACE_MB = 2;

/** --max-semi-space-size in MiB for a board with `memoryMb` of RAM; null: V8's default. */
export function semiSpaceMb(memoryMb: number): number | null {
  return memoryMb <= SMALL_BOARD_MAX_MEMORY_MB ? SMALL_BOARD_SEMI_SPACE_MB : null;
}

/** The NODE_OPTIONS a board's peer runs with: heap cap, and the young generation on small boards. */
export function peerNodeOptions(heapMb: number, memoryMb: number): string {
  const semi = semiSpaceMb(memoryMb);
  return [`--max-old-space-size=${heapMb}`, ...(semi === null ? [] : [`--max-semi-space-size=${semi}`])].join(' ');
}
