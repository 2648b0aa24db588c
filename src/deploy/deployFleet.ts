// Deploys a fleet: every board of the inventory, at most `parallel` at a time, and a summary at the end.
import { type LoopbackAddress, boardConfigOf, deployedAddresses, loopbackAddresses } from './boardOverlay.js';
import type { BoardOutcome, DeployContext } from './deployBoard.js';
import { boardSettings, deployBoard } from './deployBoard.js';
import type { InventoryBoard } from './inventory.js';

export const DEFAULT_DEPLOY_PARALLEL = 4;

/** Runs `work` over `items` with at most `limit` at once; results in the items' order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, () => worker()));
  return results;
}

export function deployFleet(boards: readonly InventoryBoard[], ctx: DeployContext, parallel: number): Promise<BoardOutcome[]> {
  return mapBounded(boards, parallel, (b) => deployBoard(b, ctx));
}

export interface BoardLoopbacks {
  board: string;
  host: string;
  loopbacks: LoopbackAddress[];
}

/**
 * The boards that would be deployed with loopback addresses, and those addresses. Checked for the whole
 * fleet before any board is touched, so a refusal leaves every board as it was. A board whose settings
 * do not load is left to its own deploy, which fails at prepare with the reason.
 */
export function fleetLoopbacks(boards: readonly InventoryBoard[], ctx: Pick<DeployContext, 'networkDir' | 'bundle' | 'statusIntervalMs'>): BoardLoopbacks[] {
  const out: BoardLoopbacks[] = [];
  for (const b of boards) {
    let loopbacks: LoopbackAddress[];
    try {
      loopbacks = loopbackAddresses(deployedAddresses(boardSettings(b, ctx), boardConfigOf(ctx.networkDir, b.board)));
    } catch {
      continue;
    }
    if (loopbacks.length > 0) out.push({ board: b.board, host: b.host, loopbacks });
  }
  return out;
}

/** The refusal: every board and address, what replaces each, and the override. */
export function loopbackRefusalText(found: readonly BoardLoopbacks[], overrideFlag: string): string {
  const lines = found.flatMap((f) => f.loopbacks.map((l) => `  ${f.board} (${f.host}): ${l.kind} ${l.addresses.join(', ')}: ${l.fix}`));
  return [
    `refusing to deploy loopback addresses (from edgepeer init, for one machine) to ${found.length} board${found.length === 1 ? '' : 's'}; no board was touched:`,
    ...lines,
    `Give these in the inventory (gossipListen, gossipAdvertise, gossipBootstrap, orderers: docs/operations.md, Deploy), or pass ${overrideFlag} when every board and the orderer share one host (a lab).`,
  ].join('\n');
}

function resultText(o: BoardOutcome): string {
  switch (o.kind) {
    case 'deployed': return `deployed ${o.release}`;
    case 'planned': return `would deploy ${o.release}`;
    case 'rolled-back':
      return `ROLLED BACK to ${o.restored}${o.restoredHealthy ? '' : ' (still unhealthy)'}: ${o.step} failed: ${o.reason}`;
    case 'failed': return `FAILED at ${o.step}: ${o.reason}`;
  }
}

/** One line per board, then the counts. */
export function summaryText(outcomes: readonly BoardOutcome[]): string {
  const w = (f: (o: BoardOutcome) => string): number => Math.max(...outcomes.map((o) => f(o).length));
  const bw = w((o) => o.board);
  const hw = w((o) => o.host);
  const lines = outcomes.map((o) => {
    const first = `${o.board.padEnd(bw)}  ${o.host.padEnd(hw)}  ${`${o.seconds.toFixed(1)} s`.padStart(8)}  ${resultText(o).split('\n')[0]}`;
    return [first, ...o.warnings.map((x) => `${' '.repeat(bw + hw + 14)}warning: ${x}`)].join('\n');
  });
  const count = (k: BoardOutcome['kind']): number => outcomes.filter((o) => o.kind === k).length;
  const totals = [
    ['deployed', count('deployed')], ['planned', count('planned')], ['rolled back', count('rolled-back')], ['failed', count('failed')],
  ].filter(([, n]) => n !== 0).map(([k, n]) => `${n} ${k}`).join(', ');
  return `${lines.join('\n')}\n${outcomes.length} board${outcomes.length === 1 ? '' : 's'}: ${totals}`;
}
