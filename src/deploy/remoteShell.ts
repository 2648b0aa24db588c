// How deploy reaches a board: `ssh user@host sh -c '<script>'`, through `sudo -n` unless the user is
// root. The ssh program is replaceable (--ssh), which is how the tests run the scripts on a fake board.
import { commandLine, shellQuote } from './runCommand.js';

export type SudoMode = 'auto' | 'always' | 'never';

export interface SshOptions {
  /** The ssh program (or a wrapper with the same arguments). */
  command: string;
  /** Extra ssh arguments before the destination (`-i key`, `-o StrictHostKeyChecking=accept-new`). */
  extraArgs: readonly string[];
  connectTimeoutSec: number;
  sudo: SudoMode;
}

export interface RemoteTarget {
  host: string;
  user: string;
  port: number;
}

export const DEFAULT_SSH_CONNECT_TIMEOUT_SEC = 10;

export interface RemoteCommand {
  command: string;
  args: string[];
  /** A local file sent as standard input (an upload). */
  stdinFile?: string;
  /** The script, sent as standard input to `sh -s` (every step but uploads). */
  script?: string;
}

/**
 * The script goes to the board on standard input (`sh -s`), so the command line stays short and the
 * dry run can print it as it is; an upload's standard input is the file, so its (one-line) script is
 * the argument of `sh -c`.
 */
export function remoteCommand(o: SshOptions, t: RemoteTarget, script: string, stdinFile?: string): RemoteCommand {
  const useSudo = o.sudo === 'always' || (o.sudo === 'auto' && t.user !== 'root');
  // ssh hands its command to the login shell of the remote user, whatever that is: sh makes it POSIX sh.
  const shell = stdinFile === undefined ? 'sh -s' : `sh -c ${shellQuote(script)}`;
  const args = [
    '-p', String(t.port),
    // Never prompt: boards are deployed in parallel, unattended.
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${o.connectTimeoutSec}`,
    ...o.extraArgs,
    `${t.user}@${t.host}`,
    `${useSudo ? 'sudo -n ' : ''}${shell}`,
  ];
  return stdinFile === undefined ? { command: o.command, args, script } : { command: o.command, args, stdinFile };
}

const HEREDOC_END = 'EDGEPEER_SCRIPT';

/** The exact command, as it would be typed (the script as a here-document). */
export function describeRemoteCommand(c: RemoteCommand): string {
  const line = commandLine(c.command, c.args);
  if (c.stdinFile !== undefined) return `${line} < ${shellQuote(c.stdinFile)}`;
  if (c.script !== undefined) return `${line} <<'${HEREDOC_END}'\n${c.script}\n${HEREDOC_END}`;
  return line;
}
