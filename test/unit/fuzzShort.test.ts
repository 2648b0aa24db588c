// The fuzz properties (test/helpers/fuzzProperties.ts) with a few hundred runs each, inside `npm test`;
// `npm run fuzz` runs the same ones at length. The seed is fixed so that the suite repeats;
// EDGEPEER_FUZZ_SEED picks another.
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzProperties } from '../helpers/fuzzProperties.js';

const SHORT_RUNS = 500;
const DEFAULT_SEED = 20_261_201;
const seed = process.env['EDGEPEER_FUZZ_SEED'] !== undefined ? Number(process.env['EDGEPEER_FUZZ_SEED']) : DEFAULT_SEED;

for (const p of fuzzProperties) {
  test(`fuzz (short, seed ${seed}): ${p.name}`, async () => {
    // fc.assert returns a promise for an asynchronous property: awaited, or its failure is lost.
    await fc.assert(p.make(), { numRuns: SHORT_RUNS, seed });
  });
}
