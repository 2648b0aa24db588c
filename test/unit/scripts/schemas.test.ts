// The JSON Schemas checked in under schemas/ are what the loaders' zod schemas give now: a change to a
// schema without `npm run schemas` fails here (and so in CI).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { schemaFiles, staleSchemaFiles } from '../../../scripts/schemas.js';

test('schemas/*.json are current (npm run schemas writes them)', () => {
  assert.ok(schemaFiles().size >= 2);
  assert.deepEqual(staleSchemaFiles(), [], 'run `npm run schemas` and commit schemas/');
});
