// firstrun.sh: what a freshly flashed card does once, on its first boot, before anything else (cmdline.txt's
// systemd.run=, as Raspberry Pi Imager does): the user (when ssh keys need its home), host name, ssh keys,
// Wi-Fi, then the edgepeer release, unit and service user with the same steps deploy runs over ssh. It
// then deletes itself and its payload (the board's private key among it) from the FAT partition, takes
// itself out of cmdline.txt, and the board reboots into normal operation with edgepeer.service enabled.
import { activateScript, installReleaseScript, type ReleaseFiles } from '../deploy/remoteScripts.js';
import { shellQuote } from '../deploy/runCommand.js';
import { boardLayout } from '../deploy/boardLayout.js';

/** Folder of the payload on the boot partition. */
export const PAYLOAD_DIR = 'edgepeer';
export const PAYLOAD_BUNDLE = 'bundle.tar.gz';
export const PAYLOAD_OVERLAY = 'overlay.tar.gz';
export const FIRSTRUN_FILE = 'firstrun.sh';
export const FIRSTRUN_LOG = 'edgepeer-firstrun.log';
/** Set in tests only: the root the script works under (a fake board). */
export const FIRSTRUN_ROOT_ENV = 'EDGEPEER_FIRSTRUN_ROOT';

export interface FirstRunOptions {
  hostname: string;
  /** The login user of userconf.txt, and its crypt hash. */
  user: string;
  passwordHash: string;
  /** authorized_keys lines; with keys, ssh allows key login only. */
  sshKeys: string[];
  wifi: { ssid: string; psk: string; country: string } | null;
  /** Names the release; the files are in the payload folder. */
  release: ReleaseFiles;
}

export function firstRunScript(o: FirstRunOptions): string {
  const q = shellQuote;
  const rootLine = `R="\${${FIRSTRUN_ROOT_ENV}:-}"`;
  const inc = `$R${boardLayout.incoming}`;
  // Each step is a function run in a subshell with `set -e`, called as a plain command: inside a
  // `( … ) || …` list the shell would ignore set -e (POSIX), and a failing command would not end the
  // step. A failed step is logged and the script goes on: it must always get to its clean-up (the
  // payload holds a private key) and exit 0, after which the board reboots.
  const steps: [string, string[]][] = [];
  if (o.sshKeys.length > 0) {
    steps.push(['user', [
      '# The keys go into the home of user 1000, so it must exist now rather than after the reboot.',
      `if [ -x "$USERCONF" ]; then "$USERCONF" ${q(o.user)} ${q(o.passwordHash)}; rm -f "$BOOT/userconf.txt"; fi`,
    ]]);
  }
  steps.push(['hostname', [
    `if [ -x "$IMAGER" ]; then "$IMAGER" set_hostname ${q(o.hostname)}`,
    `else echo ${q(o.hostname)} > "$R/etc/hostname"; fi`,
  ]]);
  if (o.sshKeys.length > 0) steps.push(['ssh_keys', [`"$IMAGER" enable_ssh -k ${o.sshKeys.map(q).join(' ')}`]]);
  if (o.wifi !== null) steps.push(['wifi', [`"$IMAGER" set_wlan ${q(o.wifi.ssid)} ${q(o.wifi.psk)} ${q(o.wifi.country)}`]]);
  steps.push(['edgepeer', [
    `mkdir -p "${inc}"`,
    `cp "$BOOT/${PAYLOAD_DIR}/${PAYLOAD_BUNDLE}" "${inc}/${o.release.bundleFile}"`,
    `cp "$BOOT/${PAYLOAD_DIR}/${PAYLOAD_OVERLAY}" "${inc}/${o.release.overlayFile}"`,
    `( ${installReleaseScript(rootLine, o.release).replace(/\n/g, '\n  ')} )`,
    `( ${activateScript(rootLine, o.release.release, false).replace(/\n/g, '\n  ')} )`,
  ]]);
  return [
    '#!/bin/sh',
    '# edgepeer first boot, written by `npm run provision-sd`. Runs once, as root, from cmdline.txt (systemd.run=).',
    'set -u',
    rootLine,
    `BOOT="$R/boot/firmware"; [ -f "$BOOT/cmdline.txt" ] || BOOT="$R/boot"`,
    `exec >> "$BOOT/${FIRSTRUN_LOG}" 2>&1 < /dev/null`,
    'echo "edgepeer first boot: $(date -u +%Y-%m-%dT%H:%M:%SZ)"',
    'FAILED=""',
    `IMAGER="$R/usr/lib/raspberrypi-sys-mods/imager_custom"`,
    `USERCONF="$R/usr/lib/userconf-pi/userconf"`,
    '',
    'run_step() {',
    '  echo "== $1"',
    '  ( set -e; "step_$1" )',
    '  rc=$?',
    '  if [ "$rc" -ne 0 ]; then echo "!! $1 failed (exit $rc)"; FAILED="$FAILED $1"; fi',
    '}',
    '',
    ...steps.flatMap(([name, body]) => [`step_${name}() {`, ...body.map((l) => `  ${l}`), '}', '']),
    ...steps.map(([name]) => `run_step ${name}`),
    '',
    'echo "== clean-up"',
    `rm -rf "$BOOT/${PAYLOAD_DIR}"`,
    `rm -f "$BOOT/${FIRSTRUN_FILE}"`,
    `sed -i 's| systemd.run.*||g' "$BOOT/cmdline.txt"`,
    'if [ -n "$FAILED" ]; then echo "edgepeer first boot: failed:$FAILED"; else echo "edgepeer first boot: done"; fi',
    'sync',
    'exit 0',
    '',
  ].join('\n');
}
