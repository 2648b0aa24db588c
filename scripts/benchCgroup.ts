// A memory cgroup for the bench's memory run: the peer runs under a hard limit that charges its
// anonymous memory AND the page cache it touches (the node binary, the LMDB map, written pages), with no
// swap. Finishing the 1,000,000-block catch-up inside it, with no OOM kill, shows the board's memory budget
// holds: under the limit the kernel reclaims clean file pages, which plain RSS counts but a board can spare.
// Pages already in the page cache when the peer starts (the node binary, read by every node process
// before it) stay charged to whoever read them first, so the peer's RSS can exceed the group's charge.
// cgroup v2 (memory.max) or v1 (memory.limit_in_bytes); needs root; otherwise the run is skipped with why.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

export interface MemoryCgroup {
  /** Write a PID here to put that process in the group. */
  readonly procsFile: string;
  readonly limitBytes: number;
  /** Highest charge seen, limit hits (reclaim under the limit) and OOM kills. */
  stats(): { peakBytes: number; limitHits: number; oomKills: number };
  remove(): void;
}

const readNumber = (file: string): number => Number(readFileSync(file, 'utf8').trim());

/** Key-value files (memory.events, memory.oom_control): the value of `key`, 0 when absent. */
function readKey(file: string, key: string): number {
  if (!existsSync(file)) return 0;
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${key} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'not root (a memory cgroup needs root)' };
  try {
    if (existsSync(join(V2_ROOT, 'cgroup.controllers'))) {
      if (!readFileSync(join(V2_ROOT, 'cgroup.controllers'), 'utf8').includes('memory')) return { skip: 'cgroup v2 without the memory controller' };
      const dir = join(V2_ROOT, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      return {
        procsFile: join(dir, 'cgroup.procs'), limitBytes,
        stats: () => ({
          peakBytes: existsSync(join(dir, 'memory.peak')) ? readNumber(join(dir, 'memory.peak')) : readNumber(join(dir, 'memory.current')),
          limitHits: readKey(join(dir, 'memory.events'), 'max'),
          oomKills: readKey(join(dir, 'memory.events'), 'oom_kill'),
        }),
        remove: () => rmdirSync(dir),
      };
    }
    if (!existsSync(join(V1_ROOT, 'memory.limit_in_bytes'))) return { skip: 'no cgroup memory controller mounted' };
    const dir = join(V1_ROOT, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    // memory + swap at the same limit: nothing can be swapped out to look small.
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    return {
      procsFile: join(dir, 'cgroup.procs'), limitBytes,
      stats: () => ({
        peakBytes: readNumber(join(dir, 'memory.max_usage_in_bytes')),
        // With memsw set, hitting the combined limit counts there rather than in memory.failcnt.
        limitHits: Math.max(readNumber(join(dir, 'memory.failcnt')),
          existsSync(join(dir, 'memory.memsw.failcnt')) ? readNumber(join(dir, 'memory.memsw.failcnt')) : 0),
        oomKills: readKey(join(dir, 'memory.oom_control'), 'oom_kill'),
      }),
      remove: () => rmdirSync(dir),
    };
  } catch (err) {
    return { skip: `could not make a memory cgroup: ${(err as Error).message}` };
  }
}
