// The hardware-in-the-loop suite itself, so it does not rot between visits to a real Pi: run as a user runs
// it, with no board named (everything skipped, the reason printed), and with a Pi 5 named on stand-in
// libgpiod and pinctrl tools (every test runs and passes, reading the lines back), and on a Pi 4 with
// bookworm's libgpiod 1 and python3-libgpiod (the python line holder holds the lines for the run).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { fakeGpiod } from '../helpers/fakeGpiod.js';

const HIL_TEST = fileURLToPath(new URL('../hil/gpioLeds.test.js', import.meta.url));
const RUN_TIMEOUT_MS = 60_000;
const fake = fakeGpiod();
const bookworm = fakeGpiod({ version: 'v1.6.3', python: 'v1', chips: ['gpiochip0 [pinctrl-bcm2711] (58 lines)'] });
/** Suites still running: a test cancelled mid-run (its timeout, a failure) must not leave its child behind. */
const running = new Set<ChildProcess>();
after(async () => {
  await Promise.all([...running].map((c) => new Promise<void>((resolve) => {
    c.once('close', () => resolve());
    c.kill('SIGKILL');
  })));
  fake.remove();
  bookworm.remove();
});

function runSuite(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv['NODE_TEST_CONTEXT'];
  delete childEnv['EDGEPEER_HIL_BOARD'];
  Object.assign(childEnv, env);
  const child = spawn(process.execPath, ['--test', '--test-reporter=tap', HIL_TEST], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('close', () => running.delete(child));
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { out += c.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`HIL suite still running after ${RUN_TIMEOUT_MS} ms:\n${out}`)); }, RUN_TIMEOUT_MS);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test('without EDGEPEER_HIL_BOARD every HIL test is skipped, saying why', async () => {
  const r = await runSuite({});
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /# SKIP hardware-in-the-loop: EDGEPEER_HIL_BOARD is not set/);
  assert.match(r.out, /# pass 0/);
  assert.match(r.out, /# skipped 2/);
});

test('with a Pi 5 named, on stand-in GPIO tools, the HIL suite drives and reads back every LED', async () => {
  const modelFile = join(fake.dir, 'model');
  writeFileSync(modelFile, 'Raspberry Pi 5 Model B Rev 1.0\0');
  const env = {
    EDGEPEER_HIL_BOARD: 'raspberry-pi-5', EDGEPEER_HIL_MODEL_FILE: modelFile, EDGEPEER_HIL_STEP_MS: '0',
    PATH: `${fake.binDir}:${process.env['PATH'] ?? ''}`,
  };
  const r = await runSuite(env);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /# pass 2/);
  assert.doesNotMatch(r.out, /could read the lines/, 'levels were read back, not only driven');
  // The stand-in is libgpiod 2 with --interactive: one gpioset for the run, a command for each pattern.
  assert.equal(fake.invocations().length, 1, 'one gpioset held the lines for the whole run');
  assert.ok(fake.commands().length > 10, 'gpioset was given each pattern');

  writeFileSync(modelFile, 'Raspberry Pi 4 Model B Rev 1.4\0');
  const wrong = await runSuite(env);
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.out, /this board is 'Raspberry Pi 4 Model B Rev 1.4', profile raspberry-pi-5 is for 'Raspberry Pi 5'/);
});

test("with a Pi 4 named, on bookworm's libgpiod 1 and python3-libgpiod (stand-ins), one python line holder drives every LED for the run", async () => {
  const modelFile = join(bookworm.dir, 'model');
  writeFileSync(modelFile, 'Raspberry Pi 4 Model B Rev 1.4\0');
  const r = await runSuite({
    EDGEPEER_HIL_BOARD: 'raspberry-pi-4', EDGEPEER_HIL_MODEL_FILE: modelFile, EDGEPEER_HIL_STEP_MS: '0',
    PATH: `${bookworm.binDir}:${process.env['PATH'] ?? ''}`,
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /# pass 2/);
  assert.doesNotMatch(r.out, /could read the lines/, 'levels were read back, not only driven');
  assert.match(r.out, /# gpiod mode python \(libgpiod python bindings v1 \(1\.6\.3\)\): holder processes started 1$/m);
  assert.deepEqual(bookworm.invocations(), [], 'no gpioset started');
  assert.equal(bookworm.holderInvocations().length, 1, 'one line holder for the whole run');
  assert.ok(bookworm.commands().length > 10, 'the holder was given each pattern');
});
