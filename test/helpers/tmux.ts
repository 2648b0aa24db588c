// A terminal for tests of full-screen programs: a tmux server of the test's own (its own socket), one
// session of a fixed size running the command, the screen read back with capture-pane, keys sent with
// send-keys. The server is stopped by PID.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCREEN_POLL_MS = 100;

export const TMUX_MISSING = 'tmux is not installed (apt-get install tmux): it is the terminal of the panel test';

export async function findTmux(): Promise<string | undefined> {
  for (const dir of ['/usr/bin', ...(process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '')]) {
    try {
      await access(join(dir, 'tmux'), fsConstants.X_OK);
      return join(dir, 'tmux');
    } catch {
      // not here
    }
  }
  return undefined;
}

export class TmuxSession {
  private serverPid: number | null = null;

  private constructor(private readonly tmux: string, private readonly socket: string) {}

  /** Starts `command` (one shell command line) in a detached session of width × height. */
  static async start(command: string, o: { width: number; height: number; env?: Record<string, string> }): Promise<TmuxSession> {
    const tmux = await findTmux();
    if (tmux === undefined) throw new Error(TMUX_MISSING);
    const s = new TmuxSession(tmux, `edgepeer-test-${process.pid}-${Date.now()}`);
    const envArgs = Object.entries(o.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await s.tmuxCmd(['new-session', '-d', '-s', 'main', '-x', String(o.width), '-y', String(o.height), ...envArgs, command]);
    s.serverPid = Number((await s.tmuxCmd(['display-message', '-p', '-t', 'main', '#{pid}'])).trim());
    return s;
  }

  /** The visible screen; with `escapes`, including the colour and attribute sequences. */
  async screen(escapes = false): Promise<string> {
    return this.tmuxCmd(['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'main']);
  }

  /** Polls the screen until `predicate` holds; fails after `timeoutMs` showing the last screen. */
  async waitForScreen(predicate: (screen: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      last = await this.screen().catch(() => last);
      if (predicate(last)) return last;
      if (Date.now() > deadline) throw new Error(`timed out awaiting ${what}; screen:\n${last}`);
      await new Promise((r) => setTimeout(r, SCREEN_POLL_MS));
    }
  }

  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmuxCmd(['send-keys', '-t', 'main', ...keys]);
  }

  /** Whether the session still exists (it ends when its command exits). */
  async alive(): Promise<boolean> {
    return this.tmuxCmd(['has-session', '-t', 'main']).then(() => true, () => false);
  }

  /** Stops the tmux server by its PID (its session and command with it). */
  async stop(): Promise<void> {
    const pid = this.serverPid;
    this.serverPid = null;
    if (pid === null || !Number.isInteger(pid) || pid <= 0) return;
    try {
      process.kill(pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private async tmuxCmd(args: string[]): Promise<string> {
    const { stdout } = await run(this.tmux, ['-L', this.socket, ...args]);
    return stdout;
  }
}
