// What one board gets on top of the bundle: the part of the network folder it needs (network.json with
// only itself, the genesis blocks, its own board.json, certificate and private key — no other board's
// key and no organisation root key), and board.env, the per-board settings the unit reads. Packed as a
// small tarball that is unpacked into the release, so a rollback restores code and settings together.
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import type { BoardConfig, NetworkFile } from '../network/networkFiles.js';
import { BOARD_CONFIG_FILE_NAME, GENESIS_FILE_NAME, NETWORK_FILE_NAME } from '../network/createNetwork.js';
import { genesisPath, loadBoard, loadNetworkFile, readBoardConfig } from '../network/loadNetwork.js';
import { boardLayout } from './boardLayout.js';
import type { InventoryGossip } from './inventory.js';
import type { BundleManifest } from './bundleManifest.js';
import { peerNodeOptions } from './heapPolicy.js';
import { runChecked } from './runCommand.js';

export const PRIVATE_KEY_MODE = 0o600;
const FILE_MODE = 0o640;
const DIR_MODE = 0o750;

export interface BoardSettings {
  board: string;
  profile: string;
  /** Replaces board.json's orderers when given. */
  orderers: string[] | null;
  heapMb: number;
  /** The board's RAM: small boards also get a small young generation (heapPolicy.peerNodeOptions). */
  memoryMb: number;
  metricsPort: number;
  statusIntervalMs: number;
  /** The `--console` value, or null for none. */
  console: string | null;
  peerArgs: string;
  /** Replacements of board.json's gossip addresses from the inventory. */
  gossip: InventoryGossip;
}

export interface OverlayOptions {
  networkDir: string;
  settings: BoardSettings;
  releaseName: string;
  bundle: BundleManifest;
  /** A private folder (mode 0700) the overlay is assembled and packed in. */
  workDir: string;
  now?: Date;
}

export interface BoardOverlay {
  tarball: string;
  /** The private key, relative to the release folder (its mode and owner are set on the board). */
  keyFile: string;
  boardEnv: string;
  /** Things the operator should know (an orderer on loopback, ...). */
  warnings: string[];
}

export class OverlayError extends Error {
  override readonly name = 'OverlayError';
}

/** A path from a network file that must stay inside the folder it is relative to. */
function inside(base: string, rel: string, what: string): string {
  if (isAbsolute(rel) || normalize(rel).startsWith('..')) throw new OverlayError(`${what} '${rel}' must be a path inside ${base}`);
  return normalize(rel);
}

function writeFile(path: string, text: string | Uint8Array, mode = FILE_MODE): void {
  mkdirSync(dirname(path), { recursive: true, mode: DIR_MODE });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

function copy(from: string, to: string, mode = FILE_MODE): void {
  mkdirSync(dirname(to), { recursive: true, mode: DIR_MODE });
  copyFileSync(from, to);
  // copyFileSync keeps the source's mode; the board gets ours.
  chmodSync(to, mode);
}

export function boardEnvText(s: BoardSettings, releaseName: string, now: Date): string {
  const args = [s.console !== null ? `--console ${s.console}` : '', s.peerArgs].filter((a) => a !== '').join(' ');
  return [
    `# ${s.board}: settings for edgepeer.service (EnvironmentFile=), release ${releaseName}, written ${now.toISOString()}.`,
    `EDGEPEER_BOARD=${s.board}`,
    `EDGEPEER_METRICS_PORT=${s.metricsPort}`,
    `EDGEPEER_STATUS_INTERVAL_MS=${s.statusIntervalMs}`,
    `# Heap cap and young generation for the ${s.profile} profile (src/deploy/heapPolicy.ts).`,
    `NODE_OPTIONS=${peerNodeOptions(s.heapMb, s.memoryMb)}`,
    `EDGEPEER_PEER_ARGS=${args}`,
    '',
  ].join('\n');
}

const LOOPBACK_HOST = String.raw`(localhost|127\.[0-9.]+|\[::1\])`;
/** An MQTT URL to this machine. */
const LOOPBACK = new RegExp(String.raw`^(mqtts?:\/\/)${LOOPBACK_HOST}(:|\/|$)`);
/** A gossip host:port on this machine. */
const LOOPBACK_HOST_PORT = new RegExp(`^${LOOPBACK_HOST}:`);

/** board.json's gossip section with the inventory's addresses in place of init's. */
function deployedGossip(board: string, gossip: BoardConfig['gossip'], o: InventoryGossip): BoardConfig['gossip'] {
  const given = o.listen !== null || o.advertise !== null || o.bootstrap !== null;
  if (gossip === undefined) {
    if (given) throw new OverlayError(`board ${board}: the inventory gives gossip addresses, but its board.json has no gossip section (make the network with init --gossip)`);
    return undefined;
  }
  return {
    ...gossip,
    ...(o.listen !== null ? { listen: o.listen } : {}),
    ...(o.advertise !== null ? { advertise: o.advertise } : {}),
    ...(o.bootstrap !== null ? { bootstrap: o.bootstrap } : {}),
  };
}

/** Where a board's loopback address is and which inventory key replaces it (docs/operations.md, Deploy). */
export type LoopbackKind = 'orderer endpoint' | 'gossip listen' | 'gossip advertise' | 'gossip bootstrap';

export interface LoopbackAddress {
  kind: LoopbackKind;
  /** Every loopback address of this kind (a bootstrap list may hold several). */
  addresses: string[];
  /** What the operator gives instead. */
  fix: string;
}

const LOOPBACK_FIX: Record<LoopbackKind, string> = {
  'orderer endpoint': 'give "orderers" in the inventory (or init --mqtt) unless the orderer runs on the board',
  'gossip listen': 'give gossipListen in the inventory (the board\'s LAN address, or 0.0.0.0:<port> with gossipAdvertise)',
  'gossip advertise': 'give gossipAdvertise (the address other boards reach it at) in the inventory',
  'gossip bootstrap': 'give gossipBootstrap in the inventory',
};

/**
 * The loopback addresses a board would be deployed with. A board on a Pi is reached by other Pis and
 * reaches its orderer over the network: init's loopback addresses (for one machine) cannot work there.
 * A listen on loopback is unreachable even when a LAN address is advertised, so both are checked.
 */
export function loopbackAddresses(config: Pick<BoardConfig, 'orderers' | 'gossip'>): LoopbackAddress[] {
  const found: [LoopbackKind, string[]][] = [['orderer endpoint', config.orderers.filter((e) => LOOPBACK.test(e))]];
  const g = config.gossip;
  if (g !== undefined) {
    found.push(['gossip listen', LOOPBACK_HOST_PORT.test(g.listen) ? [g.listen] : []]);
    found.push(['gossip advertise', g.advertise !== undefined && LOOPBACK_HOST_PORT.test(g.advertise) ? [g.advertise] : []]);
    found.push(['gossip bootstrap', g.bootstrap.filter((e) => LOOPBACK_HOST_PORT.test(e))]);
  }
  return found.filter(([, addresses]) => addresses.length > 0).map(([kind, addresses]) => ({ kind, addresses, fix: LOOPBACK_FIX[kind] }));
}

export function loopbackText(l: LoopbackAddress): string {
  return `${l.kind} ${l.addresses.join(', ')} is loopback: ${l.fix}`;
}

/** The orderers and gossip section a board is deployed with: the inventory's, else its board.json's. */
export function deployedAddresses(s: BoardSettings, config: BoardConfig): Pick<BoardConfig, 'orderers' | 'gossip'> {
  const gossip = deployedGossip(s.board, config.gossip, s.gossip);
  return { orderers: s.orderers ?? config.orderers, ...(gossip !== undefined ? { gossip } : {}) };
}

/** The board.json a board is deployed with, read from the network folder. */
export function boardConfigOf(networkDir: string, board: string): BoardConfig {
  const network: NetworkFile = loadNetworkFile(networkDir);
  const entry = network.boards.find((b) => b.id === board);
  if (entry === undefined) {
    throw new OverlayError(`board ${board} is not in ${join(networkDir, NETWORK_FILE_NAME)} (boards: ${network.boards.map((b) => b.id).join(', ')})`);
  }
  return readBoardConfig(resolve(networkDir, inside(networkDir, entry.config, 'board config')));
}

export async function buildBoardOverlay(o: OverlayOptions): Promise<BoardOverlay> {
  const s = o.settings;
  const network: NetworkFile = loadNetworkFile(o.networkDir);
  const entry = network.boards.find((b) => b.id === s.board);
  if (entry === undefined) {
    throw new OverlayError(`board ${s.board} is not in ${join(o.networkDir, NETWORK_FILE_NAME)} (boards: ${network.boards.map((b) => b.id).join(', ')})`);
  }
  if (!o.bundle.profiles.includes(s.profile)) {
    throw new OverlayError(`board ${s.board}: profile '${s.profile}' is not in the bundle (profiles: ${o.bundle.profiles.join(', ') || 'none'})`);
  }
  const boardJsonRel = inside(o.networkDir, entry.config, 'board config');
  const config: BoardConfig = readBoardConfig(resolve(o.networkDir, boardJsonRel));
  const boardDirRel = dirname(boardJsonRel);
  const keyRel = join(boardDirRel, inside(boardDirRel, config.key, 'board key'));
  const certRel = join(boardDirRel, inside(boardDirRel, config.cert, 'board certificate'));

  const root = join(o.workDir, s.board);
  const net = join(root, boardLayout.networkDir);
  mkdirSync(net, { recursive: true, mode: DIR_MODE });
  // Only this board: the others' config paths would point at files the board does not get.
  const ownNetwork: NetworkFile = { ...network, boards: [entry], clients: [] };
  writeFile(join(net, NETWORK_FILE_NAME), `${JSON.stringify(ownNetwork, null, 2)}\n`);
  for (const channel of network.channels) {
    copy(genesisPath(o.networkDir, channel), join(net, 'channels', channel, GENESIS_FILE_NAME));
  }
  const ownConfig: BoardConfig = { ...config, profile: s.profile, ...deployedAddresses(s, config) };
  writeFile(join(net, boardDirRel, BOARD_CONFIG_FILE_NAME), `${JSON.stringify(ownConfig, null, 2)}\n`);
  copy(resolve(o.networkDir, keyRel), join(net, keyRel), PRIVATE_KEY_MODE);
  copy(resolve(o.networkDir, certRel), join(net, certRel));
  // The board must be able to start from exactly these files.
  try {
    loadBoard(net, s.board);
  } catch (err) {
    throw new OverlayError(`board ${s.board}: its network files do not load: ${(err as Error).message}`);
  }

  const now = o.now ?? new Date();
  const boardEnv = boardEnvText(s, o.releaseName, now);
  writeFile(join(root, boardLayout.boardEnv), boardEnv, PRIVATE_KEY_MODE);
  writeFile(join(root, boardLayout.releaseInfo), `${JSON.stringify({
    release: o.releaseName, board: s.board, profile: s.profile, heapMb: s.heapMb,
    bundle: { version: o.bundle.version, target: o.bundle.target, commit: o.bundle.commit, builtAt: o.bundle.builtAt },
    deployedAt: now.toISOString(),
  }, null, 2)}\n`, 0o644);

  const tarball = join(o.workDir, `${s.board}-overlay.tar.gz`);
  await runChecked('tar', ['--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', root, boardLayout.networkDir, boardLayout.boardEnv, boardLayout.releaseInfo]);

  // Deploy refuses these before any board is touched unless --allow-loopback (deployFleet.fleetLoopbacks).
  const warnings = loopbackAddresses(ownConfig).map(loopbackText);
  return { tarball, keyFile: join(boardLayout.networkDir, keyRel), boardEnv, warnings };
}
