import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RateLimitedLog } from '../../../src/observability/rateLimitedLog.js';
import type { Logger } from '../../../src/observability/logger.js';
import { ManualClock } from '../../helpers/fakes.js';

function recording(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: { warn: (_f: unknown, msg: string) => { lines.push(msg); } } as unknown as Logger, lines };
}

test('one warning per key per interval; a flood of distinct keys does not grow the table past its bound', async () => {
  const clock = new ManualClock(0);
  const { log, lines } = recording();
  const w = new RateLimitedLog(log, clock, 1_000, 8);
  w.warn('a', {}, 'first');
  w.warn('a', {}, 'again');
  assert.deepEqual(lines, ['first']);
  await clock.advance(1_000);
  w.warn('a', {}, 'later');
  assert.deepEqual(lines, ['first', 'later']);
  // A forger's reasons carry block numbers: every message a new key.
  for (let n = 0; n < 10_000; n++) w.warn(`forger\nblock ${n} rejected`, {}, 'dropped');
  assert.ok(w.size <= 8, `${w.size} keys kept`);
});

test('the line after a quiet interval says how many warnings were held back', async () => {
  const clock = new ManualClock(0);
  const fields: unknown[] = [];
  const log = { warn: (f: unknown) => { fields.push(f); } } as unknown as Logger;
  const w = new RateLimitedLog(log, clock, 1_000);
  w.warn('io', { pin: 17 }, 'LED output failed');
  for (let i = 0; i < 5; i++) w.warn('io', { pin: 17 }, 'LED output failed');
  await clock.advance(1_000);
  w.warn('io', { pin: 18 }, 'LED output failed');
  assert.deepEqual(fields, [{ pin: 17 }, { pin: 18, notLoggedSince: 5 }]);
});
