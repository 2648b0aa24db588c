// The gpiod backend (libgpiod's tools and Python bindings) against stand-in tools and bindings, and against
// Debian's real tools where they are installed (no GPIO chip and no gpio-sim exist here, so only their
// refusals can be seen): libgpiod 2 with and without --interactive and libgpiod 1, with and without
// python3-libgpiod; the mode chosen (interactive gpioset > python line holder > respawn) or forced; the
// chip found by label; one process holding every line (for the board's life when interactive or python),
// changes coalesced and respawns bounded, a killed or hung holder restarted, none left after close, clear
// errors at start-up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import {
  GPIOD_CONSUMER, GpioBackendError, GpiodIo, type GpiodIoOptions, gpiodBoardIo, gpiodModeFromEnv, gpiosetCommand, gpiosetIsInteractive,
  parseGpiodMajorVersion, parseGpiodetect,
} from '../../../../src/board/io/gpiodIo.js';
import { ledLines, openBoardIo } from '../../../../src/board/io/openBoardIo.js';
import { LedDriver } from '../../../../src/board/ledDriver.js';
import { loadProfile } from '../../../../src/board/profile.js';
import type { BackoffPolicy } from '../../../../src/config/backoff.js';
import { seededRandom } from '../../../../src/config/random.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { type FakeGpiod, fakeGpiod } from '../../../helpers/fakeGpiod.js';
import { ManualClock } from '../../../helpers/fakes.js';
import { recordingLogger } from '../../../helpers/recordingLogger.js';
import { WAIT_TIMEOUT_MS, pollUntil, withTimeout } from '../../../helpers/wait.js';

const profile = loadProfile('raspberry-pi-5');
const pins = profile.pins;
const LINES = ledLines(pins);
/** The respawn bound of the libgpiod 1 test: short, so that the test is, and far above the gap between changes. */
const RESPAWN_INTERVAL_MS = 50;
const CHANGE_GAP_MS = 5;
/** An interactive gpioset's answer deadline in the hung-gpioset test: short, far above an answer's time. */
const ANSWER_TIMEOUT_MS = 500;
/** Restart waits short enough for a test, still jittered and growing. */
const FAST_RESTARTS: BackoffPolicy = { baseDelayMs: 20, maxDelayMs: 200 };
const fakes: FakeGpiod[] = [];
const opened: GpiodIo[] = [];
after(async () => {
  for (const io of opened) await io.close();
  for (const f of fakes) f.remove();
});

function fake(o: Parameters<typeof fakeGpiod>[0] = {}): FakeGpiod {
  const f = fakeGpiod(o);
  fakes.push(f);
  return f;
}

async function open(f: FakeGpiod, o: Omit<GpiodIoOptions, 'lines' | 'tools'> = { chipLabel: 'pinctrl-rp1' }): Promise<GpiodIo> {
  const io = await GpiodIo.open({ ...o, lines: LINES, tools: f.tools });
  opened.push(io);
  return io;
}

/** What the backend logs once when it has to respawn gpioset, with how to do better. */
const RESPAWN_HINT = /gpioset is started anew for each change of levels.*apt-get install python3-libgpiod/;
/** The fakes where the python line holder is the best mode: Debian's libgpiod 2 and libgpiod 1, each with its bindings. */
const PYTHON_BOARDS = [
  ["Debian's libgpiod 2 (no --interactive) with python3-libgpiod 2", { interactive: false, python: 'v2' }],
  ['libgpiod 1 with python3-libgpiod 1.6', { version: 'v1.6.3', python: 'v1' }],
] as const;

function sortedLines(): number[] {
  return [...LINES].sort((a, b) => a - b);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('parses libgpiod versions and gpiodetect output', () => {
  assert.equal(parseGpiodMajorVersion('gpioset (libgpiod) v1.6.3\nCopyright (C) 2017-2018'), 1);
  assert.equal(parseGpiodMajorVersion('gpioset (libgpiod) v2.1'), 2);
  assert.equal(parseGpiodMajorVersion('gpioset'), null);
  assert.equal(gpiosetIsInteractive(2, '  -h, --help\t\tdisplay this help and exit\n  -i, --interactive\tset the lines then wait'), true);
  assert.equal(gpiosetIsInteractive(2, '  -h, --help\t\tdisplay this help and exit\n  -l, --active-low'), false);
  assert.equal(gpiosetIsInteractive(1, '--interactive'), false);
  assert.equal(gpiosetCommand(new Map([[17, 1], [5, 0]])), 'set 5=0 17=1');
  assert.deepEqual(parseGpiodetect('gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n'), [
    { chip: 'gpiochip0', label: 'pinctrl-bcm2711' }, { chip: 'gpiochip1', label: 'raspberrypi-exp-gpio' },
  ]);
});

test('libgpiod 2 with --interactive: finds the chip by its label and holds every LED line low in one interactive gpioset', async () => {
  const f = fake();
  const io = await open(f);
  assert.equal(io.chip, 'gpiochip0');
  assert.equal(io.libgpiodMajor, 2);
  assert.equal(io.mode, 'interactive');
  const [first] = f.invocations();
  assert.deepEqual(first?.slice(0, 5), ['--consumer', 'edgepeer', '--chip', 'gpiochip0', '--interactive']);
  assert.deepEqual(first?.slice(5), sortedLines().map((l) => `${l}=0`));
  for (const l of LINES) assert.equal(f.level(l), 0);
});

test('libgpiod 2 built without --interactive (Debian): one gpioset per set of levels, with the v2 arguments', async () => {
  const f = fake({ interactive: false });
  const io = await open(f);
  assert.equal(io.mode, 'respawn');
  assert.deepEqual(f.invocations()[0]?.slice(0, 4), ['--consumer', 'edgepeer', '--chip', 'gpiochip0']);
  io.digitalWrite(pins.link, 1);
  await io.idle();
  await f.settled(io.heldLevels());
  assert.equal(io.spawns, 2);
  assert.equal(f.level(pins.link), 1);
});

test('libgpiod 1: --mode=signal and the chip as the first argument', async () => {
  const f = fake({ version: 'v1.6.3' });
  const io = await open(f, { chip: 'gpiochip4' });
  assert.equal(io.libgpiodMajor, 1);
  assert.equal(io.mode, 'respawn');
  assert.deepEqual(f.invocations()[0]?.slice(0, 2), ['--mode=signal', 'gpiochip4']);
});

for (const [what, fakeOptions, mode] of [
  ['libgpiod 2 with --interactive, and python3-libgpiod', { python: 'v2' }, 'interactive'],
  ...PYTHON_BOARDS.map(([w, o]) => [w, o, 'python'] as const),
  ['libgpiod 1 without python3-libgpiod', { version: 'v1.6.3' }, 'respawn'],
  ["Debian's libgpiod 2 and a module gpiod that is not libgpiod's", { interactive: false, python: 'foreign' }, 'respawn'],
] as const) {
  test(`${what}: the backend holds the lines by ${mode}`, async () => {
    const f = fake(fakeOptions);
    const { log, records } = recordingLogger('gpiod');
    const io = await open(f, { chipLabel: 'pinctrl-rp1', log });
    assert.equal(io.mode, mode);
    const hints = records.filter((r) => RESPAWN_HINT.test(String(r['msg'])));
    if (mode === 'python') {
      assert.deepEqual(f.invocations(), [], 'no gpioset started');
      assert.deepEqual(f.holderInvocations(), [['--chip', 'gpiochip0', '--consumer', GPIOD_CONSUMER, ...sortedLines().map((l) => `${l}=0`)]]);
      assert.match(io.pythonBindings ?? '', /^libgpiod python bindings v[12] /);
      assert.equal(f.requests().length, 1);
      for (const l of LINES) assert.equal(f.level(l), 0);
    } else {
      assert.deepEqual(f.holderInvocations(), [], 'no line holder started');
      assert.equal(f.invocations().length, 1);
    }
    if (mode === 'respawn') {
      assert.equal(hints.length, 1, 'respawn is logged once, with what to install');
      assert.equal(hints[0]!['level'], 30, 'at info');
    } else {
      assert.deepEqual(hints, []);
    }
  });
}

test('EDGEPEER_GPIOD_MODE forces a mode: unset or auto chooses; a mode the board lacks rejects open() saying why', async () => {
  assert.equal(gpiodModeFromEnv({}), 'auto');
  assert.equal(gpiodModeFromEnv({ EDGEPEER_GPIOD_MODE: 'auto' }), 'auto');
  for (const m of ['interactive', 'python', 'respawn'] as const) assert.equal(gpiodModeFromEnv({ EDGEPEER_GPIOD_MODE: m }), m);
  assert.throws(() => gpiodModeFromEnv({ EDGEPEER_GPIOD_MODE: 'fast' }), /^GpioBackendError: EDGEPEER_GPIOD_MODE=fast: expected auto, interactive, python, respawn$/);
  // Through openBoardIo, as the peer opens it: respawn although interactive gpioset and the bindings are there.
  const f = fake({ python: 'v2' });
  const board = await openBoardIo(profile, { gpiodTools: f.tools, env: { EDGEPEER_GPIOD_MODE: 'respawn' } });
  const io = board.io as GpiodIo;
  opened.push(io);
  assert.equal(io.mode, 'respawn');
  assert.equal(f.invocations()[0]?.includes('--interactive'), false);
  const p = await open(fake({ python: 'v2' }), { chipLabel: 'pinctrl-rp1', mode: 'python' });
  assert.equal(p.mode, 'python');
  await assert.rejects(open(fake({ version: 'v1.6.3' }), { chipLabel: 'pinctrl-rp1', mode: 'python' }),
    /EDGEPEER_GPIOD_MODE=python, but the line holder cannot run: .*install python3-libgpiod/);
  await assert.rejects(open(fake({ version: 'v1.6.3', python: 'v1' }), { chipLabel: 'pinctrl-rp1', mode: 'interactive' }),
    /EDGEPEER_GPIOD_MODE=interactive, but \S+ \(libgpiod 1\) has no --interactive/);
});

for (const [what, fakeOptions, mode] of [['libgpiod 2 with --interactive', {}, 'interactive'], ...PYTHON_BOARDS.map(([w, o]) => [w, o, 'python'] as const)] as const) {
  test(`${what}: N level changes go to one ${mode} holder as set commands (one in flight, the latest levels win, applied in order), and it holds the last levels written`, async (t) => {
    const f = fake(fakeOptions);
    const io = await open(f);
    assert.equal(io.mode, mode);
    const pid = io.holderPid;
    const CHANGES = 40;
    for (let i = 1; i <= CHANGES; i++) {
      // One change a turn, as LED refreshes come: each is its own command unless one is in flight.
      io.digitalWrite(pins.height[i % pins.height.length]!, i % 3 === 0 ? 0 : 1);
      io.digitalWrite(pins.link, i % 2);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await io.idle();
    const commands = f.commands().length;
    t.diagnostic(`${CHANGES} changes: ${io.spawns} process started (${mode}), ${commands} commands`);
    assert.equal(io.spawns, 1, 'no process started after the first');
    assert.deepEqual(f.pids(), [pid]);
    assert.equal((mode === 'python' ? f.holderInvocations() : f.invocations()).length, 1);
    assert.deepEqual(mode === 'python' ? f.invocations() : f.holderInvocations(), []);
    assert.ok(commands >= 1 && commands <= CHANGES, `${commands} commands for ${CHANGES} changes`);
    assert.ok(f.commands().every((c) => c.startsWith('set ')));
    for (const l of LINES) assert.equal(f.level(l), io.heldLevels().get(l), `GPIO${l} as last written`);
    // Each change awaited (a slow refresh): one command each, in the order written, still the one process.
    const before = f.commands().length;
    const written: string[] = [];
    for (let i = 0; i < pins.height.length; i++) {
      io.digitalWrite(pins.height[i]!, 1 - io.heldLevels().get(pins.height[i]!)!);
      written.push(gpiosetCommand(io.heldLevels()));
      await io.idle();
      assert.equal(f.level(pins.height[i]!), io.heldLevels().get(pins.height[i]!), 'applied when idle() resolves');
    }
    assert.deepEqual(f.commands().slice(before), written);
    assert.deepEqual(f.setsApplied().slice(-written.length), written);
    assert.equal(io.spawns, 1);
    assert.equal(io.holderPid, pid);
  });
}

test('interactive: writes in one turn are one command; writing the level a line has costs nothing', async () => {
  const f = fake();
  const io = await open(f);
  io.digitalWrite(pins.link, 1);
  io.digitalWrite(pins.sync, 1);
  io.digitalWrite(pins.height[0]!, 1);
  await io.idle();
  assert.deepEqual(f.commands(), [gpiosetCommand(io.heldLevels())]);
  assert.equal(f.level(pins.link), 1);
  assert.equal(f.level(pins.sync), 1);
  assert.equal(f.level(pins.height[0]!), 1);
  assert.equal(f.level(pins.leader), 0);
  io.digitalWrite(pins.link, 1);
  await io.idle();
  assert.equal(f.commands().length, 1);
  assert.equal(io.spawns, 1);
  assert.throws(() => io.digitalWrite(4, 1), /GPIO4 was not opened as an LED output/);
});

test('libgpiod 1: changes faster than the respawn bound start at most one gpioset per interval, one at a time, and the latest levels win', async (t) => {
  const f = fake({ version: 'v1.6.3' });
  const io = await open(f, { chip: 'gpiochip0', minRespawnIntervalMs: RESPAWN_INTERVAL_MS });
  const CHANGES = 30;
  const startedAt = Date.now();
  for (let i = 1; i <= CHANGES; i++) {
    io.digitalWrite(pins.height[i % pins.height.length]!, i % 2);
    io.digitalWrite(pins.sync, i % 2);
    // A change every few ms: far faster than the bound.
    await new Promise((resolve) => setTimeout(resolve, CHANGE_GAP_MS));
  }
  await io.idle();
  const elapsedMs = Date.now() - startedAt;
  await f.settled(io.heldLevels());
  const respawns = io.spawns - 1;
  t.diagnostic(`${CHANGES} changes in ${elapsedMs} ms: ${respawns} respawns (bound ${RESPAWN_INTERVAL_MS} ms apart)`);
  // One start may follow at once (the first change after open), then one per interval at most.
  assert.ok(respawns <= 1 + Math.floor(elapsedMs / RESPAWN_INTERVAL_MS), `${respawns} respawns in ${elapsedMs} ms`);
  assert.ok(respawns < CHANGES, `${respawns} respawns for ${CHANGES} changes`);
  assert.deepEqual(f.overlaps(), [], 'a gpioset started only after the one before it had exited');
  for (const l of LINES) assert.equal(f.level(l), io.heldLevels().get(l), `GPIO${l} as last written`);
});

for (const [what, fakeOptions, openOptions, holderName] of [
  ['interactive', {}, {}, 'gpioset'],
  ['libgpiod 1', { version: 'v1.6.3' }, { chip: 'gpiochip0' }, 'gpioset'],
  ['python (v1 bindings)', { version: 'v1.6.3', python: 'v1' }, { chip: 'gpiochip0' }, 'the python3 process'],
  ['python (v2 bindings)', { interactive: false, python: 'v2' }, {}, 'the python3 process'],
] as const) {
  test(`${what}: a holder killed from outside is reported and restarted with the latest levels, after the backoff`, async () => {
    const f = fake(fakeOptions);
    const { log, records } = recordingLogger('gpiod');
    const io = await open(f, { chipLabel: 'pinctrl-rp1', ...openOptions, log, restartPolicy: FAST_RESTARTS, random: seededRandom(1) });
    const first = io.holderPid!;
    // Restarts that fail too (the line taken meanwhile) wait longer each time, each logged (rate-limited).
    f.failWith('gpioset: unable to request lines: Device or resource busy');
    process.kill(first, 'SIGKILL');
    await pollUntil(() => (io.spawns >= 3 ? true : null), 'two failed restarts', WAIT_TIMEOUT_MS);
    io.digitalWrite(pins.error, 1);
    f.failWith(null);
    const [pid] = (await withTimeout(once(io, 'held'), 'a restarted gpioset holding the lines')) as [number];
    assert.notEqual(pid, first);
    assert.equal(io.holderPid, pid);
    await io.idle();
    await f.settled(io.heldLevels());
    assert.equal(f.level(pins.error), 1, 'the restarted gpioset holds the level written while none ran');
    const warned = records.filter((r) => r['msg'] === `${holderName} holding the LED lines ended unexpectedly (the LEDs may show stale levels): restarting it`);
    assert.equal(warned.length, 1, 'one line per interval, however many ends');
    assert.match(String(warned[0]!['err']), /ended \(SIGKILL\)/);
    assert.ok(Number(warned[0]!['restartInMs']) >= FAST_RESTARTS.baseDelayMs);
    assert.deepEqual(f.overlaps(), []);
  });
}

for (const [what, fakeOptions] of [['interactive gpioset', {}], ...PYTHON_BOARDS] as const) {
  test(`${what}: a holder that stops answering is reported, killed and replaced by one holding the latest levels`, async () => {
    const f = fake(fakeOptions);
    const { log, records } = recordingLogger('gpiod');
    const io = await open(f, { chipLabel: 'pinctrl-rp1', log, answerTimeoutMs: ANSWER_TIMEOUT_MS, restartPolicy: FAST_RESTARTS, random: seededRandom(2) });
    const first = io.holderPid!;
    f.hang(true);
    io.digitalWrite(pins.leader, 1);
    const replaced = once(io, 'held');
    await pollUntil(() => (f.commands().length === 1 ? true : null), 'the command read by the holder that hangs', WAIT_TIMEOUT_MS);
    f.hang(false);
    const [pid] = (await withTimeout(replaced, 'a holder replacing the hung one')) as [number];
    assert.notEqual(pid, first);
    assert.equal(alive(first), false, 'the hung one was killed');
    await io.idle();
    assert.equal(f.level(pins.leader), 1, 'the replacement holds the level the hung one never applied');
    assert.ok(records.some((r) => String(r['msg']).includes(`did not answer 'set `) && String(r['msg']).includes(`within ${ANSWER_TIMEOUT_MS} ms: killing it`)),
      JSON.stringify(records.map((r) => r['msg'])));
    assert.equal(io.spawns, 2);
  });
}

test('close ends the holder by its PID and awaits its exit: no child is left', async () => {
  for (const fakeOptions of [{}, { version: 'v1.6.3' }, ...PYTHON_BOARDS.map(([, o]) => o)]) {
    const f = fake(fakeOptions);
    const io = await GpiodIo.open({ chip: 'gpiochip0', lines: LINES, tools: f.tools });
    const pid = io.holderPid!;
    assert.ok(alive(pid));
    io.digitalWrite(pins.link, 1);
    await io.close();
    assert.equal(io.holderPid, null);
    assert.equal(alive(pid) || f.pids().some(alive), false, 'every gpioset it started is gone');
    assert.equal(f.level(pins.link), 1, 'the change written before close was applied first');
  }
});

test('johnny-five on the gpiod backend: the lines gpioset holds show Gray(height)', async () => {
  const f = fake();
  const io = await open(f);
  const clock = new ManualClock();
  let height = 0;
  const driver = await LedDriver.start({
    boardIo: { ...gpiodBoardIo(io), close: async () => {} }, pins, refreshMs: 100, clock, log: silentLogger(),
    source: () => ({ height, link: 'up', sync: 'in-sync', role: 'leader', error: null, rejected: 0 }),
  });
  for (const h of [1, 2, 3, 200, 201]) {
    height = h;
    await clock.advance(100);
    await io.idle();
    await f.settled(io.heldLevels());
    assert.deepEqual(pins.height.map((p) => f.level(p)), pins.height.map((_, i) => (((h % 256) ^ ((h % 256) >> 1)) >> i) & 1), `height ${h}`);
    assert.equal(f.level(pins.link), 1);
  }
  await driver.stop();
  await io.idle();
  await f.settled(io.heldLevels());
  for (const l of LINES) assert.equal(f.level(l), 0, 'all dark after stop');
});

test('start-up errors say what to do: chip not found, no permission, tool missing', async () => {
  const f = fake({ chips: ['gpiochip0 [pinctrl-bcm2711] (58 lines)'] });
  await assert.rejects(open(f, { chipLabel: 'pinctrl-rp1' }),
    /no GPIO chip labelled 'pinctrl-rp1' \(chips: gpiochip0 \[pinctrl-bcm2711\]\); set io\.chip/);
  const g = fake();
  g.failWith('gpioset: error setting the GPIO line values: Permission denied');
  await assert.rejects(open(g), (err: unknown) => err instanceof GpioBackendError
    && /Permission denied \(is this user in the gpio group\? see docs\/gpio\.md\)/.test(err.message));
  await assert.rejects(GpiodIo.open({ chip: 'gpiochip0', lines: LINES, tools: { gpioset: '/nonexistent/gpioset', gpiodetect: 'gpiodetect', python3: 'python3' } }),
    /\/nonexistent\/gpioset not found: install libgpiod's tools \(apt-get install gpiod\)/);
  // The python line holder's refusals, before its first prompt, reject open() the same way.
  for (const [, fakeOptions] of PYTHON_BOARDS) {
    for (const [told, hint] of [['Permission denied', / \(is this user in the gpio group\? see docs\/gpio\.md\)$/], ['Device or resource busy', /busy$/]] as const) {
      const h = fake(fakeOptions);
      h.failWith(`gpioset: ${told}`);
      await assert.rejects(open(h), (err: unknown) => err instanceof GpioBackendError
        && /gpiodLineHolder\.py --chip gpiochip0 .* ended \(exit 1\): gpiodLineHolder: cannot request lines [0-9,]+ on gpiochip0: /.test(err.message)
        && err.message.includes(told) && hint.test(err.message), `${JSON.stringify(fakeOptions)}: ${told}`);
    }
  }
  await assert.rejects(GpiodIo.open({ chip: 'gpiochip0', lines: LINES, mode: 'python', tools: { gpioset: 'gpioset', gpiodetect: 'gpiodetect', python3: '/nonexistent/python3' } }),
    /\/nonexistent\/python3 not found: install python3 and libgpiod's Python bindings \(apt-get install python3-libgpiod\)/);
});

test("Debian's libgpiod tools: their version is read, and with no GPIO chip the refusal is theirs, clearly passed on", async (t) => {
  if (!hasTool('gpioset') || !hasTool('gpiodetect')) {
    t.skip('libgpiod tools are not installed (apt-get install gpiod)');
    return;
  }
  await assert.rejects(GpiodIo.open({ chipLabel: 'pinctrl-rp1', lines: LINES }), /no GPIO chip labelled 'pinctrl-rp1'/);
  // A chip named outright: gpioset accepts the arguments (no usage error) and fails on the missing device.
  await assert.rejects(GpiodIo.open({ chip: 'gpiochip0', lines: LINES }), (err: unknown) => err instanceof GpioBackendError
    && /gpioset .*gpiochip0 .* ended \(exit 1\)/.test(err.message) && !/invalid|usage/i.test(err.message));
});
