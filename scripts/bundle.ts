// `npm run bundle -- --target linux-arm64`: a versioned tarball for one kind of board, in dist-bundle/.
// See src/deploy/buildBundle.ts for what is inside and docs/operations.md for how it is deployed.
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { buildBundle } from '../src/deploy/buildBundle.js';
import { BUNDLE_TARGET_NAMES, bundleTarget } from '../src/deploy/targets.js';

/** dist/scripts/bundle.js → the repository. */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface BundleCliOptions {
  target: string[];
  out: string;
  withNode?: string | true;
  keepStaging?: boolean;
  json?: boolean;
}

const DEFAULT_NODE_RANGE = '22';

async function main(): Promise<void> {
  const program = new Command('bundle')
    .description('build a deployable tarball for a board target (dist-bundle/edgepeer-<version>-<target>.tar.gz)')
    .requiredOption('--target <target>', `${BUNDLE_TARGET_NAMES.join(', ')} (repeatable)`, (v: string, prev: string[] = []) => [...prev, v])
    .option('--out <dir>', 'output folder', join(repoRoot, 'dist-bundle'))
    .option('--with-node [range]', `include an official Node runtime for the target (npm package node-linux-<cpu>; default ${DEFAULT_NODE_RANGE})`)
    .option('--keep-staging', 'keep the unpacked tree next to the tarball')
    .option('--json', 'print one JSON object per bundle')
    .showHelpAfterError();
  program.parse(process.argv);
  const o = program.opts<BundleCliOptions>();
  const log = o.json ? () => undefined : (line: string) => process.stderr.write(`bundle: ${line}\n`);
  for (const name of o.target) {
    const target = bundleTarget(name);
    const started = Date.now();
    const withNode = o.withNode === true ? DEFAULT_NODE_RANGE : (o.withNode ?? null);
    const b = await buildBundle({ repoRoot, target, outDir: resolve(o.out), withNode, log, keepStaging: o.keepStaging === true });
    const seconds = (Date.now() - started) / 1000;
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ ...b, seconds })}\n`);
      continue;
    }
    const mb = (b.sizeBytes / 1024 / 1024).toFixed(1);
    process.stdout.write(`${relative(process.cwd(), b.tarball) || b.tarball}  ${mb} MB  sha256 ${b.sha256}  (${seconds.toFixed(1)} s)\n`);
    for (const p of b.manifest.natives) {
      process.stdout.write(`  ${p.file !== null ? 'ok  ' : 'none'}  ${p.name}${p.file !== null ? `: ${p.file}` : p.required ? '' : ' (optional; JavaScript fallback)'}\n`);
    }
    process.stdout.write(`  node: ${b.manifest.node.bundled ?? `not bundled (the board needs Node ${b.manifest.node.required})`}\n`);
    process.stdout.write(`  profiles: ${b.manifest.profiles.join(', ') || 'none'}\n`);
    for (const u of b.uncompiled) process.stdout.write(`  note: ${u} has C sources and no ${target.name} binary; it is not on the run-time path\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bundle: ${(err as Error).message}\n`);
  process.exit(1);
});
