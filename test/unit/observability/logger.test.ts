import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const LOGGER_JS = fileURLToPath(new URL('../../../src/observability/logger.js', import.meta.url));

/** Loads the logger in a fresh process, makes one logger, and says whether pino-pretty was loaded. */
function prettyLoaded(pretty: boolean): boolean {
  const script = `
    import { createRequire } from 'node:module';
    const { createLogger } = await import(${JSON.stringify(LOGGER_JS)});
    createLogger({ name: 't', pretty: ${pretty}, destination: process.stderr }).info('one line');
    const require = createRequire(import.meta.url);
    const loaded = Object.keys(require.cache).some((p) => p.includes('/pino-pretty/'));
    process.stdout.write(loaded ? 'loaded' : 'not loaded');
  `;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }) === 'loaded';
}

test('pino-pretty is loaded only by a logger that prettifies (a terminal), never for JSON lines', () => {
  assert.equal(prettyLoaded(false), false);
  assert.equal(prettyLoaded(true), true);
});
