// The board commands as a user runs them: `edgepeer boards` and `boards check`, a peer that refuses to start
// on a bad profile or pin, and a running peer whose status line carries its LEDs (height bar = Gray(height)).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import type { ProfileErrorJson, ProfileJson } from '../../src/cli/commands/boards.js';
import type { StatusReport } from '../../src/observability/statusReport.js';
import { TestRig, freePort, initNetwork, runCli, runCliJson, spawnCli } from '../helpers/processes.js';

const BOARDS_DIR = fileURLToPath(new URL('../../../boards/', import.meta.url));
/** Heartbeats this often: an idle board proves it is in sync quickly. */
const HEARTBEAT_MS = 200;
const STATUS_INTERVAL_MS = 100;
const TX_COUNT = 30;
/** Gray(h mod 2^k) LSB first, written out here rather than taken from the code under test. */
const grayBar = (h: number, k: number): boolean[] => {
  const m = h % 2 ** k;
  return Array.from({ length: k }, (_, i) => (((m ^ (m >> 1)) >> i) & 1) === 1);
};

test('`edgepeer boards --json` lists every profile, valid; `boards check` shows what each pin resolves to', async () => {
  const list = await runCliJson<{ dir: string; profiles: (ProfileJson | ProfileErrorJson)[] }>(['boards', '--json']);
  const names = list.profiles.map((p) => (p.ok ? p.name : `invalid ${p.source}`));
  for (const n of ['emulated', 'raspberry-pi-4', 'raspberry-pi-5', 'raspberry-pi-zero-2-w']) assert.ok(names.includes(n), n);
  assert.ok(list.profiles.every((p) => p.ok), JSON.stringify(list.profiles.filter((p) => !p.ok)));

  const pi4 = await runCliJson<ProfileJson>(['boards', 'check', join(BOARDS_DIR, 'raspberry-pi-4.json'), '--json']);
  assert.deepEqual(pi4.leds.height[0], { name: 'GPIO17', bcm: 17, header: 11 });
  assert.equal(pi4.io.plugin, 'gpiod');
  const text = await runCli(['boards', 'check', join(BOARDS_DIR, 'raspberry-pi-5.json')]);
  assert.ok(text.some((l) => /height\[0\]\s+GPIO17\s+→ GPIO17 \(P1-11\)/.test(l)), text.join('\n'));
});

test('`boards check` on a bad profile exits 1 and says which field is wrong', async () => {
  const rig = new TestRig();
  try {
    const file = join(rig.tempDir(), 'bad.json');
    const profile = JSON.parse(readFileSync(join(BOARDS_DIR, 'emulated.json'), 'utf8')) as { leds: { height: string[] } };
    profile.leds.height[2] = 'P1-14';
    writeFileSync(file, JSON.stringify(profile));
    const p = spawnCli(['boards', 'check', file]);
    const e = await p.exited;
    assert.equal(e.code, 1);
    assert.match(p.stderr, /bad\.json: leds\.height\[2\] is wrong: pin 'P1-14': header pin 14 is ground/);
  } finally {
    await rig.close();
  }
});

test('a peer with an unknown profile, or a bad pin in its board.json, stops at start-up with the reason', async () => {
  const rig = new TestRig();
  try {
    const root = rig.tempDir();
    const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1 });
    const board = net.boards[0]!;
    const base = ['peer', '--network', net.dir, '--board', board.id, '--data', join(root, 'data'), '--mqtt', 'mqtt://127.0.0.1:1'];
    const unknown = spawnCli([...base, '--profile', 'raspberry-pi-9']);
    assert.equal((await unknown.exited).code, 1);
    assert.match(unknown.stderr, /no board profile 'raspberry-pi-9' in .*profiles: emulated, raspberry-pi-4/);

    const config = JSON.parse(readFileSync(board.config, 'utf8')) as Record<string, unknown>;
    writeFileSync(board.config, JSON.stringify({ ...config, pins: { leader: 'GPIO5' } }));
    const clash = spawnCli(base);
    assert.equal((await clash.exited).code, 1);
    assert.match(clash.stderr, /board\.json \(pins, over profile emulated\): leds\.leader \('GPIO5'\) is GPIO5 \(P1-29\), already used by leds\.link/);
    assert.equal(clash.lines.length, 0, 'nothing started');
  } finally {
    await rig.close();
  }
});

test("a running peer's status carries its LEDs: link, in sync, leader, and Gray(height) on the bar", async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const root = rig.tempDir();
  const net = await initNetwork(join(root, 'network'), { boardsPerOrg: 1, batchTimeoutMs: 20 });
  const port = await freePort();
  await rig.orderer(['--network', net.dir, '--data', join(root, 'orderer'), '--mqtt-port', String(port), '--heartbeat-ms', String(HEARTBEAT_MS)]);
  const url = `mqtt://127.0.0.1:${port}`;
  const board = net.boards[0]!;
  const peer = rig.spawn(['peer', '--network', net.dir, '--board', board.id, '--data', join(root, 'data'), '--mqtt', url,
    '--status-json', '--status-interval-ms', String(STATUS_INTERVAL_MS)], { name: 'peer' });
  const report = (line: string): StatusReport | null => (line.startsWith('{') ? JSON.parse(line) as StatusReport : null);
  await peer.waitForLine((l) => report(l)?.leds?.link === 'on', 'link LED on');
  await runCli(['submit', '--network', net.dir, '--mqtt', url, '--count', String(TX_COUNT), '--size', '64']);
  const line = await peer.waitForLine((l) => {
    const r = report(l);
    return r !== null && r.height > 1 && r.leds !== null && r.leds.sync === 'on'
      && JSON.stringify(r.leds.height) === JSON.stringify(grayBar(r.height, r.leds.height.length));
  }, 'in sync, with the height bar showing Gray(height)');
  const r = report(line)!;
  assert.equal(r.sync, 'in-sync');
  assert.equal(r.role, 'leader');
  assert.deepEqual({ ...r.leds!, height: [] }, { link: 'on', sync: 'on', leader: 'on', error: 'off', height: [] });
  assert.equal(r.leds!.height.length, 8, "the emulated profile's bar");
  await peer.stop();
});
