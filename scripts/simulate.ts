// The fleet simulator: `npm run simulate -- --boards 1000 --orgs 10 [options]`. Runs the real gossip code
// of every board (test/helpers/sim/: in-memory network, virtual clock, in-memory ledgers) through start,
// a steady load, a partition and a restart of 10 % of the boards with empty ledgers, and prints what it
// measured (test/helpers/sim/fleetSim.ts says what each figure is). Deterministic: the same options and
// seed print the same JSON. `--plots DIR` runs the sweeps behind docs/figures (latency against fleet
// size, duplicates against fanout) and writes their SVGs and figures there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { atLeast, decimalNumber, wholeNumber } from '../src/cli/options.js';
import type { GossipLimits } from '../src/gossip/gossipNode.js';
import { type FleetSimOptions, type FleetSimResult, fleetSimDefaults, runFleetSim } from '../test/helpers/sim/fleetSim.js';
import { svgLineChart } from '../test/helpers/sim/svgPlot.js';

const d = fleetSimDefaults;

/** 'all' (every board, LAN discovery's view) or how many random boards each board's bootstrap list holds. */
function bootstrapList(value: string): FleetSimOptions['bootstrap'] {
  return value === 'all' ? 'all' : atLeast(1, wholeNumber)(value);
}

interface SimulateCliOptions {
  boards: number; orgs: number; seed: number; loss: number; latencyMs: number; jitterMs: number; ordererLatencyMs: number;
  commitMs: number; blocks: number; rate: number; churn: number; churnDownMs: number; partitionMs: number; restartFraction: number;
  bootstrap: FleetSimOptions['bootstrap']; limits?: string; codec: FleetSimOptions['codec']; verifier: FleetSimOptions['verifier'];
  json?: boolean; plots?: string; quiet?: boolean;
}

const values = new Command('simulate')
  .description('the real gossip code of every board on an in-memory network and a virtual clock')
  .option('--boards <n>', 'boards in the fleet', atLeast(2, wholeNumber), 100)
  .option('--orgs <n>', 'peer organisations the boards belong to', atLeast(1, wholeNumber), 10)
  .option('--seed <n>', 'seed of every random choice: the same options and seed print the same JSON', wholeNumber, 1)
  .option('--loss <p>', 'probability that a board-to-board message is lost', decimalNumber, d.loss)
  .option('--latency-ms <ms>', 'one-way delay of a board-to-board link', decimalNumber, d.latencyMs)
  .option('--jitter-ms <ms>', 'jitter of that delay', decimalNumber, d.jitterMs)
  .option('--orderer-latency-ms <ms>', 'one-way delay between the orderer and a board', decimalNumber, d.ordererLatencyMs)
  .option('--commit-ms <ms>', 'time a board takes to commit a block', decimalNumber, d.commitMs)
  .option('--blocks <n>', 'blocks of the steady load', atLeast(1, wholeNumber), d.blocks)
  .option('--rate <blocks/s>', 'blocks cut per second during the steady load', atLeast(0.001, decimalNumber), d.blocksPerSec)
  .option('--churn <fraction>', 'fraction of the boards stopped once (ledger kept) during the steady load', decimalNumber, d.churn)
  .option('--churn-down-ms <ms>', 'how long each churned board stays down', decimalNumber, d.churnDownMs)
  .option('--partition-ms <ms>', 'length of the partition phase (0: none)', decimalNumber, d.partitionMs)
  .option('--restart-fraction <fraction>', 'fraction of the boards restarted with empty ledgers (0: no restart phase)', decimalNumber, d.restartFraction)
  .option('--bootstrap <n|all>', "each board's bootstrap list: every board, or this many random ones", bootstrapList, d.bootstrap)
  .option('--limits <json>', 'gossip limits instead of the defaults, e.g. \'{"fanout":2}\'')
  .addOption(new Option('--codec <codec>', 'signed: the real Ed25519 codec; stand-in: the same bytes, neither signed nor checked').choices(['signed', 'stand-in']).default(d.codec))
  .addOption(new Option('--verifier <verifier>', "signatures: the peer's BlockVerifier; chain: everything but the orderer's signatures").choices(['signatures', 'chain']).default(d.verifier))
  .option('--json', 'print the result as one JSON object')
  .option('--plots <dir>', 'run the sweeps behind docs/figures and write their SVGs and figures to this folder')
  .option('--quiet', 'no progress lines on stderr')
  .parse().opts<SimulateCliOptions>();

function options(): FleetSimOptions {
  return {
    ...d,
    boards: values.boards,
    orgs: values.orgs,
    seed: values.seed,
    loss: values.loss,
    latencyMs: values.latencyMs,
    jitterMs: values.jitterMs,
    ordererLatencyMs: values.ordererLatencyMs,
    commitMs: values.commitMs,
    blocks: values.blocks,
    blocksPerSec: values.rate,
    churn: values.churn,
    churnDownMs: values.churnDownMs,
    partitionMs: values.partitionMs,
    restartFraction: values.restartFraction,
    bootstrap: values.bootstrap,
    limits: values.limits !== undefined ? JSON.parse(values.limits) as Partial<GossipLimits> : {},
    codec: values.codec,
    verifier: values.verifier,
    say: (s) => { if (!values.quiet) process.stderr.write(`  ${s}\n`); },
  };
}

export function formatSim(r: FleetSimResult): string {
  const n = (x: number | null, d = 1): string => (x === null || !Number.isFinite(x) ? 'n/a' : x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
  const lat = (l: FleetSimResult['latencyAllBoards']): string => `p50 ${n(l.p50Ms)} ms   p99 ${n(l.p99Ms)} ms   max ${n(l.maxMs)} ms`;
  const kinds = (m: Record<string, number>, d: number): string => Object.entries(m).map(([k, v]) => `${k} ${n(v, d)}`).join(', ');
  return [
    `edgepeer simulate: ${r.boards} boards in ${r.orgs} orgs, seed ${r.seed}`,
    `  settings                             ${JSON.stringify(r.settings)}`,
    `  settled (one stream per org)         ${r.settleMs === null ? 'not within the timeout' : `${n(r.settleMs, 0)} ms`}`,
    `  delivery ratio                       ${n(r.deliveryRatio * 100, 3)} %`,
    `  orderer streams at the end           ${r.ordererStreams} (most in one org at once: ${r.maxStreamsPerOrg})`,
    `  cut → committed on all boards        ${lat(r.latencyAllBoards)}`,
    `  cut → committed, every board         ${lat(r.latencyEveryBoard)}`,
    `  leader's commit → all boards         ${lat(r.latencyAfterLeader)}  (p99 = ${n(r.linkDelaysP99, 2)} link delays; budget ${n(r.linkDelaysBudget, 2)})`,
    `  messages sent / block / board        ${kinds(r.messagesPerBlockPerBoard, 3)}`,
    `  bytes sent / block / board           ${kinds(r.bytesPerBlockPerBoard, 0)}  (${n(r.blockBytesSentPerBlockPerBoard, 2)} blocks of ${n(r.blockBytes, 0)} B)`,
    `  duplicates received / block / board  ${n(r.duplicatesPerBlockPerBoard, 3)}`,
    `  leader changes, role changes         ${r.leaderChanges}, ${r.roleChanges}`,
    `  partition healed → converged         ${r.convergeAfterHealMs === null ? 'n/a' : `${n(r.convergeAfterHealMs, 0)} ms`}; one stream per org after ${r.settleAfterHealMs === null ? 'n/a' : `${n(r.settleAfterHealMs, 0)} ms`} (most streams per org while split: ${r.maxStreamsPerOrgPartitioned ?? 'n/a'})`,
    `  ${r.restartedBoards} restarted empty → converged     ${r.convergeAfterRestartMs === null ? 'n/a' : `${n(r.convergeAfterRestartMs, 0)} ms`}`,
    `  simulated                            ${n(r.simulatedSeconds, 1)} s, ${r.eventsRun.toLocaleString('en-US')} events`,
    '',
  ].join('\n');
}

async function plots(dir: string, base: FleetSimOptions): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const quick: Partial<FleetSimOptions> = { partitionMs: 0, restartFraction: 0, say: () => undefined };
  // Orgs grow with the fleet as a deployment's would: 8 boards each up to 10 orgs (the bench's 16 is 2 x 8).
  const sizes = [16, 64, 256, 1000];
  const bySize: FleetSimResult[] = [];
  for (const boards of sizes) {
    const t = Date.now();
    const r = await runFleetSim({ ...base, ...quick, boards, orgs: Math.min(10, Math.max(1, Math.round(boards / 8))) });
    bySize.push(r);
    process.stderr.write(`  ${boards} boards: all-boards p99 ${r.latencyAllBoards.p99Ms} ms (${((Date.now() - t) / 1000).toFixed(0)} s)\n`);
  }
  const fanouts = [1, 2, 3, 4, 6, 8];
  const byFanout: FleetSimResult[] = [];
  for (const fanout of fanouts) {
    const r = await runFleetSim({ ...base, ...quick, boards: 256, orgs: 10, limits: { ...base.limits, fanout } });
    byFanout.push(r);
    process.stderr.write(`  fanout ${fanout}: duplicates ${r.duplicatesPerBlockPerBoard}\n`);
  }
  writeFileSync(join(dir, 'gossip-latency-by-fleet-size.svg'), svgLineChart({
    title: `cut → committed on all boards, by fleet size (${base.latencyMs} ms links, ${base.orgs} orgs)`,
    xLabel: 'boards', yLabel: 'ms', logX: true,
    series: [
      { name: 'p50', points: bySize.map((r) => [r.boards, r.latencyAllBoards.p50Ms]) },
      { name: 'p99', points: bySize.map((r) => [r.boards, r.latencyAllBoards.p99Ms]) },
      { name: 'max', points: bySize.map((r) => [r.boards, r.latencyAllBoards.maxMs]) },
    ],
  }));
  writeFileSync(join(dir, 'gossip-duplicates-by-fanout.svg'), svgLineChart({
    title: 'duplicates received per block per board, by fanout (256 boards)',
    xLabel: 'fanout', yLabel: 'duplicates / block / board',
    series: [
      { name: 'duplicates', points: byFanout.map((r, i) => [fanouts[i]!, r.duplicatesPerBlockPerBoard]) },
      { name: 'messages sent', points: byFanout.map((r, i) => [fanouts[i]!, r.messagesPerBlockPerBoard['total'] ?? 0]) },
    ],
  }));
  writeFileSync(join(dir, 'gossip-sim-figures.json'), `${JSON.stringify({ bySize, byFanout: byFanout.map((r, i) => ({ fanout: fanouts[i], ...r })) }, null, 1)}\n`);
}

const o = options();
const t0 = Date.now();
if (values.plots !== undefined) {
  await plots(values.plots, o);
  process.stderr.write(`simulate: plots written to ${values.plots} in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
} else {
  const r = await runFleetSim(o);
  process.stdout.write(values.json ? `${JSON.stringify(r)}\n` : formatSim(r));
  if (!values.quiet) process.stderr.write(`simulate: ${((Date.now() - t0) / 1000).toFixed(1)} s real time\n`);
}
