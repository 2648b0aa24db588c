// "Fake Pis" for the deploy and first-boot tests: a folder per board that stands for its root
// filesystem, an ssh wrapper that runs the remote command here (sh -c) instead of on a board, and stubs
// for the commands that would change this machine (systemctl, useradd, groupadd, usermod, chown) or
// that only a Pi has (imager_custom). No sshd, no real user, nothing outside the temp folder.
//
// The systemctl stub runs the service the way the unit would: for a real bundle it starts
// `current/bin/edgepeer peer …` in the background with board.env's settings (its PID in service.pid,
// stopped by the test by PID); for a fake bundle (a `behaviour` file in the release: good, unhealthy,
// crash) it only records the state.
import { chmodSync, cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_FORMAT, type BundleManifest } from '../../src/deploy/bundleManifest.js';
import { runCommand } from '../../src/deploy/runCommand.js';
import { REPO_ROOT } from './bundles.js';

const SSH_WRAPPER = `#!/bin/sh
# Fake ssh: ignores the options, runs the remote command (the last argument) here.
while [ $# -gt 2 ]; do shift; done
host=\${1#*@}
export FAKE_PI_ROOT="$FAKE_PI_BASE/$host"
if [ ! -d "$FAKE_PI_ROOT" ]; then
  echo "ssh: connect to host $host port 22: No route to host" >&2
  exit 255
fi
echo "$2" >> "$FAKE_PI_ROOT/ssh.log"
PATH="$FAKE_PI_BIN:$PATH" exec sh -c "$2"
`;

const RECORDER = (name: string): string => `#!/bin/sh
echo "${name} $*" >> "\${FAKE_PI_ROOT:?}/commands.log"
`;

const SYSTEMCTL = `#!/bin/sh
echo "systemctl $*" >> "\${FAKE_PI_ROOT:?}/commands.log"
cur="$FAKE_PI_ROOT/opt/edgepeer/current"
pidf="$FAKE_PI_ROOT/service.pid"
state="$FAKE_PI_ROOT/service.state"
quiet=no
for a in "$@"; do [ "$a" = --quiet ] && quiet=yes; done
stop_service() {
  if [ -f "$pidf" ]; then
    pid=$(cat "$pidf")
    kill "$pid" 2>/dev/null
    n=0
    while kill -0 "$pid" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    rm -f "$pidf"
  fi
  echo inactive > "$state"
}
case "$1" in
  daemon-reload|enable) exit 0 ;;
  stop) stop_service; exit 0 ;;
  restart)
    stop_service
    if [ -f "$cur/behaviour" ]; then
      if [ "$(cat "$cur/behaviour")" = crash ]; then
        echo failed > "$state"
        echo "Job for edgepeer.service failed because the control process exited with error code." >&2
        exit 1
      fi
      echo active > "$state"
      exit 0
    fi
    while IFS= read -r line; do
      case "$line" in ''|'#'*) ;; *) export "$line" ;; esac
    done < "$cur/board.env"
    "$cur/bin/edgepeer" peer --network "$cur/network" --board "$EDGEPEER_BOARD" --data "$FAKE_PI_ROOT/var/lib/edgepeer" \\
      --metrics-port "$EDGEPEER_METRICS_PORT" --status-interval-ms "$EDGEPEER_STATUS_INTERVAL_MS" $EDGEPEER_PEER_ARGS \\
      > "$FAKE_PI_ROOT/service.out" 2> "$FAKE_PI_ROOT/service.err" < /dev/null &
    echo $! > "$pidf"
    echo active > "$state"
    exit 0 ;;
  is-active)
    s=$(cat "$state" 2>/dev/null || echo inactive)
    if [ "$s" = active ] && [ -f "$pidf" ] && ! kill -0 "$(cat "$pidf")" 2>/dev/null; then s=failed; fi
    [ $quiet = yes ] || echo "$s"
    [ "$s" = active ] ;;
  show) echo 0 ;;
  *) echo "fake systemctl: $1 not supported" >&2; exit 1 ;;
esac
`;

/** imager_custom of Raspberry Pi OS: records its calls; set_hostname writes etc/hostname as the real one does. */
const IMAGER_CUSTOM = `#!/bin/sh
echo "imager_custom $*" >> "\${FAKE_PI_ROOT:?}/commands.log"
[ "$1" = set_hostname ] && echo "$2" > "$FAKE_PI_ROOT/etc/hostname"
exit 0
`;

export interface FakePiFarm {
  base: string;
  bin: string;
  sshWrapper: string;
  /** The root folder of board `host` (created). */
  addBoard(host: string): string;
  /** Environment for commands that use the wrapper or run scripts meant for a board. */
  env(host?: string): NodeJS.ProcessEnv;
  commands(host: string): string[];
  /** Stops the service a systemctl stub started on `host`, by its PID. */
  stopService(host: string): Promise<void>;
}

function writeExecutable(path: string, text: string): void {
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

export function fakePiFarm(base: string): FakePiFarm {
  const bin = join(base, 'bin');
  mkdirSync(bin, { recursive: true });
  const sshWrapper = join(bin, 'fake-ssh');
  writeExecutable(sshWrapper, SSH_WRAPPER);
  writeExecutable(join(bin, 'systemctl'), SYSTEMCTL);
  for (const c of ['useradd', 'groupadd', 'usermod', 'chown']) writeExecutable(join(bin, c), RECORDER(c));
  writeExecutable(join(bin, 'imager_custom'), IMAGER_CUSTOM);
  const boards = join(base, 'boards');
  mkdirSync(boards, { recursive: true });
  const env = (host?: string): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = {
      ...process.env,
      FAKE_PI_BASE: boards,
      FAKE_PI_BIN: bin,
      ...(host !== undefined && { FAKE_PI_ROOT: join(boards, host) }),
    };
    // What runs on a fake board is not a test file: it must not think it runs under this runner.
    delete e['NODE_TEST_CONTEXT'];
    return e;
  };
  return {
    base,
    bin,
    sshWrapper,
    addBoard(host) {
      const root = join(boards, host);
      mkdirSync(join(root, 'etc'), { recursive: true });
      return root;
    },
    env,
    commands(host) {
      try {
        return readFileSync(join(boards, host, 'commands.log'), 'utf8').split('\n').filter((l) => l !== '');
      } catch {
        return [];
      }
    },
    async stopService(host) {
      await runCommand(join(bin, 'systemctl'), ['stop', 'edgepeer.service'], { env: env(host) });
    },
  };
}

const FAKE_EDGEPEER = `#!/bin/sh
here=$(cd "$(dirname "$0")/.." && pwd -P)
case "$1" in
  health)
    if [ "$(cat "$here/behaviour")" = good ]; then echo "healthy height=5 links=1/1"; exit 0; fi
    echo "unhealthy: no orderer link is up (endpoints: mqtt://10.0.0.2:1883)"; exit 1 ;;
  *) echo "fake edgepeer $*" ;;
esac
`;

/** A bundle with the real unit and profiles, a fake bin/edgepeer and a `behaviour` file. */
export async function fakeBundle(dir: string, version: string, target: string, behaviour: 'good' | 'unhealthy' | 'crash'): Promise<string> {
  const name = `edgepeer-${version}-${target}`;
  const root = join(dir, name);
  mkdirSync(join(root, 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'edgepeer'), FAKE_EDGEPEER, { mode: 0o755 });
  writeFileSync(join(root, 'behaviour'), behaviour);
  cpSync(join(REPO_ROOT, 'packaging', 'systemd'), join(root, 'systemd'), { recursive: true });
  cpSync(join(REPO_ROOT, 'boards'), join(root, 'boards'), { recursive: true });
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT, name: 'edgepeer', version, target: target as BundleManifest['target'], builtAt: new Date().toISOString(), commit: null,
    node: { bundled: null, required: '>=20' }, natives: [], profiles: readdirSync(join(REPO_ROOT, 'boards')).map((f) => f.replace(/\.json$/, '')),
  };
  writeFileSync(join(root, 'manifest.json'), JSON.stringify(manifest));
  const tarball = join(dir, `${name}.tar.gz`);
  const r = await runCommand('tar', ['-czf', tarball, '-C', dir, name]);
  if (r.code !== 0) throw new Error(`tar: ${r.stderr}`);
  return tarball;
}

