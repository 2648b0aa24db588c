// The gpiod backend (libgpiod's tools) against stand-in tools, and against Debian's real ones where they are
// installed (no GPIO chip exists here, so only their refusals can be seen): libgpiod 2 with and without
// --interactive and libgpiod 1, the chip found by label, one gpioset holding every line (for the board's
// life when interactive), changes coalesced and respawns bounded, a killed gpioset restarted, none left
// after close, clear errors at start-up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import {
  GpioBackendError, GpiodIo, type GpiodIoOptions, gpiodBoardIo, gpiosetCommand, gpiosetMode, parseGpiodMajorVersion, parseGpiodetect,
} from '../../../../src/board/io/gpiodIo.js';
import { ledLines } from '../../../../src/board/io/openBoardIo.js';
import { LedDriver } from '../../../../src/board/ledDriver.js';
import { loadProfile } from '../../../../src/board/profile.js';
import type { BackoffPolicy } from '../../../../src/config/backoff.js';
import { seededRandom } from '../../../../src/config/random.js';
import { silentLogger } from '../../../../src/observability/logger.js';
import { type FakeGpiod, fakeGpiod } from '../../../helpers/fakeGpiod.js';
import { ManualClock } from '../../../helpers/fakes.js';
import { recordingLogger } from '../../../helpers/recordingLogger.js';
import { WAIT_TIMEOUT_MS, pollUntil, withTimeout } from '../../../helpers/wait.js';

const pins = loadProfile('raspberry-pi-5').pins;
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
  assert.equal(gpiosetMode(2, '  -h, --help\t\tdisplay this help and exit\n  -i, --interactive\tset the lines then wait'), 'interactive');
  assert.equal(gpiosetMode(2, '  -h, --help\t\tdisplay this help and exit\n  -l, --active-low'), 'respawn');
  assert.equal(gpiosetMode(1, '--interactive'), 'respawn');
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

test('libgpiod 2, interactive: N level changes go to one gpioset as set commands (one in flight, the latest levels win), and it holds the last levels written', async (t) => {
  const f = fake();
  const io = await open(f);
  const pid = io.gpiosetPid;
  const CHANGES = 40;
  for (let i = 1; i <= CHANGES; i++) {
    // One change a turn, as LED refreshes come: each is its own command.
    io.digitalWrite(pins.height[i % pins.height.length]!, i % 3 === 0 ? 0 : 1);
    io.digitalWrite(pins.link, i % 2);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await io.idle();
  assert.equal(io.spawns, 1, 'no gpioset started after the first');
  assert.equal(f.invocations().length, 1);
  assert.equal(io.gpiosetPid, pid);
  const commands = f.commands();
  t.diagnostic(`${CHANGES} changes: ${io.spawns} gpioset, ${commands.length} commands`);
  assert.ok(commands.length >= 1 && commands.length <= CHANGES, `${commands.length} commands for ${CHANGES} changes`);
  assert.ok(commands.every((c) => c.startsWith('set ')));
  for (const l of LINES) assert.equal(f.level(l), io.heldLevels().get(l), `GPIO${l} as last written`);
  // Each change awaited (a slow refresh): one command each, still the one process.
  const before = f.commands().length;
  for (let i = 0; i < pins.height.length; i++) {
    io.digitalWrite(pins.height[i]!, 1 - io.heldLevels().get(pins.height[i]!)!);
    await io.idle();
    assert.equal(f.commands().length, before + i + 1);
    assert.equal(f.level(pins.height[i]!), io.heldLevels().get(pins.height[i]!), 'applied when idle() resolves');
  }
  assert.equal(io.spawns, 1);
  assert.equal(io.gpiosetPid, pid);
});

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

for (const [what, fakeOptions, openOptions] of [
  ['interactive', {}, {}],
  ['libgpiod 1', { version: 'v1.6.3' }, { chip: 'gpiochip0' }],
] as const) {
  test(`${what}: a gpioset killed from outside is reported and restarted with the latest levels, after the backoff`, async () => {
    const f = fake(fakeOptions);
    const { log, records } = recordingLogger('gpiod');
    const io = await open(f, { chipLabel: 'pinctrl-rp1', ...openOptions, log, restartPolicy: FAST_RESTARTS, random: seededRandom(1) });
    const first = io.gpiosetPid!;
    // Restarts that fail too (the line taken meanwhile) wait longer each time, each logged (rate-limited).
    f.failWith('gpioset: unable to request lines: Device or resource busy');
    process.kill(first, 'SIGKILL');
    await pollUntil(() => (io.spawns >= 3 ? true : null), 'two failed restarts', WAIT_TIMEOUT_MS);
    io.digitalWrite(pins.error, 1);
    f.failWith(null);
    const [pid] = (await withTimeout(once(io, 'held'), 'a restarted gpioset holding the lines')) as [number];
    assert.notEqual(pid, first);
    assert.equal(io.gpiosetPid, pid);
    await io.idle();
    await f.settled(io.heldLevels());
    assert.equal(f.level(pins.error), 1, 'the restarted gpioset holds the level written while none ran');
    const warned = records.filter((r) => r['msg'] === 'gpioset holding the LED lines ended unexpectedly (the LEDs may show stale levels): restarting it');
    assert.equal(warned.length, 1, 'one line per interval, however many ends');
    assert.match(String(warned[0]!['err']), /ended \(SIGKILL\)/);
    assert.ok(Number(warned[0]!['restartInMs']) >= FAST_RESTARTS.baseDelayMs);
    assert.deepEqual(f.overlaps(), []);
  });
}

test('interactive: a gpioset that stops answering is reported, killed and replaced by one holding the latest levels', async () => {
  const f = fake();
  const { log, records } = recordingLogger('gpiod');
  const io = await open(f, { chipLabel: 'pinctrl-rp1', log, answerTimeoutMs: ANSWER_TIMEOUT_MS, restartPolicy: FAST_RESTARTS, random: seededRandom(2) });
  const first = io.gpiosetPid!;
  f.hang(true);
  io.digitalWrite(pins.leader, 1);
  const replaced = once(io, 'held');
  await pollUntil(() => (f.commands().length === 1 ? true : null), 'the command read by the gpioset that hangs', WAIT_TIMEOUT_MS);
  f.hang(false);
  const [pid] = (await withTimeout(replaced, 'a gpioset replacing the hung one')) as [number];
  assert.notEqual(pid, first);
  assert.equal(alive(first), false, 'the hung one was killed');
  await io.idle();
  assert.equal(f.level(pins.leader), 1, 'the replacement holds the level the hung one never applied');
  assert.ok(records.some((r) => String(r['msg']).includes(`did not answer 'set `) && String(r['msg']).includes(`within ${ANSWER_TIMEOUT_MS} ms: killing it`)),
    JSON.stringify(records.map((r) => r['msg'])));
  assert.equal(io.spawns, 2);
});

test('close ends the gpioset by its PID and awaits its exit: no child is left', async () => {
  for (const fakeOptions of [{}, { version: 'v1.6.3' }]) {
    const f = fake(fakeOptions);
    const io = await GpiodIo.open({ chip: 'gpiochip0', lines: LINES, tools: f.tools });
    const pid = io.gpiosetPid!;
    assert.ok(alive(pid));
    io.digitalWrite(pins.link, 1);
    await io.close();
    assert.equal(io.gpiosetPid, null);
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
  await assert.rejects(GpiodIo.open({ chip: 'gpiochip0', lines: LINES, tools: { gpioset: '/nonexistent/gpioset', gpiodetect: 'gpiodetect' } }),
    /\/nonexistent\/gpioset not found: install libgpiod's tools \(apt-get install gpiod\)/);
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
