// What the gpiod backend's holders cost a board, measured rather than asserted: the python line holder
// (src/board/io/gpiodLineHolder.py) on no-op bindings of the libgpiod 2 shape, so that what is timed is
// the holder and the pipe, not a GPIO chip (none here): its start to the first prompt, its memory, and a
// `set` of the 12 LED lines from write to prompt with the CPU the holder spends on it; beside it, one
// process start and exit (`gpioset --version`, as respawn mode pays per change), where gpioset is
// installed. `node dist/scripts/benchGpiodHolder.js [sets] [python3]`; on a board, run it there.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GPIOD_LINE_HOLDER, GPIOSET_PROMPT } from '../src/board/io/gpiodIo.js';

const sets = Number(process.argv[2] ?? 20_000);
/** The interpreter, as the backend starts it (`python3` on PATH) unless named. */
const python3 = process.argv[3] ?? 'python3';
const STARTS = 9;
/** The shipped profiles' LED lines. */
const LINES = [5, 6, 13, 19, 17, 27, 22, 23, 24, 25, 12, 16];
/** Linux's USER_HZ: /proc/PID/stat counts CPU time in these. */
const CLOCK_TICK_MS = 10;

const bindings = mkdtempSync(join(tmpdir(), 'edgepeer-bench-gpiod-'));
mkdirSync(join(bindings, 'gpiod'));
writeFileSync(join(bindings, 'gpiod', 'line.py'), [
  'from enum import Enum', 'class Value(Enum):', '    INACTIVE = 0', '    ACTIVE = 1',
  'class Direction(Enum):', '    AS_IS = 1', '    INPUT = 2', '    OUTPUT = 3', '',
].join('\n'));
writeFileSync(join(bindings, 'gpiod', '__init__.py'), [
  '# No-op bindings of the libgpiod 2 shape: the benchmark times the holder, not a chip.',
  'from .line import Direction, Value', 'class LineSettings:', '    def __init__(self, direction=None, output_value=None):', '        pass',
  'class _Request:', '    def set_values(self, values):', '        pass', '    def release(self):', '        pass',
  'def request_lines(path, consumer=None, event_buffer_size=None, config=None, output_values=None):', '    return _Request()', '',
].join('\n'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function cpuMs(pid: number): number {
  // Fields 14 and 15 (utime, stime) after the command name, which may hold spaces: count from its ')'.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * CLOCK_TICK_MS;
}

interface Running {
  pid: number;
  prompt: () => Promise<void>;
  send: (line: string) => void;
  end: () => Promise<void>;
}

function startHolder(): Running {
  const child = spawn(python3, ['-s', GPIOD_LINE_HOLDER, '--chip', 'gpiochip0', '--consumer', 'edgepeer', ...LINES.map((l) => `${l}=0`)], {
    env: { ...process.env, PYTHONPATH: bindings }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  let out = '';
  let waiting: (() => void) | null = null;
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    const at = out.indexOf(GPIOSET_PROMPT);
    if (at >= 0 && waiting !== null) {
      out = out.slice(at + GPIOSET_PROMPT.length);
      const w = waiting;
      waiting = null;
      w();
    }
  });
  return {
    pid: child.pid!,
    prompt: () => new Promise<void>((resolve) => {
      const at = out.indexOf(GPIOSET_PROMPT);
      if (at >= 0) {
        out = out.slice(at + GPIOSET_PROMPT.length);
        resolve();
      } else {
        waiting = resolve;
      }
    }),
    send: (line) => { child.stdin.write(`${line}\n`); },
    end: () => new Promise<void>((resolve) => { child.once('close', () => resolve()); child.stdin.end(); }),
  };
}

async function timeSpawnExit(file: string, args: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  await new Promise<void>((resolve, reject) => {
    const c = spawn(file, args, { stdio: 'ignore' });
    c.once('error', reject);
    c.once('close', () => resolve());
  });
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

try {
  const startMs: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const t0 = process.hrtime.bigint();
    const h = startHolder();
    await h.prompt();
    startMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await h.end();
  }
  const h = startHolder();
  await h.prompt();
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${h.pid}/status`, 'utf8'))?.[1]);
  const cpuBefore = cpuMs(h.pid);
  const roundTripMs: number[] = [];
  for (let i = 0; i < sets; i++) {
    const t0 = process.hrtime.bigint();
    h.send(`set ${LINES.map((l, j) => `${l}=${(i + j) % 2}`).join(' ')}`);
    await h.prompt();
    roundTripMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const holderCpuMs = cpuMs(h.pid) - cpuBefore;
  await h.end();
  process.stdout.write(`python line holder: start to first prompt ${median(startMs).toFixed(1)} ms (median of ${STARTS}), RSS ${(rssKb / 1024).toFixed(1)} MiB\n`);
  process.stdout.write(`  a set of ${LINES.length} lines, write to prompt: ${median(roundTripMs).toFixed(3)} ms (median of ${sets}); `
    + `holder CPU ${(holderCpuMs / sets).toFixed(3)} ms a set (${holderCpuMs} ms in ${CLOCK_TICK_MS} ms ticks)\n`);
  try {
    const spawnMs: number[] = [];
    for (let i = 0; i < STARTS * 4; i++) spawnMs.push(await timeSpawnExit('gpioset', ['--version']));
    process.stdout.write(`respawn: one gpioset start to exit (gpioset --version) ${median(spawnMs).toFixed(1)} ms (median of ${spawnMs.length})\n`);
  } catch {
    process.stdout.write('respawn: gpioset is not installed here (apt-get install gpiod) to time a start\n');
  }
} finally {
  rmSync(bindings, { recursive: true, force: true });
}
