// Bundles for real (npm ci against the registry): what a linux-x64 bundle holds (the gpiod backend's python
// line holder among it, where the bundled backend looks for it) and that it runs here;
// its systemd unit passes `systemd-analyze verify` as installed on a board; the bundle command builds
// an armv7 bundle whose native parts are 32-bit ARM binaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBundleManifest } from '../../src/deploy/bundleManifest.js';
import { readElfHeader } from '../../src/deploy/nativeParts.js';
import { runCommand } from '../../src/deploy/runCommand.js';
import { BUNDLE_TARGETS, elfInfo, elfMatchesTarget } from '../../src/deploy/targets.js';
import { REPO_ROOT, testBundle } from '../helpers/bundles.js';
import { fakeGpiod } from '../helpers/fakeGpiod.js';
import { TestRig, freePort } from '../helpers/processes.js';

const BUNDLE_JS = join(REPO_ROOT, 'dist', 'scripts', 'bundle.js');

async function unpack(tarball: string, into: string): Promise<void> {
  mkdirSync(into, { recursive: true });
  const r = await runCommand('tar', ['-xzf', tarball, '-C', into, '--strip-components=1']);
  assert.equal(r.code, 0, r.stderr);
}

test('a linux-x64 bundle: production dependencies with checked native parts, profiles, unit, launcher; it runs', async () => {
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-bundle-');
    const tarball = await testBundle('linux-x64');
    assert.match(tarball, /edgepeer-\d+\.\d+\.\d+-linux-x64\.tar\.gz$/);
    const b = join(dir, 'b');
    await unpack(tarball, b);
    const manifest = readBundleManifest(b);
    assert.equal(manifest.target, 'linux-x64');
    assert.equal(manifest.node.bundled, null);
    for (const name of ['lmdb', 'serialport (@serialport/bindings-cpp)']) {
      const part = manifest.natives.find((p) => p.name === name);
      assert.ok(part?.file, `${name} found`);
      const info = elfInfo(readElfHeader(join(b, part.file)));
      assert.ok(info && elfMatchesTarget(info, BUNDLE_TARGETS['linux-x64']), `${part.file} is an x86-64 ELF`);
    }
    assert.ok(!existsSync(join(b, 'node_modules', 'typescript')), 'no dev dependencies');
    assert.ok(!existsSync(join(b, 'node_modules', 'eslint')));
    const pkg = JSON.parse(readFileSync(join(b, 'package.json'), 'utf8')) as { scripts?: unknown; devDependencies?: unknown };
    assert.equal(pkg.scripts, undefined, 'no prepare script to run tsc on a board');
    assert.equal(pkg.devDependencies, undefined);
    assert.deepEqual(manifest.profiles, ['emulated', 'raspberry-pi-4', 'raspberry-pi-5', 'raspberry-pi-zero-2-w'].filter((p) => existsSync(join(REPO_ROOT, 'boards', `${p}.json`))));
    for (const p of manifest.profiles) assert.ok(existsSync(join(b, 'boards', `${p}.json`)));
    assert.ok(existsSync(join(b, 'systemd', 'edgepeer.service')));
    assert.ok(existsSync(join(b, 'docs', 'operations.md')));
    assert.equal(statSync(join(b, 'bin', 'edgepeer')).mode & 0o111, 0o111, 'the launcher is executable');
    // The python line holder ships, where the bundle's own gpiod backend looks for it, and runs from there.
    const holder = await runCommand(process.execPath, ['--input-type=module', '-e',
      `import { GPIOD_LINE_HOLDER } from ${JSON.stringify(join(b, 'dist', 'src', 'board', 'io', 'gpiodIo.js'))}; console.log(GPIOD_LINE_HOLDER);`]);
    assert.equal(holder.code, 0, holder.stderr);
    assert.equal(holder.stdout.trim(), join(b, 'dist', 'src', 'board', 'io', 'gpiodLineHolder.py'));
    const bindings = fakeGpiod({ python: 'v2' });
    try {
      const probe = await runCommand(bindings.tools.python3, [holder.stdout.trim(), '--probe']);
      assert.equal(probe.code, 0, probe.stderr);
      assert.match(probe.stdout, /^libgpiod python bindings v2 /);
    } finally {
      bindings.remove();
    }

    const version = await runCommand(join(b, 'bin', 'edgepeer'), ['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout.trim(), manifest.version);
    const port = await freePort();
    const health = await runCommand(join(b, 'bin', 'edgepeer'), ['health', '--metrics-port', String(port)]);
    assert.equal(health.code, 1);
    assert.match(health.stdout, new RegExp(`^unhealthy: no answer from 127\\.0\\.0\\.1:${port}/metrics \\(ECONNREFUSED\\)`));
  } finally {
    await rig.close();
  }
});

test('systemd-analyze verify passes on the bundled unit, installed as deploy installs it', async (t) => {
  const which = await runCommand('sh', ['-c', 'command -v systemd-analyze']);
  if (which.code !== 0) return t.skip('systemd-analyze is not installed');
  const rig = new TestRig();
  try {
    const root = rig.tempDir('edgepeer-unit-');
    const release = join(root, 'opt/edgepeer/releases/r1');
    await unpack(await testBundle('linux-x64'), release);
    symlinkSync('releases/r1', join(root, 'opt/edgepeer/current'));
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    copyFileSync(join(release, 'systemd/edgepeer.service'), join(root, 'etc/systemd/system/edgepeer.service'));
    // The units the unit refers to (network-online.target, multi-user.target, ...) are this machine's.
    mkdirSync(join(root, 'usr/lib'), { recursive: true });
    symlinkSync('/usr/lib/systemd', join(root, 'usr/lib/systemd'));
    const r = await runCommand('systemd-analyze', [`--root=${root}`, 'verify', 'edgepeer.service']);
    // verify exits 0 even for unknown keys or bad values: what it says about our unit counts too.
    const ours = r.stderr.split('\n').filter((l) => l.includes('edgepeer.service'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ours, [], `systemd-analyze has something to say about the unit:\n${ours.join('\n')}`);
  } finally {
    await rig.close();
  }
});

test('npm run bundle -- --target linux-armv7: 32-bit ARM native parts, or a loud failure', async () => {
  const rig = new TestRig();
  try {
    const out = rig.tempDir('edgepeer-bundle-');
    const r = await runCommand(process.execPath, [BUNDLE_JS, '--target', 'linux-armv7', '--out', out, '--json'], { timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    const built = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { tarball: string; sha256: string; manifest: { natives: { name: string; file: string | null; required: boolean }[] } };
    assert.equal(readFileSync(`${built.tarball}.sha256`, 'utf8'), `${built.sha256}  edgepeer-${readBundleManifestVersion()}-linux-armv7.tar.gz\n`);
    const b = join(out, 'unpacked');
    await unpack(built.tarball, b);
    for (const p of built.manifest.natives.filter((x) => x.required)) {
      assert.ok(p.file, `${p.name} present`);
      assert.deepEqual(elfInfo(readElfHeader(join(b, p.file))), { elfClass: 32, machine: 40 }, `${p.file}: 32-bit ARM`);
    }
    assert.ok(!existsSync(join(out, '.staging')), 'the staging tree is removed');

    const unknown = await runCommand(process.execPath, [BUNDLE_JS, '--target', 'linux-mips', '--out', out]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown target 'linux-mips' \(targets: linux-arm64, linux-armv7, linux-x64\)/);
  } finally {
    await rig.close();
  }
});

function readBundleManifestVersion(): string {
  return (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}
