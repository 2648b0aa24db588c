// Two linked pseudo-terminals made by socat: bytes written to one end come out of the other, as on a
// null-modem cable. Emulated boards get their serial console (and tests their serial links) this way,
// with the real serialport bindings on both ends. Each end is a stable symlink chosen by the caller
// (socat creates it and removes it when it exits), so a pair can be stopped and started again under
// the same names, like a USB adapter unplugged and plugged back in.
import { type ChildProcess, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';

/** socat prints the PTY names and then this, once both ends exist. */
const READY_PATTERN = /starting data transfer loop/;
const PTY_NAME_PATTERN = /PTY is (\S+)/;
export const PTY_READY_TIMEOUT_MS = 5_000;
export const PTY_STOP_TIMEOUT_MS = 5_000;

export const SOCAT_MISSING = 'socat is not installed (apt-get install socat): it makes the PTY pairs';

export async function findSocat(): Promise<string | undefined> {
  for (const dir of ['/usr/bin', ...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '')]) {
    const path = join(dir, 'socat');
    try {
      await access(path, fsConstants.X_OK);
      return path;
    } catch {
      // not here; try the next one
    }
  }
  return undefined;
}

export interface PtyPair {
  /** The two symlinks, as given. */
  a: string;
  b: string;
  /** The PTY devices behind them (/dev/pts/N). */
  devices: [string, string];
  pid: number;
  /** Resolves when socat has exited. */
  readonly exited: Promise<void>;
  /** Stops socat by PID (SIGTERM, then SIGKILL after PTY_STOP_TIMEOUT_MS); both ends see the PTY close. */
  stop(): Promise<void>;
}

/** Starts `socat pty,link=a pty,link=b` and resolves once both ends exist. */
export async function startPtyPair(a: string, b: string, socatPath?: string): Promise<PtyPair> {
  const socat = socatPath ?? (await findSocat());
  if (socat === undefined) throw new Error(SOCAT_MISSING);
  const child: ChildProcess = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${socat}`);
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const devices: string[] = [];
  const seen: string[] = [];
  const lines = createInterface({ input: child.stderr! });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`socat did not make the PTY pair within ${PTY_READY_TIMEOUT_MS} ms: ${seen.join(' | ')}`)),
        PTY_READY_TIMEOUT_MS);
      lines.on('line', (line) => {
        seen.push(line);
        const m = PTY_NAME_PATTERN.exec(line);
        if (m) devices.push(m[1]!);
        if (READY_PATTERN.test(line)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`socat exited before the PTY pair was ready: ${seen.join(' | ')}`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  // Keep reading stderr so that socat never blocks on a full pipe.
  lines.removeAllListeners('line');
  lines.on('line', () => undefined);
  // A process that ends without stopping its pairs (process.exit on EPIPE, an uncaught error) must not
  // leave socat behind: 'exit' handlers run on those paths too, and kill() is synchronous.
  const killOnExit = (): void => { child.kill('SIGTERM'); };
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  let stopping: Promise<void> | undefined;
  return {
    a, b, pid, exited,
    devices: [devices[0] ?? a, devices[1] ?? b],
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), PTY_STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
