// A bundle tarball as deploy and provision-sd see it: its manifest and its board profiles, read from
// the tarball without unpacking the rest.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { type BundleManifest, BUNDLE_MANIFEST_FILE, readBundleManifest } from './bundleManifest.js';
import { runChecked } from './runCommand.js';

export interface BundleFile {
  path: string;
  fileName: string;
  manifest: BundleManifest;
  /** boards/<name>.json of the bundle, parsed. */
  profiles: ReadonlyMap<string, unknown>;
}

export async function readBundleFile(path: string): Promise<BundleFile> {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-bundle-'));
  try {
    await runChecked('tar', ['-xzf', path, '-C', dir, '--strip-components=1', '--wildcards', '--no-wildcards-match-slash', `*/${BUNDLE_MANIFEST_FILE}`, '*/boards/*.json']).catch((err: unknown) => {
      throw new Error(`${path} is not an edgepeer bundle (no manifest.json and boards/ inside): ${(err as Error).message}`);
    });
    const manifest = readBundleManifest(dir);
    const profiles = new Map<string, unknown>();
    for (const f of readdirSync(join(dir, 'boards'))) {
      if (f.endsWith('.json')) profiles.set(f.slice(0, -'.json'.length), JSON.parse(readFileSync(join(dir, 'boards', f), 'utf8')));
    }
    return { path, fileName: basename(path), manifest, profiles };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The console UART of a profile (boards/<name>.json console.uart), when it is a device. */
export function profileConsoleDevice(profile: unknown): string | null {
  if (profile === null || typeof profile !== 'object') return null;
  const c = (profile as { console?: { uart?: unknown; baudRate?: unknown } }).console;
  if (c === undefined || typeof c.uart !== 'string' || !c.uart.startsWith('/dev/')) return null;
  return typeof c.baudRate === 'number' ? `${c.uart}@${c.baudRate}` : c.uart;
}
