// `edgepeer init`: a development network in one folder (org roots, member certificates, one genesis block
// per channel, one board.json per board), as Fabric's cryptogen and configtxgen make one. The layout is
// documented in src/network/networkFiles.ts.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { ZERO_HASH, makeConfigBlock, signConfigEnvelope } from '../channel/blocks.js';
import { certificateValidityMs, defaultBatch } from './networkDefaults.js';
import { maxMessageBytes } from '../transport/messageLimits.js';
import { mqttDefaults } from '../transport/mqtt/mqttDefaults.js';
import type { GossipElectionKind } from '../gossip/gossipSettings.js';
import type { BoardConfig, IdentityFiles, NetworkFile } from './networkFiles.js';
import { type Certificate, type Role, encodeCertificate, issueCertificate } from '../protocol/certificate.js';
import { peerDefaults } from '../peer/peerDefaults.js';
import { type KeyPair, generateKeyPair, privateKeyToPem } from '../crypto/keys.js';
import { type BatchConfig, type ChannelConfig, type Policy, blockBytesBound } from '../protocol/channelConfig.js';
import { DELIVER_RESPONSE_OVERHEAD_MAX_BYTES } from '../protocol/frames.js';
import type { Signer } from '../protocol/envelope.js';
import {
  ORDERER_ADMIN_ID, ORDERER_NODE_ID, ORDERER_ORG, boardId, clientId, peerOrgName,
} from './names.js';
import { CHANNEL_NAME_PATTERN, isValidChannelName } from '../protocol/names.js';

/** Upper bounds that catch a typo (`--orgs 1000000`) before it fills a disk with keys. */
export const INIT_MAX_ORGS = 100;
export const INIT_MAX_BOARDS_PER_ORG = 1000;
export const INIT_MAX_CHANNELS = 100;
/**
 * Certificates start this long before "now" so that a board whose clock runs a little behind the machine
 * that ran init still accepts them (Fabric's CA backdates by the same amount).
 */
export const CERTIFICATE_BACKDATE_MS = 5 * 60 * 1000;
export const DEFAULT_MQTT_URL = `mqtt://${mqttDefaults.host}:${mqttDefaults.port}`;
export const NETWORK_FILE_NAME = 'network.json';
export const GENESIS_FILE_NAME = 'genesis.block';
export const FABRIC_GENESIS_FILE_NAME = 'fabric-genesis.block';
export const BOARD_CONFIG_FILE_NAME = 'board.json';
export const BOARD_PROFILE = 'emulated';
const PRIVATE_KEY_FILE_MODE = 0o600;
/** What init writes besides network.json; `force` removes exactly these. */
const NETWORK_SUBFOLDERS = ['channels', 'orderer', 'orgs'] as const;

export interface CreateNetworkOptions {
  dir: string;
  /**
   * edgepeer channels the orderer cuts. With `fabricChannels` too, all of them make at least one
   * channel; every board.json names the first of `channels`, or the first Fabric channel when there is none.
   */
  channels: string[];
  /**
   * Hyperledger Fabric channels a gateway follows: the channel id (as the genesis block names it; the
   * caller reads it out) and the Fabric genesis block, stored byte for byte and pinned by hash.
   */
  fabricChannels?: { channel: string; genesis: Uint8Array }[];
  /** Peer organisations (org1..orgN); the orderer organisation comes on top. */
  orgs: number;
  boardsPerOrg: number;
  mqttUrl?: string;
  batch?: Partial<BatchConfig>;
  /** Clock for certificate validity (tests). */
  nowMs?: number;
  /** How long the certificates made are valid; default networkDefaults.certificateValidityMs (365 days). */
  certificateValidityMs?: number;
  /** Replace a network already in `dir`. */
  force?: boolean;
  /**
   * Write a gossip section into every board.json: board k (0-based over all orgs) listens on
   * 127.0.0.1:basePort+k and bootstraps from all the other boards. With election 'static' the first
   * board of each org is its orgLeader and the others are not.
   */
  gossip?: { basePort: number; election?: GossipElectionKind };
}

/** What `edgepeer init --json` prints. Paths are absolute. */
export interface NetworkSummary {
  dir: string;
  channels: string[];
  /** Those of `channels` that are Fabric channels (a gateway follows them). */
  fabricChannels: string[];
  /** The channel the boards are configured for (the first one). */
  channel: string;
  orderer: { id: string; org: string; mqtt: string };
  /** Peer organisations. */
  orgs: string[];
  boards: { id: string; org: string; config: string }[];
  clients: { id: string; org: string }[];
}

/** The options cannot make a network (a usage error, not a failure of the machine). */
export class NetworkOptionsError extends Error {
  override readonly name = 'NetworkOptionsError';
}

/** `dir` already holds a network and `force` was not given. */
export class NetworkExistsError extends Error {
  override readonly name = 'NetworkExistsError';
}

function checkCount(value: number, what: string, max: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new NetworkOptionsError(`${what} must be a whole number from 1 to ${max}, got ${value}`);
  }
}

function checkChannels(channels: readonly string[]): void {
  if (channels.length === 0) throw new NetworkOptionsError('at least one channel is needed: an edgepeer channel (--channel) or a Fabric channel (--fabric-genesis)');
  if (channels.length > INIT_MAX_CHANNELS) throw new NetworkOptionsError(`at most ${INIT_MAX_CHANNELS} channels`);
  const seen = new Set<string>();
  for (const c of channels) {
    if (!isValidChannelName(c)) {
      throw new NetworkOptionsError(`channel name '${c}' does not match ${CHANNEL_NAME_PATTERN.source}`);
    }
    if (seen.has(c)) throw new NetworkOptionsError(`channel '${c}' is named twice`);
    seen.add(c);
  }
}

function checkMqttUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new NetworkOptionsError(`MQTT URL '${url}' is not a URL`);
  }
  if (parsed.protocol !== 'mqtt:' && parsed.protocol !== 'mqtts:') {
    throw new NetworkOptionsError(`MQTT URL '${url}' must start with mqtt:// or mqtts://`);
  }
  if (parsed.hostname === '') throw new NetworkOptionsError(`MQTT URL '${url}' has no host`);
}

/** Merges `partial` over the defaults and refuses what channelConfigFromWire or the links would refuse later. */
export function batchConfigFrom(partial: Partial<BatchConfig> = {}): BatchConfig {
  const batch: BatchConfig = { ...defaultBatch };
  for (const key of Object.keys(batch) as (keyof BatchConfig)[]) {
    const v = partial[key];
    if (v !== undefined) batch[key] = v;
    if (!Number.isSafeInteger(batch[key]) || batch[key] < 1) {
      throw new NetworkOptionsError(`batch.${key} must be a whole number of at least 1, got ${batch[key]}`);
    }
  }
  if (batch.preferredMaxBytes > batch.absoluteMaxBytes) {
    throw new NetworkOptionsError(
      `batch.preferredMaxBytes (${batch.preferredMaxBytes}) is above batch.absoluteMaxBytes (${batch.absoluteMaxBytes})`,
    );
  }
  // absoluteMaxBytes bounds an envelope; a block of them, with its heads and signatures, must still fit
  // one Deliver response and a board's payload-buffer slot (docs/protocol.md §6).
  const blockBytes = blockBytesBound(batch, 1);
  const limit = Math.min(maxMessageBytes - DELIVER_RESPONSE_OVERHEAD_MAX_BYTES, peerDefaults.maxBlockBytes);
  if (blockBytes > limit) {
    throw new NetworkOptionsError(
      `batch.absoluteMaxBytes (${batch.absoluteMaxBytes}) and maxMessageCount (${batch.maxMessageCount}) allow blocks of ${blockBytes} bytes, above the ${limit} a board takes`,
    );
  }
  return batch;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** Writes a private key; 'wx' makes sure the file is new, so the 0600 mode is the one it gets. */
async function writePrivateKey(path: string, key: KeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, privateKeyToPem(key.privateKey), { mode: PRIVATE_KEY_FILE_MODE, flag: 'wx' });
}

export async function writeRoot(dir: string, relDir: string, key: KeyPair): Promise<{ rootKey: string; rootPub: string }> {
  const rootKey = join(relDir, 'root.key');
  const rootPub = join(relDir, 'root.pub');
  await writePrivateKey(join(dir, rootKey), key);
  await writeFile(join(dir, rootPub), key.publicKeyRaw);
  return { rootKey, rootPub };
}

export interface Member {
  files: IdentityFiles;
  signer: Signer;
}

/** When the certificates of a new network start, and for how long they hold. */
export interface Validity {
  nowMs: number;
  validityMs: number;
}

/** A member's new key and its certificate from `root`, not yet on disk. */
export interface IssuedMember {
  key: KeyPair;
  certificate: Certificate;
}

export function issueMember(id: string, org: string, role: Role, root: KeyPair, validity: Validity): IssuedMember {
  const { nowMs, validityMs } = validity;
  const key = generateKeyPair();
  const certificate = issueCertificate(
    { id, org, role, publicKey: key.publicKeyRaw, notBefore: nowMs - CERTIFICATE_BACKDATE_MS, notAfter: nowMs + validityMs },
    root.privateKey,
  );
  return { key, certificate };
}

/** Writes an issued member's key.pem and cert.cbor into `relDir` of the network folder `dir`. */
export async function writeIssuedMember(dir: string, relDir: string, issued: IssuedMember): Promise<Member> {
  const { id, org } = issued.certificate;
  const files: IdentityFiles = { id, org, key: join(relDir, 'key.pem'), cert: join(relDir, 'cert.cbor') };
  await writePrivateKey(join(dir, files.key), issued.key);
  await writeFile(join(dir, files.cert), encodeCertificate(issued.certificate));
  return { files, signer: { certificate: issued.certificate, privateKey: issued.key.privateKey } };
}

export async function writeMember(
  dir: string, relDir: string, id: string, org: string, role: Role, root: KeyPair, validity: Validity,
): Promise<Member> {
  return writeIssuedMember(dir, relDir, issueMember(id, org, role, root, validity));
}

function genesisConfig(
  channel: string, orderer: Certificate, roots: readonly { name: string; key: KeyPair }[], peerOrgs: readonly string[], batch: BatchConfig,
): ChannelConfig {
  const readers: Policy = { orgs: roots.map((r) => r.name), roles: ['peer', 'client', 'admin', 'orderer'] };
  const writers: Policy = { orgs: [...peerOrgs], roles: ['client', 'peer', 'admin'] };
  return {
    channel,
    sequence: 0,
    orderer: { org: ORDERER_ORG, signers: [orderer], minSignatures: 1 },
    orgs: roots.map((r) => ({ name: r.name, rootPublicKey: r.key.publicKeyRaw })),
    readers,
    writers,
    admins: { orgs: [ORDERER_ORG], roles: ['admin'] },
    batch: { ...batch },
    revoked: [],
  };
}

/**
 * Writes a new development network into `opts.dir`. network.json is written last, so its presence means
 * the network is complete. Refuses a folder that already holds network.json or one of the folders init
 * writes (channels, orderer, orgs) unless `force`, which removes those first; anything else in `dir` is
 * left alone.
 */
export async function createNetwork(opts: CreateNetworkOptions): Promise<NetworkSummary> {
  const fabric = opts.fabricChannels ?? [];
  const allChannels = [...opts.channels, ...fabric.map((f) => f.channel)];
  checkChannels(allChannels);
  checkCount(opts.orgs, 'orgs', INIT_MAX_ORGS);
  checkCount(opts.boardsPerOrg, 'boardsPerOrg', INIT_MAX_BOARDS_PER_ORG);
  const mqttUrl = opts.mqttUrl ?? DEFAULT_MQTT_URL;
  checkMqttUrl(mqttUrl);
  const batch = batchConfigFrom(opts.batch);
  const validityMs = opts.certificateValidityMs ?? certificateValidityMs;
  if (!Number.isSafeInteger(validityMs) || validityMs <= 0) throw new NetworkOptionsError(`certificate validity must be a positive number of milliseconds, got ${validityMs}`);
  const nowMs = opts.nowMs ?? Date.now();
  const validity: Validity = { nowMs, validityMs };
  const dir = resolve(opts.dir);

  const networkPath = join(dir, NETWORK_FILE_NAME);
  // A folder of a previous init that stopped half-way has no network.json but would still collide.
  const ours = [networkPath, ...NETWORK_SUBFOLDERS.map((sub) => join(dir, sub))];
  const present: string[] = [];
  for (const path of ours) if (await exists(path)) present.push(path);
  if (present.length > 0) {
    if (!opts.force) {
      throw new NetworkExistsError(`${dir} already holds a network (${present.join(', ')}): pass force (--force) to replace it`);
    }
    for (const path of present) await rm(path, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true });

  const ordererRoot = generateKeyPair();
  const roots: { name: string; key: KeyPair; files: { rootKey: string; rootPub: string } }[] = [
    { name: ORDERER_ORG, key: ordererRoot, files: await writeRoot(dir, 'orderer', ordererRoot) },
  ];
  const orderer = await writeMember(dir, join('orderer', ORDERER_NODE_ID), ORDERER_NODE_ID, ORDERER_ORG, 'orderer', ordererRoot, validity);
  const admin = await writeMember(dir, join('orderer', 'admin'), ORDERER_ADMIN_ID, ORDERER_ORG, 'admin', ordererRoot, validity);

  const firstChannel = allChannels[0]!;
  const fabricPins = new Map(fabric.map((f) => [f.channel, createHash('sha256').update(f.genesis).digest('hex')]));
  const boardPin = fabricPins.get(firstChannel);
  const peerOrgs: string[] = [];
  const boards: NetworkFile['boards'] = [];
  const clients: IdentityFiles[] = [];
  for (let i = 1; i <= opts.orgs; i++) {
    const org = peerOrgName(i);
    const orgDir = join('orgs', org);
    const root = generateKeyPair();
    roots.push({ name: org, key: root, files: await writeRoot(dir, orgDir, root) });
    peerOrgs.push(org);
    for (let j = 1; j <= opts.boardsPerOrg; j++) {
      const id = boardId(org, j);
      const boardDir = join(orgDir, 'boards', id);
      await writeMember(dir, boardDir, id, org, 'peer', root, validity);
      const config: BoardConfig = {
        id, org, channel: firstChannel, key: 'key.pem', cert: 'cert.cbor', profile: BOARD_PROFILE, orderers: [mqttUrl],
        ...(boardPin !== undefined ? { fabricGenesisSha256: boardPin } : {}),
        ...(opts.gossip !== undefined ? { gossip: gossipSection(opts.gossip, (i - 1) * opts.boardsPerOrg + (j - 1), opts.orgs * opts.boardsPerOrg, j === 1) } : {}),
      };
      const configPath = join(boardDir, BOARD_CONFIG_FILE_NAME);
      await writeFile(join(dir, configPath), `${JSON.stringify(config, null, 2)}\n`);
      boards.push({ id, org, config: configPath });
    }
    clients.push((await writeMember(dir, join(orgDir, 'client'), clientId(org), org, 'client', root, validity)).files);
  }

  // A Fabric channel gets an edgepeer genesis too: it is that channel's edge access configuration (who
  // may read from the gateway and gossip, the gateway's signing key), kept beside the ledger, not in it.
  for (const channel of allChannels) {
    const config = genesisConfig(channel, orderer.signer.certificate, roots, peerOrgs, batch);
    const envelope = signConfigEnvelope(config, admin.signer);
    const block = makeConfigBlock(0, ZERO_HASH, envelope, [{ index: 0, key: orderer.signer.privateKey }]);
    const channelDir = join(dir, 'channels', channel);
    await mkdir(channelDir, { recursive: true });
    await writeFile(join(channelDir, GENESIS_FILE_NAME), block.bytes);
  }
  const fabricChannels = fabric.map((f) => ({
    channel: f.channel, genesis: join('channels', f.channel, FABRIC_GENESIS_FILE_NAME), genesisSha256: fabricPins.get(f.channel)!,
  }));
  for (const f of fabric) await writeFile(join(dir, 'channels', f.channel, FABRIC_GENESIS_FILE_NAME), f.genesis);

  const network: NetworkFile = {
    version: 1,
    channels: allChannels,
    ...(fabricChannels.length > 0 ? { fabricChannels } : {}),
    ordererOrg: ORDERER_ORG,
    orderer: orderer.files,
    ordererAdmin: admin.files,
    // Every organisation with a root, the orderer's first, in the order of the genesis config.
    orgs: roots.map((r) => ({ name: r.name, ...r.files })),
    boards,
    clients,
    mqtt: { url: mqttUrl },
  };
  await writeFile(networkPath, `${JSON.stringify(network, null, 2)}\n`);

  return {
    dir,
    channels: allChannels,
    fabricChannels: fabricChannels.map((f) => f.channel),
    channel: firstChannel,
    orderer: { id: ORDERER_NODE_ID, org: ORDERER_ORG, mqtt: mqttUrl },
    orgs: peerOrgs,
    boards: boards.map((b) => ({ id: b.id, org: b.org, config: join(dir, b.config) })),
    clients: clients.map((c) => ({ id: c.id, org: c.org })),
  };
}

function gossipSection(
  g: NonNullable<CreateNetworkOptions['gossip']>, index: number, boards: number, firstOfOrg: boolean,
): NonNullable<BoardConfig['gossip']> {
  const basePort = g.basePort;
  if (basePort < 1 || basePort + boards - 1 > 65_535) {
    throw new NetworkOptionsError(`gossip base port ${basePort}: ports ${basePort}..${basePort + boards - 1} must lie within 1..65535`);
  }
  const address = (k: number): string => `127.0.0.1:${basePort + k}`;
  return {
    listen: address(index),
    bootstrap: Array.from({ length: boards }, (_, k) => k).filter((k) => k !== index).map(address),
    ...(g.election === 'static' ? { election: 'static' as const, orgLeader: firstOfOrg } : {}),
  };
}
