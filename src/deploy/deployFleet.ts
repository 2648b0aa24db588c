// Deploys a fleet: every board of the inventory, at most `parallel` at a time, and a summary at the end.
import type { BoardOutcome, DeployContext } from './deployBoard.js';
import { deployBoard } from './deployBoard.js';
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
