#!/usr/bin/env node
// Runs the compiled tests with node's own runner. Node 20's `--test` takes no globs, so the files are
// found here: every *.test.js under dist/test, unit first, then integration, then the rest, each group
// sorted by path. Arguments filter by path substring: `npm test -- ledger` runs files whose path
// contains "ledger" (several arguments: any of them).
//
// Env: EDGEPEER_TEST_CONCURRENCY (test files run at once, default 1; the machine has 2 cores and the
// integration tests start brokers and processes), EDGEPEER_TEST_TIMEOUT_MS (per test, default below),
// EDGEPEER_SKIPS_FAIL=1 (set by .ci/run): a skipped test fails the run unless its file is on
// SKIP_ALLOWED (hardware-in-the-loop only), because CI installs everything the other tests need.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const DEFAULT_CONCURRENCY = 1;
/** A test that hangs fails after this long instead of stalling CI until its job limit. */
const DEFAULT_TEST_TIMEOUT_MS = 120_000;
const GROUP_ORDER = ['unit', 'integration'];
/** Test files that may skip under CI: they need a real board named in the environment. */
const SKIP_ALLOWED = [/^dist\/test\/hil\//];
const SKIPS_FILE = join('dist', 'test-skips.jsonl');

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
// A compiled test whose source was deleted or renamed stays in dist/ (tsc never removes outputs): only
// files with a test/**/*.test.ts beside them run.
const hasSource = (rel) => existsSync(join(repoRoot, 'test', rel.replace(/\.js$/, '.ts')));
const files = findTestFiles(testRoot)
  .map((f) => relative(testRoot, f))
  .filter(hasSource)
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
const skipsFail = process.env['EDGEPEER_SKIPS_FAIL'] === '1';
rmSync(join(repoRoot, SKIPS_FILE), { force: true });
mkdirSync(join(repoRoot, 'dist'), { recursive: true });
const args = [
  '--test',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  `--test-reporter=${join(repoRoot, 'scripts', 'skip-reporter.mjs')}`,
  `--test-reporter-destination=${join(repoRoot, SKIPS_FILE)}`,
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
  const skips = readSkips();
  const refused = skipsFail ? skips.filter((s) => !SKIP_ALLOWED.some((re) => re.test(s.file ?? ''))) : [];
  if (skips.length > 0) {
    console.error(`run-tests: ${skips.length} skipped${skipsFail ? `, ${refused.length} of them not allowed under CI` : ''}:`);
    for (const s of skips) console.error(`  ${refused.includes(s) ? 'FAIL' : 'skip'} ${s.file ?? '?'}: ${s.name}${s.reason === '' ? '' : ` (${s.reason})`}`);
  }
  if (refused.length > 0) {
    console.error('run-tests: under CI a skip is a failure: install what the test needs (.ci/run), or run it as root');
    process.exit(1);
  }
  process.exit(code ?? 1);
});

function readSkips() {
  const path = join(repoRoot, SKIPS_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}
