// manifest.json at the top of every bundle: what it is and what it was checked to contain. Deploy reads
// it to name the release and to refuse a bundle built for another CPU than the board's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Checks the fields deploy relies on; `source` names the file in messages. */
export function parseBundleManifest(value: unknown, source: string): BundleManifest {
  const fail = (what: string): never => { throw new BundleManifestError(`${source}: ${what}`); };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('not a JSON object');
  const o = value as Record<string, unknown>;
  if (o['format'] !== BUNDLE_FORMAT) fail(`format must be ${BUNDLE_FORMAT} (a bundle from another edgepeer version?)`);
  if (o['name'] !== 'edgepeer') fail("name must be 'edgepeer'");
  const version = o['version'];
  if (typeof version !== 'string' || !/^[0-9A-Za-z.+-]{1,64}$/.test(version)) fail('version must be a version string');
  const target = o['target'];
  if (typeof target !== 'string' || !(BUNDLE_TARGET_NAMES as string[]).includes(target)) fail(`target must be one of ${BUNDLE_TARGET_NAMES.join(', ')}`);
  const node = o['node'];
  if (node === null || typeof node !== 'object') fail('node must be an object');
  const n = node as Record<string, unknown>;
  if (n['bundled'] !== null && typeof n['bundled'] !== 'string') fail('node.bundled must be a version or null');
  const profiles = o['profiles'];
  if (!Array.isArray(profiles) || !profiles.every((p) => typeof p === 'string')) fail('profiles must be a list of names');
  return value as BundleManifest;
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
