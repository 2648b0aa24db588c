// Board profiles: every profile shipped in boards/ loads; what a profile or a board.json gets wrong is a
// clear error naming the file and the field.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { boardProfile } from '../../../src/board/boardLeds.js';
import {
  BoardProfileError, loadProfile, parseProfile, profileNames, profilesDir, withPinOverrides,
} from '../../../src/board/profile.js';
import { readBoardConfig } from '../../../src/network/loadNetwork.js';

const REQUIRED_PROFILES = ['emulated', 'raspberry-pi-4', 'raspberry-pi-5', 'raspberry-pi-zero-2-w'];
const tmp = mkdtempSync(join(tmpdir(), 'edgepeer-profile-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function validProfile(): Record<string, unknown> {
  return {
    name: 'test-board',
    description: 'a board for tests',
    io: { plugin: 'virtual' },
    console: { uart: 'pty', baudRate: 115200, pins: ['GPIO14', 'GPIO15'] },
    leds: { link: 'GPIO5', sync: 'P1-31', leader: 'GPIO13', error: 'GPIO19', height: ['GPIO17', 'P1-13', 'GPIO22'] },
  };
}

function expectProfileError(value: unknown, message: RegExp): void {
  assert.throws(() => parseProfile(value, 'test.json'), (err: unknown) => err instanceof BoardProfileError && message.test(err.message)
    && err.message.startsWith('test.json: '));
}

test('every profile in boards/ loads, and the required board models are there', () => {
  const names = profileNames();
  for (const required of REQUIRED_PROFILES) assert.ok(names.includes(required), `boards/${required}.json missing`);
  for (const name of names) {
    const p = loadProfile(name);
    assert.equal(p.name, name);
    assert.equal(p.pins.height.length, p.leds.height.length);
    const all = [p.pins.link, p.pins.sync, p.pins.leader, p.pins.error, ...p.pins.height];
    assert.equal(new Set(all).size, all.length, `${name}: a pin used twice`);
  }
  assert.equal(loadProfile('emulated').io.plugin, 'virtual');
  for (const pi of REQUIRED_PROFILES.slice(1)) {
    const p = loadProfile(pi);
    assert.equal(p.io.plugin, 'gpiod', `${pi}: a backend that works on every Pi model`);
    assert.ok(p.io.chipLabel !== undefined || p.io.chip !== undefined);
    assert.ok(p.model !== null, `${pi}: names the model it is for`);
  }
});

test('a profile resolves GPIO and P1 names to the same lines', () => {
  const p = parseProfile(validProfile(), 'test.json');
  assert.deepEqual(p.pins, { link: 5, sync: 6, leader: 13, error: 19, height: [17, 27, 22] });
  assert.equal(p.refreshMs, 100, 'the default refresh');
});

test('bad pin names and clashes fail with the file and the field', () => {
  const withLeds = (leds: Record<string, unknown>): Record<string, unknown> => ({ ...validProfile(), leds: { ...(validProfile()['leds'] as object), ...leds } });
  expectProfileError(withLeds({ link: 'GPIO42' }), /leds\.link is wrong: pin 'GPIO42'/);
  expectProfileError(withLeds({ height: ['GPIO17', 'P1-9'] }), /leds\.height\[1\] is wrong: .*P1-9.*ground/);
  expectProfileError(withLeds({ sync: 'P1-29' }), /leds\.sync \('P1-29'\) is GPIO5 \(P1-29\), already used by leds\.link/);
  expectProfileError(withLeds({ error: 'GPIO14' }), /leds\.error .*already used by console\.pins\[0\] \(the console UART\)/);
  expectProfileError(withLeds({ height: [] }), /leds\.height must list 1 to 16 pins/);
  expectProfileError(withLeds({ leader: undefined }), /leds\.leader must be a non-empty string/);
  expectProfileError({ ...validProfile(), io: { plugin: 'wiringpi' } }, /io\.plugin must be one of virtual, gpiod, pi-io/);
  expectProfileError({ ...validProfile(), io: { plugin: 'gpiod' } }, /io must name the GPIO chip/);
  expectProfileError({ ...validProfile(), refreshMs: 5 }, /refreshMs must be a whole number from 20 to 1000/);
});

test('an unknown profile name lists the profiles there are; a profile file can be given by path', () => {
  assert.throws(() => loadProfile('raspberry-pi-9'), /no board profile 'raspberry-pi-9' in .*\(profiles: .*raspberry-pi-5/);
  const file = join(tmp, 'mine.json');
  writeFileSync(file, JSON.stringify(validProfile()));
  assert.equal(loadProfile(file).name, 'test-board');
  writeFileSync(join(tmp, 'broken.json'), '{ "name": ');
  assert.throws(() => loadProfile(join(tmp, 'broken.json')), /broken\.json is not valid JSON/);
  assert.throws(() => loadProfile(join(tmp, 'absent.json')), /absent\.json does not exist/);
  assert.ok(profilesDir().endsWith('/boards/'));
});

test("a board's pin overrides replace the profile's and are checked as a whole", () => {
  const p = parseProfile(validProfile(), 'test.json');
  const o = withPinOverrides(p, { link: 'P1-16', height: ['GPIO24', 'GPIO25'] }, 'board.json');
  assert.equal(o.pins.link, 23);
  assert.deepEqual(o.pins.height, [24, 25]);
  assert.equal(o.pins.sync, 6, 'what is not overridden stays');
  assert.equal(withPinOverrides(p, undefined, 'board.json'), p);
  assert.throws(() => withPinOverrides(p, { leader: 'GPIO5' }, 'board.json'), /board\.json \(pins, over profile test-board\): leds\.leader .*already used by leds\.link/);
  assert.throws(() => boardProfile('emulated', { sync: 'GPIO77' }, 'board.json'), /board\.json .*leds\.sync is wrong: pin 'GPIO77'/);
});

test('board.json may carry pins; unknown LEDs in it are refused', () => {
  const base = { id: 'b1', org: 'org1', channel: 'ch', key: 'key.pem', cert: 'cert.cbor', profile: 'emulated', orderers: ['mqtt://127.0.0.1:1883'] };
  const good = join(tmp, 'board-good.json');
  writeFileSync(good, JSON.stringify({ ...base, pins: { link: 'P1-16', height: ['GPIO24'] } }));
  assert.deepEqual(readBoardConfig(good).pins, { link: 'P1-16', height: ['GPIO24'] });
  const none = join(tmp, 'board-none.json');
  writeFileSync(none, JSON.stringify(base));
  assert.equal(readBoardConfig(none).pins, undefined);
  const bad = join(tmp, 'board-bad.json');
  writeFileSync(bad, JSON.stringify({ ...base, pins: { power: 'GPIO4' } }));
  assert.throws(() => readBoardConfig(bad), /pins\.power must be absent.*the LEDs are link, sync, leader, error, height/);
});

test('gossip multicast: on in the Pi profiles on one documented group, off in the emulated one', () => {
  assert.equal(loadProfile('emulated').gossip.multicast, null, 'emulated fleets share a host: bootstrap lists, no LAN discovery');
  for (const pi of REQUIRED_PROFILES.slice(1)) {
    assert.deepEqual(loadProfile(pi).gossip.multicast, { group: '239.255.71.71', port: 7099 }, pi);
  }
  assert.equal(parseProfile(validProfile(), 'test.json').gossip.multicast, null, 'absent: off');
  const mc = { group: '239.255.9.9', port: 9999, interface: '10.1.2.3' };
  assert.deepEqual(parseProfile({ ...validProfile(), gossip: { multicast: mc } }, 'test.json').gossip.multicast, mc);
  assert.equal(parseProfile({ ...validProfile(), gossip: { multicast: false } }, 'test.json').gossip.multicast, null);
  assert.equal(parseProfile({ ...validProfile(), gossip: {} }, 'test.json').gossip.multicast, null);
});

test('gossip multicast in a profile: a bad group, port, interface or key is refused with the field', () => {
  const withGossip = (gossip: unknown): Record<string, unknown> => ({ ...validProfile(), gossip });
  expectProfileError(withGossip({ multicast: { group: '230.0.0.1', port: 7099 } }), /gossip\.multicast\.group must be an IPv4 multicast group in 239\.0\.0\.0\/8/);
  expectProfileError(withGossip({ multicast: { group: '239.1.1.1', port: 0 } }), /gossip\.multicast\.port must be a whole number from 1 to 65535/);
  expectProfileError(withGossip({ multicast: { group: '239.1.1.1', port: 1, interface: 'eth0' } }), /gossip\.multicast\.interface must be the IPv4 address/);
  expectProfileError(withGossip({ multicast: { group: '239.1.1.1', port: 1, ttl: 2 } }), /gossip\.multicast\.ttl must be absent/);
  expectProfileError(withGossip({ multicast: true }), /gossip\.multicast must be an object/);
  expectProfileError(withGossip({ listen: '0.0.0.0:1' }), /gossip\.listen must be absent: a profile's gossip has only multicast/);
  expectProfileError(withGossip([]), /gossip must be an object/);
});
