// Stand-ins for libgpiod's tools (gpioset, gpiodetect) and Raspberry Pi's pinctrl, as shell scripts in a
// temp dir: gpioset records its arguments, writes the levels it was given to one file per line and holds
// them until signalled, as the real one holds a line; pinctrl reads those files back. The gpiod backend
// and the HIL suite run against them where no GPIO chip exists.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A stand-in gpioset that has not run after this long has failed to start. */
const SETTLE_TIMEOUT_MS = 5_000;
/** The stand-ins report through files: how often they are looked at. */
const SETTLE_POLL_MS = 5;

export interface FakeGpiod {
  dir: string;
  /** Directory to put first on PATH. */
  binDir: string;
  tools: { gpioset: string; gpiodetect: string };
  /** Each gpioset's arguments, one invocation a line. */
  invocations(): string[][];
  /** The level gpioset last set on a line, or null if never set. */
  level(line: number): number | null;
  /**
   * Resolves once a gpioset has set exactly `levels` (BCM line → 0/1), or failed trying: a spawned process
   * runs when the OS gets to it, and one replaced quickly may never run, so tests wait for the newest.
   */
  settled(levels: ReadonlyMap<number, number>): Promise<void>;
  /** From now on gpioset fails with this message (exit 1), as with no permission. */
  failWith(message: string | null): void;
  remove(): void;
}

export interface FakeGpiodOptions {
  /** What `gpioset --version` says; default libgpiod 2.1. */
  version?: string;
  /** `gpiodetect` output lines. */
  chips?: string[];
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
  const chips = o.chips ?? ['gpiochip0 [pinctrl-rp1] (54 lines)', 'gpiochip10 [gpio-brcmstb@107d508500] (32 lines)'];
  const script = (name: string, body: string): string => {
    const path = join(binDir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  };
  const gpioset = script('gpioset', `
if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${o.version ?? 'v2.1'}"; exit 0; fi
echo "$*" >> '${log}'
if [ -f '${failFile}' ]; then cat '${failFile}' >&2; echo "$*" >> '${doneLog}'; exit 1; fi
for a in "$@"; do
  case "$a" in
    --*) ;;
    *=*) echo "\${a#*=}" > '${linesDir}'/"\${a%%=*}.$$" && mv '${linesDir}'/"\${a%%=*}.$$" '${linesDir}'/"\${a%%=*}" ;;
  esac
done
echo "$*" >> '${doneLog}'
exec sleep 600`);
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
    invocations: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '').map((l) => l.split(' ')) : []),
    level: (line) => {
      const f = join(linesDir, String(line));
      return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : null;
    },
    settled: async (levels) => {
      const want = [...levels].sort((a, b) => a[0] - b[0]).map(([l, v]) => `${l}=${v}`).join(' ');
      const deadline = Date.now() + SETTLE_TIMEOUT_MS;
      const done = (): string[] => (existsSync(doneLog) ? readFileSync(doneLog, 'utf8').split('\n').filter((l) => l !== '') : []);
      while (!(done().at(-1) ?? '').endsWith(want)) {
        if (Date.now() > deadline) throw new Error(`fake gpioset: no gpioset set ${want} within ${SETTLE_TIMEOUT_MS} ms (last: ${done().at(-1) ?? 'none'})`);
        await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
      }
    },
    failWith: (message) => {
      if (message === null) rmSync(failFile, { force: true });
      else writeFileSync(failFile, `${message}\n`);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
