// The terminal module: widths in display columns (escape sequences none, a code point one), and one
// colour rule. The demo view's LED glyphs (●/○) and coloured cells line up by it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineText } from '../../../src/fleet/liveView.js';
import { ansiPaint, colourWanted, displayWidth, fit, padToWidth } from '../../../src/observability/terminal.js';

test('display width: escape sequences take no column, a code point one (surrogate pairs too)', () => {
  assert.equal(displayWidth('●○●○ ●●○○'), 9);
  assert.equal(displayWidth(ansiPaint('leader', 'cyan')), 6);
  assert.equal(displayWidth('a\u{1F600}b'), 3, 'one column per code point, not per UTF-16 unit');
  assert.equal(padToWidth(ansiPaint('up', 'green'), 5).endsWith('   '), true, 'padding counts what shows');
  assert.equal(fit('●●●●●●', 4), '●●●…');
});

test("the live view cuts a coloured line by what shows, not by its escape codes' length", () => {
  const line = lineText([['●●○○', 'green'], [' height 1042', 'bold']], 8, true);
  assert.equal(displayWidth(line), 8);
  assert.ok(line.includes('\x1b['), 'coloured');
  assert.equal(lineText([['●●○○', 'green'], [' height 1042', 'bold']], 8, false), '●●○○ hei');
});

test('colour: on a terminal unless NO_COLOR is set to something', () => {
  assert.equal(colourWanted(true, {}), true);
  assert.equal(colourWanted(true, { NO_COLOR: '1' }), false);
  assert.equal(colourWanted(true, { NO_COLOR: '' }), true);
  assert.equal(colourWanted(false, {}), false);
});
