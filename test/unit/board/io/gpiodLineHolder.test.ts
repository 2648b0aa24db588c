// The gpiod backend's python line holder (src/board/io/gpiodLineHolder.py) run by itself, on the stand-in
// Python bindings of test/helpers/fakeGpiod.ts in the libgpiod 1 API and the libgpiod 2 API (no GPIO chip
// and no gpio-sim here): one request of every line as an output for the process's life, the levels
// applied in the order given, interactive gpioset's prompt protocol, and every start-up failure one line
// on stderr with a non-zero exit before any prompt.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { GPIOD_CONSUMER, GPIOD_LINE_HOLDER, GPIOSET_PROMPT } from '../../../../src/board/io/gpiodIo.js';
import { type FakeGpiod, type FakePythonBindings, fakeGpiod } from '../../../helpers/fakeGpiod.js';
import { withTimeout } from '../../../helpers/wait.js';

const fakes: FakeGpiod[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'close');
    }
  }
  for (const f of fakes) f.remove();
});

function fake(python: FakePythonBindings): FakeGpiod {
  const f = fakeGpiod({ python });
  fakes.push(f);
  return f;
}

/** A running holder, read a prompt at a time. */
class Holder {
  private out = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<{ code: number | null; stderr: string }>;
  private stderr = '';

  constructor(readonly child: ChildProcess) {
    children.push(child);
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.out += chunk;
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr!.on('data', (chunk: string) => { this.stderr += chunk; });
    this.exited = new Promise((resolve) => {
      child.once('close', (code) => {
        for (const w of this.waiters.splice(0)) w();
        resolve({ code, stderr: this.stderr });
      });
    });
  }

  /** What the holder said before its next prompt; rejects if it ends first. */
  async prompt(): Promise<string> {
    for (;;) {
      const at = this.out.indexOf(GPIOSET_PROMPT);
      if (at >= 0) {
        const said = this.out.slice(0, at);
        this.out = this.out.slice(at + GPIOSET_PROMPT.length);
        return said;
      }
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`holder ended: ${this.stderr}`);
      await withTimeout(new Promise<void>((resolve) => this.waiters.push(resolve)), 'the holder\'s prompt');
    }
  }

  /** Sends one command and returns what the holder said before the prompt that answers it. */
  async command(line: string): Promise<string> {
    this.child.stdin!.write(`${line}\n`);
    return this.prompt();
  }

  /** Output not yet read (after its end: everything it wrote after the last prompt read). */
  rest(): string {
    return this.out;
  }
}

function start(f: FakeGpiod, args: readonly string[]): Holder {
  return new Holder(spawn(f.tools.python3, [GPIOD_LINE_HOLDER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
}

const LINES = [5, 6, 13, 17];
const startArgs = (chip: string): string[] => ['--chip', chip, '--consumer', GPIOD_CONSUMER, ...LINES.map((l) => `${l}=${l === 13 ? 1 : 0}`)];

for (const [api, chip, chipSeen] of [['v1', 'gpiochip0', 'gpiochip0'], ['v2', 'gpiochip4', '/dev/gpiochip4']] as const) {
  test(`${api} bindings: one request of every line as an output at its start level, then each set applied in order by the same process`, async () => {
    const f = fake(api);
    const h = start(f, startArgs(chip));
    assert.equal(await h.prompt(), '', 'the first prompt, once the lines are held, says nothing');
    const requested = f.requests();
    assert.equal(requested.length, 1);
    assert.deepEqual({ ...requested[0], pid: 0 }, {
      pid: 0, api: api === 'v1' ? 1 : 2, chip: chipSeen, consumer: GPIOD_CONSUMER, lines: { 5: 0, 6: 0, 13: 1, 17: 0 },
    });
    const expected: string[] = ['set 5=0 6=0 13=1 17=0'];
    const now = new Map(LINES.map((l) => [l, l === 13 ? 1 : 0]));
    const CHANGES = 40;
    for (let i = 1; i <= CHANGES; i++) {
      const line = LINES[i % LINES.length]!;
      now.set(line, 1 - now.get(line)!);
      // A set names some lines; the others keep their level.
      assert.equal(await h.command(`set ${line}=${now.get(line)}`), '');
      expected.push(`set ${[...now].sort((a, b) => a[0] - b[0]).map(([l, v]) => `${l}=${v}`).join(' ')}`);
      assert.equal(f.level(line), now.get(line), `GPIO${line} set when the prompt answers`);
    }
    // Every line at once, as the backend sends it.
    assert.equal(await h.command('set 5=1 6=1 13=1 17=1'), '');
    expected.push('set 5=1 6=1 13=1 17=1');
    assert.deepEqual(f.setsApplied(), expected, 'every set applied, in order');
    assert.equal(f.requests().length, 1, 'the lines were requested once');
    assert.equal(f.pids().length, 1, `one process for ${CHANGES + 1} changes`);
    h.child.stdin!.write('exit\n');
    assert.equal((await h.exited).code, 0);
  });

  test(`${api} bindings: a command it cannot apply is answered by one line and the prompt, and changes nothing`, async () => {
    const f = fake(api);
    const h = start(f, startArgs(chip));
    await h.prompt();
    assert.equal(await h.command('set 4=1'), "unknown line: '4'\n");
    assert.equal(await h.command('set 5=2'), "'5=2' is not LINE=0 or LINE=1\n");
    assert.equal(await h.command('set 5=1 x'), "'x' is not LINE=0 or LINE=1\n");
    assert.equal(await h.command('get 5'), "unknown command: 'get'\n");
    assert.equal(await h.command(''), '');
    assert.equal(f.setsApplied().length, 1, 'only the request set levels');
    assert.equal(f.level(5), 0);
    assert.equal(await h.command('set 5=1'), '');
    assert.equal(f.level(5), 1);
    // The end of its input ends it: the backend is gone.
    h.child.stdin!.end();
    const end = await h.exited;
    assert.equal(end.code, 0);
    assert.equal(end.stderr, '');
  });

  test(`${api} bindings: no permission or a busy line is one line on stderr and exit 1, before any prompt`, async () => {
    const f = fake(api);
    for (const [told, said] of [['Permission denied', 'Permission denied'], ['Device or resource busy', 'Device or resource busy']]) {
      f.failWith(`gpioset: ${told}`);
      const h = start(f, startArgs(chip));
      const end = await h.exited;
      assert.equal(end.code, 1);
      assert.equal(h.rest(), '', 'no prompt');
      assert.equal(end.stderr, `gpiodLineHolder: cannot request lines 5,6,13,17 on ${chip}: ${said}\n`);
    }
    assert.deepEqual(f.requests(), []);
  });
}

test('--probe names the bindings; none, or a module gpiod that is not libgpiod\'s, is one line on stderr and exit 2', async () => {
  for (const [python, stdout] of [['v1', 'libgpiod python bindings v1 (1.6.3)\n'], ['v2', 'libgpiod python bindings v2 (2.2.1)\n']] as const) {
    const h = start(fake(python), ['--probe']);
    const end = await h.exited;
    assert.equal(end.code, 0, end.stderr);
    assert.equal(h.rest(), stdout);
  }
  for (const [python, stderr] of [
    ['none', /^gpiodLineHolder: python3 cannot import gpiod \(No module named 'gpiod'\): install python3-libgpiod\n$/],
    ['foreign', /^gpiodLineHolder: the module gpiod at \S+ is neither libgpiod 1 nor libgpiod 2 bindings\n$/],
  ] as const) {
    for (const args of [['--probe'], startArgs('gpiochip0')]) {
      const h = start(fake(python), args);
      const end = await h.exited;
      assert.equal(end.code, 2, `${python} ${args.join(' ')}`);
      assert.match(end.stderr, stderr);
      assert.equal(h.rest(), '', 'no prompt');
    }
  }
});

test('bad arguments: one line of usage on stderr, exit 64, no request', async () => {
  const f = fake('v2');
  for (const args of [['--chip', 'gpiochip0', '5=0'], ['--consumer', 'x', '5=0'], ['--chip', 'gpiochip0', '--consumer', 'x'], ['--chip', 'gpiochip0', '--consumer', 'x', '5=on']]) {
    const h = start(f, args);
    const end = await h.exited;
    assert.equal(end.code, 64, args.join(' '));
    assert.equal(end.stderr.split('\n').length, 2, `one line: ${end.stderr}`);
  }
  assert.deepEqual(f.requests(), []);
});
