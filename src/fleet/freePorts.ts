// Consecutive free TCP ports for the demo's gossip listeners (board k listens on base+k, as `edgepeer init
// --gossip` lays them out). Taken below Linux's ephemeral range, so that outgoing connections (the boards'
// own MQTT and gossip clients) do not land on them between this check and the boards binding them.
import { createServer } from 'node:net';

/** Lowest base port tried. */
export const GOSSIP_PORT_RANGE_LOW = 20_000;
/** Ports from here up are Linux's default ephemeral range (net.ipv4.ip_local_port_range). */
export const GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE = 32_768;
/** Random bases tried before giving up. */
export const FREE_PORT_ATTEMPTS = 20;

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A base port such that base..base+count-1 are all free on `host` right now. */
export async function findFreePortRange(host: string, count: number, random: () => number = Math.random): Promise<number> {
  const span = GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE - GOSSIP_PORT_RANGE_LOW - count;
  if (count < 1 || span <= 0) throw new RangeError(`cannot place ${count} consecutive ports in ${GOSSIP_PORT_RANGE_LOW}..${GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE - 1}`);
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt++) {
    const base = GOSSIP_PORT_RANGE_LOW + Math.floor(random() * span);
    let free = true;
    for (let k = 0; k < count && free; k++) free = await portFree(host, base + k);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports on ${host} in ${GOSSIP_PORT_RANGE_LOW}..${GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE - 1} after ${FREE_PORT_ATTEMPTS} tries`);
}
