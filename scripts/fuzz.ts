// `npm run fuzz`: the decoder properties of test/helpers/fuzzProperties.ts (the ones test/unit/fuzzShort
// runs a few hundred times) at length: --runs per property (default 200,000), --seed (default one from
// the clock, printed), --only SUBSTRING to pick properties by name. A failure prints the seed, the
// counterexample (shrunk) and the path that replays it; exits 1 if any property failed.
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { fuzzProperties } from '../test/helpers/fuzzProperties.js';

const DEFAULT_RUNS = 200_000;

const { values } = parseArgs({ options: { runs: { type: 'string' }, seed: { type: 'string' }, only: { type: 'string' } } });
const runs = values.runs !== undefined ? Number(values.runs) : DEFAULT_RUNS;
const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 2_147_483_647;
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  process.stderr.write('fuzz: --runs must be a positive whole number and --seed a whole number\n');
  process.exit(2);
}
const chosen = fuzzProperties.filter((p) => values.only === undefined || p.name.includes(values.only));
if (chosen.length === 0) {
  process.stderr.write(`fuzz: no property name contains '${values.only}'\n`);
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
