#!/usr/bin/env node
// Runs the compiled tests with node's own runner. Node 20's `--test` takes no globs, so the files are
// found here: every *.test.js under dist/test, unit first, then integration, then the rest, each group
// sorted by path. Arguments filter by path substring: `npm test -- ledger` runs files whose path
// contains "ledger" (several arguments: any of them).
//
// Env: EDGEPEER_TEST_CONCURRENCY (test files run at once, default 1; the machine has 2 cores and the
// integration tests start brokers and processes), EDGEPEER_TEST_TIMEOUT_MS (per test, default below).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_CONCURRENCY = 1;
/** A test that hangs fails after this long instead of stalling CI until its job limit. */
const DEFAULT_TEST_TIMEOUT_MS = 120_000;
const GROUP_ORDER = ['unit', 'integration'];

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(repoRoot, 'dist', 'test');

function positiveIntFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`run-tests: ${name} must be a positive integer, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

function findTestFiles(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findTestFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

function groupRank(relPath) {
  const top = relPath.split(sep)[0];
  const i = GROUP_ORDER.indexOf(top);
  return i < 0 ? GROUP_ORDER.length : i;
}

if (!existsSync(testRoot)) {
  console.error(`run-tests: ${relative(process.cwd(), testRoot) || testRoot} does not exist; build first (npx tsc -p .)`);
  process.exit(1);
}

const filters = process.argv.slice(2);
const files = findTestFiles(testRoot)
  .map((f) => relative(testRoot, f))
  .filter((rel) => filters.length === 0 || filters.some((f) => rel.includes(f)))
  .sort((a, b) => groupRank(a) - groupRank(b) || (a < b ? -1 : a > b ? 1 : 0))
  .map((rel) => relative(repoRoot, join(testRoot, rel)));

if (files.length === 0) {
  console.error(filters.length === 0
    ? 'run-tests: no *.test.js files under dist/test'
    : `run-tests: no test file path contains any of: ${filters.join(', ')}`);
  process.exit(1);
}

const concurrency = positiveIntFromEnv('EDGEPEER_TEST_CONCURRENCY', DEFAULT_CONCURRENCY);
const timeoutMs = positiveIntFromEnv('EDGEPEER_TEST_TIMEOUT_MS', DEFAULT_TEST_TIMEOUT_MS);
const args = [
  '--test',
  '--test-reporter=spec',
  `--test-concurrency=${concurrency}`,
  `--test-timeout=${timeoutMs}`,
  ...files,
];

const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: 'inherit' });
// Ctrl-C reaches the whole process group anyway; a SIGTERM from CI goes to this process only.
for (const signal of ['SIGTERM', 'SIGHUP']) {
  process.on(signal, () => { child.kill(signal); });
}
child.on('exit', (code, signal) => {
  if (signal !== null) {
    console.error(`run-tests: test runner ended by ${signal}`);
    process.exit(1);
  }
  process.exit(code ?? 1);
});
