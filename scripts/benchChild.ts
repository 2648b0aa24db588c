// Child processes of the bench: each figure is measured in a process of its own (its heap, GCs and
// memory its own), which prints its result on stdout.
import { spawn } from 'node:child_process';

export interface Child { done: Promise<string>; kill(): void }

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
  return { done, kill: () => child.kill('SIGTERM') };
}
