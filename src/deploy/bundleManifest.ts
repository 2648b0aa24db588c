// manifest.json at the top of every bundle: what it is and what it was checked to contain. Deploy reads
// it to name the release and to refuse a bundle built for another CPU than the board's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseConfig } from '../config/validate.js';
import { BUNDLE_TARGET_NAMES, type BundleTargetName } from './targets.js';

export const BUNDLE_MANIFEST_FILE = 'manifest.json';
export const BUNDLE_FORMAT = 1;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  name: 'edgepeer';
  version: string;
  target: BundleTargetName;
  /** ISO time. */
  builtAt: string;
  /** Git commit of the tree it was built from, when known. */
  commit: string | null;
  node: {
    /** Version of the Node runtime inside the bundle (node/bin/node), or null: the board's own node. */
    bundled: string | null;
    /** What the package needs (package.json engines.node). */
    required: string;
    /**
     * Where the bundled runtime came from (absent or null without one): the npm package (an official Node
     * build repackaged), the integrity npm checked it against, and the SHA-256 of node/bin/node. It is not
     * checked against nodejs.org's SHASUMS256.txt.
     */
    source?: { version: string; package: string; packageIntegrity: string; binarySha256: string } | null;
  };
  natives: { name: string; required: boolean; file: string | null }[];
  /** Board profile names (boards/*.json). */
  profiles: string[];
}

export class BundleManifestError extends Error {
  override readonly name = 'BundleManifestError';
}

/** manifest.json (its JSON Schema: schemas/bundle-manifest.schema.json). Fields deploy does not read pass as they are. */
export const bundleManifestSchema = z.looseObject({
  format: z.literal(BUNDLE_FORMAT, { error: `must be ${BUNDLE_FORMAT} (a bundle from another edgepeer version?)` }),
  name: z.literal('edgepeer', { error: "must be 'edgepeer'" }),
  version: z.string().regex(/^[0-9A-Za-z.+-]{1,64}$/, { error: 'must be a version string' }),
  target: z.enum(BUNDLE_TARGET_NAMES as [BundleTargetName, ...BundleTargetName[]], { error: `must be one of ${BUNDLE_TARGET_NAMES.join(', ')}` }),
  builtAt: z.string(),
  commit: z.string().nullable(),
  node: z.looseObject({
    bundled: z.string({ error: 'must be a version or null' }).nullable(),
    required: z.string(),
    source: z.object({ version: z.string(), package: z.string(), packageIntegrity: z.string(), binarySha256: z.string() }).nullable().optional(),
  }, { error: 'must be an object' }),
  natives: z.array(z.object({ name: z.string(), required: z.boolean(), file: z.string().nullable() })),
  profiles: z.array(z.string(), { error: 'must be a list of names' }),
}, { error: 'not a JSON object' });

/** Checks the fields deploy relies on; `source` names the file in messages. */
export function parseBundleManifest(value: unknown, source: string): BundleManifest {
  return parseConfig(bundleManifestSchema, value, source, (message) => { throw new BundleManifestError(message); }) as BundleManifest;
}

export function readBundleManifest(bundleRoot: string): BundleManifest {
  const path = join(bundleRoot, BUNDLE_MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BundleManifestError(`${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BundleManifestError(`${path}: not valid JSON: ${(err as Error).message}`);
  }
  return parseBundleManifest(value, path);
}
