// Whether this host delivers IPv4 multicast on loopback, tried with plain sockets (not edgepeer's code),
// so that a test of multicast discovery skips only where the host cannot do it, and fails where the
// code is wrong.
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

export const LOOPBACK = '127.0.0.1';
/** How long a datagram on loopback may take at most before the exchange counts as not working. */
export const MULTICAST_DELIVERY_DEADLINE_MS = 5_000;

export async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  s.bind(0, LOOPBACK);
  await once(s, 'listening');
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves with the first value `arm` delivers, or rejects after the deadline (a bound, not a wait). */
export function firstOf<T>(arm: (resolve: (v: T) => void) => void, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${MULTICAST_DELIVERY_DEADLINE_MS} ms`)), MULTICAST_DELIVERY_DEADLINE_MS);
    arm((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

/** null when a datagram sent to `group` on loopback arrives; otherwise why not (the reason to skip). */
export async function loopbackMulticastProblem(group: string): Promise<string | null> {
  const port = await freeUdpPort();
  const rx = createSocket({ type: 'udp4', reuseAddr: true });
  const tx = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    rx.bind(port);
    await once(rx, 'listening');
    rx.addMembership(group, LOOPBACK);
    tx.bind(0, LOOPBACK);
    await once(tx, 'listening');
    tx.setMulticastInterface(LOOPBACK);
    tx.setMulticastLoopback(true);
    const got = firstOf<true>((done) => rx.once('message', () => done(true)), 'probe');
    tx.send('probe', port, group);
    await got;
    return null;
  } catch (err) {
    return `multicast on ${LOOPBACK} does not work here (${(err as Error).message}); try 'ip link set lo multicast on' and a route for 239.0.0.0/8 via lo`;
  } finally {
    await Promise.all([rx, tx].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
