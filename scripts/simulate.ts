// The fleet simulator: `npm run simulate -- --boards 1000 --orgs 10 [options]`. Runs the real gossip code
// of every board (test/helpers/sim/: in-memory network, virtual clock, in-memory ledgers) through start,
// a steady load, a partition and a restart of 10 % of the boards with empty ledgers, and prints what it
// measured (test/helpers/sim/fleetSim.ts says what each figure is). Deterministic: the same options and
// seed print the same JSON. `--plots DIR` runs the sweeps behind docs/figures (latency against fleet
// size, duplicates against fanout) and writes their SVGs and figures there.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { GossipLimits } from '../src/gossip/gossipNode.js';
import { type FleetSimOptions, type FleetSimResult, fleetSimDefaults, runFleetSim } from '../test/helpers/sim/fleetSim.js';
import { svgLineChart } from '../test/helpers/sim/svgPlot.js';

const { values } = parseArgs({
  options: {
    boards: { type: 'string', default: '100' },
    orgs: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    loss: { type: 'string' },
    'latency-ms': { type: 'string' },
    'jitter-ms': { type: 'string' },
    'orderer-latency-ms': { type: 'string' },
    'commit-ms': { type: 'string' },
    blocks: { type: 'string' },
    rate: { type: 'string' },
    churn: { type: 'string' },
    'churn-down-ms': { type: 'string' },
    'partition-ms': { type: 'string' },
    'restart-fraction': { type: 'string' },
    bootstrap: { type: 'string' },
    // Gossip limits instead of the defaults, as JSON: --limits '{"fanout":2}'.
    limits: { type: 'string' },
    codec: { type: 'string' },
    verifier: { type: 'string' },
    json: { type: 'boolean' },
    plots: { type: 'string' },
    quiet: { type: 'boolean' },
  },
});

function num(name: string, v: string | undefined, fallback: number, min = 0): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`simulate: --${name} must be a number of at least ${min} ('${v}' given)\n`);
    process.exit(2);
  }
  return n;
}

function options(): FleetSimOptions {
  const d = fleetSimDefaults;
  const codec = values.codec ?? d.codec;
  const verifier = values.verifier ?? d.verifier;
  if (codec !== 'signed' && codec !== 'stand-in') throw new Error(`--codec must be signed or stand-in ('${codec}' given)`);
  if (verifier !== 'signatures' && verifier !== 'chain') throw new Error(`--verifier must be signatures or chain ('${verifier}' given)`);
  const bootstrap = values.bootstrap === undefined || values.bootstrap === 'all' ? 'all' : num('bootstrap', values.bootstrap, 0, 1);
  return {
    ...d,
    boards: num('boards', values.boards, 100, 2),
    orgs: num('orgs', values.orgs, 10, 1),
    seed: num('seed', values.seed, 1),
    loss: num('loss', values.loss, d.loss),
    latencyMs: num('latency-ms', values['latency-ms'], d.latencyMs),
    jitterMs: num('jitter-ms', values['jitter-ms'], d.jitterMs),
    ordererLatencyMs: num('orderer-latency-ms', values['orderer-latency-ms'], d.ordererLatencyMs),
    commitMs: num('commit-ms', values['commit-ms'], d.commitMs),
    blocks: num('blocks', values.blocks, d.blocks, 1),
    blocksPerSec: num('rate', values.rate, d.blocksPerSec, 0.001),
    churn: num('churn', values.churn, d.churn),
    churnDownMs: num('churn-down-ms', values['churn-down-ms'], d.churnDownMs),
    partitionMs: num('partition-ms', values['partition-ms'], d.partitionMs),
    restartFraction: num('restart-fraction', values['restart-fraction'], d.restartFraction),
    bootstrap,
    limits: values.limits !== undefined ? JSON.parse(values.limits) as Partial<GossipLimits> : {},
    codec,
    verifier,
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
