// The LED model: a pure function from the peer's status to LED states and pin levels. Gray code on the
// height bar (one LED changes per block, also across the wrap), and the status LEDs' rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { blinkPhaseOn, grayCode, heightBar, type LedInputs, ledsFor, pinLevels } from '../../../src/board/ledModel.js';
import type { LedPins } from '../../../src/board/profile.js';

const PINS: LedPins = { link: 5, sync: 6, leader: 13, error: 19, height: [17, 27, 22, 23] };
const IN_SYNC: LedInputs = { height: 0, link: 'up', sync: 'in-sync', role: 'leader', error: null, rejectedRecently: false };

const bitsDiffering = (a: number, b: number): number => {
  let x = a ^ b;
  let n = 0;
  while (x !== 0) { n += x & 1; x >>>= 1; }
  return n;
};

test('Gray code: known values, and consecutive numbers differ in exactly one bit', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map(grayCode), [0, 1, 3, 2, 6, 7, 5, 4]);
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 30 }), (n) => bitsDiffering(grayCode(n), grayCode(n + 1)) === 1));
});

test('the height bar shows Gray(height) LSB first, and one LED changes per block, also when it wraps', () => {
  assert.deepEqual(heightBar(5, 4), [true, true, true, false], 'Gray(5) = 0b0111');
  assert.deepEqual(heightBar(8, 4), [false, false, true, true], 'Gray(8) = 0b1100');
  fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 0, max: 2 ** 40 }), (leds, h) => {
    const a = heightBar(h, leds);
    const b = heightBar(h + 1, leds);
    assert.equal(a.length, leds);
    assert.equal(a.filter((x, i) => x !== b[i]).length, 1, `height ${h} → ${h + 1} on ${leds} LEDs`);
    if (h < 2 ** leds) assert.deepEqual(a, a.map((_, i) => ((grayCode(h) >>> i) & 1) === 1), 'below the wrap: exactly Gray(h)');
  }));
});

test('status LEDs: link, sync (steady / blinking / off), leader, error (steady / blinking)', () => {
  assert.deepEqual({ ...ledsFor(IN_SYNC, 4), height: [] }, { link: 'on', sync: 'on', leader: 'on', error: 'off', height: [] });
  assert.equal(ledsFor({ ...IN_SYNC, sync: 'syncing' }, 4).sync, 'blink');
  assert.equal(ledsFor({ ...IN_SYNC, sync: 'offline' }, 4).sync, 'off');
  assert.equal(ledsFor({ ...IN_SYNC, link: 'down' }, 4).link, 'off');
  assert.equal(ledsFor({ ...IN_SYNC, link: 'connecting' }, 4).link, 'off');
  assert.equal(ledsFor({ ...IN_SYNC, role: 'follower' }, 4).leader, 'off');
  assert.equal(ledsFor({ ...IN_SYNC, rejectedRecently: true }, 4).error, 'blink');
  assert.equal(ledsFor({ ...IN_SYNC, error: 'commit failed', rejectedRecently: true }, 4).error, 'on', 'a stop outranks a rejection');
});

test('pin levels: blinking LEDs follow the phase, steady ones do not', () => {
  const leds = ledsFor({ ...IN_SYNC, sync: 'syncing', height: 3 }, 4);
  const level = (blinkOn: boolean): Map<number, boolean> => new Map(pinLevels(leds, PINS, blinkOn).map((p) => [p.pin, p.on]));
  const lit = level(true);
  const dark = level(false);
  assert.equal(lit.get(PINS.sync), true);
  assert.equal(dark.get(PINS.sync), false);
  for (const pin of [PINS.link, PINS.leader, PINS.error, ...PINS.height]) assert.equal(lit.get(pin), dark.get(pin), `GPIO${pin} steady`);
  assert.deepEqual(PINS.height.map((p) => lit.get(p)), [false, true, false, false], 'Gray(3) = 0b0010');
  assert.equal(blinkPhaseOn(0, 1000), true);
  assert.equal(blinkPhaseOn(499, 1000), true);
  assert.equal(blinkPhaseOn(500, 1000), false);
  assert.equal(blinkPhaseOn(1000, 1000), true);
});
