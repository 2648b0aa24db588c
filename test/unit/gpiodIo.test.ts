// The gpiod backend (libgpiod's tools) against stand-in tools, and against Debian's real ones where they are
// installed (no GPIO chip exists here, so only their refusals can be seen): libgpiod 1 and 2 arguments, the
// chip found by label, one gpioset holding every line, changes coalesced, clear errors at start-up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, test } from 'node:test';
import { GpioBackendError, GpiodIo, parseGpiodMajorVersion, parseGpiodetect } from '../../src/board/io/gpiodIo.js';
import { gpiodBoardIo } from '../../src/board/io/gpiodIo.js';
import { ledLines } from '../../src/board/io/openBoardIo.js';
import { LedDriver } from '../../src/board/ledDriver.js';
import { loadProfile } from '../../src/board/profile.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type FakeGpiod, fakeGpiod } from '../helpers/fakeGpiod.js';
import { ManualClock } from '../helpers/fakes.js';

const pins = loadProfile('raspberry-pi-5').pins;
const LINES = ledLines(pins);
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

async function open(f: FakeGpiod, o: { chip?: string; chipLabel?: string } = { chipLabel: 'pinctrl-rp1' }): Promise<GpiodIo> {
  const io = await GpiodIo.open({ ...o, lines: LINES, tools: f.tools });
  opened.push(io);
  return io;
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
  assert.deepEqual(parseGpiodetect('gpiochip0 [pinctrl-bcm2711] (58 lines)\ngpiochip1 [raspberrypi-exp-gpio] (8 lines)\n'), [
    { chip: 'gpiochip0', label: 'pinctrl-bcm2711' }, { chip: 'gpiochip1', label: 'raspberrypi-exp-gpio' },
  ]);
});

test('libgpiod 2: finds the chip by its label and holds every LED line low in one gpioset', async () => {
  const f = fake();
  const io = await open(f);
  assert.equal(io.chip, 'gpiochip0');
  assert.equal(io.libgpiodMajor, 2);
  const [first] = f.invocations();
  assert.deepEqual(first?.slice(0, 4), ['--consumer', 'edgepeer', '--chip', 'gpiochip0']);
  assert.deepEqual(first?.slice(4), [...LINES].sort((a, b) => a - b).map((l) => `${l}=0`));
  for (const l of LINES) assert.equal(f.level(l), 0);
});

test('libgpiod 1: --mode=signal and the chip as the first argument', async () => {
  const f = fake({ version: 'v1.6.3' });
  const io = await open(f, { chip: 'gpiochip4' });
  assert.equal(io.libgpiodMajor, 1);
  assert.deepEqual(f.invocations()[0]?.slice(0, 2), ['--mode=signal', 'gpiochip4']);
});

test('writes in one turn are one new gpioset; writing the level a line has costs nothing', async () => {
  const f = fake();
  const io = await open(f);
  io.digitalWrite(pins.link, 1);
  io.digitalWrite(pins.sync, 1);
  io.digitalWrite(pins.height[0]!, 1);
  await io.idle();
  assert.equal(io.spawns, 2, 'the start-up one and one for the three changes');
  await f.settled(io.heldLevels());
  assert.equal(f.level(pins.link), 1);
  assert.equal(f.level(pins.sync), 1);
  assert.equal(f.level(pins.height[0]!), 1);
  assert.equal(f.level(pins.leader), 0);
  io.digitalWrite(pins.link, 1);
  await io.idle();
  assert.equal(io.spawns, 2);
  assert.throws(() => io.digitalWrite(4, 1), /GPIO4 was not opened as an LED output/);
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

test('a gpioset that fails later is an error event, and the next change tries again', async () => {
  const f = fake();
  const io = await open(f);
  const errors: Error[] = [];
  io.on('error', (err: Error) => errors.push(err));
  f.failWith('gpioset: line busy');
  io.digitalWrite(pins.link, 1);
  await io.idle();
  while (errors.length === 0) await new Promise((resolve) => setImmediate(resolve));
  assert.match(errors[0]!.message, /line busy/);
  f.failWith(null);
  io.digitalWrite(pins.sync, 1);
  await io.idle();
  await f.settled(io.heldLevels());
  assert.equal(f.level(pins.link), 1, 'the new gpioset holds every level, the failed change included');
  assert.equal(f.level(pins.sync), 1);
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
