// Builds a bundle: one versioned tarball per target with the compiled JavaScript, the production
// dependencies installed for that target's CPU (prebuilt native parts included and checked), the board
// profiles, the systemd unit and its launcher, and optionally an official Node runtime for the target.
//
//   edgepeer-<version>-<target>/
//     manifest.json  package.json  package-lock.json  README.md
//     bin/edgepeer                 launcher (bundled node if present, else node on PATH)
//     dist/src/…                   compiled JavaScript
//     node_modules/…               npm ci --omit=dev --os=linux --cpu=<cpu> --ignore-scripts
//     boards/*.json                board profiles
//     systemd/edgepeer.service     the unit
//     docs/operations.md
//     node/bin/node                with --with-node only
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename, join } from 'node:path';
import { BUNDLE_FORMAT, BUNDLE_MANIFEST_FILE, type BundleManifest } from './bundleManifest.js';
import { checkNativeParts, readElfHeader } from './nativeParts.js';
import { runChecked, runCommand } from './runCommand.js';
import { type BundleTarget, elfInfo, elfMatchesTarget } from './targets.js';

/** npm ci of the production dependencies; the registry may be slow, but not this slow. */
export const NPM_CI_TIMEOUT_MS = 10 * 60 * 1000;
export const NPM_PACK_TIMEOUT_MS = 5 * 60 * 1000;
export const TAR_TIMEOUT_MS = 5 * 60 * 1000;
/** Where `--with-node` keeps the Node packages it fetched, under the repository's node_modules. */
export const NODE_RUNTIME_CACHE = join('node_modules', '.cache', 'edgepeer-node');
export const UNIT_FILE_NAME = 'edgepeer.service';

export class BundleError extends Error {
  override readonly name = 'BundleError';
}

export interface BuildBundleOptions {
  /** Repository root: package.json, package-lock.json, dist/src, boards, packaging, docs. */
  repoRoot: string;
  target: BundleTarget;
  /** Where the tarball goes (dist-bundle). */
  outDir: string;
  /** Bundle an official Node runtime of this version range (`20`, `20.19`), or none. */
  withNode?: string | null;
  /** Progress lines. */
  log?: (line: string) => void;
  npmCommand?: string;
  /** Keep the unpacked staging folder (to inspect it); removed by default. */
  keepStaging?: boolean;
}

export interface BuiltBundle {
  name: string;
  tarball: string;
  sha256: string;
  sizeBytes: number;
  manifest: BundleManifest;
  /** Packages with C sources and no binary for the target (never loaded at run time; reported). */
  uncompiled: string[];
  /** Where the unpacked tree was assembled (removed unless keepStaging). */
  staging: string;
}

interface PackageJson {
  name: string;
  version: string;
  type?: string;
  description?: string;
  license?: string;
  engines?: { node?: string };
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  overrides?: Record<string, string>;
}

function readPackageJson(repoRoot: string): PackageJson {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
  if (typeof pkg.version !== 'string') throw new BundleError('package.json has no version');
  return pkg;
}

/** What the board needs of package.json: no scripts (prepare would run tsc), no dev dependencies. */
function runtimePackageJson(pkg: PackageJson): string {
  const keep: PackageJson = {
    name: pkg.name, version: pkg.version, type: pkg.type, description: pkg.description, license: pkg.license,
    engines: pkg.engines, bin: pkg.bin, dependencies: pkg.dependencies, overrides: pkg.overrides,
  };
  return `${JSON.stringify(keep, null, 2)}\n`;
}

export function sha256File(path: string): Promise<string> {
  return hashFile(path, 'sha256', 'hex');
}

function hashFile(path: string, algorithm: 'sha256' | 'sha512', encoding: 'hex' | 'base64'): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash(algorithm);
    createReadStream(path).on('error', reject).on('data', (c) => h.update(c)).on('end', () => resolve(h.digest(encoding)));
  });
}

async function gitCommit(repoRoot: string): Promise<string | null> {
  try {
    const r = await runCommand('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, timeoutMs: 10_000 });
    return r.code === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/** npm with the environment of the caller minus what `npm run` sets, which would override our flags. */
function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_config_(os|cpu|libc|omit|include|ignore_scripts|global|prefix)$/i.test(k)) env[k] = v;
  }
  return env;
}

async function installProductionDependencies(o: BuildBundleOptions, staging: string): Promise<void> {
  cpSync(join(o.repoRoot, 'package.json'), join(staging, 'package.json'));
  cpSync(join(o.repoRoot, 'package-lock.json'), join(staging, 'package-lock.json'));
  const args = [
    'ci', '--omit=dev', '--os=linux', `--cpu=${o.target.npmCpu}`, '--libc=glibc',
    // prepare would run tsc (not installed with --omit=dev); native parts come prebuilt, so no
    // install script has anything to do.
    '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error',
  ];
  o.log?.(`npm ${args.join(' ')}`);
  await runChecked(o.npmCommand ?? 'npm', args, { cwd: staging, env: npmEnv(), timeoutMs: NPM_CI_TIMEOUT_MS });
}

/** An official Node build for the target, fetched from the npm registry (`npm pack`) and cached. */
async function addNodeRuntime(o: BuildBundleOptions, staging: string, range: string): Promise<NonNullable<BundleManifest['node']['source']>> {
  const cache = join(o.repoRoot, NODE_RUNTIME_CACHE);
  mkdirSync(cache, { recursive: true });
  const spec = `${o.target.nodePackage}@${range}`;
  o.log?.(`npm pack ${spec}`);
  // Without --json, npm pack prints the tarball's file name as its last line (the JSON form lists
  // every one of the package's 2,000+ files).
  const packed = await runChecked(o.npmCommand ?? 'npm', ['pack', spec, '--pack-destination', cache, '--loglevel=error'], {
    cwd: cache, env: npmEnv(), timeoutMs: NPM_PACK_TIMEOUT_MS,
  });
  const file = packed.stdout.trim().split('\n').at(-1)?.trim() ?? '';
  const version = new RegExp(`^${o.target.nodePackage}-(\\d+\\.\\d+\\.\\d+)\\.tgz$`).exec(file)?.[1];
  if (version === undefined) throw new BundleError(`npm pack ${spec} printed '${file}', not a ${o.target.nodePackage} tarball name`);
  const nodeDir = join(staging, 'node');
  mkdirSync(nodeDir, { recursive: true });
  await runChecked('tar', ['-xzf', join(cache, basename(file)), '-C', nodeDir, '--strip-components=1', 'package/bin/node', 'package/LICENSE'], {
    timeoutMs: TAR_TIMEOUT_MS,
  });
  const nodeBin = join(nodeDir, 'bin', 'node');
  chmodSync(nodeBin, 0o755);
  const elf = elfInfo(readElfHeader(nodeBin));
  if (elf === null || !elfMatchesTarget(elf, o.target)) throw new BundleError(`${spec}: bin/node is not a ${o.target.name} executable`);
  // Where the runtime came from, said plainly: npm checked the package against the registry's integrity
  // hash, nothing here checks bin/node against nodejs.org's SHASUMS256.txt (it hashes the release
  // archives, not the binary, and the build machine may reach only the npm registry).
  return {
    version,
    package: `${o.target.nodePackage}@${version}`,
    packageIntegrity: `sha512-${await hashFile(join(cache, basename(file)), 'sha512', 'base64')}`,
    binarySha256: await sha256File(nodeBin),
  };
}

function copyInto(from: string, to: string, filter?: (src: string) => boolean): void {
  if (!existsSync(from)) throw new BundleError(`${from} does not exist`);
  cpSync(from, to, { recursive: true, ...(filter && { filter }) });
}

export async function buildBundle(o: BuildBundleOptions): Promise<BuiltBundle> {
  const pkg = readPackageJson(o.repoRoot);
  const name = `edgepeer-${pkg.version}-${o.target.name}`;
  const mainJs = join(o.repoRoot, 'dist', 'src', 'cli', 'main.js');
  if (!existsSync(mainJs)) throw new BundleError(`${mainJs} does not exist: build first (npm run build)`);

  const stagingRoot = join(o.outDir, '.staging');
  const staging = join(stagingRoot, name);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await installProductionDependencies(o, staging);
    writeFileSync(join(staging, 'package.json'), runtimePackageJson(pkg));

    o.log?.('copying dist/src, boards, the unit, the launcher, docs');
    copyInto(join(o.repoRoot, 'dist', 'src'), join(staging, 'dist', 'src'));
    const boardsDir = join(o.repoRoot, 'boards');
    const profiles = existsSync(boardsDir) ? readdirSync(boardsDir).filter((f) => f.endsWith('.json')).sort() : [];
    mkdirSync(join(staging, 'boards'), { recursive: true });
    for (const f of profiles) cpSync(join(boardsDir, f), join(staging, 'boards', f));
    mkdirSync(join(staging, 'bin'), { recursive: true });
    cpSync(join(o.repoRoot, 'packaging', 'bin', 'edgepeer'), join(staging, 'bin', 'edgepeer'));
    chmodSync(join(staging, 'bin', 'edgepeer'), 0o755);
    mkdirSync(join(staging, 'systemd'), { recursive: true });
    cpSync(join(o.repoRoot, 'packaging', 'systemd', UNIT_FILE_NAME), join(staging, 'systemd', UNIT_FILE_NAME));
    mkdirSync(join(staging, 'docs'), { recursive: true });
    for (const doc of ['operations.md', 'protocol.md']) {
      const p = join(o.repoRoot, 'docs', doc);
      if (existsSync(p)) cpSync(p, join(staging, 'docs', doc));
    }
    cpSync(join(o.repoRoot, 'README.md'), join(staging, 'README.md'));

    const nodeSource = o.withNode ? await addNodeRuntime(o, staging, o.withNode) : null;

    o.log?.(`checking native parts for ${o.target.name}`);
    const natives = checkNativeParts(staging, o.target);
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      name: 'edgepeer',
      version: pkg.version,
      target: o.target.name,
      builtAt: new Date().toISOString(),
      commit: await gitCommit(o.repoRoot),
      node: { bundled: nodeSource?.version ?? null, required: pkg.engines?.node ?? '>=20.15', source: nodeSource },
      natives: natives.parts,
      profiles: profiles.map((f) => f.replace(/\.json$/, '')),
    };
    writeFileSync(join(staging, BUNDLE_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

    mkdirSync(o.outDir, { recursive: true });
    const tarball = join(o.outDir, `${name}.tar.gz`);
    o.log?.(`writing ${tarball}`);
    // Owned by root, in name order: the same tree gives the same listing on any machine.
    await runChecked('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', stagingRoot, name], {
      timeoutMs: TAR_TIMEOUT_MS,
    });
    const sha256 = await sha256File(tarball);
    writeFileSync(`${tarball}.sha256`, `${sha256}  ${basename(tarball)}\n`);
    return { name, tarball, sha256, sizeBytes: statSync(tarball).size, manifest, uncompiled: natives.uncompiled, staging };
  } finally {
    if (!o.keepStaging) {
      rmSync(staging, { recursive: true, force: true });
      try {
        if (readdirSync(stagingRoot).length === 0) rmSync(stagingRoot, { recursive: true, force: true });
      } catch {
        // Already gone.
      }
    }
  }
}
