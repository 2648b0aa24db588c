// `npm run fuzz`: the decoder properties of test/helpers/fuzzProperties.ts (the ones test/unit/fuzzShort
// runs a few hundred times) at length: --runs per property (default 1,000,000, the 10^6 inputs per decoder of issue 12), --seed (default one from
// the clock, printed), --only SUBSTRING to pick properties by name. A failure prints the seed, the
// counterexample (shrunk) and the path that replays it; exits 1 if any property failed.
import { Command } from 'commander';
import fc from 'fast-check';
import { atLeast, wholeNumber } from '../src/cli/options.js';
import { fuzzProperties } from '../test/helpers/fuzzProperties.js';

const DEFAULT_RUNS = 1_000_000;

const values = new Command('fuzz')
  .description('the decoder properties of test/helpers/fuzzProperties.ts at length')
  .option('--runs <n>', 'runs per property', atLeast(1, wholeNumber), DEFAULT_RUNS)
  .option('--seed <n>', 'seed of every property (default: one from the clock, printed)', wholeNumber)
  .option('--only <substring>', 'only the properties whose name contains this')
  .parse().opts<{ runs: number; seed?: number; only?: string }>();
const { runs, only } = values;
const seed = values.seed ?? Date.now() % 2_147_483_647;
const chosen = fuzzProperties.filter((p) => only === undefined || p.name.includes(only));
if (chosen.length === 0) {
  process.stderr.write(`fuzz: no property name contains '${only}'\n`);
  process.exit(2);
}
process.stdout.write(`fuzz: ${chosen.length} properties, ${runs} runs each, seed ${seed}\n`);
let failed = 0;
for (const p of chosen) {
  const started = Date.now();
  const r = await fc.check(p.make(), { numRuns: runs, seed });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!r.failed) {
    process.stdout.write(`  ok    ${p.name} (${r.numRuns} runs, ${seconds} s)\n`);
    continue;
  }
  failed++;
  process.stdout.write(`  FAIL  ${p.name} after ${r.numRuns} runs (${seconds} s)\n`
    + `        seed ${r.seed}, path ${r.counterexamplePath ?? '-'} (replay: fc.assert(property, { seed: ${r.seed}, path: '${r.counterexamplePath ?? ''}' }))\n`
    + `        counterexample: ${fc.stringify(r.counterexample)}\n`
    + `        ${String((r.errorInstance as Error | undefined)?.message ?? r.errorInstance).split('\n').slice(0, 8).join('\n        ')}\n`);
}
process.stdout.write(failed === 0 ? 'fuzz: every property held\n' : `fuzz: ${failed} of ${chosen.length} properties failed\n`);
process.exit(failed === 0 ? 0 : 1);
