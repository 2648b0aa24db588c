// The certificates `edgepeer network revoke` revoked, kept in the network folder. The channel's own record
// is its configuration (`revoked`, on the orderer's ledger); this copy is what the broker files written
// from the folder leave out, so that writing them again (a new site, init's files regenerated) never lets
// a revoked member log in to a Mosquitto again.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { readNetworkJson } from './loadNetwork.js';

export const REVOKED_FILE_NAME = 'revoked.json';

const revokedSchema = z.array(z.object({ member: z.string().min(1), fingerprint: z.string().regex(/^[0-9a-f]{64}$/) }));

function revokedPath(dir: string): string {
  return resolve(dir, REVOKED_FILE_NAME);
}

export function loadRevoked(dir: string): { member: string; fingerprint: string }[] {
  const path = revokedPath(dir);
  if (!existsSync(path)) return [];
  return readNetworkJson(revokedSchema, path, 'revocation list');
}

/** The fingerprints revoked, for the broker files' `exclude`. */
export function revokedFingerprints(dir: string): Set<string> {
  return new Set(loadRevoked(dir).map((r) => r.fingerprint));
}

export async function recordRevoked(dir: string, member: string, fingerprint: string): Promise<void> {
  const list = loadRevoked(dir);
  if (list.some((r) => r.fingerprint === fingerprint)) return;
  await writeFile(revokedPath(dir), `${JSON.stringify([...list, { member, fingerprint }], null, 2)}\n`, { mode: 0o600 });
}
