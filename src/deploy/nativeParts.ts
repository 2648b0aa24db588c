// Checks that a bundle's node_modules carries the prebuilt binaries its target needs, built for that
// target's CPU (read from each file's ELF header, not trusted from its name).
import { closeSync, existsSync, openSync, readSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type BundleTarget, elfInfo, elfMatchesTarget } from './targets.js';

const ELF_HEADER_BYTES = 20;

export interface NativePartFound {
  name: string;
  required: boolean;
  /** Relative to the bundle root; null when missing. */
  file: string | null;
}

export interface NativeCheck {
  parts: NativePartFound[];
  /** Packages that carry C sources (binding.gyp) but no binary for the target: never on the run-time path. */
  uncompiled: string[];
}

/** A bundle that would not run on its target. */
export class NativePartsError extends Error {
  override readonly name = 'NativePartsError';
}

export function readElfHeader(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(ELF_HEADER_BYTES);
    readSync(fd, buf, 0, ELF_HEADER_BYTES, 0);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function findFiles(dir: string, pred: (name: string) => boolean, depth: number): string[] {
  if (depth < 0 || !existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, pred, depth - 1));
    else if (e.isFile() && pred(e.name)) out.push(p);
  }
  return out;
}

/** Package folders under node_modules (scoped ones included, nested node_modules too). */
function packageDirs(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  const out: string[] = [];
  for (const e of readdirSync(nodeModules, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const p = join(nodeModules, e.name);
    const pkgs = e.name.startsWith('@') ? readdirSync(p, { withFileTypes: true }).filter((s) => s.isDirectory()).map((s) => join(p, s.name)) : [p];
    for (const pkg of pkgs) {
      out.push(pkg);
      out.push(...packageDirs(join(pkg, 'node_modules')));
    }
  }
  return out;
}

/**
 * Finds each native part of `target` in `bundleRoot`/node_modules and checks its ELF header. Throws a
 * NativePartsError naming every required part that is missing or built for another machine.
 */
export function checkNativeParts(bundleRoot: string, target: BundleTarget): NativeCheck {
  const nodeModules = join(bundleRoot, 'node_modules');
  const problems: string[] = [];
  const parts: NativePartFound[] = [];
  for (const part of target.natives) {
    const dir = join(nodeModules, part.dir);
    const candidates = findFiles(dir, (n) => part.file.test(n), 0);
    const fitting = candidates.filter((f) => {
      const info = elfInfo(readElfHeader(f));
      return info !== null && elfMatchesTarget(info, target);
    });
    const file = fitting[0] ?? null;
    parts.push({ name: part.name, required: part.required, file: file === null ? null : relative(bundleRoot, file) });
    if (file !== null || !part.required) continue;
    const where = relative(bundleRoot, dir);
    problems.push(candidates.length === 0
      ? `${part.name}: no prebuilt binary for ${target.name} (expected a file matching ${part.file.source} in ${where})`
      : `${part.name}: ${candidates.map((c) => relative(bundleRoot, c)).join(', ')} not built for ${target.name} (ELF machine or class differs)`);
  }
  if (problems.length > 0) {
    throw new NativePartsError(`bundle for ${target.name} is missing native parts; nothing is compiled on a board, so this bundle would not run:\n  ${problems.join('\n  ')}`);
  }
  const uncompiled: string[] = [];
  for (const pkg of packageDirs(nodeModules)) {
    if (!existsSync(join(pkg, 'binding.gyp'))) continue;
    const name = relative(nodeModules, pkg);
    // Native parts are reported above, found or not.
    if (target.natives.some((p) => p.package === name)) continue;
    const built = findFiles(pkg, (n) => n.endsWith('.node'), 3).some((f) => {
      const info = elfInfo(readElfHeader(f));
      return info !== null && elfMatchesTarget(info, target);
    });
    if (!built) uncompiled.push(relative(bundleRoot, pkg));
  }
  return { parts, uncompiled };
}
