// Deploying one board, as a sequence of steps with one place that decides what follows each:
//
//   prepare → preflight → upload → install → activate → health → prune → deployed
//                                               │          │
//                                               └──────────┴─→ rollback → rolled-back (or failed)
//
// prepare builds the board's overlay here; every other step is one ssh command (src/deploy/
// remoteScripts.ts). A dry run prepares and prints every command instead of running it.
import { readBoardConfig, loadNetworkFile } from '../network/loadNetwork.js';
import { resolve } from 'node:path';
import { type BoardSettings, buildBoardOverlay, type BoardOverlay } from './boardOverlay.js';
import { type BundleFile, profileConsoleDevice } from './bundleFile.js';
import { boardMemoryMb, heapCapMb } from './heapPolicy.js';
import type { InventoryBoard } from './inventory.js';
import {
  activateScript, healthProbeScript, installReleaseScript, parsePreflight, preflightScript, pruneScript, rollbackScript, rootIs, uploadScript,
  type Preflight,
} from './remoteScripts.js';
import { type RemoteCommand, type SshOptions, describeRemoteCommand, remoteCommand } from './remoteShell.js';
import { type CommandResult, lastLines } from './runCommand.js';
import { targetForMachine } from './targets.js';

export type DeployStep = 'prepare' | 'preflight' | 'upload' | 'install' | 'activate' | 'health' | 'prune' | 'rollback';

export const deployTimeouts = {
  preflightMs: 60_000,
  /** A 46 MB bundle (with Node) over a slow Wi-Fi link. */
  uploadMs: 15 * 60_000,
  /** Unpacking on a Pi Zero's SD card. */
  installMs: 10 * 60_000,
  /** systemctl restart waits for READY=1 (TimeoutStartSec=120s in the unit) and more. */
  activateMs: 5 * 60_000,
  healthProbeMs: 30_000,
  pruneMs: 5 * 60_000,
} as const;

export const DEFAULT_HEALTH_TIMEOUT_MS = 120_000;
export const DEFAULT_HEALTH_INTERVAL_MS = 3_000;
export const DEFAULT_STATUS_INTERVAL_MS = 60_000;
/** The oldest Node edgepeer loads on (package.json engines): zlib.crc32 came in 20.15. */
export const MIN_NODE_VERSION = { major: 20, minor: 15 } as const;

export type Exec = (c: RemoteCommand, timeoutMs: number) => Promise<CommandResult>;

export interface DeployContext {
  bundle: BundleFile;
  networkDir: string;
  ssh: SshOptions;
  /** Root of the board's filesystem as the scripts see it: '' on real boards (tests use a folder). */
  remoteRoot: (b: InventoryBoard) => string;
  health: { timeoutMs: number; intervalMs: number; requireLink: boolean };
  keepReleases: number;
  statusIntervalMs: number;
  releaseName: string;
  /** Private local folder for overlays. */
  workDir: string;
  dryRun: boolean;
  exec: Exec;
  sleep: (ms: number) => Promise<void>;
  /** Progress, one line at a time. */
  log: (b: InventoryBoard, line: string) => void;
  now: Date;
}

interface OutcomeBase {
  board: string;
  host: string;
  seconds: number;
  warnings: string[];
}

export type BoardOutcome =
  | (OutcomeBase & { kind: 'deployed'; release: string })
  | (OutcomeBase & { kind: 'planned'; release: string; commands: string[] })
  | (OutcomeBase & { kind: 'rolled-back'; release: string; step: DeployStep; reason: string; restored: string; restoredHealthy: boolean })
  | (OutcomeBase & { kind: 'failed'; step: DeployStep; reason: string });

class StepFailed extends Error {
  constructor(readonly step: DeployStep, message: string) {
    super(message);
  }
}

/** Whether `version` (`v20.15.1`) is at least MIN_NODE_VERSION; false when it is not a version. */
export function nodeIsRecentEnough(version: string): boolean {
  const m = /^v?([0-9]+)\.([0-9]+)\./.exec(version);
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > MIN_NODE_VERSION.major || (major === MIN_NODE_VERSION.major && minor >= MIN_NODE_VERSION.minor);
}

/** The settings a board runs with: the inventory's, else its board.json's and its profile's. */
export function boardSettings(b: InventoryBoard, ctx: Pick<DeployContext, 'networkDir' | 'bundle' | 'statusIntervalMs'>): BoardSettings {
  const network = loadNetworkFile(ctx.networkDir);
  const entry = network.boards.find((e) => e.id === b.board);
  if (entry === undefined) throw new Error(`board ${b.board} is not in the network (boards: ${network.boards.map((e) => e.id).join(', ')})`);
  const config = readBoardConfig(resolve(ctx.networkDir, entry.config));
  const profile = b.profile ?? config.profile;
  let consoleArg: string | null = null;
  if (typeof b.console === 'string') consoleArg = b.console;
  else if (b.console) {
    consoleArg = profileConsoleDevice(ctx.bundle.profiles.get(profile));
    if (consoleArg === null) throw new Error(`board ${b.board}: console = true, but profile '${profile}' names no console device`);
  }
  return {
    board: b.board,
    profile,
    orderers: b.orderers,
    heapMb: b.heapMb ?? heapCapMb(boardMemoryMb(profile, b.memoryMb)),
    memoryMb: boardMemoryMb(profile, b.memoryMb),
    metricsPort: b.metricsPort,
    statusIntervalMs: ctx.statusIntervalMs,
    console: consoleArg,
    peerArgs: b.peerArgs,
    gossip: b.gossip,
  };
}

/** What the board lacks for its LEDs (none for the emulated profile, which has no GPIO). */
export function ledWarnings(p: Pick<Preflight, 'gpioset' | 'gpiodPython'>, profile: string): string[] {
  if (profile === 'emulated') return [];
  if (!p.gpioset) return ['gpioset (Debian package gpiod) is not installed: the LEDs will stay dark'];
  if (!p.gpiodPython) {
    return ["libgpiod's Python bindings (Debian package python3-libgpiod) are not installed: on libgpiod 1 and Debian's libgpiod 2 the LEDs cost a gpioset start per change (docs/gpio.md)"];
  }
  return [];
}

function checkPreflight(p: Preflight, ctx: DeployContext, profile: string): string[] {
  if (!p.systemctl) throw new StepFailed('preflight', 'no systemctl on the board (edgepeer runs as a systemd service)');
  const target = targetForMachine(p.arch, p.machine);
  const m = ctx.bundle.manifest;
  if (target?.name !== m.target) {
    throw new StepFailed('preflight', `the board is ${p.arch || p.machine || 'of unknown architecture'} (${target?.name ?? 'no bundle target fits'}); the bundle is for ${m.target}`);
  }
  if (m.node.bundled === null) {
    if (!nodeIsRecentEnough(p.node)) {
      throw new StepFailed('preflight', `the board has ${p.node === '' ? 'no Node.js' : `Node ${p.node}`}; edgepeer needs Node ${m.node.required}: deploy a bundle made with --with-node, or install Node 22`);
    }
  }
  return ledWarnings(p, profile);
}

export async function deployBoard(b: InventoryBoard, ctx: DeployContext): Promise<BoardOutcome> {
  const started = Date.now();
  const seconds = (): number => Math.round((Date.now() - started) / 100) / 10;
  const root = ctx.remoteRoot(b);
  const release = ctx.releaseName;
  const bundleFile = `${release}-bundle.tar.gz`;
  const overlayFile = `${release}-overlay.tar.gz`;
  const cmd = (script: string, stdinFile?: string): RemoteCommand => remoteCommand(ctx.ssh, b, script, stdinFile);
  const warnings: string[] = [];
  const base = { board: b.board, host: b.host, warnings };

  let settings: BoardSettings;
  let overlay: BoardOverlay;
  try {
    settings = boardSettings(b, ctx);
    overlay = await buildBoardOverlay({ networkDir: ctx.networkDir, settings, releaseName: release, bundle: ctx.bundle.manifest, workDir: ctx.workDir, now: ctx.now });
    warnings.push(...overlay.warnings);
  } catch (err) {
    return { ...base, kind: 'failed', step: 'prepare', reason: (err as Error).message, seconds: seconds() };
  }

  const files = { release, bundleFile, overlayFile, keyFile: overlay.keyFile };
  const plan: { step: DeployStep; command: RemoteCommand; timeoutMs: number }[] = [
    { step: 'preflight', command: cmd(preflightScript(root)), timeoutMs: deployTimeouts.preflightMs },
    { step: 'upload', command: cmd(uploadScript(root, bundleFile), ctx.bundle.path), timeoutMs: deployTimeouts.uploadMs },
    { step: 'upload', command: cmd(uploadScript(root, overlayFile), overlay.tarball), timeoutMs: deployTimeouts.uploadMs },
    { step: 'install', command: cmd(installReleaseScript(rootIs(root), files)), timeoutMs: deployTimeouts.installMs },
    { step: 'activate', command: cmd(activateScript(rootIs(root), release, true)), timeoutMs: deployTimeouts.activateMs },
  ];
  const probe = (restarts: string | null): RemoteCommand => cmd(healthProbeScript(root, settings.metricsPort, restarts, ctx.health.requireLink));
  const rollback = cmd(rollbackScript(root, release));
  const prune = cmd(pruneScript(root, ctx.keepReleases));

  if (ctx.dryRun) {
    const every = `every ${ctx.health.intervalMs / 1000} s for up to ${ctx.health.timeoutMs / 1000} s`;
    const commands = [
      ...plan.map((p) => `# ${p.step}${p.command.stdinFile === overlay.tarball ? ' (the board\'s files, packed here in a private temp folder)' : ''}\n${describeRemoteCommand(p.command)}`),
      `# health (${every}, until it exits 0; the run also checks that NRestarts stays as activate left it)\n${describeRemoteCommand(probe(null))}`,
      `# prune (after a healthy start)\n${describeRemoteCommand(prune)}`,
      `# rollback (if activate or health fails)\n${describeRemoteCommand(rollback)}`,
    ];
    return { ...base, kind: 'planned', release, commands, seconds: seconds() };
  }

  const run = async (step: DeployStep, c: RemoteCommand, timeoutMs: number): Promise<CommandResult> => {
    const r = await ctx.exec(c, timeoutMs);
    if (r.code !== 0) {
      const how = r.signal !== null ? `killed by ${r.signal}` : `exit code ${r.code}`;
      throw new StepFailed(step, `${lastLines(r.stdout + (r.stderr !== '' ? `\n${r.stderr}` : ''), 4) || '(no output)'} (${how})`);
    }
    return r;
  };

  /** Probes until healthy (the reason is null) or the time is up (the last reason). */
  const waitHealthy = async (restarts: string | null): Promise<string | null> => {
    const deadline = Date.now() + ctx.health.timeoutMs;
    let reason = 'no probe ran';
    for (;;) {
      const r = await ctx.exec(probe(restarts), deployTimeouts.healthProbeMs);
      if (r.code === 0) return null;
      reason = lastLines(r.stdout + r.stderr, 2) || `probe exit code ${r.code}`;
      if (Date.now() + ctx.health.intervalMs > deadline) return `not healthy after ${ctx.health.timeoutMs / 1000} s: ${reason}`;
      await ctx.sleep(ctx.health.intervalMs);
    }
  };

  let step: DeployStep = 'preflight';
  try {
    for (const p of plan) {
      step = p.step;
      const r = await run(p.step, p.command, p.timeoutMs);
      if (p.step === 'preflight') warnings.push(...checkPreflight(parsePreflight(r.stdout), ctx, settings.profile));
      if (p.step === 'activate') {
        const restarts = /^restarts=(\S*)$/m.exec(r.stdout)?.[1] ?? null;
        step = 'health';
        ctx.log(b, `${release} active; waiting until healthy`);
        const unhealthy = await waitHealthy(restarts);
        if (unhealthy !== null) throw new StepFailed('health', unhealthy);
      } else {
        ctx.log(b, `${p.step}: ok`);
      }
    }
  } catch (err) {
    const failedStep = err instanceof StepFailed ? err.step : step;
    const reason = (err as Error).message;
    ctx.log(b, `${failedStep} failed: ${reason}`);
    // Before activate nothing on the board has changed but an unused release folder.
    if (failedStep !== 'activate' && failedStep !== 'health') return { ...base, kind: 'failed', step: failedStep, reason, seconds: seconds() };
    ctx.log(b, 'rolling back');
    const rb = await ctx.exec(rollback, deployTimeouts.activateMs);
    if (rb.code !== 0) {
      return { ...base, kind: 'failed', step: failedStep, reason: `${reason}; rollback failed: ${lastLines(rb.stdout + rb.stderr, 3)}`, seconds: seconds() };
    }
    const restored = /^current -> (\S+)$/m.exec(rb.stdout)?.[1]?.replace(/^releases\//, '') ?? '?';
    const stillBad = await waitHealthy(null);
    if (stillBad !== null) warnings.push(`after the rollback to ${restored}: ${stillBad}`);
    return { ...base, kind: 'rolled-back', release, step: failedStep, reason, restored, restoredHealthy: stillBad === null, seconds: seconds() };
  }

  const pr = await ctx.exec(prune, deployTimeouts.pruneMs);
  if (pr.code !== 0) warnings.push(`old releases not pruned: ${lastLines(pr.stdout + pr.stderr, 2)}`);
  return { ...base, kind: 'deployed', release, seconds: seconds() };
}
