// Runs an external tool (npm, tar, ssh, mtools, openssl) to its end and collects what it printed, so a
// failure can say which command failed and quote its last words.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A file fed to the command's standard input (ssh uploads). */
  stdinFile?: string;
  /** Bytes fed to standard input. */
  input?: string | Uint8Array;
  /** Killed (SIGKILL) after this long; reported as a failure. */
  timeoutMs?: number;
  /** Called with each chunk of stderr as it arrives (progress of long commands). */
  onStderr?: (chunk: string) => void;
}

/** Output kept per stream: enough for any message, bounded for commands that print a lot. */
const OUTPUT_KEPT_CHARS = 256 * 1024;
const QUOTED_LINES = 8;

function keepTail(s: string): string {
  return s.length > OUTPUT_KEPT_CHARS ? s.slice(-OUTPUT_KEPT_CHARS) : s;
}

/** `'it'\''s'`-style quoting: the word as one POSIX shell word. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellQuote).join(' ');
}

/** Runs `command args` without a shell; never throws for a non-zero exit (see checkResult). */
export function runCommand(command: string, args: readonly string[], o: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: o.cwd, env: o.env ?? process.env, stdio: [o.stdinFile !== undefined || o.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // Both are pipes (stdio above), so neither is null.
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => { stdout = keepTail(stdout + c); });
    child.stderr!.on('data', (c: string) => {
      stderr = keepTail(stderr + c);
      o.onStderr?.(c);
    });
    const timer = o.timeoutMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
    if (child.stdin !== null) {
      // The command may exit before reading everything (ssh refusing to connect): not our error to report.
      child.stdin.on('error', () => undefined);
      if (o.stdinFile !== undefined) {
        const input = createReadStream(o.stdinFile);
        input.on('error', (err) => { child.kill('SIGKILL'); reject(new Error(`cannot read ${o.stdinFile}: ${err.message}`)); });
        input.pipe(child.stdin);
      } else {
        child.stdin.end(o.input);
      }
    }
    child.once('error', (err) => {
      if (timer !== null) clearTimeout(timer);
      reject(new Error(`${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      if (timer !== null) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The last lines a command wrote, for messages. */
export function lastLines(text: string, n = QUOTED_LINES): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

/** Throws unless the command exited with 0, quoting the command and its last lines of stderr. */
export function checkResult(r: CommandResult, command: string, args: readonly string[]): CommandResult {
  if (r.code === 0) return r;
  const how = r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.code}`;
  const said = lastLines(r.stderr) || lastLines(r.stdout) || '(no output)';
  throw new Error(`${commandLine(command, args)} failed (${how}):\n${said}`);
}

/** runCommand + checkResult. */
export async function runChecked(command: string, args: readonly string[], o: RunCommandOptions = {}): Promise<CommandResult> {
  return checkResult(await runCommand(command, args, o), command, args);
}
