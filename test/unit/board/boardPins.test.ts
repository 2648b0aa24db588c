// Pin names of the 40-pin header: GPIO<n> and P1-<n> name the same BCM line; anything else is refused
// with a message that says what was wrong and how pins are written.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PinNameError, describePin, headerPinOf, resolvePin } from '../../../src/board/pins.js';

/** The Raspberry Pi header (pinout.xyz): physical pin → BCM line, for every GPIO pin. */
const HEADER: [number, number][] = [
  [3, 2], [5, 3], [7, 4], [8, 14], [10, 15], [11, 17], [12, 18], [13, 27], [15, 22], [16, 23], [18, 24], [19, 10],
  [21, 9], [22, 25], [23, 11], [24, 8], [26, 7], [27, 0], [28, 1], [29, 5], [31, 6], [32, 12], [33, 13], [35, 19],
  [36, 16], [37, 26], [38, 20], [40, 21],
];

test('GPIO17 and P1-11 resolve to the same BCM line', () => {
  assert.equal(resolvePin('GPIO17'), 17);
  assert.equal(resolvePin('P1-11'), 17);
  assert.equal(resolvePin('gpio17'), 17, 'case does not matter');
  assert.equal(resolvePin(' p1-11 '), 17, 'surrounding spaces do not matter');
});

test('every GPIO pin of the header resolves the same by both names', () => {
  for (const [physical, bcm] of HEADER) {
    assert.equal(resolvePin(`P1-${physical}`), bcm, `P1-${physical}`);
    assert.equal(resolvePin(`GPIO${bcm}`), bcm, `GPIO${bcm}`);
    assert.equal(headerPinOf(bcm), physical);
    assert.equal(describePin(bcm), `GPIO${bcm} (P1-${physical})`);
  }
  assert.equal(new Set(HEADER.map(([, b]) => b)).size, 28, 'the header carries GPIO0..GPIO27 once each');
});

test('bad pin names fail with a message that names the pin and the forms', () => {
  const cases: [string, RegExp][] = [
    ['GPIO28', /GPIO28.*GPIO0\.\.GPIO27/],
    ['GPIO99', /GPIO99/],
    ['P1-6', /P1-6.*ground/],
    ['P1-1', /3\.3 V power/],
    ['P1-2', /5 V power/],
    ['P1-41', /pins 1\.\.40/],
    ['P1-0', /pins 1\.\.40/],
    ['pin17', /'pin17' is not a pin name: write GPIO<n>/],
    ['17', /'17' is not a pin name/],
    ['', /is not a pin name/],
    ['BCM17', /not a pin name/],
  ];
  for (const [name, message] of cases) {
    assert.throws(() => resolvePin(name), (err: unknown) => err instanceof PinNameError && message.test(err.message), name);
  }
});
