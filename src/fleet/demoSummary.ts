// What the demo prints when it has stopped: where every piece of data and every log is.
import type { DemoLayout } from './demoLayout.js';

export interface DemoSummaryBoard {
  id: string;
  dataDir: string;
  logFile: string;
  height: number | null;
  /** How it ended: 'stopped', 'killed' (did not stop in time), or 'died (exit N)'. */
  ending: string;
}

export interface DemoSummary {
  layout: DemoLayout;
  uptimeMs: number;
  channel: string;
  ordererHeight: number;
  submitted: number;
  accepted: number;
  failed: number;
  boards: DemoSummaryBoard[];
}

/** The first line names the demo folder: `data kept in <dir>`. */
export const SUMMARY_DIR_PREFIX = 'data kept in ';

export function formatDemoSummary(s: DemoSummary): string {
  const L = s.layout;
  const idWidth = Math.max(...s.boards.map((b) => b.id.length), 'orderer'.length);
  const lines = [
    `demo stopped after ${(s.uptimeMs / 1000).toFixed(1)} s: ${s.accepted} of ${s.submitted} transactions accepted`
      + `${s.failed > 0 ? ` (${s.failed} failed)` : ''}, channel '${s.channel}' at height ${s.ordererHeight}`,
    `${SUMMARY_DIR_PREFIX}${L.dir}`,
    `  network   ${L.networkDir}`,
    `  ${'orderer'.padEnd(idWidth)}  data ${L.ordererDataDir}  (height ${s.ordererHeight})`,
    `  ${''.padEnd(idWidth)}  log  ${L.demoLogFile}`,
  ];
  for (const b of s.boards) {
    lines.push(`  ${b.id.padEnd(idWidth)}  data ${b.dataDir}  (height ${b.height ?? '-'}, ${b.ending})`);
    lines.push(`  ${''.padEnd(idWidth)}  log  ${b.logFile}`);
  }
  const first = s.boards[0];
  if (first !== undefined) lines.push(`check a board's chain: edgepeer ledger verify --data ${first.dataDir}`);
  return `${lines.join('\n')}\n`;
}
