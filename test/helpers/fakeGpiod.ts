// Stand-ins for libgpiod's tools (gpioset, gpiodetect) and Raspberry Pi's pinctrl, as shell scripts in a
// temp dir. gpioset emulates either libgpiod:
// - 2.x: `--consumer C --chip CHIP [--interactive] line=value...`; with --interactive (when the fake is
//   built with it, as --enable-gpioset-interactive builds are) it prints its prompt "gpioset> " once the
//   lines are set and after each command, takes `set line=value...` and `exit` on stdin (an unknown line
//   is refused, as the real one refuses it), and like the real one does not exit at the end of its input;
//   without it, it holds the lines until signalled;
// - 1.x: `--mode=signal CHIP line=value...` holds until signalled (without --mode=signal it sets and
//   exits, as the real one does); 2.x-only options are refused.
// Every gpioset records its arguments, its PID (and any earlier one still alive when it started: two
// processes must never hold the lines at once), writes the levels it was given to one file per line, and
// logs each set of levels it applied; pinctrl reads the files back. The gpiod backend and the HIL suite
// run against them where no GPIO chip exists.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stand-in gpioset that has not run after this long has failed to start. */
const SETTLE_TIMEOUT_MS = 5_000;
/** The stand-ins report through files: how often they are looked at. */
const SETTLE_POLL_MS = 5;
/** How long a stand-in gpioset takes to exit after SIGTERM (seconds, for sleep(1)). */
const EXIT_DELAY_S = 0.05;

export interface FakeGpiod {
  dir: string;
  /** Directory to put first on PATH. */
  binDir: string;
  tools: { gpioset: string; gpiodetect: string };
  /** Each gpioset's arguments, one invocation a line (`--version` and `--help` not counted). */
  invocations(): string[][];
  /** Each command an interactive gpioset read on its stdin, in order. */
  commands(): string[];
  /** PIDs of every gpioset started, in order. */
  pids(): number[];
  /** "NEW OLD" for each gpioset that started while an earlier one (OLD) was still alive. */
  overlaps(): string[];
  /** The level gpioset last set on a line, or null if never set. */
  level(line: number): number | null;
  /**
   * Resolves once a gpioset has set exactly `levels` (BCM line → 0/1), at start or by a command, or failed
   * trying: a spawned process runs when the OS gets to it, and one replaced quickly may never run, so tests
   * wait for the newest.
   */
  settled(levels: ReadonlyMap<number, number>): Promise<void>;
  /** From now on gpioset fails with this message (exit 1), as with no permission. */
  failWith(message: string | null): void;
  /** From now on an interactive gpioset that reads a command neither applies nor answers it (hung). */
  hang(on: boolean): void;
  remove(): void;
}

export interface FakeGpiodOptions {
  /** What `gpioset --version` says; default libgpiod 2.1. */
  version?: string;
  /** libgpiod 2 only: whether gpioset was built with --interactive; default true. */
  interactive?: boolean;
  /** `gpiodetect` output lines. */
  chips?: string[];
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

export function fakeGpiod(o: FakeGpiodOptions = {}): FakeGpiod {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-fake-gpiod-'));
  const binDir = join(dir, 'bin');
  const linesDir = join(dir, 'lines');
  mkdirSync(binDir);
  mkdirSync(linesDir);
  const log = join(dir, 'gpioset.log');
  const failFile = join(dir, 'fail');
  const doneLog = join(dir, 'done.log');
  const commandLog = join(dir, 'commands.log');
  const pidLog = join(dir, 'pids.log');
  const overlapLog = join(dir, 'overlap.log');
  const sleeperLog = join(dir, 'sleepers.log');
  const hangFile = join(dir, 'hang');
  const version = o.version ?? 'v2.1';
  const v2 = !/\bv1\./.test(version);
  const interactive = v2 && (o.interactive ?? true);
  const chips = o.chips ?? ['gpiochip0 [pinctrl-rp1] (54 lines)', 'gpiochip10 [gpio-brcmstb@107d508500] (32 lines)'];
  const script = (name: string, body: string): string => {
    const path = join(binDir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const help = v2
    ? `Usage: gpioset [OPTIONS] <line=value>...\n  -c, --chip <chip>\trestrict scope to a particular chip\n${interactive ? '  -i, --interactive\tset the lines then wait for additional set commands\n' : ''}  -z, --daemonize`
    : 'Usage: gpioset [OPTIONS] <chip name/number> <offset1>=<value1> ...\n  -m, --mode=[exit|wait|time|signal]';
  // Options each version takes; anything else is refused as the real ones refuse it.
  const options = v2 ? `--consumer|--chip${interactive ? '|--interactive' : ''}` : '--mode=signal';
  const gpioset = script('gpioset', `
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${version}"; exit 0; fi
if [ "$1" = "--help" ]; then printf '%s\\n' '${help}'; exit 0; fi
echo "$*" >> '${log}'
for p in $(cat '${pidLog}' 2>/dev/null); do kill -0 "$p" 2>/dev/null && echo "$$ $p" >> '${overlapLog}'; done
echo "$$" >> '${pidLog}'
if [ -f '${failFile}' ]; then cat '${failFile}' >&2; echo "$*" >> '${doneLog}'; exit 1; fi
# Holds until SIGTERM, then takes a moment to exit, as a real gpioset releasing its lines does: a backend
# that started the next one without awaiting this exit would be seen (overlap.log). The sleep is recorded,
# so remove() ends it even when this shell was SIGKILLed.
hold() {
  sleep 600 </dev/null >/dev/null 2>&1 &
  s=$!
  echo "$s" >> '${sleeperLog}'
  trap 'sleep ${EXIT_DELAY_S}; kill $s 2>/dev/null; exit 0' TERM
  wait $s
  exit 0
}
setlevel() { echo "\${1#*=}" > '${linesDir}'/"\${1%%=*}.$$" && mv '${linesDir}'/"\${1%%=*}.$$" '${linesDir}'/"\${1%%=*}"; }
ids=" "; mode=""; takes=""
for a in "$@"; do
  if [ -n "$takes" ]; then takes=""; continue; fi
  case "$a" in
    --consumer|--chip) takes=1 ;;
    --interactive|--mode=signal) mode="$a" ;;
  esac
  case "$a" in
    ${options}) ;;
    -*) echo "gpioset: unrecognized option '$a'" >&2; exit 1 ;;
    *=*) setlevel "$a"; ids="$ids\${a%%=*} " ;;
  esac
done
echo "$*" >> '${doneLog}'
case "$mode" in
  --mode=signal) hold ;;
  --interactive) ;;
  *) ${v2 ? 'hold' : 'exit 0'} ;;
esac
while printf 'gpioset> '; IFS= read -r cmd; do
  echo "$cmd" >> '${commandLog}'
  if [ -f '${hangFile}' ]; then hold; fi
  set -f; set -- $cmd; set +f
  case "$1" in
    set)
      shift; bad=""
      for a in "$@"; do case "$ids" in *" \${a%%=*} "*) ;; *) bad="\${a%%=*}" ;; esac; done
      if [ -n "$bad" ]; then echo "unknown line: '$bad'"; continue; fi
      for a in "$@"; do setlevel "$a"; done
      echo "set $*" >> '${doneLog}' ;;
    exit) exit 0 ;;
    *) echo "unknown command: '$1'"; echo "Try the 'help' command" ;;
  esac
done
# End of input: like the real one it goes on prompting, and SIGPIPE ends it once nobody reads.
while printf 'gpioset> '; do sleep 1; done
exit 0`);
  const gpiodetect = script('gpiodetect', chips.map((c) => `echo '${c}'`).join('\n'));
  // Raspberry Pi's pinctrl: "pinctrl get 17" prints " 17: op dh pn | hi // GPIO17 = output".
  script('pinctrl', `
[ "$1" = "get" ] || exit 2
shift
for p in $(echo "$@" | tr ',' ' '); do
  v=$(cat '${linesDir}'/"$p" 2>/dev/null || echo 0)
  if [ "$v" = "1" ]; then echo " $p: op dh pn | hi // GPIO$p = output"; else echo " $p: op dl pn | lo // GPIO$p = output"; fi
done`);
  return {
    dir,
    binDir,
    tools: { gpioset, gpiodetect },
    invocations: () => lines(log).map((l) => l.split(' ')),
    commands: () => lines(commandLog),
    pids: () => lines(pidLog).map(Number),
    overlaps: () => lines(overlapLog),
    level: (line) => {
      const f = join(linesDir, String(line));
      return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : null;
    },
    settled: async (levels) => {
      const want = [...levels].sort((a, b) => a[0] - b[0]).map(([l, v]) => `${l}=${v}`).join(' ');
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      while (!(lines(doneLog).at(-1) ?? '').endsWith(want)) {
        if (Date.now() > deadline) throw new Error(`fake gpioset: no gpioset set ${want} within ${SETTLE_TIMEOUT_MS} ms (last: ${lines(doneLog).at(-1) ?? 'none'})`);
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      }
    },
    failWith: (message) => {
      if (message === null) rmSync(failFile, { force: true });
      else writeFileSync(failFile, `${message}\n`);
    },
    hang: (on) => {
      if (on) writeFileSync(hangFile, '');
      else rmSync(hangFile, { force: true });
    },
    remove: () => {
      for (const pid of lines(sleeperLog).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
