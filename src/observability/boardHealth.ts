// Whether a running board peer is healthy, judged from its own /metrics: the process answers, its
// ledger is open (it reports a height), and, unless told otherwise, a link to an orderer is up.
// `edgepeer health` prints this; deploy runs it on the board after a restart and rolls back on "no".
import { METRICS_PATH } from './metricsServer.js';
import { type MetricSample, parseMetricsText } from './metricsText.js';

export const HEALTH_FETCH_TIMEOUT_MS = 3_000;

export interface BoardHealth {
  healthy: boolean;
  /** Why not, in one line; null when healthy. */
  reason: string | null;
  height: number | null;
  linksUp: number;
  links: number;
}

export interface HealthRules {
  /** A board that reaches no orderer is unhealthy (default true). */
  requireLink: boolean;
  /**
   * A board pulling from the orderer that has heard nothing from it (no block, no heartbeat) for this long
   * is unhealthy: an open stream hears a heartbeat every heartbeatMs (5 s), and the deliver client gives a
   * silent stream up after streamStallTimeoutMs (20 s) and tries again. Default HEALTH_MAX_DELIVER_SILENCE_MS.
   */
  maxDeliverSilenceMs?: number;
  /** Unix time in ms (tests); default now. */
  nowMs?: number;
}

/** Three stall timeouts and the longest backoff: a board that is really re-trying has heard something by then. */
export const HEALTH_MAX_DELIVER_SILENCE_MS = 70_000;

/** Only an orderer serves Deliver streams (a gauge without labels: always exported, also before the first block). */
const ORDERER_ONLY_METRIC = 'edgepeer_deliver_streams_open';
const EDGEPEER_METRIC_PREFIX = 'edgepeer_';
const CERTIFICATE_NOT_AFTER_METRIC = 'edgepeer_certificate_not_after_seconds';
const FORK_DETECTED_METRIC = 'edgepeer_fork_detected';
const FORK_BLOCK_METRIC = 'edgepeer_fork_block';

export function judgeBoardHealth(samples: readonly MetricSample[], rules: HealthRules): BoardHealth {
  const heights = samples.filter((s) => s.name === 'edgepeer_ledger_height');
  const links = samples.filter((s) => s.name === 'edgepeer_orderer_link_up');
  const linksUp = links.filter((s) => s.value === 1).length;
  const height = heights.length > 0 ? Math.max(...heights.map((s) => s.value)) : null;
  const base = { height, linksUp, links: links.length };
  // A common slip: the port of an orderer (or of something else entirely). Say what answered.
  if (samples.some((s) => s.name === ORDERER_ONLY_METRIC) && links.length === 0) {
    return { ...base, healthy: false, reason: `these are an orderer's metrics (${ORDERER_ONLY_METRIC}), not a board peer's: point --metrics-port at the peer's --metrics-port` };
  }
  if (!samples.some((s) => s.name.startsWith(EDGEPEER_METRIC_PREFIX))) {
    return { ...base, healthy: false, reason: `no ${EDGEPEER_METRIC_PREFIX}* metrics: this port does not serve an edgepeer peer's /metrics` };
  }
  if (height === null || height < 1) return { ...base, healthy: false, reason: 'no ledger height reported (ledger not open?)' };
  // Before the link: a forked board may well have its link up, and nothing but an operator helps it.
  const fork = samples.find((s) => s.name === FORK_DETECTED_METRIC && s.value === 1);
  if (fork !== undefined) {
    const channel = fork.labels['channel'] ?? '?';
    const block = samples.find((s) => s.name === FORK_BLOCK_METRIC && (s.labels['channel'] ?? '?') === channel)?.value;
    return {
      ...base, healthy: false,
      reason: `fork detected on channel ${channel} at block ${block ?? '?'}: the orderer signed a block that conflicts with this board's chain; it takes no more blocks (its log names both hashes; docs/operations.md, Forks)`,
    };
  }
  if (rules.requireLink && linksUp === 0) {
    const down = links.map((s) => s.labels['endpoint'] ?? '?').join(', ') || 'none reported';
    return { ...base, healthy: false, reason: `no orderer link is up (endpoints: ${down})` };
  }
  // A link that is up proves nothing about the stream: a client that gave up, or a stream that carries
  // nothing, leaves a board that looks well and stays behind (issue 12 §7).
  const stopped = samples.find((s) => s.name === 'edgepeer_deliver_stopped' && s.value === 1);
  if (stopped !== undefined) {
    return { ...base, healthy: false, reason: `the deliver client of channel ${stopped.labels['channel'] ?? '?'} has stopped for good (its log says why); restart the peer once that is fixed` };
  }
  const maxSilenceMs = rules.maxDeliverSilenceMs ?? HEALTH_MAX_DELIVER_SILENCE_MS;
  const nowMs = rules.nowMs ?? Date.now();
  // An expired identity is refused by the broker, the orderer and gossip: whatever else looks well, the
  // board is off the network (src/observability/certificateExpiry.ts).
  const cert = samples.find((s) => s.name === CERTIFICATE_NOT_AFTER_METRIC);
  if (cert !== undefined && cert.value * 1000 < nowMs) {
    return { ...base, healthy: false, reason: `its certificate ${cert.labels['id'] ?? '?'} expired at ${new Date(cert.value * 1000).toISOString()}: the network refuses it` };
  }
  for (const active of samples.filter((s) => s.name === 'edgepeer_deliver_active' && s.value === 1)) {
    const channel = active.labels['channel'] ?? '';
    const last = samples.find((s) => s.name === 'edgepeer_deliver_last_response_seconds' && (s.labels['channel'] ?? '') === channel)?.value ?? 0;
    if (last > 0 && nowMs - last * 1000 > maxSilenceMs) {
      return { ...base, healthy: false, reason: `nothing from the orderer on channel ${channel} for ${Math.round((nowMs - last * 1000) / 1000)} s (not even a heartbeat) while pulling` };
    }
  }
  return { ...base, healthy: true, reason: null };
}

/** GET /metrics of a local process; throws with the reason when it does not answer. */
export async function fetchMetrics(host: string, port: number, timeoutMs = HEALTH_FETCH_TIMEOUT_MS): Promise<MetricSample[]> {
  const res = await fetch(`http://${host}:${port}${METRICS_PATH}`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return parseMetricsText(await res.text());
}
