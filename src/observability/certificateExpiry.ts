// A process's own certificate ends its life on the network silently: once it is past notAfter every
// orderer, broker and gossip member refuses it, and on a board nobody is watching that is a board that
// stops syncing for no visible reason (`edgepeer init` makes certificates valid for a year:
// networkDefaults.certificateValidityMs). So each long-running process says it ahead of time: a warning
// at start and every check interval from certificateExpiryWarnMs before the end, an error once expired,
// and a gauge with the end date that an operator's alerting can watch across the fleet.
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Logger } from './logger.js';
import { Gauge, type Registry } from 'prom-client';

export const DAY_MS = 24 * 3600 * 1000;
/** How long before its notAfter a certificate is warned about. */
export const certificateExpiryWarnMs = 30 * DAY_MS;
/** How often a running process looks again (a board runs for months: the warning must come while it runs). */
export const certificateExpiryCheckIntervalMs = 3600 * 1000;

export type CertificateExpiry =
  | { kind: 'valid'; remainingMs: number }
  | { kind: 'expiring'; remainingMs: number }
  | { kind: 'expired'; sinceMs: number };

/** Where a certificate valid until `notAfterMs` stands at `nowMs`. */
export function certificateExpiry(notAfterMs: number, nowMs: number, warnBeforeMs = certificateExpiryWarnMs): CertificateExpiry {
  const remainingMs = notAfterMs - nowMs;
  if (remainingMs < 0) return { kind: 'expired', sinceMs: -remainingMs };
  return remainingMs <= warnBeforeMs ? { kind: 'expiring', remainingMs } : { kind: 'valid', remainingMs };
}

export interface CertificateExpiryWatchOptions {
  /** The process's own certificate: its id (for the log and the gauge) and end of validity. */
  certificate: { id: string; notAfterMs: number };
  clock: Clock;
  log: Logger;
  /** Where the gauge edgepeer_certificate_not_after_seconds{id} goes; none: log only. */
  registry?: Registry;
  warnBeforeMs?: number;
  checkIntervalMs?: number;
}

export interface CertificateExpiryWatch {
  /** The latest check's result. */
  readonly last: CertificateExpiry;
  /** The process took up a new certificate (reloaded live) valid until `notAfterMs`: watch that one. */
  renew(notAfterMs: number): void;
  stop(): void;
}

/** Checks now and then every interval until stopped; the timer does not keep the process alive. */
export function watchCertificateExpiry(o: CertificateExpiryWatchOptions): CertificateExpiryWatch {
  const warnBeforeMs = o.warnBeforeMs ?? certificateExpiryWarnMs;
  const intervalMs = o.checkIntervalMs ?? certificateExpiryCheckIntervalMs;
  const { id } = o.certificate;
  let notAfterMs = o.certificate.notAfterMs;
  const gauge = o.registry === undefined ? null : new Gauge({
    name: 'edgepeer_certificate_not_after_seconds',
    help: "End of validity of this process's own certificate (Unix time, seconds)",
    labelNames: ['id'],
    registers: [o.registry],
  });
  gauge?.set({ id }, Math.floor(notAfterMs / 1000));
  let timer: TimerHandle | null = null;
  let stopped = false;
  let last = certificateExpiry(notAfterMs, o.clock.now(), warnBeforeMs);
  const check = (): void => {
    last = certificateExpiry(notAfterMs, o.clock.now(), warnBeforeMs);
    const notAfter = new Date(notAfterMs).toISOString();
    if (last.kind === 'expired') {
      o.log.error({ certificate: id, notAfter }, 'own certificate has expired: the network refuses this identity; issue a new one (docs/operations.md, Certificates)');
    } else if (last.kind === 'expiring') {
      o.log.warn({ certificate: id, notAfter, daysLeft: Math.floor(last.remainingMs / DAY_MS) },
        'own certificate expires soon; issue a new one before then (docs/operations.md, Certificates)');
    }
    if (stopped) return;
    timer = o.clock.setTimeout(check, intervalMs);
    timer.unref?.();
  };
  check();
  return {
    get last() {
      return last;
    },
    renew(next) {
      notAfterMs = next;
      gauge?.set({ id }, Math.floor(notAfterMs / 1000));
      last = certificateExpiry(notAfterMs, o.clock.now(), warnBeforeMs);
    },
    stop() {
      stopped = true;
      if (timer !== null) o.clock.clearTimeout(timer);
      timer = null;
    },
  };
}
