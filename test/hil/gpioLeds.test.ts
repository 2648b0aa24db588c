// Hardware in the loop: the board's LEDs on a real Raspberry Pi. Runs only when EDGEPEER_HIL_BOARD names
// the board's profile (raspberry-pi-5, ...); otherwise every test is skipped with the reason. See README,
// "Hardware-in-the-loop tests": wire an LED and a resistor to each of the profile's pins first.
//
//   EDGEPEER_HIL_BOARD=raspberry-pi-5 npm test -- hil
//
// Env: EDGEPEER_HIL_STEP_MS (how long each pattern stays lit for a person to watch, default 250),
// EDGEPEER_HIL_MODEL_FILE (default /proc/device-tree/model; the suite's own test points it elsewhere).
// Levels are read back with Raspberry Pi's `pinctrl` (or the older `raspi-gpio`), which reads a line
// without taking it from the process that drives it; without either, the LEDs are driven for a person to
// check and only the read-back is skipped.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type BoardIo } from '../../src/board/io/ioPlugin.js';
import { GpiodIo } from '../../src/board/io/gpiodIo.js';
import { openBoardIo } from '../../src/board/io/openBoardIo.js';
import { LedDriver } from '../../src/board/ledDriver.js';
import { heightBar } from '../../src/board/ledModel.js';
import { type BoardProfile, loadProfile } from '../../src/board/profile.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { PeerStatus } from '../../src/peer/peer.js';
import { hilBoard, hilSkipReason } from './hilEnv.js';

const STEP_MS = Number(process.env['EDGEPEER_HIL_STEP_MS'] ?? '250');
const MODEL_FILE = process.env['EDGEPEER_HIL_MODEL_FILE'] ?? '/proc/device-tree/model';
/** A level written must be readable back within this (in respawn mode a gpioset has to start). */
const READBACK_TIMEOUT_MS = 3_000;
const READBACK_POLL_MS = 20;

type Levels = Map<number, number>;

function run(file: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: 'utf8', timeout: 5_000 }, (err, stdout) => resolve(err ? null : stdout));
  });
}

/** Line levels as the SoC sees them, or null when no tool can read them. */
async function readLevels(lines: readonly number[]): Promise<Levels | null> {
  for (const tool of ['pinctrl', 'raspi-gpio']) {
    const out = await run(tool, ['get', lines.join(',')]);
    if (out === null) continue;
    const levels: Levels = new Map();
    for (const m of out.matchAll(/^\s*(?:GPIO\s*)?(\d+):.*?\b(?:(hi|lo)\b|level=([01]))/gm)) {
      levels.set(Number(m[1]), m[2] !== undefined ? (m[2] === 'hi' ? 1 : 0) : Number(m[3]));
    }
    if (lines.every((l) => levels.has(l))) return levels;
  }
  return null;
}

async function expectLevels(want: Levels, what: string): Promise<'checked' | 'unreadable'> {
  const deadline = Date.now() + READBACK_TIMEOUT_MS;
  for (;;) {
    const have = await readLevels([...want.keys()]);
    if (have === null) return 'unreadable';
    const wrong = [...want].filter(([l, v]) => have.get(l) !== v);
    if (wrong.length === 0) return 'checked';
    if (Date.now() > deadline) {
      assert.fail(`${what}: ${wrong.map(([l, v]) => `GPIO${l} is ${have.get(l)}, expected ${v}`).join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, READBACK_POLL_MS));
  }
}

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, STEP_MS));

test('HIL: the profile named in EDGEPEER_HIL_BOARD is for this board model', (t) => {
  const name = hilBoard();
  if (name === null) { t.skip(hilSkipReason); return; }
  const p = loadProfile(name);
  if (p.model === null) { t.skip(`profile ${name} names no board model (an emulated board)`); return; }
  let model: string;
  try {
    model = readFileSync(MODEL_FILE, 'utf8').replace(/\0/g, '').trim();
  } catch (err) {
    assert.fail(`cannot read ${MODEL_FILE} (${(err as Error).message}): is this a Raspberry Pi?`);
  }
  assert.ok(model.startsWith(p.model), `this board is '${model}', profile ${name} is for '${p.model}'`);
});

test('HIL: johnny-five drives every LED of the profile; the lines read back as driven', async (t) => {
  const name = hilBoard();
  if (name === null) { t.skip(hilSkipReason); return; }
  const profile: BoardProfile = loadProfile(name);
  const boardIo: BoardIo = await openBoardIo(profile);
  const idle = async (): Promise<void> => { if (boardIo.io instanceof GpiodIo) await boardIo.io.idle(); };
  type Status = Pick<PeerStatus, 'height' | 'link' | 'sync' | 'role' | 'error' | 'rejected'>;
  const dark: Status = { height: 0, link: 'down', sync: 'offline', role: 'follower', error: null, rejected: 0 };
  let status = dark;
  // A long refresh: this test triggers every refresh itself.
  const driver = await LedDriver.start({ boardIo, pins: profile.pins, source: () => status, refreshMs: 60_000, log: silentLogger() });
  const p = profile.pins;
  const status4 = [p.link, p.sync, p.leader, p.error];
  let readBack = true;
  const show = async (what: string, s: Status, want: Levels): Promise<void> => {
    status = s;
    driver.refresh();
    await idle();
    if ((await expectLevels(want, what)) === 'unreadable') readBack = false;
    await pause();
  };
  try {
    await show('all dark', dark, new Map([...status4, ...p.height].map((l) => [l, 0])));
    // Each status LED alone.
    const alone = (lit: number): Levels => new Map(status4.map((l) => [l, l === lit ? 1 : 0]));
    await show('link LED', { ...dark, link: 'up' }, alone(p.link));
    await show('sync LED', { ...dark, sync: 'in-sync' }, alone(p.sync));
    await show('leader LED', { ...dark, role: 'leader' }, alone(p.leader));
    await show('error LED', { ...dark, error: 'HIL test' }, alone(p.error));
    // The height bar counting in Gray code: every LED of the bar lights at some point.
    const k = p.height.length;
    for (let h = 0; h < Math.min(2 ** k, 2 * k + 2); h++) {
      const bar = heightBar(h, k);
      await show(`height ${h}`, { ...dark, height: h }, new Map(p.height.map((l, i) => [l, bar[i] ? 1 : 0])));
    }
    await show('the bar at its top value', { ...dark, height: 2 ** k - 1 }, new Map(p.height.map((l, i) => [l, heightBar(2 ** k - 1, k)[i] ? 1 : 0])));
  } finally {
    await driver.stop();
  }
  if (!readBack) t.diagnostic('neither pinctrl nor raspi-gpio could read the lines: the LEDs were driven, check them by eye');
  // How this board held the lines (docs/gpio.md): interactive and python start one process for the run.
  if (boardIo.io instanceof GpiodIo) {
    t.diagnostic(`gpiod mode ${boardIo.io.mode}${boardIo.io.pythonBindings !== null ? ` (${boardIo.io.pythonBindings})` : ''}: holder processes started ${boardIo.io.spawns}`);
  }
});
