#!/usr/bin/env node
// `npm start`, `npm test` and the other scripts build first (`node scripts/build.mjs`); a full tsc takes 10-13 s on this project.
// This runs tsc (incremental: it re-checks only what changed since dist/.tsbuildinfo) only when a source
// is newer than the last build. Directories count too: deleting or renaming a file touches its folder.
// `npm run build` passes --always.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';

const BUILD_INFO = join('dist', '.tsbuildinfo');
const TSC_ARGS = ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', BUILD_INFO];

const SOURCE_ROOTS = ['src', 'test', 'scripts'];
const SOURCE_FILES = ['tsconfig.json', 'package.json', 'package-lock.json'];

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
// tsc leaves the build info alone when nothing it compiles changed (an edit to package.json): stamp it, so
// the next run sees a build newer than every source.
if (r.status === 0) {
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}
process.exit(r.status ?? 1);
