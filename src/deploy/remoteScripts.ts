// The shell scripts that run on a board (POSIX sh, as root): deploy sends them over ssh one step at a
// time, and the SD card's first boot runs the same install and activate steps. Every path starts with
// $R, the root the board's filesystem is seen under: empty on a board, a temporary folder in tests.
import { boardLayout } from './boardLayout.js';
import { shellQuote } from './runCommand.js';

const L = boardLayout;
const unit = L.unitName;
/** A board path under $R, double-quoted for the shell (paths here never hold quotes or $). */
const at = (path: string): string => `"$R${path}"`;
const unitPath = at(`${L.unitDir}/${unit}`);

/** `R=…` for a literal root ('' on a real board). */
export function rootIs(root: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]*$/.test(root) ? `R="${root}"` : `R=${shellQuote(root)}`;
}

/** What the board is: lines `key=value` that parsePreflight reads. Changes nothing. */
export function preflightScript(root: string): string {
  return [
    rootIs(root),
    `echo "arch=$(dpkg --print-architecture 2>/dev/null || true)"`,
    `echo "machine=$(uname -m 2>/dev/null || true)"`,
    `echo "node=$(node --version 2>/dev/null || true)"`,
    `echo "systemctl=$(command -v systemctl || true)"`,
    `echo "gpioset=$(command -v gpioset || true)"`,
    // libgpiod's Python bindings, v2 or v1 (another module named gpiod does not count): the LED line holder's.
    `echo "gpiodPython=$(python3 -c "import gpiod; assert hasattr(gpiod, 'request_lines') or hasattr(gpiod, 'LINE_REQ_DIR_OUT')" >/dev/null 2>&1 && echo yes || true)"`,
    `echo "current=$(readlink ${at(L.current)} 2>/dev/null || true)"`,
  ].join('\n');
}

export interface Preflight {
  arch: string;
  machine: string;
  node: string;
  systemctl: boolean;
  gpioset: boolean;
  /** python3 imports libgpiod's bindings (python3-libgpiod): the LEDs are held by one process on every libgpiod. */
  gpiodPython: boolean;
  current: string;
}

export function parsePreflight(stdout: string): Preflight {
  const v = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) v.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const get = (k: string): string => v.get(k) ?? '';
  return {
    arch: get('arch'), machine: get('machine'), node: get('node'),
    systemctl: get('systemctl') !== '', gpioset: get('gpioset') !== '', gpiodPython: get('gpiodPython') === 'yes', current: get('current'),
  };
}

/** Standard input into incoming/<file>, renamed into place only once complete. */
export function uploadScript(root: string, file: string): string {
  return [
    'set -eu',
    rootIs(root),
    `mkdir -p ${at(L.incoming)}`,
    `cat > ${at(`${L.incoming}/${file}.partial`)}`,
    `mv -f ${at(`${L.incoming}/${file}.partial`)} ${at(`${L.incoming}/${file}`)}`,
  ].join('; ');
}

export interface ReleaseFiles {
  /** Folder name under releases/. */
  release: string;
  /** The bundle tarball, in incoming/ (its top folder is stripped). */
  bundleFile: string;
  /** The board overlay tarball, in incoming/. */
  overlayFile: string;
  /** The board's private key, relative to the release folder. */
  keyFile: string;
}

/**
 * The service user and its groups, then releases/<release> from the two tarballs, with the network
 * files readable by the service user only and its key 0600 owned by it. The release folder appears
 * complete or not at all (unpacked under .partial, then renamed).
 */
export function installReleaseScript(rootLine: string, f: ReleaseFiles): string {
  const rel = `${L.releases}/${f.release}`;
  const partial = `${rel}.partial`;
  const net = at(`${partial}/${L.networkDir}`);
  const key = at(`${partial}/${f.keyFile}`);
  const user = L.serviceUser;
  return [
    'set -eu',
    rootLine,
    // Release names are unique per deploy run; one that exists already may be the one running.
    `[ ! -e ${at(rel)} ] || { echo "${rel} exists already"; exit 1; }`,
    ...L.serviceGroups.map((g) => `getent group ${g} >/dev/null || groupadd --system ${g}`),
    `if ! id -u ${user} >/dev/null 2>&1; then`,
    `  useradd --system --user-group --home-dir ${L.stateDir} --no-create-home --shell /usr/sbin/nologin ${user}`,
    'fi',
    `usermod --append --groups ${L.serviceGroups.join(',')} ${user}`,
    `rm -rf ${at(partial)}`,
    `mkdir -p ${at(partial)}`,
    `tar -xzf ${at(`${L.incoming}/${f.bundleFile}`)} -C ${at(partial)} --strip-components=1 --no-same-owner`,
    `tar -xzf ${at(`${L.incoming}/${f.overlayFile}`)} -C ${at(partial)} --no-same-owner`,
    `chown -R root:${user} ${net}`,
    `find ${net} -type d -exec chmod 0750 {} +`,
    `find ${net} -type f -exec chmod 0640 {} +`,
    `chown ${user}:${user} ${key}`,
    `chmod 0600 ${key}`,
    `chmod 0600 ${at(`${partial}/${L.boardEnv}`)}`,
    `mv ${at(partial)} ${at(rel)}`,
    `rm -f ${at(`${L.incoming}/${f.bundleFile}`)} ${at(`${L.incoming}/${f.overlayFile}`)}`,
    `echo "installed ${rel}"`,
  ].join('\n');
}

/** Points `name` (a symlink under base) at `target` by renaming a new link over it: never missing. */
function relink(name: string, targetExpr: string): string[] {
  return [
    `ln -sfn ${targetExpr} ${at(`${L.base}/${name}.next`)}`,
    `mv -T ${at(`${L.base}/${name}.next`)} ${at(`${L.base}/${name}`)}`,
  ];
}

function installUnitAndStart(restart: boolean): string[] {
  return [
    `mkdir -p ${at(L.unitDir)}`,
    `install -m 0644 ${at(`${L.current}/systemd/${unit}`)} ${unitPath}`,
    'systemctl daemon-reload',
    `systemctl enable ${unit}`,
    ...(restart ? [`systemctl restart ${unit}`, `echo "restarts=$(systemctl show --property=NRestarts --value ${unit})"`] : []),
  ];
}

/**
 * previous := current, current := releases/<release>, the unit from the new release, and (re)start.
 * With Type=notify, `systemctl restart` returns once the peer has said READY=1, or fails.
 */
export function activateScript(rootLine: string, release: string, restart: boolean): string {
  return [
    'set -eu',
    rootLine,
    `if [ -L ${at(L.current)} ]; then`,
    ...relink('previous', `"$(readlink ${at(L.current)})"`).map((l) => `  ${l}`),
    'fi',
    ...relink('current', `"releases/${release}"`),
    ...installUnitAndStart(restart),
    `echo "current -> releases/${release}"`,
  ].join('\n');
}

/** One health probe: the unit is active, has not restarted since `restarts`, and the peer says healthy. */
export function healthProbeScript(root: string, metricsPort: number, restarts: string | null, requireLink: boolean): string {
  return [
    rootIs(root),
    `state=$(systemctl is-active ${unit} || true)`,
    `[ "$state" = active ] || { echo "${unit} is $state"; exit 1; }`,
    ...(restarts !== null && /^[0-9]+$/.test(restarts)
      ? [
        `n=$(systemctl show --property=NRestarts --value ${unit})`,
        `[ "$n" = ${restarts} ] || { echo "${unit} restarted after the deploy (NRestarts $n)"; exit 1; }`,
      ]
      : []),
    `exec ${at(`${L.current}/bin/edgepeer`)} health --metrics-port ${metricsPort}${requireLink ? '' : ' --no-require-link'}`,
  ].join('\n');
}

/**
 * Undoes the switch to `failedRelease`: current := previous (only if current is that release, so a
 * failure before the switch never moves the board further back), the unit of that release, restart.
 */
export function rollbackScript(root: string, failedRelease: string): string {
  return [
    'set -eu',
    rootIs(root),
    `if [ "$(readlink ${at(L.current)} 2>/dev/null || true)" = "releases/${failedRelease}" ]; then`,
    `  [ -L ${at(L.previous)} ] || { echo "no previous release to roll back to"; exit 1; }`,
    `  back=$(readlink ${at(L.previous)})`,
    ...relink('current', '"$back"').map((l) => `  ${l}`),
    'fi',
    ...installUnitAndStart(true),
    `echo "current -> $(readlink ${at(L.current)})"`,
  ].join('\n');
}

/** Removes old releases beyond the newest `keep`, never current's or previous's, and leftovers of failed unpacks. */
export function pruneScript(root: string, keep: number): string {
  return [
    'set -eu',
    rootIs(root),
    `cd ${at(L.releases)}`,
    `cur=$(basename "$(readlink ${at(L.current)} 2>/dev/null || echo none)")`,
    `prev=$(basename "$(readlink ${at(L.previous)} 2>/dev/null || echo none)")`,
    'for p in *.partial; do [ -e "$p" ] && rm -rf "$p"; done',
    `ls -1 | grep -v "[.]partial$" | sort -r | tail -n +${keep + 1} | while read -r r; do`,
    '  if [ "$r" != "$cur" ] && [ "$r" != "$prev" ]; then rm -rf "$r"; echo "removed $r"; fi',
    'done',
  ].join('\n');
}
