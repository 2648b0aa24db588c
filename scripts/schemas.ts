// Writes the JSON Schemas of the configuration files into schemas/, from the zod schemas the loaders
// check with (so editors and other tools check the same rules). `node dist/scripts/schemas.js` writes
// them; `--check` exits 1 when a checked-in file is not what the schemas give (test/unit/scripts/schemas.test.ts
// runs that in `npm test`, so CI fails on a stale schema).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { boardProfileSchema } from '../src/board/profile.js';
import { bundleManifestSchema } from '../src/deploy/bundleManifest.js';
import { inventoryFileSchema } from '../src/deploy/inventory.js';
import { boardConfigSchema, networkFileSchema } from '../src/network/loadNetwork.js';

export const SCHEMAS_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

/** File name → schema; titles say what file each one checks. */
const SCHEMAS: Record<string, { title: string; schema: z.ZodType }> = {
  'inventory.schema.json': { title: 'edgepeer fleet inventory (fleet.json)', schema: inventoryFileSchema },
  'board.schema.json': { title: 'edgepeer board config (board.json)', schema: boardConfigSchema },
  'board-profile.schema.json': { title: 'edgepeer board profile (boards/<name>.json)', schema: boardProfileSchema },
  'network.schema.json': { title: 'edgepeer network file (network.json)', schema: networkFileSchema },
  'bundle-manifest.schema.json': { title: 'edgepeer bundle manifest (manifest.json)', schema: bundleManifestSchema },
};

/** The text each schema file should hold. */
export function schemaFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, { title, schema }] of Object.entries(SCHEMAS)) {
    // The file as written (JSON: numbers are numbers; INI's strings are the INI reader's business).
    const json = { title, ...z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) };
    out.set(file, `${JSON.stringify(json, null, 2)}\n`);
  }
  return out;
}

/** Files whose content differs from what the schemas give now. */
export function staleSchemaFiles(dir: string = SCHEMAS_DIR): string[] {
  const stale: string[] = [];
  for (const [file, text] of schemaFiles()) {
    let current = '';
    try {
      current = readFileSync(join(dir, file), 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== text) stale.push(file);
  }
  return stale;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const o = new Command('schemas').option('--check', 'exit 1 when a file in schemas/ is not current').parse().opts<{ check?: boolean }>();
  if (o.check === true) {
    const stale = staleSchemaFiles();
    if (stale.length > 0) {
      process.stderr.write(`schemas/ is not current (${stale.join(', ')}): run npm run schemas\n`);
      process.exit(1);
    }
  } else {
    for (const [file, text] of schemaFiles()) writeFileSync(join(SCHEMAS_DIR, file), text);
  }
}
