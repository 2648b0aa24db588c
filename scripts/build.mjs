#!/usr/bin/env node
// `npm start`, `npm test` and the other scripts build first (`node scripts/build.mjs`); a full tsc takes 10-13 s on this project.
// This runs tsc (incremental: it re-checks only what changed since dist/.tsbuildinfo) only when a source
// is newer than the last build. Directories count too: deleting or renaming a file touches its folder.
// `npm run build` passes --always.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';

const BUILD_INFO = join('dist', '.tsbuildinfo');
const TSC_ARGS = ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO];

const SOURCE_ROOTS = ['src', 'test', 'scripts'];
const SOURCE_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];
/**
 * Files under src/ that ship as they are, beside the JavaScript compiled from their folder (tsc copies
 * none): the gpiod backend's Python line holder. dist/src is what the npm package and the bundle carry.
 */
const ASSET_SUFFIXES = ['.py'];

function copyAssets(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) copyAssets(src, dst);
    else if (ASSET_SUFFIXES.some((s) => entry.name.endsWith(s))) {
      mkdirSync(dirname(dst), { recursive: true });
      copyFileSync(src, dst);
    }
  }
}

function newestMtimeMs(path) {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

const built = statSync(BUILD_INFO, { throwIfNoEntry: false })?.mtimeMs ?? -1;
const sources = Math.max(...SOURCE_ROOTS.map(newestMtimeMs), ...SOURCE_FILES.map(newestMtimeMs));
if (!process.argv.includes('--always') && built >= sources) process.exit(0);
const r = spawnSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), ...TSC_ARGS], { stdio: 'inherit' });
if (r.status === 0) {
  copyAssets('src', join('dist', 'src'));
  // tsc leaves the build info alone when nothing it compiles changed (an edit to package.json): stamp it,
  // so the next run sees a build newer than every source.
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}
process.exit(r.status ?? 1);
