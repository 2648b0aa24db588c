// The demo's development network: made on first use, reused when the demo runs again on the same folder
// (the ledgers then carry on where they were).
import { existsSync } from 'node:fs';
import { createNetwork } from '../network/createNetwork.js';
import { loadNetworkFile, networkFilePath } from '../network/loadNetwork.js';

export interface DemoNetworkOptions {
  networkDir: string;
  boards: number;
  orgs: number;
  channel: string;
  /** Written into the board configs; the demo also passes it to each board on the command line. */
  mqttUrl: string;
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
    return { networkDir: o.networkDir, channel: net.channels[0]!, boards: boards.map((b) => ({ id: b.id, org: b.org })), created: false };
  }

  const summary = await createNetwork({
    dir: o.networkDir,
    channels: [o.channel],
    orgs: o.orgs,
    boardsPerOrg: Math.ceil(o.boards / o.orgs),
    mqttUrl: o.mqttUrl,
  });
  const boards = pickBoards(summary.boards, o.boards).map((b) => ({ id: b.id, org: b.org }));
  return { networkDir: summary.dir, channel: summary.channel, boards, created: true };
}
