// `npm run provision-sd` on an SD-card image made here (MBR + FAT boot partition with a Bookworm-like
// config.txt and cmdline.txt), read back with mtools, never mounted; then the card's first boot: its
// firstrun.sh run against a fake board root (test/helpers/fakePi.ts) installs the release and the unit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync, openSync, writeSync, closeSync, ftruncateSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../../src/deploy/runCommand.js';
import { targetForMachine } from '../../src/deploy/targets.js';
import { wpaPsk } from '../../src/provision/bootConfig.js';
import { REPO_ROOT } from '../helpers/bundles.js';
import { fakeBundle, fakePiFarm } from '../helpers/fakePi.js';
import { TestRig, initNetwork } from '../helpers/processes.js';

const PROVISION_JS = join(REPO_ROOT, 'dist', 'scripts', 'provision-sd.js');
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
const PARTITION_START_SECTOR = 2048;
const PARTITION_KIB = 60 * 1024;
const IMAGE_BYTES = (PARTITION_START_SECTOR * 512) + (PARTITION_KIB * 1024);

/** What a Raspberry Pi OS Bookworm image's boot partition has in these two files. */
const BOOKWORM_CONFIG = '# For more options and information see\n# http://rptl.io/configtxt\ndtparam=audio=on\ncamera_auto_detect=1\n\n[cm4]\notg_mode=1\n\n[all]\n';
const BOOKWORM_CMDLINE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n';

async function missingTool(): Promise<string | null> {
  for (const tool of ['mkfs.vfat', 'mcopy', 'mdir', 'openssl']) {
    const r = await runCommand('sh', ['-c', `command -v ${tool}`]);
    if (r.code !== 0) return `${tool} is not installed (apt-get install mtools dosfstools openssl)`;
  }
  return null;
}

async function ok(p: Promise<CommandResult>, what: string): Promise<CommandResult> {
  const r = await p;
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** A whole-card image: an MBR with one FAT32 (LBA) partition at 1 MiB, formatted, with the two files. */
async function makeCardImage(dir: string): Promise<string> {
  const image = join(dir, 'card.img');
  const fd = openSync(image, 'w');
  try {
    ftruncateSync(fd, IMAGE_BYTES);
    const mbr = Buffer.alloc(512);
    mbr[446 + 4] = 0x0c;
    mbr.writeUInt32LE(PARTITION_START_SECTOR, 446 + 8);
    mbr.writeUInt32LE(PARTITION_KIB * 2, 446 + 12);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    writeSync(fd, mbr, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  await ok(runCommand('mkfs.vfat', ['-n', 'bootfs', `--offset=${PARTITION_START_SECTOR}`, image, String(PARTITION_KIB)]), 'mkfs.vfat');
  for (const [name, text] of [['config.txt', BOOKWORM_CONFIG], ['cmdline.txt', BOOKWORM_CMDLINE]] as const) {
    writeFileSync(join(dir, name), text);
    await ok(runCommand('mcopy', ['-i', `${image}@@${PARTITION_START_SECTOR * 512}`, join(dir, name), `::/${name}`], { env: MTOOLS_ENV }), `mcopy ${name}`);
  }
  return image;
}

async function fromImage(image: string, name: string): Promise<string | null> {
  const r = await runCommand('mtype', ['-i', `${image}@@${PARTITION_START_SECTOR * 512}`, `::/${name}`], { env: MTOOLS_ENV });
  return r.code === 0 ? r.stdout : null;
}

async function hostTarget(): Promise<string> {
  const arch = (await runCommand('dpkg', ['--print-architecture'])).stdout.trim();
  return targetForMachine(arch, (await runCommand('uname', ['-m'])).stdout.trim())!.name;
}

test('provision-sd prepares the boot partition inside a card image without mounting it, idempotently', async (t) => {
  const missing = await missingTool();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-sd-');
    const image = await makeCardImage(dir);
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 2 });
    const bundle = await fakeBundle(dir, '1.0.0', await hostTarget(), 'good');
    writeFileSync(join(dir, 'password.txt'), 'correct horse battery staple\n');
    writeFileSync(join(dir, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests admin@laptop\n');
    writeFileSync(join(dir, 'wifi.txt'), 'wifi passphrase\n');
    const args = [
      PROVISION_JS, '--image', image, '--hostname', 'pi-07', '--user', 'admin', '--password-file', join(dir, 'password.txt'),
      '--ssh-key', join(dir, 'id.pub'), '--wifi-ssid', 'Field Lab', '--wifi-password-file', join(dir, 'wifi.txt'), '--wifi-country', 'DE',
      '--bundle', bundle, '--network', net, '--board', 'org1-board2', '--profile', 'raspberry-pi-5',
      '--orderer', 'mqtt://10.0.0.2:1883', '--console',
    ];
    await ok(runCommand(process.execPath, args), 'provision-sd');
    // Twice: a card provisioned again gets the same files, not doubled lines.
    const second = await ok(runCommand(process.execPath, args), 'provision-sd again');
    assert.match(second.stdout, /partition at byte 1048576/);

    assert.equal(await fromImage(image, 'ssh'), '', 'an empty ssh file turns sshd on');
    const userconf = (await fromImage(image, 'userconf.txt'))!;
    const m = /^admin:(\$6\$([^$]+)\$\S+)\n$/.exec(userconf);
    assert.ok(m, `userconf.txt is user:sha512-crypt: ${userconf}`);
    const again = await ok(runCommand('openssl', ['passwd', '-6', '-salt', m[2]!, '-stdin'], { input: 'correct horse battery staple\n' }), 'openssl');
    assert.equal(again.stdout.trim(), m[1], 'the hash is of the password in the file');

    const config = (await fromImage(image, 'config.txt'))!;
    assert.ok(config.startsWith(BOOKWORM_CONFIG), 'the image\'s own settings stay');
    assert.equal(config.match(/^enable_uart=1$/gm)?.length, 1);
    assert.equal(config.match(/^dtparam=uart0=on$/gm)?.length, 1, 'a Pi 5 needs UART0 for GPIO 14/15');
    assert.match(config, /# edgepeer: begin[^\n]*\n\[all\]\nenable_uart=1\ndtparam=uart0=on\n# edgepeer: end\n$/);

    const cmdline = (await fromImage(image, 'cmdline.txt'))!;
    assert.equal(cmdline.split('\n').length, 2, 'cmdline.txt stays one line');
    assert.doesNotMatch(cmdline, /console=serial0/, "Linux's console leaves the UART to edgepeer");
    assert.match(cmdline, /^console=tty1 root=PARTUUID=4e639091-02 .* init=\/usr\/lib\/raspberrypi-sys-mods\/firstboot systemd\.run=\/boot\/firmware\/firstrun\.sh systemd\.run_success_action=reboot systemd\.unit=kernel-command-line\.target\n$/);
    assert.equal(cmdline.match(/systemd\.run=/g)?.length, 1);

    const firstrun = (await fromImage(image, 'firstrun.sh'))!;
    assert.match(firstrun, /set_hostname pi-07/);
    assert.ok(firstrun.includes(`set_wlan 'Field Lab' ${wpaPsk('Field Lab', 'wifi passphrase')} DE`), 'Wi-Fi by its WPA key');
    assert.doesNotMatch(firstrun, /wifi passphrase/, 'the passphrase itself is not on the card');
    const listing = await ok(runCommand('mdir', ['-b', '-i', `${image}@@${PARTITION_START_SECTOR * 512}`, '::/edgepeer'], { env: MTOOLS_ENV }), 'mdir');
    assert.match(listing.stdout, /bundle\.tar\.gz/);
    assert.match(listing.stdout, /overlay\.tar\.gz/);
  } finally {
    await rig.close();
  }
});

test("the card's first boot installs the release and enables the unit, then removes its payload and itself", async (t) => {
  const missing = await missingTool();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-sd-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const root = farm.addBoard('pi-07');
    const boot = join(root, 'boot', 'firmware');
    mkdirSync(boot, { recursive: true });
    writeFileSync(join(boot, 'config.txt'), BOOKWORM_CONFIG);
    writeFileSync(join(boot, 'cmdline.txt'), BOOKWORM_CMDLINE);
    // The Raspberry Pi OS helpers firstrun.sh calls, as recording stubs.
    mkdirSync(join(root, 'usr/lib/raspberrypi-sys-mods'), { recursive: true });
    copyFileSync(join(farm.bin, 'imager_custom'), join(root, 'usr/lib/raspberrypi-sys-mods/imager_custom'));
    mkdirSync(join(root, 'usr/lib/userconf-pi'), { recursive: true });
    writeFileSync(join(root, 'usr/lib/userconf-pi/userconf'), '#!/bin/sh\necho "userconf $*" >> "$FAKE_PI_ROOT/commands.log"\n', { mode: 0o755 });
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 1 });
    writeFileSync(join(dir, 'id.pub'), 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests admin@laptop\n');

    // A mounted boot partition this time: a folder.
    await ok(runCommand(process.execPath, [
      PROVISION_JS, '--boot', boot, '--hostname', 'pi-07', '--user', 'admin', '--password-hash', '$6$salt$abcdefghijklmnop',
      '--ssh-key', join(dir, 'id.pub'), '--bundle', await fakeBundle(dir, '1.0.0', await hostTarget(), 'good'),
      '--network', net, '--board', 'org1-board1', '--profile', 'raspberry-pi-zero-2-w', '--orderer', 'mqtt://10.0.0.2:1883',
    ]), 'provision-sd');
    assert.ok(existsSync(join(boot, 'edgepeer', 'overlay.tar.gz')));

    const r = await runCommand('sh', [join(boot, 'firstrun.sh')], {
      env: { ...farm.env('pi-07'), EDGEPEER_FIRSTRUN_ROOT: root, PATH: `${farm.bin}:${process.env['PATH']}` },
    });
    const log = readFileSync(join(boot, 'edgepeer-firstrun.log'), 'utf8');
    assert.equal(r.code, 0, log);
    assert.match(log, /edgepeer first boot: done/, log);

    const current = readlinkSync(join(root, 'opt/edgepeer/current'));
    assert.match(current, /^releases\/\d{8}T\d{6}\.\d{3}Z-1\.0\.0-/);
    const rel = join(root, 'opt/edgepeer', current);
    assert.equal(statSync(join(rel, 'network/orgs/org1/boards/org1-board1/key.pem')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(rel, 'board.env'), 'utf8'), /^NODE_OPTIONS=--max-old-space-size=192 --max-semi-space-size=2$/m);
    assert.ok(existsSync(join(root, 'etc/systemd/system/edgepeer.service')));
    const cmds = farm.commands('pi-07');
    assert.ok(cmds.includes('userconf admin $6$salt$abcdefghijklmnop'), cmds.join('\n'));
    assert.ok(cmds.includes('imager_custom set_hostname pi-07'), cmds.join('\n'));
    assert.ok(cmds.includes('imager_custom enable_ssh -k ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests admin@laptop'), cmds.join('\n'));
    assert.ok(cmds.includes('systemctl enable edgepeer.service'));
    assert.ok(!cmds.some((c) => c.startsWith('systemctl restart')), 'started by the reboot, not during the first boot');
    assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'pi-07\n');

    assert.ok(!existsSync(join(boot, 'edgepeer')), 'the payload (with the private key) is gone from the FAT partition');
    assert.ok(!existsSync(join(boot, 'firstrun.sh')));
    assert.ok(!existsSync(join(boot, 'userconf.txt')), 'applied already; not applied twice');
    assert.equal(readFileSync(join(boot, 'cmdline.txt'), 'utf8'), 'console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot\n');
  } finally {
    await rig.close();
  }
});

test('a first boot whose install fails says so in its log, installs nothing, and still removes the payload', async (t) => {
  const missing = await missingTool();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-sd-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const root = farm.addBoard('pi-09');
    const boot = join(root, 'boot');
    mkdirSync(boot, { recursive: true });
    writeFileSync(join(boot, 'config.txt'), BOOKWORM_CONFIG);
    writeFileSync(join(boot, 'cmdline.txt'), BOOKWORM_CMDLINE);
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 1 });
    await ok(runCommand(process.execPath, [
      PROVISION_JS, '--boot', boot, '--firmware-path', '/boot', '--hostname', 'pi-09', '--user', 'admin', '--password-hash', '$6$salt$abcdefghijklmnop',
      '--bundle', await fakeBundle(dir, '1.0.0', await hostTarget(), 'good'), '--network', net, '--board', 'org1-board1', '--orderer', 'mqtt://10.0.0.2:1883',
    ]), 'provision-sd');
    assert.match(readFileSync(join(boot, 'cmdline.txt'), 'utf8'), / systemd\.run=\/boot\/firstrun\.sh /, 'Bullseye and older mount it at /boot');
    // A card whose bundle got damaged on the way.
    writeFileSync(join(boot, 'edgepeer', 'bundle.tar.gz'), 'not a tarball');

    const r = await runCommand('sh', [join(boot, 'firstrun.sh')], {
      env: { ...farm.env('pi-09'), EDGEPEER_FIRSTRUN_ROOT: root, PATH: `${farm.bin}:${process.env['PATH']}` },
    });
    const log = readFileSync(join(boot, 'edgepeer-firstrun.log'), 'utf8');
    assert.equal(r.code, 0, 'the board still reboots');
    assert.match(log, /!! edgepeer failed \(exit \d+\)/, log);
    assert.match(log, /edgepeer first boot: failed: edgepeer$/m, log);
    assert.doesNotMatch(log, /current -> /, 'nothing after the failed command ran');
    assert.ok(!existsSync(join(root, 'opt/edgepeer/current')));
    assert.ok(!existsSync(join(root, 'etc/systemd/system/edgepeer.service')));
    assert.equal(readFileSync(join(root, 'etc/hostname'), 'utf8'), 'pi-09\n', 'the other steps ran (here without imager_custom)');
    assert.ok(!existsSync(join(boot, 'edgepeer')), 'the payload is removed all the same');
    assert.doesNotMatch(readFileSync(join(boot, 'cmdline.txt'), 'utf8'), /systemd\.run/);
  } finally {
    await rig.close();
  }
});

/**
 * A boot folder (config.txt, and cmdline.txt unless left out), a one-board network and the arguments of
 * a provision-sd run for board org1-board1 onto it, as pi-08.
 */
async function bareBootRun(rig: TestRig, files: { cmdline: boolean }): Promise<{ boot: string; args: string[] }> {
  const dir = rig.tempDir('edgepeer-sd-');
  const boot = join(dir, 'boot');
  mkdirSync(boot);
  writeFileSync(join(boot, 'config.txt'), BOOKWORM_CONFIG);
  if (files.cmdline) writeFileSync(join(boot, 'cmdline.txt'), BOOKWORM_CMDLINE);
  const net = join(dir, 'net');
  await initNetwork(net, { boardsPerOrg: 1 });
  return {
    boot,
    args: [
      PROVISION_JS, '--boot', boot, '--hostname', 'pi-08', '--user', 'admin', '--password-hash', '$6$salt$abcdefghijklmnop',
      '--bundle', await fakeBundle(dir, '1.0.0', await hostTarget(), 'good'), '--network', net, '--board', 'org1-board1',
    ],
  };
}

test('provision-sd refuses a folder that is not a boot partition and changes nothing', async (t) => {
  const missing = await missingTool();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const { boot, args } = await bareBootRun(rig, { cmdline: false });
    const r = await runCommand(process.execPath, args);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no cmdline\.txt: not a Raspberry Pi OS boot partition/);
    assert.equal(readFileSync(join(boot, 'config.txt'), 'utf8'), BOOKWORM_CONFIG);
    assert.ok(!existsSync(join(boot, 'ssh')));
  } finally {
    await rig.close();
  }
});

test("provision-sd refuses init's loopback orderer address for a real board, writes nothing; --allow-loopback writes it", async (t) => {
  const missing = await missingTool();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  try {
    const { boot, args } = await bareBootRun(rig, { cmdline: true });
    const r = await runCommand(process.execPath, args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /refusing to write loopback addresses .* for org1-board1; nothing was written:\n {2}orderer endpoint mqtt:\/\/127\.0\.0\.1:\d+/);
    assert.match(r.stderr, /--allow-loopback/);
    assert.equal(readFileSync(join(boot, 'cmdline.txt'), 'utf8'), BOOKWORM_CMDLINE, 'the card is untouched');
    assert.ok(!existsSync(join(boot, 'ssh')));
    await ok(runCommand(process.execPath, [...args, '--allow-loopback']), 'provision-sd --allow-loopback');
    assert.ok(existsSync(join(boot, 'ssh')), 'written with the override');
  } finally {
    await rig.close();
  }
});
