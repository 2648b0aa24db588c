// A Linux network namespace joined to the host by a veth pair, for putting one board process on its own
// link that a test can cut (`ip link set … down`) and restore. Needs root and iproute2; otherwise
// createNetns says why not, and the test skips with that reason.
import { execFile } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** `ip` commands are quick; one that hangs this long is a broken system, not a slow one. */
const IP_COMMAND_TIMEOUT_MS = 10_000;
/** Linux interface names are at most 15 characters. */
const MAX_IFNAME_CHARS = 15;
/** 10.213.N.0/30 subnets tried for the pair: the first N not on any local interface is used. */
const SUBNET_SECOND_OCTET = 213;
const SUBNET_THIRD_OCTETS = 250;

let made = 0;

/** One veth pair between the host and the namespace, on its own /30. */
export interface NetnsLink {
  /** Address of the host's end of the pair (processes on the host listen here to be reachable). */
  hostAddr: string;
  /** Address of the namespace's end. */
  nsAddr: string;
  /** Takes the host's end down: nothing passes either way (addresses stay, local delivery works). */
  cut(): Promise<void>;
  restore(): Promise<void>;
}

export interface Netns extends NetnsLink {
  name: string;
  /** Command prefix that runs a program inside the namespace (it execs it: the PID stays the program's). */
  prefix: string[];
  /**
   * A second (third...) pair into the same namespace, on another subnet: traffic to its host address goes
   * over it alone, so a test can cut one path of a board (its uplink) and keep the other (its gossip).
   */
  addLink(): Promise<NetnsLink>;
  /** Deletes the pairs and the namespace; safe to call twice, and after a half-made namespace. */
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args, { timeout: IP_COMMAND_TIMEOUT_MS });
}

/** A free 10.213.N.0/30 (neither end's address on a local interface), or undefined. */
function freeSubnet(): number | undefined {
  const used = new Set(Object.values(networkInterfaces()).flat().map((a) => a?.address));
  return Array.from({ length: SUBNET_THIRD_OCTETS }, (_, i) => (process.pid + i) % SUBNET_THIRD_OCTETS)
    .find((n) => !used.has(`10.${SUBNET_SECOND_OCTET}.${n}.1`) && !used.has(`10.${SUBNET_SECOND_OCTET}.${n}.2`));
}

/** Makes a veth pair `<tag>h` (host) / `<tag>n` (moved into `ns`), addressed on a free /30, both ends up. */
async function makePair(ns: string, tag: string): Promise<NetnsLink & { hostIf: string }> {
  const free = freeSubnet();
  if (free === undefined) throw new Error(`no free 10.${SUBNET_SECOND_OCTET}.N.0/30 subnet for the veth pair`);
  const hostIf = `${tag}h`;
  const nsIf = `${tag}n`;
  const hostAddr = `10.${SUBNET_SECOND_OCTET}.${free}.1`;
  const nsAddr = `10.${SUBNET_SECOND_OCTET}.${free}.2`;
  await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  await ip('link', 'set', nsIf, 'netns', ns);
  await ip('addr', 'add', `${hostAddr}/30`, 'dev', hostIf);
  await ip('link', 'set', hostIf, 'up');
  const inNs = (...args: string[]): Promise<void> => ip('netns', 'exec', ns, 'ip', ...args);
  await inNs('addr', 'add', `${nsAddr}/30`, 'dev', nsIf);
  await inNs('link', 'set', nsIf, 'up');
  return {
    hostIf, hostAddr, nsAddr,
    cut: () => ip('link', 'set', hostIf, 'down'),
    restore: () => ip('link', 'set', hostIf, 'up'),
  };
}

export async function createNetns(): Promise<Netns | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: 'network namespaces need root (ip netns)' };
  if (freeSubnet() === undefined) return { skip: `no free 10.${SUBNET_SECOND_OCTET}.N.0/30 subnet for the veth pair` };
  const tag = `ep${process.pid}${made++}`.slice(0, MAX_IFNAME_CHARS - 2);
  const name = `${tag}ns`;
  const hostIfs = [`${tag}h`];
  let removed = false;
  const remove = async (): Promise<void> => {
    if (removed) return;
    removed = true;
    // Deleting one end of a veth pair deletes both; either may not exist when setup failed half way.
    for (const hostIf of hostIfs) await ip('link', 'del', hostIf).catch(() => undefined);
    await ip('netns', 'del', name).catch(() => undefined);
  };
  let first: NetnsLink;
  try {
    await ip('netns', 'add', name);
    first = await makePair(name, tag);
    await ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (err) {
    await remove();
    return { skip: `ip netns failed: ${(err as Error).message.split('\n')[0]}` };
  }
  let links = 1;
  return {
    name, hostAddr: first.hostAddr, nsAddr: first.nsAddr, prefix: ['ip', 'netns', 'exec', name],
    cut: first.cut,
    restore: first.restore,
    addLink: async () => {
      const linkTag = `${tag}${links++}`;
      hostIfs.push(`${linkTag}h`);
      return makePair(name, linkTag);
    },
    remove,
  };
}
