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
//
// Beside them, a stand-in for libgpiod's Python bindings (the `gpiod` module of python3-libgpiod), in the
// v1 API (bookworm's 1.6) or the v2 API (trixie's 2.x), for the backend's python line holder: `python3`
// in binDir is the real interpreter with the stand-in module first on its path. The module checks that
// it is called as the real one must be (an output request, every line in it, values of the right type),
// records each request, and sets the same files and log as gpioset, so level(), settled() and pinctrl
// read both alike.
import { execFileSync } from 'node:child_process';
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
  tools: { gpioset: string; gpiodetect: string; python3: string };
  /** Each gpioset's arguments, one invocation a line (`--version` and `--help` not counted). */
  invocations(): string[][];
  /** Each command an interactive gpioset read on its stdin, and each set_values of the Python bindings (as `set …`), in order. */
  commands(): string[];
  /**
   * Each set of levels applied, in order: a gpioset's arguments at its start and `set …` per command; the
   * Python bindings' `set LINE=V …` with every line they hold, at the request and per change.
   */
  setsApplied(): string[];
  /** Each line holder's arguments after the interpreter (`--probe` not counted). */
  holderInvocations(): string[][];
  /** Each request the stand-in Python bindings took, in order. */
  requests(): FakeLineRequest[];
  /** PIDs of every gpioset and line holder started, in order. */
  pids(): number[];
  /** "NEW OLD" for each gpioset or line holder that started while an earlier one (OLD) was still alive. */
  overlaps(): string[];
  /** The level gpioset last set on a line, or null if never set. */
  level(line: number): number | null;
  /**
   * Resolves once a gpioset has set exactly `levels` (BCM line → 0/1), at start or by a command, or failed
   * trying: a spawned process runs when the OS gets to it, and one replaced quickly may never run, so tests
   * wait for the newest.
   */
  settled(levels: ReadonlyMap<number, number>): Promise<void>;
  /**
   * From now on gpioset fails with this message (exit 1), as with no permission; the Python bindings raise
   * OSError (EACCES if the message says "Permission denied", else EBUSY) when asked for the lines.
   */
  failWith(message: string | null): void;
  /** From now on an interactive gpioset that reads a command, or the Python bindings asked to set levels, neither apply nor answer it (hung). */
  hang(on: boolean): void;
  remove(): void;
}

/** A request the stand-in Python bindings took. */
export interface FakeLineRequest {
  pid: number;
  api: 1 | 2;
  /** As the bindings were given it: a name (v1) or a path (v2). */
  chip: string;
  consumer: string;
  /** BCM line → level it was requested at. */
  lines: Record<string, number>;
}

/** none: python3 has no gpiod module; foreign: a module of that name that is not libgpiod's. */
export type FakePythonBindings = 'v1' | 'v2' | 'none' | 'foreign';

export interface FakeGpiodOptions {
  /** What `gpioset --version` says; default libgpiod 2.1. */
  version?: string;
  /** The Python bindings python3 finds; default none (python3-libgpiod not installed). */
  python?: FakePythonBindings;
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
  const holderLog = join(dir, 'holder.log');
  const requestLog = join(dir, 'requests.log');
  const pythonPath = join(dir, 'python');
  mkdirSync(pythonPath);
  writePythonBindings(pythonPath, o.python ?? 'none', { linesDir, doneLog, failFile, hangFile, commandLog, requestLog });
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
  // The line holder is `python3 HOLDER ARGS`: recorded as gpioset is, except the probe. -s: no user site
  // packages, so that only the stand-in module is found.
  const python3 = script('python3', `
if [ "$2" != "--probe" ]; then
  shift_args="$*"; echo "\${shift_args#* }" >> '${holderLog}'
  for p in $(cat '${pidLog}' 2>/dev/null); do kill -0 "$p" 2>/dev/null && echo "$$ $p" >> '${overlapLog}'; done
  echo "$$" >> '${pidLog}'
fi
PYTHONPATH='${pythonPath}' exec '${realPython()}' -s "$@"`);
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
    tools: { gpioset, gpiodetect, python3 },
    invocations: () => lines(log).map((l) => l.split(' ')),
    holderInvocations: () => lines(holderLog).map((l) => l.split(' ')),
    requests: () => lines(requestLog).map((l) => JSON.parse(l) as FakeLineRequest),
    commands: () => lines(commandLog),
    setsApplied: () => lines(doneLog),
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

/** The interpreter the stand-in python3 runs: found once, as the real path (binDir may be first on PATH). */
let pythonExecutable: string | null = null;
function realPython(): string {
  pythonExecutable ??= execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
  return pythonExecutable;
}

interface FakeFiles {
  linesDir: string;
  doneLog: string;
  failFile: string;
  hangFile: string;
  commandLog: string;
  requestLog: string;
}

/** Writes the stand-in `gpiod` package (and the recorder both versions share) under `into`. */
function writePythonBindings(into: string, kind: FakePythonBindings, f: FakeFiles): void {
  const py = (value: string): string => JSON.stringify(value);
  writeFileSync(join(into, 'fakegpiodrecord.py'), `# Recorder of the stand-in gpiod module (test/helpers/fakeGpiod.ts).
import errno, json, os, time

LINES_DIR = ${py(f.linesDir)}
DONE_LOG = ${py(f.doneLog)}
FAIL_FILE = ${py(f.failFile)}
HANG_FILE = ${py(f.hangFile)}
COMMAND_LOG = ${py(f.commandLog)}
REQUEST_LOG = ${py(f.requestLog)}
levels = {}


def check_fail():
    if os.path.exists(FAIL_FILE):
        with open(FAIL_FILE) as fh:
            said = fh.read()
        code = errno.EACCES if 'Permission denied' in said else errno.EBUSY
        raise OSError(code, os.strerror(code))


def asked(changes):
    """A set_values call, logged as the command it carries; hung (never returns) if told to hang."""
    with open(COMMAND_LOG, 'a') as fh:
        fh.write('set ' + ' '.join('%d=%d' % (k, changes[k]) for k in sorted(changes)) + '\\n')
    if os.path.exists(HANG_FILE):
        # Like a stuck ioctl: until killed.
        while True:
            time.sleep(60)


def record_request(api, chip, consumer, requested):
    if not isinstance(consumer, str) or consumer == '':
        raise ValueError('fake gpiod: no consumer')
    with open(REQUEST_LOG, 'a') as fh:
        fh.write(json.dumps({'pid': os.getpid(), 'api': api, 'chip': chip, 'consumer': consumer,
                             'lines': {str(k): v for k, v in requested.items()}}) + '\\n')
    apply(requested)


def apply(changes):
    for line, value in changes.items():
        if value not in (0, 1):
            raise ValueError('fake gpiod: level %r' % (value,))
        # Written aside and renamed: a reader never sees half a file.
        part = os.path.join(LINES_DIR, '%d.%d' % (line, os.getpid()))
        with open(part, 'w') as fh:
            fh.write('%d\\n' % value)
        os.replace(part, os.path.join(LINES_DIR, str(line)))
    levels.update(changes)
    with open(DONE_LOG, 'a') as fh:
        fh.write('set ' + ' '.join('%d=%d' % (k, levels[k]) for k in sorted(levels)) + '\\n')
`);
  if (kind === 'none') return;
  const pkg = join(into, 'gpiod');
  mkdirSync(pkg);
  if (kind === 'foreign') {
    writeFileSync(join(pkg, '__init__.py'), '# Not libgpiod\'s bindings: a module of the same name.\nclass chip:\n    pass\n');
    return;
  }
  if (kind === 'v1') {
    writeFileSync(join(pkg, '__init__.py'), `# Stand-in for libgpiod 1.6's Python bindings (test/helpers/fakeGpiod.ts).
import re
from fakegpiodrecord import apply, asked, check_fail, record_request

LINE_REQ_DIR_IN = 2
LINE_REQ_DIR_OUT = 3


def version_string():
    return '1.6.3'


class LineBulk:
    def __init__(self, chip, offsets):
        self.chip = chip
        self.offsets = [int(o) for o in offsets]
        self.requested = False

    def request(self, consumer, type=None, flags=0, default_vals=None):
        if type != LINE_REQ_DIR_OUT:
            raise ValueError('fake gpiod: not an output request')
        values = list(default_vals) if default_vals is not None else [0] * len(self.offsets)
        if len(values) != len(self.offsets):
            raise ValueError('fake gpiod: %d default values for %d lines' % (len(values), len(self.offsets)))
        record_request(1, self.chip.name, consumer, dict(zip(self.offsets, values)))
        self.requested = True

    def set_values(self, values):
        if not self.requested:
            raise OSError(1, 'fake gpiod: lines not requested')
        values = list(values)
        if len(values) != len(self.offsets):
            raise ValueError('fake gpiod: %d values for %d lines' % (len(values), len(self.offsets)))
        asked(dict(zip(self.offsets, values)))
        apply(dict(zip(self.offsets, values)))

    def release(self):
        self.requested = False


class Chip:
    def __init__(self, name, open_mode=None):
        if not re.match(r'^(/dev/)?gpiochip[0-9]+$', name):
            raise FileNotFoundError(2, 'No such file or directory')
        check_fail()
        self.name = name

    def get_lines(self, offsets):
        if len(offsets) == 0:
            raise TypeError('Argument must be a non-empty sequence of offsets')
        return LineBulk(self, offsets)

    def close(self):
        pass
`);
    return;
  }
  writeFileSync(join(pkg, 'line.py'), `# Stand-in for gpiod.line of libgpiod 2's Python bindings.
from enum import Enum


class Value(Enum):
    INACTIVE = 0
    ACTIVE = 1


class Direction(Enum):
    AS_IS = 1
    INPUT = 2
    OUTPUT = 3
`);
  writeFileSync(join(pkg, '__init__.py'), `# Stand-in for libgpiod 2's Python bindings (test/helpers/fakeGpiod.ts).
import re
from fakegpiodrecord import apply, asked, check_fail, record_request
from .line import Direction, Value

__version__ = '2.2.1'
api_version = '2.2.1'


class LineSettings:
    def __init__(self, direction=Direction.AS_IS, output_value=Value.INACTIVE):
        self.direction = direction
        self.output_value = output_value


class LineRequest:
    def __init__(self, offsets):
        self.offsets = set(offsets)
        self.released = False

    def set_values(self, values):
        if self.released:
            raise RuntimeError('fake gpiod: request released')
        changes = {}
        for offset, value in values.items():
            if offset not in self.offsets:
                raise ValueError('fake gpiod: line %r not in the request' % (offset,))
            if not isinstance(value, Value):
                raise TypeError('fake gpiod: %r is not a gpiod.line.Value' % (value,))
            changes[offset] = value.value
        asked(changes)
        apply(changes)

    def release(self):
        self.released = True


def request_lines(path, consumer=None, event_buffer_size=None, config=None, output_values=None):
    if not re.match(r'^/dev/gpiochip[0-9]+$', path):
        raise FileNotFoundError(2, 'No such file or directory')
    check_fail()
    requested = {}
    for key, settings in (config or {}).items():
        for offset in (key if isinstance(key, tuple) else (key,)):
            if settings.direction is not Direction.OUTPUT or not isinstance(settings.output_value, Value):
                raise ValueError('fake gpiod: line %r is not requested as an output with a Value' % (offset,))
            requested[int(offset)] = settings.output_value.value
    record_request(2, path, consumer, requested)
    return LineRequest(requested)
`);
}
