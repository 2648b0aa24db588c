// The demo's development network: made on first use, reused when the demo runs again on the same folder
// (the ledgers then carry on where they were).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createNetwork } from '../network/createNetwork.js';
import { loadNetworkFile, networkFilePath, readBoardConfig } from '../network/loadNetwork.js';
import { findFreePortRange } from './freePorts.js';

/** The boards' gossip listeners are on loopback, as `edgepeer init --gossip` writes them. */
const GOSSIP_HOST = '127.0.0.1';

export interface DemoNetworkOptions {
  networkDir: string;
  boards: number;
  orgs: number;
  channel: string;
  /** Written into the board configs; the demo also passes it to each board on the command line. */
  mqttUrl: string;
  /** Boards gossip (a gossip section in every board.json, on free loopback ports); false: each pulls itself. */
  gossip: boolean;
  /** The boards follow this Fabric channel (its genesis block pinned) instead of an edgepeer channel. */
  fabric?: { channel: string; genesis: Uint8Array };
}

export interface DemoNetwork {
  networkDir: string;
  channel: string;
  /** The boards to run, taken from the organisations in turn. */
  boards: { id: string; org: string }[];
  /** False when an existing network was reused. */
  created: boolean;
}

/** The demo's options cannot be carried out (a usage error). */
export class DemoOptionsError extends Error {
  override readonly name = 'DemoOptionsError';
}

/** `count` boards, one from each organisation in turn, so every organisation runs some. */
export function pickBoards<B extends { org: string }>(all: readonly B[], count: number): B[] {
  const byOrg = new Map<string, B[]>();
  for (const b of all) byOrg.set(b.org, [...(byOrg.get(b.org) ?? []), b]);
  const queues = [...byOrg.values()];
  const picked: B[] = [];
  for (let round = 0; picked.length < count; round++) {
    let any = false;
    for (const q of queues) {
      const b = q[round];
      if (b === undefined) continue;
      any = true;
      if (picked.length < count) picked.push(b);
    }
    if (!any) break;
  }
  return picked;
}

/** Refuses board and organisation counts the demo cannot run, before anything is started. */
export function checkDemoCounts(boards: number, orgs: number): void {
  if (!Number.isSafeInteger(boards) || boards < 1) throw new DemoOptionsError(`--boards must be at least 1, got ${boards}`);
  if (!Number.isSafeInteger(orgs) || orgs < 1) throw new DemoOptionsError(`--orgs must be at least 1, got ${orgs}`);
  if (orgs > boards) throw new DemoOptionsError(`--orgs (${orgs}) is more than --boards (${boards}): every organisation needs a board`);
}

export async function prepareDemoNetwork(o: DemoNetworkOptions): Promise<DemoNetwork> {
  checkDemoCounts(o.boards, o.orgs);

  if (existsSync(networkFilePath(o.networkDir))) {
    const net = loadNetworkFile(o.networkDir);
    const boards = pickBoards(net.boards, o.boards);
    if (boards.length < o.boards) {
      throw new DemoOptionsError(`${o.networkDir} holds a network of ${net.boards.length} boards; `
        + `run with --boards ${net.boards.length} or less, or choose another --dir`);
    }
    // Gossip is in the board.json files: a reused network keeps what it was made with.
    const gossiping = boards.filter((b) => readBoardConfig(resolve(o.networkDir, b.config)).gossip !== undefined).length;
    if (gossiping !== (o.gossip ? boards.length : 0)) {
      throw new DemoOptionsError(`${o.networkDir} holds a network made ${o.gossip ? 'without' : 'with'} gossip; `
        + `run ${o.gossip ? 'with --no-gossip' : 'without --no-gossip'}, or choose another --dir`);
    }
    const fabricChannels = (net.fabricChannels ?? []).map((f) => f.channel);
    if (o.fabric !== undefined ? !fabricChannels.includes(o.fabric.channel) : fabricChannels.length > 0) {
      throw new DemoOptionsError(o.fabric !== undefined
        ? `${o.networkDir} holds a network without the Fabric channel '${o.fabric.channel}'; choose another --dir`
        : `${o.networkDir} holds a network made for a Fabric channel; run with --fabric, or choose another --dir`);
    }
    return { networkDir: o.networkDir, channel: o.fabric?.channel ?? net.channels[0]!, boards: boards.map((b) => ({ id: b.id, org: b.org })), created: false };
  }

  const boardsPerOrg = Math.ceil(o.boards / o.orgs);
  const gossip = o.gossip ? { basePort: await findFreePortRange(GOSSIP_HOST, boardsPerOrg * o.orgs) } : undefined;
  const summary = await createNetwork({
    dir: o.networkDir,
    channels: o.fabric === undefined ? [o.channel] : [],
    ...(o.fabric !== undefined ? { fabricChannels: [o.fabric] } : {}),
    orgs: o.orgs,
    boardsPerOrg,
    mqttUrl: o.mqttUrl,
    ...(gossip !== undefined ? { gossip } : {}),
  });
  const boards = pickBoards(summary.boards, o.boards).map((b) => ({ id: b.id, org: b.org }));
  return { networkDir: summary.dir, channel: summary.channel, boards, created: true };
}
