// A real Mosquitto for integration tests: a throw-away config in a temp dir, the broker in the foreground
// as a child process, stopped by PID. Tests skip (with the reason) where Mosquitto is not installed.

import { spawn, type ChildProcess } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants as fsConstants, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { maxMessageBytes } from '../../src/transport/messageLimits.js';
import { findFreePortRange } from '../../src/fleet/freePorts.js';

/** Room for the MQTT fixed header, topic and length fields on top of the largest edgepeer message. */
const packetOverheadBytes = 64 * 1024;
const readyTimeoutMs = 5_000;
const stopTimeoutMs = 5_000;
/** Characters of the broker's log kept for a failure message. */
const LOG_TAIL_CHARS = 16_384;
/** Mosquitto's own default of 1,000 queued QoS 1 messages per client drops messages in a burst test. */
const maxQueuedMessages = 100_000;

export interface MosquittoHandle {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
  /** The last of what the broker logged. */
  log(): string;
}

export const mosquittoMissing = 'mosquitto is not installed (apt-get install mosquitto)';

export async function findMosquitto(): Promise<string | undefined> {
  const candidates = ['/usr/sbin/mosquitto', ...(process.env.PATH ?? '').split(delimiter).filter((d) => d !== '').map((d) => join(d, 'mosquitto'))];
  for (const path of candidates) {
    try {
      await access(path, fsConstants.X_OK);
      return path;
    } catch {
      // not here; try the next one
    }
  }
  return undefined;
}

/**
 * A port that was free a moment ago. Taken below Linux's ephemeral range (src/fleet/freePorts.ts): a port
 * the kernel handed out for port 0 is one it may hand again to any outgoing connection before the process
 * the test starts binds it (seen in CI: a board's gossip listen failed with EADDRINUSE).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return findFreePortRange(host, 1);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export async function startMosquitto(opts: { port?: number } = {}): Promise<MosquittoHandle | { skip: string }> {
  const binary = await findMosquitto();
  if (binary === undefined) return { skip: mosquittoMissing };
  const port = opts.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-mosquitto-'));
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `max_packet_size ${maxMessageBytes + packetOverheadBytes}`,
      `max_queued_messages ${maxQueuedMessages}`,
      'persistence false',
      // Mosquitto leaves Nagle on by default: every request/reply round trip then takes ~44 ms.
      'set_tcp_nodelay true',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      '',
    ].join('\n'),
  );

  return runMosquitto(configFile, { binary, port, removeOnStop: dir });
}

export interface RunMosquittoOptions {
  /** The broker's listener port, for the handle's URL. */
  port: number;
  /** Host the handle's URL names (default 127.0.0.1). */
  host?: string;
  /** Command prefix, e.g. `ip netns exec NS` to run the broker in a network namespace. */
  prefix?: readonly string[];
  binary?: string;
  /** A folder removed once the broker has stopped (its throw-away config). */
  removeOnStop?: string;
}

/** Runs Mosquitto on a config file (e.g. one `edgepeer init` wrote) until the handle stops it by PID. */
export async function runMosquitto(configFile: string, o: RunMosquittoOptions): Promise<MosquittoHandle> {
  const binary = o.binary ?? (await findMosquitto());
  if (binary === undefined) throw new Error(mosquittoMissing);
  const port = o.port;
  const [command, ...args] = [...(o.prefix ?? []), binary, '-c', configFile] as unknown as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const removeDir = async (): Promise<void> => {
    if (o.removeOnStop !== undefined) await rm(o.removeOnStop, { recursive: true, force: true });
  };
  let log = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`mosquitto not ready after ${readyTimeoutMs} ms`)), readyTimeoutMs);
      const onData = (chunk: Buffer): void => {
        log += chunk.toString('utf8');
        // Printed once the listeners are open: "mosquitto version 2.0.11 running".
        if (/mosquitto version \S+ running/.test(log)) done();
      };
      const onExit = (code: number | null, signal: string | null): void =>
        fail(new Error(`mosquitto exited (code ${code}, signal ${signal}) before it was ready`));
      const onError = (err: Error): void => fail(err);
      function cleanup(): void {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        child.off('exit', onExit);
        child.off('error', onError);
      }
      function done(): void {
        cleanup();
        resolve();
      }
      function fail(err: Error): void {
        cleanup();
        reject(new Error(`${err.message}\n--- mosquitto log ---\n${log}`));
      }
      child.stderr?.on('data', onData);
      child.once('exit', onExit);
      child.once('error', onError);
    });
  } catch (err) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGKILL');
      await exited(child);
    }
    await removeDir();
    throw err;
  }
  // Keep reading so a chatty broker never blocks on a full pipe; the tail is kept for failure messages.
  child.stderr?.on('data', (chunk: Buffer) => { log = (log + chunk.toString('utf8')).slice(-LOG_TAIL_CHARS); });
  const pid = child.pid;
  if (pid === undefined) throw new Error('mosquitto has no PID');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = exited(child);
        process.kill(pid, 'SIGTERM');
        const timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
        }, stopTimeoutMs);
        await gone;
        clearTimeout(timer);
      }
      await removeDir();
    })();
    return stopping;
  };
  return { url: `mqtt://${o.host ?? '127.0.0.1'}:${port}`, port, pid, stop, log: () => log };
}

/**
 * Under root, Mosquitto drops to its own user, which cannot read a test's private folders: a copy of
 * `config` (one edgepeer wrote) told to stay root, beside it. Elsewhere `config` itself.
 */
export function configAsTestUser(config: string): string {
  if (process.getuid?.() !== 0) return config;
  const copy = `${config}.test`;
  writeFileSync(copy, `user root\n${readFileSync(config, 'utf8')}`, { mode: 0o600 });
  return copy;
}
