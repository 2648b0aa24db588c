// `npm run deploy -- --inventory fleet.json --bundle dist-bundle/edgepeer-<v>-linux-arm64.tar.gz --network net`:
// puts a bundle on every Pi of the inventory over ssh, switches it in, waits until each board is healthy,
// and rolls a board back to its previous release when it is not. See docs/operations.md.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { atLeast, collect, wholeNumber } from '../src/cli/options.js';
import { DEFAULT_RELEASES_KEPT, releaseName } from '../src/deploy/boardLayout.js';
import { readBundleFile } from '../src/deploy/bundleFile.js';
import {
  DEFAULT_HEALTH_INTERVAL_MS, DEFAULT_HEALTH_TIMEOUT_MS, DEFAULT_STATUS_INTERVAL_MS, type DeployContext, type Exec,
} from '../src/deploy/deployBoard.js';
import { DEFAULT_DEPLOY_PARALLEL, deployFleet, fleetLoopbacks, loopbackRefusalText, summaryText } from '../src/deploy/deployFleet.js';
import { readInventory } from '../src/deploy/inventory.js';
import { DEFAULT_SSH_CONNECT_TIMEOUT_SEC, type SudoMode } from '../src/deploy/remoteShell.js';
import { runCommand } from '../src/deploy/runCommand.js';

interface DeployCliOptions {
  inventory: string;
  bundle: string;
  network: string;
  board?: string[];
  parallel: number;
  dryRun?: boolean;
  ssh: string;
  identity?: string;
  sshOption?: string[];
  connectTimeout: number;
  sudo: SudoMode;
  healthTimeoutMs: number;
  healthIntervalMs: number;
  allowNoLink?: boolean;
  allowLoopback?: boolean;
  keepReleases: number;
  statusIntervalMs: number;
  remoteRoot?: string;
  json?: boolean;
}

/** The override of the loopback refusal, named in the refusal itself. */
const ALLOW_LOOPBACK_FLAG = '--allow-loopback';

/** Counts and timeouts where 0 would deploy nothing or never wait. */
const positiveWhole = atLeast(1, wholeNumber);

async function main(): Promise<number> {
  const program = new Command('deploy')
    .description('deploy a bundle to the boards of an inventory over ssh, with health check and rollback')
    .requiredOption('--inventory <file>', 'boards: JSON, or INI when the name ends in .ini (see docs/operations.md)')
    .requiredOption('--bundle <tarball>', 'made by `npm run bundle` for the boards\' target')
    .requiredOption('--network <dir>', 'the network folder made by `edgepeer init` (each board gets only its own files)')
    .option('--board <id>', 'deploy only this board of the inventory (repeatable)', collect)
    .option('--parallel <n>', 'boards deployed at the same time', positiveWhole, DEFAULT_DEPLOY_PARALLEL)
    .option('--dry-run', 'print every command for every board; connect to none')
    .option('--ssh <program>', 'ssh program (or a wrapper taking the same arguments)', 'ssh')
    .option('-i, --identity <file>', 'ssh private key (ssh -i)')
    .option('--ssh-option <option>', 'ssh -o option, e.g. StrictHostKeyChecking=accept-new (repeatable)', collect)
    .option('--connect-timeout <s>', 'ssh ConnectTimeout', positiveWhole, DEFAULT_SSH_CONNECT_TIMEOUT_SEC)
    .option('--sudo <mode>', 'run board commands through sudo -n: auto (unless the ssh user is root), always, never', 'auto')
    .option('--health-timeout-ms <ms>', 'a board not healthy this long after its restart is rolled back', positiveWhole, DEFAULT_HEALTH_TIMEOUT_MS)
    .option('--health-interval-ms <ms>', 'time between health probes', positiveWhole, DEFAULT_HEALTH_INTERVAL_MS)
    .option('--allow-no-link', 'healthy without an orderer link (boards deployed while the orderer is down)')
    .option(ALLOW_LOOPBACK_FLAG, 'deploy loopback gossip and orderer addresses (warned about, not refused): every board and the orderer on one host')
    .option('--keep-releases <n>', 'releases kept on each board (current and previous always are)', positiveWhole, DEFAULT_RELEASES_KEPT)
    .option('--status-interval-ms <ms>', "the peer's status line period in the journal (it also prints on every change)", positiveWhole, DEFAULT_STATUS_INTERVAL_MS)
    .option('--remote-root <dir>', 'prefix of every path on the boards ({host} is replaced): for tests and chroots')
    .option('--json', 'print the outcomes as one JSON object')
    .showHelpAfterError();
  program.parse(process.argv);
  const o = program.opts<DeployCliOptions>();
  if (!['auto', 'always', 'never'].includes(o.sudo)) throw new InvalidArgumentError(`--sudo must be auto, always or never, not '${o.sudo}'`);

  let boards = readInventory(resolve(o.inventory));
  if (o.board !== undefined) {
    const unknown = o.board.filter((id) => !boards.some((b) => b.board === id));
    if (unknown.length > 0) throw new Error(`not in ${o.inventory}: ${unknown.join(', ')}`);
    boards = boards.filter((b) => o.board!.includes(b.board));
  }
  const bundle = await readBundleFile(resolve(o.bundle));
  const networkDir = resolve(o.network);
  // A Pi given init's loopback gossip addresses starts and passes its health check (which needs only the
  // orderer link) yet never meets its neighbours: refused for the whole run, dry or not, before any ssh.
  const loopbacks = fleetLoopbacks(boards, { networkDir, bundle, statusIntervalMs: o.statusIntervalMs });
  if (loopbacks.length > 0 && o.allowLoopback !== true) throw new InvalidArgumentError(loopbackRefusalText(loopbacks, ALLOW_LOOPBACK_FLAG));
  const now = new Date();
  const release = releaseName(now, bundle.manifest.version, bundle.manifest.target);
  const workDir = mkdtempSync(join(tmpdir(), 'edgepeer-deploy-'));
  const exec: Exec = (c, timeoutMs) => runCommand(c.command, c.args, {
    timeoutMs, ...(c.stdinFile !== undefined && { stdinFile: c.stdinFile }), ...(c.script !== undefined && { input: c.script }),
  });
  const ctx: DeployContext = {
    bundle,
    networkDir,
    ssh: {
      command: o.ssh,
      extraArgs: [...(o.identity !== undefined ? ['-i', o.identity] : []), ...(o.sshOption ?? []).flatMap((x) => ['-o', x])],
      connectTimeoutSec: o.connectTimeout,
      sudo: o.sudo,
    },
    remoteRoot: (b) => (o.remoteRoot === undefined ? '' : o.remoteRoot.replaceAll('{host}', b.host)),
    health: { timeoutMs: o.healthTimeoutMs, intervalMs: o.healthIntervalMs, requireLink: o.allowNoLink !== true },
    keepReleases: o.keepReleases,
    statusIntervalMs: o.statusIntervalMs,
    releaseName: release,
    workDir,
    dryRun: o.dryRun === true,
    exec,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log: (b, line) => { if (!o.json) process.stderr.write(`[${b.board} ${b.host}] ${line}\n`); },
    now,
  };
  try {
    if (!o.json) {
      process.stderr.write(`deploy: ${bundle.fileName} (${bundle.manifest.target}, Node ${bundle.manifest.node.bundled ?? 'of the board'}) as ${release} to ${boards.length} board(s), ${o.parallel} at a time${o.dryRun ? ' (dry run)' : ''}\n`);
    }
    const outcomes = await deployFleet(boards, ctx, o.parallel);
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ release, bundle: bundle.path, dryRun: ctx.dryRun, outcomes })}\n`);
    } else {
      for (const out of outcomes) {
        if (out.kind !== 'planned') continue;
        process.stdout.write(`\n## ${out.board} (${out.host})\n\n${out.commands.join('\n\n')}\n`);
      }
      process.stdout.write(`\n${summaryText(outcomes)}\n`);
    }
    return outcomes.every((x) => x.kind === 'deployed' || x.kind === 'planned') ? 0 : 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code), (err: unknown) => {
  process.stderr.write(`deploy: ${(err as Error).message}\n`);
  process.exit(err instanceof InvalidArgumentError ? 2 : 1);
});
