// Proof that the linux-arm64 bundle runs on arm64: its own Node (bundled with --with-node) and its
// prebuilt lmdb and serialport binaries, under qemu-user, as a board peer syncing 200 blocks from an
// x86 orderer over loopback; then `edgepeer ledger verify`, also on arm64, on what it wrote.
//
// Needs qemu-aarch64-static (Debian qemu-user-static) and an arm64 glibc for it (-L): Debian's
// libc6-arm64-cross, libstdc++6-arm64-cross and libgcc-s1-arm64-cross put one in /usr/aarch64-linux-gnu
// (.ci/run installs them). Slow under emulation is fine; the time is reported, not asserted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { readBundleManifest } from '../../src/deploy/bundleManifest.js';
import { runCommand } from '../../src/deploy/runCommand.js';
import { parseStatusLine } from '../../src/observability/statusReport.js';
import { testBundle } from '../helpers/bundles.js';
import { TestRig, freePort, initNetwork, killAllProcesses, runCli } from '../helpers/processes.js';

after(killAllProcesses);

const SYSROOT = process.env['EDGEPEER_ARM64_SYSROOT'] ?? '/usr/aarch64-linux-gnu';
const BLOCKS = 200;
/** Generous: emulation on a busy 2-core machine (measured: a few seconds). */
const SYNC_TIMEOUT_MS = 240_000;
const EXIT_TIMEOUT_MS = 30_000;

async function qemu(): Promise<string | null> {
  for (const name of ['qemu-aarch64-static', 'qemu-aarch64']) {
    const r = await runCommand('sh', ['-c', `command -v ${name}`]);
    if (r.code === 0) return r.stdout.trim();
  }
  return null;
}

/** A process under qemu: stdout lines, stderr kept, stopped by PID. */
class Emulated {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();

  constructor(command: string, args: string[]) {
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT'];
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters) w();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => { this.stderr = (this.stderr + c).slice(-20_000); });
    this.exited = new Promise((resolve) => this.child.once('close', (code) => {
      for (const w of this.waiters) w();
      resolve(code);
    }));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  waitForLine(pred: (l: string) => boolean, what: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const l = this.lines.find(pred);
        if (l !== undefined) { done(); resolve(l); return; }
        if (!this.running) { done(); reject(new Error(`exited while awaiting ${what}\n${this.lines.slice(-5).join('\n')}\n${this.stderr.slice(-3000)}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out awaiting ${what}\n${this.lines.slice(-5).join('\n')}\n${this.stderr.slice(-3000)}`)); }, timeoutMs);
      const done = (): void => { clearTimeout(timer); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running && this.child.pid !== undefined) process.kill(this.child.pid, signal);
  }
}

/**
 * A hang catcher, not a performance bound: the bundle's npm install, a first download of the Node 22
 * runtime (~30 MB, then cached), and a whole Node under qemu-user. It took 153 s on 2 cores shared with
 * seven other agents (load ~20); the runner's 120 s default cut it off there.
 */
const ARM64_TEST_TIMEOUT_MS = 360_000;

test(`the linux-arm64 bundle runs a board peer under qemu that syncs ${BLOCKS} blocks from an x86 orderer`, { timeout: ARM64_TEST_TIMEOUT_MS }, async (t) => {
  const emulator = await qemu();
  if (emulator === null) return t.skip('qemu-aarch64-static is not installed (apt-get install qemu-user-static)');
  if (!existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    return t.skip(`no arm64 glibc in ${SYSROOT} (apt-get install libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross, or set EDGEPEER_ARM64_SYSROOT)`);
  }
  const rig = new TestRig();
  const procs: Emulated[] = [];
  rig.defer(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
  });
  try {
    const dir = rig.tempDir('edgepeer-arm64-');
    let started = Date.now();
    const tarball = await testBundle('linux-arm64', '22');
    const bundleSeconds = (Date.now() - started) / 1000;
    const unpacked = await runCommand('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
    assert.equal(unpacked.code, 0, unpacked.stderr);
    const manifest = readBundleManifest(dir);
    assert.equal(manifest.target, 'linux-arm64');
    assert.ok(manifest.node.bundled?.startsWith('22.'), `Node 22 inside: ${manifest.node.bundled}`);
    assert.match(manifest.node.source?.packageIntegrity ?? '', /^sha512-/, 'the package integrity is recorded');
    assert.match(manifest.node.source?.binarySha256 ?? '', /^[0-9a-f]{64}$/, 'the binary hash is recorded');
    const arm64 = (args: string[]): Emulated => {
      const p = new Emulated(emulator, ['-L', SYSROOT, join(dir, 'node', 'bin', 'node'), ...args]);
      procs.push(p);
      return p;
    };
    const main = join(dir, 'dist', 'src', 'cli', 'main.js');

    const arch = arm64(['-p', 'process.arch']);
    assert.equal(await arch.exited, 0, arch.stderr);
    assert.deepEqual(arch.lines, ['arm64'], 'the bundled node is an arm64 build, run by qemu');

    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 1, maxMessageCount: 1 });
    const port = await freePort();
    const { ready } = await rig.orderer(['--network', net, '--data', join(dir, 'orderer'), '--mqtt-port', String(port)]);
    await runCli(['submit', '--network', net, '--mqtt', ready.mqtt, '--count', String(BLOCKS - 1), '--size', '256']);

    const data = join(dir, 'board-data');
    started = Date.now();
    const peer = arm64([main, 'peer', '--network', net, '--board', 'org1-board1', '--data', data, '--mqtt', ready.mqtt, '--status-interval-ms', '500']);
    await peer.waitForLine((l) => parseStatusLine(l)?.['height'] === String(BLOCKS), `height=${BLOCKS}`, SYNC_TIMEOUT_MS);
    const syncSeconds = (Date.now() - started) / 1000;
    peer.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([peer.exited, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS); })]);
    clearTimeout(timer);
    assert.equal(code, 0, `the arm64 peer stops cleanly on SIGTERM\n${peer.stderr.slice(-2000)}`);
    assert.match(peer.stderr, /peer stopped; ledger closed/);

    started = Date.now();
    const verify = arm64([main, 'ledger', 'verify', '--data', data, '--json']);
    assert.equal(await verify.exited, 0, verify.stderr);
    const result = JSON.parse(verify.lines.at(-1)!) as { ok: boolean; height: number };
    assert.deepEqual({ ok: result.ok, height: result.height }, { ok: true, height: BLOCKS });
    t.diagnostic(`bundle (cached or built) ${bundleSeconds.toFixed(1)} s; arm64 peer start + sync of ${BLOCKS} blocks under qemu ${syncSeconds.toFixed(1)} s; arm64 ledger verify ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rig.close();
  }
});
