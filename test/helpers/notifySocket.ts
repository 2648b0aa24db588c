// A stand-in for systemd's notification socket: a unix datagram socket (Node has none, so a tiny python3
// listener) that prints each message it receives as a JSON line with the time it arrived. It reads
// without room for ancillary data, so the file descriptor systemd-notify attaches to its BARRIER=1
// message is closed by the kernel, which is what lets systemd-notify return (as systemd itself does).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { runCommand } from '../../src/deploy/runCommand.js';

const LISTENER = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"bound": True}), flush=True)
while True:
    data, _, _, _ = s.recvmsg(65536)
    print(json.dumps({"at": time.monotonic(), "fields": data.decode("utf-8", "replace").split("\\n")}), flush=True)
`;

export interface NotifyMessage {
  /** Arrival, in seconds on the listener's monotonic clock. */
  at: number;
  /** VAR=VALUE lines. */
  fields: string[];
}

export interface NotifySocket {
  path: string;
  messages: NotifyMessage[];
  /** The first message (from index `since`) whose fields include `field`. */
  waitFor(field: string, what: string, opts?: { since?: number; timeoutMs?: number }): Promise<NotifyMessage>;
  stop(): Promise<void>;
}

export const NOTIFY_WAIT_TIMEOUT_MS = 20_000;

/** Why the notify tests cannot run here, or null. */
export async function notifyToolsMissing(): Promise<string | null> {
  for (const tool of ['python3', 'systemd-notify']) {
    const r = await runCommand('sh', ['-c', `command -v ${tool}`]);
    if (r.code !== 0) return `${tool} is not installed`;
  }
  return null;
}

export async function startNotifySocket(dir: string): Promise<NotifySocket> {
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: NotifyMessage[] = [];
  const listeners = new Set<() => void>();
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const bound = new Promise<void>((resolve, reject) => {
    child.once('close', (code) => reject(new Error(`notify listener exited (${code}): ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const v = JSON.parse(line) as { bound?: boolean } & NotifyMessage;
      if (v.bound) {
        resolve();
        return;
      }
      // systemd-notify's BARRIER=1 is plumbing, not a message of the service.
      if (v.fields.length === 1 && v.fields[0] === 'BARRIER=1') return;
      messages.push({ at: v.at, fields: v.fields });
      for (const l of listeners) l();
    });
  });
  let bindTimer: NodeJS.Timeout | undefined;
  const bindTimedOut = new Promise<never>((_, reject) => {
    bindTimer = setTimeout(() => reject(new Error(`notify listener not bound after ${NOTIFY_WAIT_TIMEOUT_MS} ms: ${stderr}`)), NOTIFY_WAIT_TIMEOUT_MS);
  });
  try {
    await Promise.race([bound, bindTimedOut]);
  } catch (err) {
    // The caller gets no handle to stop it with: a listener that never bound is stopped here.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    throw err;
  } finally {
    clearTimeout(bindTimer);
  }
  return {
    path,
    messages,
    waitFor(field, what, opts = {}) {
      const find = (): NotifyMessage | undefined => messages.slice(opts.since ?? 0).find((m) => m.fields.includes(field));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = find();
          if (!m) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(m);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out awaiting ${what} (${field}); got: ${JSON.stringify(messages.map((m) => m.fields))}`));
        }, opts.timeoutMs ?? NOTIFY_WAIT_TIMEOUT_MS);
        listeners.add(check);
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
