// A TCP forwarder that holds every chunk for a fixed time in each direction: the latency of a link
// between sites, where the kernel's netem qdisc is not available (it is a module many CI kernels lack).
import { type Server, type Socket, connect, createServer } from 'node:net';

export interface DelayProxy {
  host: string;
  port: number;
  /** Connections forwarded so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Listens on host:port and forwards to target, `delayMs` later each way. */
export async function startDelayProxy(o: { host: string; port: number; target: { host: string; port: number }; delayMs: number }): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  // Node runs timers of one duration in the order they were set: the bytes keep their order.
  const pipeLater = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      setTimeout(() => { if (!to.destroyed) to.write(chunk); }, o.delayMs);
    });
    from.once('end', () => setTimeout(() => to.end(), o.delayMs));
    from.once('close', () => setTimeout(() => to.destroy(), o.delayMs));
  };
  const server: Server = createServer((inbound) => {
    connections += 1;
    track(inbound);
    const outbound = connect({ host: o.target.host, port: o.target.port });
    track(outbound);
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    pipeLater(inbound, outbound);
    pipeLater(outbound, inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return {
    host: o.host,
    port: o.port,
    get connections() { return connections; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
