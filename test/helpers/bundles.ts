// Real bundles for the tests (npm run bundle's code, with npm ci against the registry), built once per
// content: cached under the OS temp folder by a hash of everything that goes into them, so the bundle,
// deploy and arm64 test files share one build per target.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from '../../src/deploy/buildBundle.js';
import { bundleTarget, type BundleTargetName } from '../../src/deploy/targets.js';

/** This file is dist/test/helpers/bundles.js. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BUNDLE_CACHE_DIR = join(tmpdir(), 'edgepeer-test-bundles');

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashTree(h, p);
    else if (e.isFile()) h.update(p.slice(REPO_ROOT.length)).update(readFileSync(p));
  }
}

function contentKey(target: BundleTargetName, withNode: string | null): string {
  const h = createHash('sha256').update(`${target}/${withNode ?? 'no-node'}`);
  for (const f of ['package.json', 'package-lock.json', 'README.md']) h.update(readFileSync(join(REPO_ROOT, f)));
  for (const d of ['dist/src', 'boards', 'packaging', 'docs']) hashTree(h, join(REPO_ROOT, d));
  return h.digest('hex').slice(0, 16);
}

/** Builds cached at most (older ones are of other contents: the tree has changed since). */
const CACHE_ENTRIES_KEPT = 4;
/** A build folder this old belongs to a run that died (another run may be building in a newer one). */
const STALE_BUILD_MS = 30 * 60 * 1000;

function pruneCache(): void {
  if (!existsSync(BUNDLE_CACHE_DIR)) return;
  const entries = readdirSync(BUNDLE_CACHE_DIR).map((name) => ({ name, mtimeMs: statSync(join(BUNDLE_CACHE_DIR, name)).mtimeMs }));
  const builds = entries.filter((e) => e.name.includes('.building-'));
  const done = entries.filter((e) => !e.name.includes('.building-')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  const stale = [...builds.filter((e) => Date.now() - e.mtimeMs > STALE_BUILD_MS), ...done.slice(CACHE_ENTRIES_KEPT - 1)];
  for (const e of stale) rmSync(join(BUNDLE_CACHE_DIR, e.name), { recursive: true, force: true });
}

/**
 * The tarball of a bundle of the current tree for `target`, built if not cached. Several test runs
 * may build at once (engineers share the machine): each builds in its own folder and the first to
 * finish renames it into place.
 */
export async function testBundle(target: BundleTargetName, withNode: string | null = null): Promise<string> {
  const key = contentKey(target, withNode);
  const dir = join(BUNDLE_CACHE_DIR, key);
  const cached = (): string | undefined => {
    const f = existsSync(dir) ? readdirSync(dir).find((n) => n.endsWith('.tar.gz')) : undefined;
    return f === undefined ? undefined : join(dir, f);
  };
  const hit = cached();
  if (hit !== undefined) return hit;
  mkdirSync(BUNDLE_CACHE_DIR, { recursive: true });
  pruneCache();
  const building = mkdtempSync(join(BUNDLE_CACHE_DIR, `${key}.building-`));
  try {
    await buildBundle({ repoRoot: REPO_ROOT, target: bundleTarget(target), outDir: building, withNode });
    try {
      renameSync(building, dir);
    } catch (err) {
      // Another run got there first with the same contents.
      if (cached() === undefined) throw err;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  const built = cached();
  if (built === undefined) throw new Error(`bundle cache ${dir} has no tarball after a build`);
  return built;
}
