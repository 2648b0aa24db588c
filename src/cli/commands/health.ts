// `edgepeer health`: asks a running peer on this machine whether it is healthy (its /metrics), for
// deploy's health wait, monitoring scripts, and people. Exit 0 healthy, 1 not.
import type { Command } from 'commander';
import { DEFAULT_METRICS_HOST } from '../../observability/metricsServer.js';
import { fetchMetrics, judgeBoardHealth, HEALTH_FETCH_TIMEOUT_MS, type BoardHealth } from '../../observability/boardHealth.js';
import { portNumber, wholeNumber } from '../options.js';

interface HealthCliOptions {
  metricsPort: number;
  host: string;
  requireLink: boolean;
  timeoutMs: number;
  json?: boolean;
}

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description("check a running peer through its metrics: ledger open and an orderer link up (exit 0 healthy, 1 not)")
    .requiredOption('--metrics-port <port>', "the peer's --metrics-port", portNumber)
    .option('--host <addr>', 'where the metrics are served', DEFAULT_METRICS_HOST)
    .option('--no-require-link', 'healthy without an orderer link (a board that is meant to be offline)')
    .option('--timeout-ms <ms>', 'give up on the metrics request after this long', wholeNumber, HEALTH_FETCH_TIMEOUT_MS)
    .option('--json', 'print the result as one JSON object')
    .action(async (o: HealthCliOptions) => {
      let h: BoardHealth;
      try {
        h = judgeBoardHealth(await fetchMetrics(o.host, o.metricsPort, o.timeoutMs), { requireLink: o.requireLink });
      } catch (err) {
        const cause = (err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        h = { healthy: false, reason: `no answer from ${o.host}:${o.metricsPort}/metrics (${cause})`, height: null, linksUp: 0, links: 0 };
      }
      if (o.json) process.stdout.write(`${JSON.stringify(h)}\n`);
      else if (h.healthy) process.stdout.write(`healthy height=${h.height} links=${h.linksUp}/${h.links}\n`);
      else process.stdout.write(`unhealthy: ${h.reason}\n`);
      process.exitCode = h.healthy ? 0 : 1;
    });
}
