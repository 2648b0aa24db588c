// Reading the development network written by `edgepeer init` (layout in src/network/networkFiles.ts). Every
// role starts here, so each failure names the file and what is wrong with it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type LedPinOverrides } from '../board/profile.js';
import { type BoardGossipConfig, GOSSIP_ELECTION_KINDS, isGossipElectionKind } from '../gossip/gossipSettings.js';
import { type BoardConfig, type FabricChannelEntry, type IdentityFiles, type NetworkFile } from './networkFiles.js';
import { type Certificate, decodeCertificate } from '../protocol/certificate.js';
import { type KeyPair, keyPairFromPem } from '../crypto/keys.js';
import {
  type Refused, checkGossipLimits, checkMulticast, checkReachable, isUnspecifiedHost, parseHostPort,
} from '../gossip/gossipSettings.js';
import type { Signer } from '../protocol/envelope.js';
import { GENESIS_FILE_NAME, NETWORK_FILE_NAME } from './createNetwork.js';

/** A SHA-256 in hex, as network.json and board.json pin Fabric genesis blocks. */
const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
import { isValidChannelName } from '../protocol/names.js';

/** A network file, key, certificate or board config that is missing or not what it should be. */
export class NetworkFileError extends Error {
  override readonly name = 'NetworkFileError';
}

function readFile(path: string, what: string, missingHint = ''): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new NetworkFileError(`${what} ${path} does not exist${missingHint}`);
    throw new NetworkFileError(`cannot read ${what} ${path}: ${e.message}`);
  }
}

function readJson(path: string, what: string, missingHint = ''): unknown {
  const text = readFile(path, what, missingHint).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new NetworkFileError(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Field checks for JSON files; `file` goes into every message. */
class JsonShape {
  constructor(private readonly file: string) {}

  fail(field: string, expected: string): never {
    throw new NetworkFileError(`${this.file}: ${field} must be ${expected}`);
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'an object');
    return v as Record<string, unknown>;
  }

  string(o: Record<string, unknown>, key: string, field: string): string {
    const v = o[key];
    if (typeof v !== 'string' || v === '') this.fail(`${field}.${key}`, 'a non-empty string');
    return v;
  }

  array(o: Record<string, unknown>, key: string, field: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(`${field}.${key}`, 'an array');
    return v;
  }

  strings(o: Record<string, unknown>, key: string, field: string): string[] {
    return this.array(o, key, field).map((s, i) => {
      if (typeof s !== 'string' || s === '') this.fail(`${field}.${key}[${i}]`, 'a non-empty string');
      return s;
    });
  }

  identity(v: unknown, field: string): IdentityFiles {
    const o = this.object(v, field);
    return { id: this.string(o, 'id', field), org: this.string(o, 'org', field), key: this.string(o, 'key', field), cert: this.string(o, 'cert', field) };
  }
}

export function networkFilePath(dir: string): string {
  return join(resolve(dir), NETWORK_FILE_NAME);
}

export function loadNetworkFile(dir: string): NetworkFile {
  const path = networkFilePath(dir);
  const shape = new JsonShape(path);
  const o = shape.object(readJson(path, 'network file', `: run 'edgepeer init --dir ${dir}' first`), 'network');
  if (o['version'] !== 1) shape.fail('version', '1');
  const channels = shape.strings(o, 'channels', 'network');
  if (channels.length === 0) shape.fail('channels', 'a non-empty array');
  for (const c of channels) if (!isValidChannelName(c)) shape.fail('channels', `valid channel names ('${c}' is not)`);
  return {
    version: 1,
    channels,
    ordererOrg: shape.string(o, 'ordererOrg', 'network'),
    orderer: shape.identity(o['orderer'], 'orderer'),
    ordererAdmin: shape.identity(o['ordererAdmin'], 'ordererAdmin'),
    orgs: shape.array(o, 'orgs', 'network').map((x, i) => {
      const m = shape.object(x, `orgs[${i}]`);
      return { name: shape.string(m, 'name', `orgs[${i}]`), rootKey: shape.string(m, 'rootKey', `orgs[${i}]`), rootPub: shape.string(m, 'rootPub', `orgs[${i}]`) };
    }),
    boards: shape.array(o, 'boards', 'network').map((x, i) => {
      const m = shape.object(x, `boards[${i}]`);
      return { id: shape.string(m, 'id', `boards[${i}]`), org: shape.string(m, 'org', `boards[${i}]`), config: shape.string(m, 'config', `boards[${i}]`) };
    }),
    clients: shape.array(o, 'clients', 'network').map((x, i) => shape.identity(x, `clients[${i}]`)),
    mqtt: { url: shape.string(shape.object(o['mqtt'], 'mqtt'), 'url', 'mqtt') },
    ...(o['fabricChannels'] !== undefined ? { fabricChannels: readFabricChannels(shape, o, channels) } : {}),
  };
}

function readFabricChannels(shape: JsonShape, o: Record<string, unknown>, channels: readonly string[]): FabricChannelEntry[] {
  return shape.array(o, 'fabricChannels', 'network').map((x, i) => {
    const field = `fabricChannels[${i}]`;
    const m = shape.object(x, field);
    const channel = shape.string(m, 'channel', field);
    if (!channels.includes(channel)) shape.fail(`${field}.channel`, `one of the network's channels ('${channel}' is not)`);
    const genesisSha256 = shape.string(m, 'genesisSha256', field);
    if (!SHA256_HEX_PATTERN.test(genesisSha256)) shape.fail(`${field}.genesisSha256`, 'a SHA-256 in lower-case hex (64 digits)');
    return { channel, genesis: shape.string(m, 'genesis', field), genesisSha256 };
  });
}

/**
 * What a channel's nodes start from. An edgepeer channel: its genesis block (block 0 of its ledger).
 * A Fabric channel: the Fabric genesis block (block 0 of its ledger, checked against its pin) and the
 * edge access configuration (an edgepeer configuration block, never in the ledger: who may read from the
 * gateway and gossip).
 */
export type ChannelAnchor =
  | { kind: 'edgepeer'; channel: string; genesis: Uint8Array }
  | { kind: 'fabric'; channel: string; access: Uint8Array; fabricGenesis: Uint8Array; fabricGenesisSha256: string };

export function loadChannelAnchor(dir: string, channel: string): ChannelAnchor {
  const network = loadNetworkFile(dir);
  const genesis = loadGenesis(dir, channel);
  const fabric = network.fabricChannels?.find((f) => f.channel === channel);
  if (fabric === undefined) return { kind: 'edgepeer', channel, genesis };
  const path = resolve(dir, fabric.genesis);
  const fabricGenesis = new Uint8Array(readFile(path, `Fabric genesis block of channel '${channel}'`));
  const hash = createHash('sha256').update(fabricGenesis).digest('hex');
  if (hash !== fabric.genesisSha256) {
    throw new NetworkFileError(`${path} has SHA-256 ${hash}, but ${networkFilePath(dir)} pins ${fabric.genesisSha256} for channel '${channel}'`);
  }
  return { kind: 'fabric', channel, access: genesis, fabricGenesis, fabricGenesisSha256: hash };
}

export function genesisPath(dir: string, channel: string): string {
  return join(resolve(dir), 'channels', channel, GENESIS_FILE_NAME);
}

export function loadGenesis(dir: string, channel: string): Uint8Array {
  const network = loadNetworkFile(dir);
  if (!network.channels.includes(channel)) {
    throw new NetworkFileError(`channel '${channel}' is not in ${networkFilePath(dir)} (channels: ${network.channels.join(', ')})`);
  }
  return new Uint8Array(readFile(genesisPath(dir, channel), `genesis block of channel '${channel}'`));
}

/** Reads a key and its certificate and checks they belong together. Relative paths are taken from `baseDir`. */
function loadSignerFiles(baseDir: string, keyFile: string, certFile: string, expect: { id: string; org: string }): Signer {
  const keyPath = resolve(baseDir, keyFile);
  const certPath = resolve(baseDir, certFile);
  let key: KeyPair;
  try {
    key = keyPairFromPem(readFile(keyPath, 'private key').toString('utf8'));
  } catch (err) {
    if (err instanceof NetworkFileError) throw err;
    throw new NetworkFileError(`private key ${keyPath} is not an Ed25519 PKCS#8 PEM key: ${(err as Error).message}`);
  }
  const certBytes = readFile(certPath, 'certificate');
  let certificate: Certificate;
  try {
    certificate = decodeCertificate(new Uint8Array(certBytes));
  } catch (err) {
    throw new NetworkFileError(`certificate ${certPath} is malformed: ${(err as Error).message}`);
  }
  if (certificate.id !== expect.id || certificate.org !== expect.org) {
    throw new NetworkFileError(
      `certificate ${certPath} is for ${certificate.id} of ${certificate.org}, expected ${expect.id} of ${expect.org}`,
    );
  }
  if (Buffer.compare(Buffer.from(certificate.publicKey), Buffer.from(key.publicKeyRaw)) !== 0) {
    throw new NetworkFileError(`certificate ${certPath} does not certify the key in ${keyPath}`);
  }
  return { certificate, privateKey: key.privateKey };
}

/** A signing identity from its files (paths relative to the network folder). */
export function loadSigner(dir: string, ids: IdentityFiles): Signer {
  return loadSignerFiles(resolve(dir), ids.key, ids.cert, ids);
}

export function loadOrdererIdentities(dir: string): { node: Signer; admin: Signer } {
  const network = loadNetworkFile(dir);
  return { node: loadSigner(dir, network.orderer), admin: loadSigner(dir, network.ordererAdmin) };
}

/** Reads and checks one board.json (paths inside it are relative to the file). */
export function readBoardConfig(path: string): BoardConfig {
  const shape = new JsonShape(path);
  const o = shape.object(readJson(path, 'board config'), 'board');
  const orderers = shape.strings(o, 'orderers', 'board');
  if (orderers.length === 0) shape.fail('orderers', 'a non-empty array');
  const channel = shape.string(o, 'channel', 'board');
  if (!isValidChannelName(channel)) shape.fail('channel', 'a valid channel name');
  return {
    id: shape.string(o, 'id', 'board'),
    org: shape.string(o, 'org', 'board'),
    channel,
    key: shape.string(o, 'key', 'board'),
    cert: shape.string(o, 'cert', 'board'),
    profile: shape.string(o, 'profile', 'board'),
    orderers,
    ...(o['pins'] !== undefined ? { pins: readPinOverrides(shape, o['pins']) } : {}),
    ...(o['gossip'] !== undefined ? { gossip: readGossip(shape, o['gossip']) } : {}),
    ...(o['fabricGenesisSha256'] !== undefined ? { fabricGenesisSha256: readSha256(shape, o, 'fabricGenesisSha256', 'board') } : {}),
  };
}

function readSha256(shape: JsonShape, o: Record<string, unknown>, key: string, field: string): string {
  const v = shape.string(o, key, field);
  if (!SHA256_HEX_PATTERN.test(v)) shape.fail(`${field}.${key}`, 'a SHA-256 in lower-case hex (64 digits)');
  return v;
}

/** Keys of a board.json gossip section. */
const GOSSIP_KEYS = ['listen', 'bootstrap', 'advertise', 'limits', 'election', 'orgLeader', 'multicast'] as const;

/** The optional `gossip` of a board.json: addresses are host:port; everything else as BoardGossipConfig says. */
function readGossip(shape: JsonShape, v: unknown): BoardGossipConfig {
  const o = shape.object(v, 'gossip');
  for (const key of Object.keys(o)) {
    if (!(GOSSIP_KEYS as readonly string[]).includes(key)) shape.fail(`gossip.${key}`, `absent: the gossip keys are ${GOSSIP_KEYS.join(', ')}`);
  }
  const refuse: (field: string, r: Refused) => never = (field, r) => shape.fail(`gossip.${field}${r.field === '' ? '' : `.${r.field}`}`, r.expected);
  const listen = shape.string(o, 'listen', 'gossip');
  const listenAt = parseHostPort(listen);
  if (listenAt === null) shape.fail('gossip.listen', `host:port with a port of 0..65535 ('${listen}' given)`);
  const bootstrap = shape.strings(o, 'bootstrap', 'gossip');
  bootstrap.forEach((b, i) => {
    const r = checkReachable(b);
    if (!r.ok) refuse(`bootstrap[${i}]`, r);
  });
  const out: BoardGossipConfig = { listen, bootstrap };
  if (o['advertise'] !== undefined) {
    const advertise = shape.string(o, 'advertise', 'gossip');
    const r = checkReachable(advertise);
    if (!r.ok) refuse('advertise', r);
    out.advertise = advertise;
  } else if (isUnspecifiedHost(listenAt.host)) {
    shape.fail('gossip.advertise', `given when gossip.listen is ${listen}: other boards cannot connect to 0.0.0.0, so name the address they reach this board at`);
  }
  if (o['limits'] !== undefined) {
    const r = checkGossipLimits(o['limits']);
    if (!r.ok) refuse('limits', r);
    out.limits = r.value;
  }
  const election = o['election'];
  if (election !== undefined) {
    if (!isGossipElectionKind(election)) {
      shape.fail('gossip.election', `one of ${GOSSIP_ELECTION_KINDS.map((k) => `"${k}"`).join(', ')} (${JSON.stringify(election)} given)`);
    }
    out.election = election;
  }
  const orgLeader = o['orgLeader'];
  if ((out.election ?? 'dynamic') === 'static') {
    if (typeof orgLeader !== 'boolean') shape.fail('gossip.orgLeader', 'true or false with election "static": whether this board leads its organisation');
    out.orgLeader = orgLeader;
  } else if (orgLeader !== undefined) {
    shape.fail('gossip.orgLeader', 'absent unless gossip.election is "static" (a dynamic election chooses the leader itself)');
  }
  const multicast = o['multicast'];
  if (multicast === false) out.multicast = false;
  else if (multicast !== undefined) {
    const r = checkMulticast(multicast);
    if (!r.ok) refuse('multicast', r);
    out.multicast = r.value;
  }
  return out;
}

/** The optional `pins` of a board.json: names only here; they are resolved when the board starts. */
function readPinOverrides(shape: JsonShape, v: unknown): LedPinOverrides {
  const o = shape.object(v, 'board.pins');
  const out: LedPinOverrides = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'height') {
      out.height = shape.strings(o, 'height', 'board.pins');
    } else if (key === 'link' || key === 'sync' || key === 'leader' || key === 'error') {
      out[key] = shape.string(o, key, 'board.pins');
    } else {
      shape.fail(`board.pins.${key}`, `absent (${JSON.stringify(value)} given): the LEDs are link, sync, leader, error, height`);
    }
  }
  return out;
}

export interface LoadedBoard {
  config: BoardConfig;
  signer: Signer;
  /** The board's channel's genesis block (for a Fabric channel: its edge access configuration). */
  genesis: Uint8Array;
  anchor: ChannelAnchor;
}

export function loadBoard(dir: string, boardId: string): LoadedBoard {
  const network = loadNetworkFile(dir);
  const entry = network.boards.find((b) => b.id === boardId);
  if (!entry) {
    throw new NetworkFileError(
      `no board '${boardId}' in ${networkFilePath(dir)} (boards: ${network.boards.map((b) => b.id).join(', ') || 'none'})`,
    );
  }
  const configPath = resolve(dir, entry.config);
  const config = readBoardConfig(configPath);
  if (config.id !== entry.id || config.org !== entry.org) {
    throw new NetworkFileError(`${configPath} is for ${config.id} of ${config.org}, expected ${entry.id} of ${entry.org}`);
  }
  const signer = loadSignerFiles(dirname(configPath), config.key, config.cert, config);
  const anchor = loadChannelAnchor(dir, config.channel);
  if (anchor.kind === 'fabric' && config.fabricGenesisSha256 !== anchor.fabricGenesisSha256) {
    throw new NetworkFileError(config.fabricGenesisSha256 === undefined
      ? `${configPath}: channel '${config.channel}' is a Fabric channel, so fabricGenesisSha256 must pin its genesis block (${anchor.fabricGenesisSha256})`
      : `${configPath}: fabricGenesisSha256 ${config.fabricGenesisSha256} is not the hash of channel '${config.channel}''s genesis block (${anchor.fabricGenesisSha256})`);
  }
  if (anchor.kind === 'edgepeer' && config.fabricGenesisSha256 !== undefined) {
    throw new NetworkFileError(`${configPath}: fabricGenesisSha256 is set, but channel '${config.channel}' is not a Fabric channel`);
  }
  return { config, signer, genesis: anchor.kind === 'fabric' ? anchor.access : anchor.genesis, anchor };
}

/** A client identity: the first one, or the one of `org`. */
export function loadClient(dir: string, org?: string): Signer {
  const network = loadNetworkFile(dir);
  const ids = org === undefined ? network.clients[0] : network.clients.find((c) => c.org === org);
  if (!ids) {
    const known = network.clients.map((c) => c.org).join(', ') || 'none';
    throw new NetworkFileError(
      org === undefined
        ? `${networkFilePath(dir)} lists no client`
        : `no client of organisation '${org}' in ${networkFilePath(dir)} (organisations with a client: ${known})`,
    );
  }
  return loadSigner(dir, ids);
}

/** An organisation's root key pair, checked against its raw public key file. */
export function loadOrgRoot(dir: string, org: string): KeyPair {
  const network = loadNetworkFile(dir);
  const entry = network.orgs.find((o) => o.name === org);
  if (!entry) {
    throw new NetworkFileError(`no organisation '${org}' in ${networkFilePath(dir)} (organisations: ${network.orgs.map((o) => o.name).join(', ')})`);
  }
  const keyPath = resolve(dir, entry.rootKey);
  const pubPath = resolve(dir, entry.rootPub);
  let key: KeyPair;
  try {
    key = keyPairFromPem(readFile(keyPath, 'root key').toString('utf8'));
  } catch (err) {
    if (err instanceof NetworkFileError) throw err;
    throw new NetworkFileError(`root key ${keyPath} is not an Ed25519 PKCS#8 PEM key: ${(err as Error).message}`);
  }
  const pub = readFile(pubPath, 'root public key');
  if (Buffer.compare(pub, Buffer.from(key.publicKeyRaw)) !== 0) {
    throw new NetworkFileError(`root public key ${pubPath} does not match ${keyPath}`);
  }
  return key;
}
