// The /metrics endpoint a Prometheus server scrapes. Loopback by default: metrics name channels and
// endpoints, which is not for every network the board is on.
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export const METRICS_PATH = '/metrics';
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsServer {
  /** The port actually bound (the ephemeral one when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

async function handle(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' || pathOf(req) !== METRICS_PATH) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  try {
    const body = await registry.metrics();
    res.writeHead(200, { 'content-type': registry.contentType }).end(body);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics collection failed: ${(err as Error).message}\n`);
  }
}

/** Serves GET /metrics from `registry`; port 0 picks a free port. */
export function startMetricsServer(registry: Registry, port: number, host: string = DEFAULT_METRICS_HOST): Promise<MetricsServer> {
  const server = createServer((req, res) => { void handle(registry, req, res); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        port: bound,
        close: () => new Promise<void>((done, fail) => {
          server.close((err) => (err ? fail(err) : done()));
          // A scraper's keep-alive connection would otherwise hold close() open until it times out.
          server.closeAllConnections();
        }),
      });
    });
  });
}
