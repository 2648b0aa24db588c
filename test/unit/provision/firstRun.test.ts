// The card's first-boot script (src/provision/firstRun.ts), run with sh on a fake board root (the
// commands that would change this machine are test/helpers/fakePi.ts stubs on PATH): the steps a card
// needs and only those (user and ssh keys with keys, Wi-Fi when given), every value reaching the Pi's
// helpers as one argument however it is quoted, and, whatever fails, the clean-up of the payload (it
// holds the board's private key), the script and cmdline.txt's entry, with exit 0 so the board reboots.
// A real install from it: test/integration/provisionSd.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCommand } from '../../../src/deploy/runCommand.js';
import {
  FIRSTRUN_FILE, FIRSTRUN_LOG, FIRSTRUN_ROOT_ENV, type FirstRunOptions, PAYLOAD_DIR, firstRunScript,
} from '../../../src/provision/firstRun.js';
import { fakePiFarm } from '../../helpers/fakePi.js';
import { TestRig } from '../../helpers/processes.js';

const CMDLINE = 'console=tty1 root=PARTUUID=4e639091-02 rootwait quiet';
const FIRSTRUN_ENTRY = ` systemd.run=/boot/firmware/${FIRSTRUN_FILE} systemd.run_success_action=reboot systemd.unit=kernel-command-line.target`;
/** A value a shell would split, expand or end a quote at; run, it would make `marker`. */
const hostile = (marker: string): string => `it's "$(touch ${marker})" \`touch ${marker}\` $HOME ;&|`;

const options = (over: Partial<FirstRunOptions> = {}): FirstRunOptions => ({
  hostname: 'pi-07', user: 'pi', passwordHash: '$6$salt$hash', sshKeys: [], wifi: null,
  release: { release: 'r1', bundleFile: 'r1-bundle.tar.gz', overlayFile: 'r1-overlay.tar.gz', keyFile: 'board/key.pem' },
  ...over,
});

/** A board root with the boot partition, a payload, and helpers that record each argument on a line of its own. */
function board(rig: TestRig, withImager: boolean): { root: string; boot: string; run(script: string): Promise<void>; calls(tool: string): string[][] } {
  const farm = fakePiFarm(join(rig.tempDir('edgepeer-firstrun-'), 'farm'));
  const root = farm.addBoard('pi-07');
  const boot = join(root, 'boot', 'firmware');
  mkdirSync(join(boot, PAYLOAD_DIR), { recursive: true });
  writeFileSync(join(boot, 'cmdline.txt'), `${CMDLINE}${FIRSTRUN_ENTRY}\n`);
  writeFileSync(join(boot, 'userconf.txt'), 'pi:$6$salt$hash\n');
  // Not a real bundle: the install step fails, which the script must survive.
  writeFileSync(join(boot, PAYLOAD_DIR, 'key-inside.pem'), 'PRIVATE');
  const recorder = (tool: string): string => `#!/bin/sh\n{ echo "-- call"; printf '%s\\n' "$@"; } >> "${join(root, `${tool}.calls`)}"\n`;
  const tools = [['usr/lib/userconf-pi', 'userconf'], ...(withImager ? [['usr/lib/raspberrypi-sys-mods', 'imager_custom']] : [])];
  for (const [dir, tool] of tools) {
    mkdirSync(join(root, dir!), { recursive: true });
    writeFileSync(join(root, dir!, tool!), recorder(tool!), { mode: 0o755 });
  }
  return {
    root, boot,
    run: async (script) => {
      writeFileSync(join(boot, FIRSTRUN_FILE), script, { mode: 0o755 });
      const env = { ...farm.env('pi-07'), PATH: `${farm.bin}:${process.env['PATH'] ?? ''}`, [FIRSTRUN_ROOT_ENV]: root };
      const r = await runCommand('sh', [join(boot, FIRSTRUN_FILE)], { env });
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    },
    calls: (tool) => {
      const path = join(root, `${tool}.calls`);
      if (!existsSync(path)) return [];
      return readFileSync(path, 'utf8').split('-- call\n').slice(1).map((c) => c.split('\n').slice(0, -1));
    },
  };
}

test('sh -n accepts every variant of the script', async () => {
  for (const o of [options(), options({ sshKeys: ['ssh-ed25519 AAAA a@b', 'ssh-rsa BBBB c@d'] }), options({ wifi: { ssid: 's', psk: 'p', country: 'DE' } })]) {
    const r = await runCommand('sh', ['-n', '-c', firstRunScript(o)]);
    assert.equal(r.code, 0, r.stderr);
  }
});

test('with ssh keys and Wi-Fi: the user, host name, keys and network reach the Pi\'s helpers one value per argument, however hostile', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const b = board(rig, true);
  const marker = join(b.root, 'pwned');
  const value = hostile(marker);
  const keys = ['ssh-ed25519 AAAAC3Nz key one', `ssh-rsa BBBB ${value}`];
  await b.run(firstRunScript(options({
    user: 'edge user', passwordHash: `$6$${value}`, sshKeys: keys, wifi: { ssid: value, psk: `p'sk "x"`, country: 'DE' },
  })));
  assert.deepEqual(b.calls('userconf'), [['edge user', `$6$${value}`]]);
  assert.deepEqual(b.calls('imager_custom'), [
    ['set_hostname', 'pi-07'],
    ['enable_ssh', '-k', ...keys],
    ['set_wlan', value, `p'sk "x"`, 'DE'],
  ]);
  assert.equal(existsSync(marker), false, 'nothing in a value was run');
  assert.equal(existsSync(join(b.boot, 'userconf.txt')), false, 'userconf.txt taken up by the user step');
});

test('without keys or Wi-Fi: no user, key or Wi-Fi step; without the imager helper the host name goes to etc/hostname', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const script = firstRunScript(options());
  assert.doesNotMatch(script, /step_user\(\)|step_ssh_keys\(\)|step_wifi\(\)/);
  const b = board(rig, false);
  await b.run(script);
  assert.deepEqual(b.calls('userconf'), []);
  assert.equal(readFileSync(join(b.root, 'etc', 'hostname'), 'utf8'), 'pi-07\n');
  assert.equal(existsSync(join(b.boot, 'userconf.txt')), true, 'left for Raspberry Pi OS to take at its own first boot');
});

test('a failed step is logged and the script goes on to its clean-up: payload, script and cmdline entry gone, exit 0', async (t) => {
  const rig = new TestRig();
  t.after(() => rig.close());
  const b = board(rig, true);
  await b.run(firstRunScript(options({ wifi: { ssid: 's', psk: 'p', country: 'DE' } })));
  const log = readFileSync(join(b.boot, FIRSTRUN_LOG), 'utf8');
  assert.match(log, /^== hostname$/m);
  assert.match(log, /^!! edgepeer failed \(exit \d+\)$/m, log);
  assert.match(log, /^edgepeer first boot: failed: edgepeer$/m);
  // The steps before the failure ran; the clean-up after it too.
  assert.deepEqual(b.calls('imager_custom').map((c) => c[0]), ['set_hostname', 'set_wlan']);
  assert.equal(existsSync(join(b.boot, PAYLOAD_DIR)), false, 'the payload (the board\'s key) is removed');
  assert.equal(existsSync(join(b.boot, FIRSTRUN_FILE)), false);
  assert.equal(readFileSync(join(b.boot, 'cmdline.txt'), 'utf8'), `${CMDLINE}\n`);
});
