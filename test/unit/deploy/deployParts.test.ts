// The pure parts of bundling, deploying and provisioning: inventory parsing, heap policy, targets and
// ELF checks, native-part checks on handmade trees, boot-partition edits, the board scripts' syntax,
// the unit's paths, and the health judgement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { boardLayout } from '../../../src/deploy/boardLayout.js';
import { heapCapMb, boardMemoryMb, peerNodeOptions } from '../../../src/deploy/heapPolicy.js';
import { InventoryError, parseInventoryIni, parseInventoryJson } from '../../../src/deploy/inventory.js';
import { NativePartsError, checkNativeParts } from '../../../src/deploy/nativeParts.js';
import {
  activateScript, healthProbeScript, installReleaseScript, parsePreflight, preflightScript, pruneScript, rollbackScript, rootIs, uploadScript,
} from '../../../src/deploy/remoteScripts.js';
import { runCommand } from '../../../src/deploy/runCommand.js';
import { BUNDLE_TARGETS, elfInfo, targetForMachine } from '../../../src/deploy/targets.js';
import { ledWarnings, nodeIsRecentEnough } from '../../../src/deploy/deployBoard.js';
import { judgeBoardHealth } from '../../../src/observability/boardHealth.js';
import { createMetrics } from '../../../src/observability/metrics.js';
import { parseMetricsText } from '../../../src/observability/metricsText.js';
import { fatOffset } from '../../../src/provision/bootPartition.js';
import { fakeGpiod } from '../../helpers/fakeGpiod.js';
import { uartConfigLines, userconfLine, withConfigBlock, withFirstRun, wpaPsk } from '../../../src/provision/bootConfig.js';

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

test('a JSON inventory: defaults under each board, every field checked', () => {
  const boards = parseInventoryJson(JSON.stringify({
    defaults: { user: 'admin', profile: 'raspberry-pi-4', orderers: ['mqtt://10.0.0.2:1883'] },
    boards: [
      { board: 'org1-board1', host: 'pi-01.local' },
      { board: 'org1-board2', host: '10.0.0.52', port: 2222, profile: 'raspberry-pi-zero-2-w', heapMb: 160, console: '/dev/ttyAMA0@57600' },
    ],
  }), 'fleet.json');
  assert.deepEqual(boards.map((b) => [b.board, b.host, b.user, b.port, b.profile, b.heapMb, b.console, b.metricsPort]), [
    ['org1-board1', 'pi-01.local', 'admin', 22, 'raspberry-pi-4', null, false, 9464],
    ['org1-board2', '10.0.0.52', 'admin', 2222, 'raspberry-pi-zero-2-w', 160, '/dev/ttyAMA0@57600', 9464],
  ]);
  assert.deepEqual(boards[1]!.orderers, ['mqtt://10.0.0.2:1883']);
  const bad: [unknown, RegExp][] = [
    [{ boards: [{ board: 'b1' }] }, /boards\[0\]: host is missing/],
    [{ boards: [{ board: 'b1', host: 'h', colour: 'red' }] }, /unknown setting 'colour'/],
    [{ boards: [{ board: 'b1', host: 'h', port: 70000 }] }, /port must be a whole number from 1 to 65535/],
    [{ boards: [{ board: 'b1', host: 'h', orderers: ['http://x'] }] }, /orderers\[0\] must be an mqtt:\/\/, mqtts:\/\/ or serial: endpoint/],
    [{ boards: [{ board: 'b1', host: 'h', peerArgs: '--x "y"' }] }, /peerArgs must be flags without quotes/],
    [{ boards: [{ board: 'b1', host: 'h' }, { board: 'b1', host: 'h2' }] }, /board b1 is listed twice/],
    [{ boards: [] }, /lists no board/],
    [{ defaults: { host: 'h' }, boards: [{ board: 'b1', host: 'h' }] }, /board and host belong to each board/],
  ];
  for (const [value, message] of bad) assert.throws(() => parseInventoryJson(JSON.stringify(value), 'fleet.json'), (e: Error) => e instanceof InventoryError && message.test(e.message));
  assert.throws(() => parseInventoryJson('{', 'fleet.json'), /fleet\.json: not valid JSON/);
});

test('an INI inventory: sections are board ids, [defaults] applies to all, errors name the line', () => {
  const boards = parseInventoryIni([
    '# the lab shelf', '[defaults]', 'user = pi', 'orderers = mqtt://10.0.0.2:1883, mqtt://10.0.0.3:1883', '',
    '[org1-board1]', 'host = pi-01.local', 'console = true', '; second', '[org1-board2]', 'host = pi-02.local', 'metricsPort = 9500',
  ].join('\n'), 'fleet.ini');
  assert.deepEqual(boards.map((b) => [b.board, b.host, b.user, b.console, b.metricsPort]), [
    ['org1-board1', 'pi-01.local', 'pi', true, 9464],
    ['org1-board2', 'pi-02.local', 'pi', false, 9500],
  ]);
  assert.deepEqual(boards[0]!.orderers, ['mqtt://10.0.0.2:1883', 'mqtt://10.0.0.3:1883']);
  assert.throws(() => parseInventoryIni('host = x\n', 'f.ini'), /f\.ini:1: 'host' comes before any \[section\]/);
  assert.throws(() => parseInventoryIni('[b1]\nhost x\n', 'f.ini'), /f\.ini:2: expected \[board-id\] or key = value/);
  assert.throws(() => parseInventoryIni('[b1]\nhost = h\nport = many\n', 'f.ini'), /f\.ini:1 \[b1\]: port must be a whole number/);
});

test('the heap cap: 3/8 of the RAM in steps of 32 MB, between 96 MB and 1 GB', () => {
  assert.equal(heapCapMb(boardMemoryMb('raspberry-pi-zero-2-w', null)), 192);
  assert.equal(heapCapMb(boardMemoryMb('raspberry-pi-4', null)), 384);
  assert.equal(heapCapMb(boardMemoryMb('raspberry-pi-5', null)), 768);
  assert.equal(heapCapMb(boardMemoryMb('raspberry-pi-5', 8192)), 1024);
  assert.equal(heapCapMb(128), 96);
  // Boards up to 1 GiB run with a 2 MiB young generation; larger ones with V8's default.
  assert.equal(peerNodeOptions(192, boardMemoryMb('raspberry-pi-zero-2-w', null)), '--max-old-space-size=192 --max-semi-space-size=2');
  assert.equal(peerNodeOptions(384, boardMemoryMb('raspberry-pi-4', null)), '--max-old-space-size=384 --max-semi-space-size=2');
  assert.equal(peerNodeOptions(768, boardMemoryMb('raspberry-pi-5', null)), '--max-old-space-size=768');
  assert.equal(boardMemoryMb('some-other-board', null), 512);
});

test('targets: by Debian architecture first (a 64-bit kernel may run a 32-bit userland), then uname', () => {
  assert.equal(targetForMachine('armhf', 'aarch64')?.name, 'linux-armv7');
  assert.equal(targetForMachine('arm64', 'aarch64')?.name, 'linux-arm64');
  assert.equal(targetForMachine('', 'aarch64')?.name, 'linux-arm64');
  assert.equal(targetForMachine('amd64', 'x86_64')?.name, 'linux-x64');
  assert.equal(targetForMachine('riscv64', 'riscv64'), null);
});

/** The first 20 bytes of an ELF file of this class and machine. */
function elfHeader(cls: 1 | 2, machine: number): Buffer {
  const b = Buffer.alloc(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, cls, 1, 1], 0);
  b.writeUInt16LE(machine, 18);
  return b;
}

test('native parts: a bundle tree with the right binaries passes; a missing or foreign one fails loudly', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'edgepeer-natives-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const arm64 = BUNDLE_TARGETS['linux-arm64'];
  const put = (rel: string, bytes: Buffer): void => {
    mkdirSync(join(root, 'node_modules', rel, '..'), { recursive: true });
    writeFileSync(join(root, 'node_modules', rel), bytes);
  };
  assert.deepEqual(elfInfo(elfHeader(2, 183)), { elfClass: 64, machine: 183 });
  assert.equal(elfInfo(Buffer.from('#!/bin/sh\n echo not an elf file')), null);

  put('@lmdb/lmdb-linux-arm64/node.napi.glibc.node', elfHeader(2, 183));
  assert.throws(() => checkNativeParts(root, arm64), (e: Error) => e instanceof NativePartsError
    && /serialport \(@serialport\/bindings-cpp\): no prebuilt binary for linux-arm64 \(expected a file matching armv8\\\.glibc\\\.node\$ in node_modules\/@serialport\/bindings-cpp\/prebuilds\/linux-arm64\)/.test(e.message)
    && !/lmdb:/.test(e.message));

  // Named for arm64 but built for x86-64: the header decides.
  put('@serialport/bindings-cpp/prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node', elfHeader(2, 62));
  assert.throws(() => checkNativeParts(root, arm64), /@serialport\+bindings-cpp\.armv8\.glibc\.node not built for linux-arm64/);

  put('@serialport/bindings-cpp/prebuilds/linux-arm64/@serialport+bindings-cpp.armv8.glibc.node', elfHeader(2, 183));
  put('@serialport/bindings-cpp/binding.gyp', Buffer.from('{}'));
  put('old-native/binding.gyp', Buffer.from('{}'));
  const ok = checkNativeParts(root, arm64);
  assert.deepEqual(ok.parts.filter((p) => p.required).map((p) => p.file !== null), [true, true]);
  assert.deepEqual(ok.parts.filter((p) => !p.required).map((p) => p.file), [null, null], 'the optional accelerators are reported missing');
  assert.deepEqual(ok.uncompiled, ['node_modules/old-native'], 'C sources without a binary are listed');
  // The same tree is not an armv7 bundle.
  assert.throws(() => checkNativeParts(root, BUNDLE_TARGETS['linux-armv7']), /lmdb: no prebuilt binary for linux-armv7/);
});

test('config.txt: the UART lines in one edgepeer block, replaced on a second run; Pi 5 also enables UART0', () => {
  const original = 'dtparam=audio=on\n[cm4]\notg_mode=1\n';
  const once = withConfigBlock(original, uartConfigLines('raspberry-pi-4'));
  assert.ok(once.startsWith(original));
  assert.match(once, /\n\[all\]\nenable_uart=1\n# edgepeer: end\n$/);
  assert.equal(withConfigBlock(once, uartConfigLines('raspberry-pi-4')), once);
  const pi5 = withConfigBlock(once, uartConfigLines('raspberry-pi-5'));
  assert.equal(pi5.match(/enable_uart=1/g)?.length, 1);
  assert.match(pi5, /enable_uart=1\ndtparam=uart0=on\n# edgepeer: end/);
});

test('cmdline.txt: one line, the serial console off unless kept, one first-boot hook', () => {
  const line = 'console=serial0,115200 console=tty1 root=PARTUUID=1-02 rootwait\n';
  const hooked = withFirstRun(line, { firstRunPath: '/boot/firmware/firstrun.sh', keepSerialConsole: false });
  assert.equal(hooked, 'console=tty1 root=PARTUUID=1-02 rootwait systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n');
  assert.equal(withFirstRun(hooked, { firstRunPath: '/boot/firmware/firstrun.sh', keepSerialConsole: false }), hooked);
  assert.match(withFirstRun(line, { firstRunPath: '/boot/firstrun.sh', keepSerialConsole: true }), /^console=serial0,115200 console=tty1 .* systemd\.run=\/boot\/firstrun\.sh /);
  assert.throws(() => withFirstRun('\n', { firstRunPath: '/x', keepSerialConsole: false }), /cmdline\.txt is empty/);
});

test('userconf.txt and the Wi-Fi key', () => {
  assert.equal(userconfLine('admin', '$6$abc$def'), 'admin:$6$abc$def\n');
  assert.throws(() => userconfLine('Admin User', '$6$abc$def'), /not a valid Linux user name/);
  assert.throws(() => userconfLine('admin', 'plaintext'), /crypt\(3\) hash/);
  // IEEE 802.11i-2004, H.4.3 test vector (what wpa_passphrase prints).
  assert.equal(wpaPsk('IEEE', 'password'), 'f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e');
  assert.throws(() => wpaPsk('x', 'short'), /8 to 63 characters/);
});

test('image offsets: a bare FAT file system at 0, an MBR card image at its FAT partition, GPT refused', () => {
  const fat = Buffer.alloc(512);
  fat.write('FAT32   ', 0x52, 'latin1');
  fat[510] = 0x55;
  fat[511] = 0xaa;
  assert.equal(fatOffset(fat, 'boot.img'), 0);
  const mbr = Buffer.alloc(512);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  mbr[446 + 16 + 4] = 0x83;
  mbr.writeUInt32LE(4096, 446 + 16 + 8);
  mbr[446 + 4] = 0x0c;
  mbr.writeUInt32LE(8192, 446 + 8);
  assert.equal(fatOffset(mbr, 'card.img'), 8192 * 512);
  mbr[446 + 4] = 0xee;
  assert.throws(() => fatOffset(mbr, 'card.img'), /GPT partition tables are not supported/);
  assert.throws(() => fatOffset(Buffer.alloc(512), 'zero.img'), /no boot signature/);
});

test('every board script is valid POSIX sh (sh -n)', async () => {
  const files = { release: '20250101T000000.000Z-1.0.0-linux-arm64', bundleFile: 'b.tar.gz', overlayFile: 'o.tar.gz', keyFile: 'network/orgs/org1/boards/b1/key.pem' };
  const scripts = {
    preflight: preflightScript(''), upload: uploadScript('', 'b.tar.gz'), install: installReleaseScript(rootIs(''), files),
    activate: activateScript(rootIs('/tmp/x y'), files.release, true), health: healthProbeScript('', 9464, '0', false),
    rollback: rollbackScript('', files.release), prune: pruneScript('', 3),
  };
  for (const [name, script] of Object.entries(scripts)) {
    const r = await runCommand('sh', ['-n'], { input: script });
    assert.equal(r.code, 0, `${name}: ${r.stderr}\n${script}`);
  }
  assert.match(scripts.health, /health --metrics-port 9464 --no-require-link$/);
});

test('the unit names the paths deploy installs to, and is a notify service with a watchdog', () => {
  const unit = readFileSync(join(REPO_ROOT, 'packaging/systemd/edgepeer.service'), 'utf8');
  const setting = (key: string): string[] => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!);
  assert.deepEqual(setting('Type'), ['notify']);
  assert.deepEqual(setting('NotifyAccess'), ['all'], 'systemd-notify is a child process');
  assert.match(setting('WatchdogSec')[0] ?? '', /^[0-9]+s$/);
  assert.deepEqual(setting('Restart'), ['on-failure']);
  assert.deepEqual(setting('User'), [boardLayout.serviceUser]);
  assert.deepEqual(setting('SupplementaryGroups'), [boardLayout.serviceGroups.join(' ')]);
  assert.deepEqual(setting('StateDirectory'), [boardLayout.stateDir.replace('/var/lib/', '')]);
  assert.deepEqual(setting('ProtectSystem'), ['strict']);
  assert.deepEqual(setting('EnvironmentFile'), [`${boardLayout.current}/${boardLayout.boardEnv}`]);
  const exec = setting('ExecStart')[0] ?? '';
  assert.ok(exec.startsWith(`${boardLayout.current}/bin/edgepeer peer --network ${boardLayout.current}/${boardLayout.networkDir} `), exec);
  assert.match(exec, new RegExp(`--data ${boardLayout.stateDir} `));
  assert.ok(setting('Environment').some((e) => /^"NODE_OPTIONS=--max-old-space-size=\d+ --max-semi-space-size=\d+"$/.test(e)),
    'a heap cap and a small young generation by default');
});

test('health: ledger open and, unless allowed otherwise, an orderer link up', () => {
  const samples = parseMetricsText([
    '# HELP edgepeer_ledger_height Blocks', '# TYPE edgepeer_ledger_height gauge', 'edgepeer_ledger_height{channel="ch"} 42',
    'edgepeer_orderer_link_up{endpoint="mqtt://a:1883"} 0', 'edgepeer_orderer_link_up{endpoint="serial:/dev/ttyUSB0@115200"} 1',
  ].join('\n'));
  assert.deepEqual(samples[1], { name: 'edgepeer_orderer_link_up', labels: { endpoint: 'mqtt://a:1883' }, value: 0 });
  assert.deepEqual(judgeBoardHealth(samples, { requireLink: true }), { healthy: true, reason: null, height: 42, linksUp: 1, links: 2 });
  const down = samples.map((s) => (s.name === 'edgepeer_orderer_link_up' ? { ...s, value: 0 } : s));
  const h = judgeBoardHealth(down, { requireLink: true });
  assert.equal(h.healthy, false);
  assert.match(h.reason!, /no orderer link is up \(endpoints: mqtt:\/\/a:1883, serial:\/dev\/ttyUSB0@115200\)/);
  assert.equal(judgeBoardHealth(down, { requireLink: false }).healthy, true);
  assert.match(judgeBoardHealth([], { requireLink: false }).reason!, /no edgepeer_\* metrics: this port does not serve an edgepeer peer's/);
  const noLedger = samples.filter((s) => s.name !== 'edgepeer_ledger_height');
  assert.match(judgeBoardHealth(noLedger, { requireLink: false }).reason!, /no ledger height/);
  const notAfterS = 1_900_000_000;
  const withCert = [...samples, { name: 'edgepeer_certificate_not_after_seconds', labels: { id: 'org1-board1' }, value: notAfterS }];
  assert.equal(judgeBoardHealth(withCert, { requireLink: true, nowMs: notAfterS * 1000 - 1 }).healthy, true, 'valid until its notAfter');
  assert.match(judgeBoardHealth(withCert, { requireLink: true, nowMs: notAfterS * 1000 + 1 }).reason!, /certificate org1-board1 expired at 2030-03-17T17:46:40.000Z: the network refuses it/);
});

test("health pointed at an orderer's metrics says so (it used to report 'no orderer link is up')", async () => {
  const m = createMetrics('orderer');
  m.ledgerHeight.set({ channel: 'ch1' }, 42);
  const h = judgeBoardHealth(parseMetricsText(await m.registry.metrics()), { requireLink: true });
  assert.equal(h.healthy, false);
  assert.match(h.reason!, /these are an orderer's metrics \(edgepeer_deliver_streams_open\), not a board peer's/);
});

test('deploy preflight: a board Node older than 20.15 (no zlib.crc32) is refused, 20.15 and later pass', () => {
  for (const v of ['v18.19.0', 'v20.0.0', 'v20.14.9', '', 'node', '20']) assert.equal(nodeIsRecentEnough(v), false, v);
  for (const v of ['v20.15.0', 'v20.20.2', 'v22.11.0', 'v24.0.1', '22.3.0']) assert.equal(nodeIsRecentEnough(v), true, v);
});

test("preflight finds libgpiod's Python bindings (v1 or v2, not another module named gpiod), and deploy warns without them", async () => {
  for (const [python, found] of [['v1', true], ['v2', true], ['none', false], ['foreign', false]] as const) {
    const f = fakeGpiod({ python });
    try {
      const r = await runCommand('sh', ['-c', preflightScript('')], { env: { ...process.env, PATH: `${f.binDir}:${process.env['PATH'] ?? ''}` } });
      assert.equal(r.code, 0, r.stderr);
      const p = parsePreflight(r.stdout);
      assert.equal(p.gpiodPython, found, python);
      assert.equal(p.gpioset, true, 'the stand-in gpioset is first on PATH');
    } finally {
      f.remove();
    }
  }
  assert.deepEqual(ledWarnings({ gpioset: true, gpiodPython: true }, 'raspberry-pi-4'), []);
  assert.match(ledWarnings({ gpioset: true, gpiodPython: false }, 'raspberry-pi-4').join(), /python3-libgpiod\) are not installed: on libgpiod 1 and Debian's libgpiod 2 the LEDs cost a gpioset start per change/);
  assert.match(ledWarnings({ gpioset: false, gpiodPython: true }, 'raspberry-pi-5').join(), /^gpioset \(Debian package gpiod\) is not installed: the LEDs will stay dark$/);
  assert.deepEqual(ledWarnings({ gpioset: false, gpiodPython: false }, 'emulated'), []);
});
