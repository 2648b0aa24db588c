// A process says ahead of time that its own certificate ends: nothing at all while it is far off, a
// warning from certificateExpiryWarnMs before the end (at start and at every check while it runs), an
// error once it has ended, and the end date on a gauge for fleet-wide alerting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { DAY_MS, certificateExpiry, watchCertificateExpiry } from '../../../src/observability/certificateExpiry.js';
import type { Logger } from '../../../src/observability/logger.js';
import { ManualClock } from '../../helpers/fakes.js';

const WARN_BEFORE_MS = 30 * DAY_MS;
const CHECK_INTERVAL_MS = DAY_MS;

function recording(): { log: Logger; lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string): void => { lines.push({ level, msg, fields }); };
  return { log: { warn: at('warn'), error: at('error') } as unknown as Logger, lines };
}

test('expiry: valid far off, expiring within the warning window, expired after notAfter', () => {
  const notAfter = 100 * DAY_MS;
  assert.equal(certificateExpiry(notAfter, 0, WARN_BEFORE_MS).kind, 'valid');
  assert.deepEqual(certificateExpiry(notAfter, notAfter - WARN_BEFORE_MS, WARN_BEFORE_MS), { kind: 'expiring', remainingMs: WARN_BEFORE_MS });
  assert.deepEqual(certificateExpiry(notAfter, notAfter, WARN_BEFORE_MS), { kind: 'expiring', remainingMs: 0 });
  assert.deepEqual(certificateExpiry(notAfter, notAfter + 1, WARN_BEFORE_MS), { kind: 'expired', sinceMs: 1 });
});

test('a running process warns once the end is near, on its own checks, and errors once it is past', async (t) => {
  const clock = new ManualClock(0);
  const { log, lines } = recording();
  const registry = new Registry();
  const notAfterMs = 40 * DAY_MS;
  const watch = watchCertificateExpiry({
    certificate: { id: 'org1-board1', notAfterMs }, clock, log, registry, warnBeforeMs: WARN_BEFORE_MS, checkIntervalMs: CHECK_INTERVAL_MS,
  });
  t.after(() => watch.stop());
  assert.equal(lines.length, 0, 'nothing said while the end is 40 days off');
  const gauge = (await registry.getSingleMetric('edgepeer_certificate_not_after_seconds')!.get()).values;
  assert.deepEqual(gauge.map((v) => [v.labels['id'], v.value]), [['org1-board1', notAfterMs / 1000]]);

  await clock.advance(10 * DAY_MS);
  assert.equal(watch.last.kind, 'expiring');
  assert.equal(lines.length, 1, 'the check of the day the window opens warns');
  assert.equal(lines[0]!.level, 'warn');
  assert.equal(lines[0]!.fields['daysLeft'], 30);
  assert.equal(lines[0]!.fields['notAfter'], new Date(notAfterMs).toISOString());

  // Days 10 to 40 warn (on day 40 it ends at that instant), day 41 finds it expired.
  await clock.advance(31 * DAY_MS);
  assert.equal(watch.last.kind, 'expired');
  assert.equal(lines.at(-1)!.level, 'error');
  assert.match(lines.at(-1)!.msg, /expired/);
  assert.equal(lines.filter((l) => l.level === 'warn').length, 31, 'one warning per daily check in the window');

  watch.stop();
  const said = lines.length;
  await clock.advance(10 * DAY_MS);
  assert.equal(lines.length, said, 'a stopped watch checks no more');
});

test('a process started with an expired certificate says so at once', (t) => {
  const clock = new ManualClock(50 * DAY_MS);
  const { log, lines } = recording();
  const watch = watchCertificateExpiry({ certificate: { id: 'orderer', notAfterMs: DAY_MS }, clock, log });
  t.after(() => watch.stop());
  assert.equal(watch.last.kind, 'expired');
  assert.deepEqual(lines.map((l) => l.level), ['error']);
});
