// Child processes of the bench: each figure is measured in a process of its own (its heap, GCs and
// memory its own), which prints its result on stdout.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Child {
  done: Promise<string>;
  kill(): void;
  /** CPU seconds (user + system, all threads) the child has used so far, from /proc; null where there is none. */
  cpuSeconds(): number | null;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime: USER_HZ, 100 on Linux. */
const PROC_TICKS_PER_SEC = 100;

function procCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // The command name (field 2) may hold spaces: the fields after it start past its ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15, so 11 and 12 after the state (field 3).
    return (Number(f[11]) + Number(f[12])) / PROC_TICKS_PER_SEC;
  } catch {
    return null;
  }
}

/** Busy and total CPU time of the whole machine so far (/proc/stat, every core, in USER_HZ ticks); null off Linux. */
export function machineCpuTicks(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are the time no one ran.
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - f[3]! - f[4]!, total };
  } catch {
    return null;
  }
}

/** Runs node with `args`; with `cgroupProcs`, the child enters that cgroup before node starts. */
export function runChild(args: string[], readyLine?: (line: string) => boolean, cgroupProcs?: string): Child {
  const env = { ...process.env, EDGEPEER_LOG_LEVEL: 'warn' };
  const child = cgroupProcs === undefined
    ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
    : spawn('/bin/sh', ['-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', cgroupProcs, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  let matched = false;
  const done = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (readyLine && !matched) {
        const line = out.split('\n').find(readyLine);
        if (line !== undefined) { matched = true; resolve(line); }
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => (code === 0 || matched ? resolve(out) : reject(new Error(`${args.join(' ').slice(0, 120)} exited ${code}: ${err.slice(-2000)}`))));
  });
  return { done, kill: () => child.kill('SIGTERM'), cpuSeconds: () => procCpuSeconds(child.pid) };
}
