// Reading the development network written by `edgepeer init` (layout in src/network/networkFiles.ts). Every
// role starts here, so each failure names the file and what is wrong with it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type LedPinOverrides } from '../board/profile.js';
import { z } from 'zod';
import { matching, objectErrors, mustBe, nonEmptyString, parseConfig } from '../config/validate.js';
import { boardGossipSchema } from '../gossip/gossipSettings.js';
import { type BoardConfig, type IdentityFiles, type NetworkFile, type OrgEntry } from './networkFiles.js';
import { type Certificate, decodeCertificate } from '../protocol/certificate.js';
import { type KeyPair, keyPairFromPem } from '../crypto/keys.js';
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

/** A JSON file of the network folder through `schema`; a NetworkFileError names the file and the field. */
export function readNetworkJson<S extends z.ZodType>(schema: S, path: string, what: string): z.output<S> {
  return parseFile(schema, readJson(path, what), path);
}

/** The value `schema` makes of a file's JSON, or a NetworkFileError naming the file and the field. */
function parseFile<S extends z.ZodType>(schema: S, json: unknown, path: string): z.output<S> {
  return parseConfig(schema, json, path, (message) => {
    throw new NetworkFileError(message);
  });
}

const sha256HexSchema = matching(SHA256_HEX_PATTERN, 'a SHA-256 in lower-case hex (64 digits)');
const channelNameSchema = nonEmptyString().refine(isValidChannelName, mustBe('a valid channel name'));

const identitySchema = z.object({ id: nonEmptyString(), org: nonEmptyString(), key: nonEmptyString(), cert: nonEmptyString() }, mustBe('an object'));

/** network.json (NetworkFile in src/network/networkFiles.ts). */
export const networkFileSchema = z.object({
  version: z.literal(1, mustBe('1')),
  channels: z.array(channelNameSchema, mustBe('an array')).min(1, mustBe('a non-empty array')),
  ordererOrg: nonEmptyString(),
  orderer: identitySchema,
  ordererAdmin: identitySchema,
  ordererNext: identitySchema.optional(),
  orgs: z.array(z.object({
    name: nonEmptyString(), rootKey: nonEmptyString(), rootPub: nonEmptyString(), nextRootKey: nonEmptyString().optional(), nextRootPub: nonEmptyString().optional(),
  }, mustBe('an object')).refine((o) => (o.nextRootKey === undefined) === (o.nextRootPub === undefined), mustBe('an object with both nextRootKey and nextRootPub, or neither')), mustBe('an array')),
  boards: z.array(z.object({ id: nonEmptyString(), org: nonEmptyString(), config: nonEmptyString() }, mustBe('an object')), mustBe('an array')),
  clients: z.array(identitySchema, mustBe('an array')),
  admins: z.array(identitySchema, mustBe('an array')).optional(),
  mqtt: z.object({ url: nonEmptyString() }, mustBe('an object')),
  fabricChannels: z.array(z.object({ channel: nonEmptyString(), genesis: nonEmptyString(), genesisSha256: sha256HexSchema }, mustBe('an object')), mustBe('an array')).optional(),
}, mustBe('an object')).superRefine((n, ctx) => {
  n.fabricChannels?.forEach((f, i) => {
    if (!n.channels.includes(f.channel)) {
      ctx.addIssue({ code: 'custom', path: ['fabricChannels', i, 'channel'], message: `must be one of the network's channels ('${f.channel}' is not)` });
    }
  });
});

const ledNames = 'link, sync, leader, error, height';

/** The optional `pins` of a board.json: names only here; they are resolved when the board starts. */
const pinOverridesSchema = z.strictObject({
  link: nonEmptyString().optional(),
  sync: nonEmptyString().optional(),
  leader: nonEmptyString().optional(),
  error: nonEmptyString().optional(),
  height: z.array(nonEmptyString(), mustBe('an array of pin names')).optional(),
}, objectErrors('an object', `the LEDs are ${ledNames}`)) as unknown as z.ZodType<LedPinOverrides>;

/** One board.json (BoardConfig in src/network/networkFiles.ts). */
export const boardConfigSchema = z.object({
  id: nonEmptyString(),
  org: nonEmptyString(),
  channel: channelNameSchema,
  key: nonEmptyString(),
  cert: nonEmptyString(),
  profile: nonEmptyString(),
  orderers: z.array(nonEmptyString(), mustBe('an array')).min(1, mustBe('a non-empty array')),
  pins: pinOverridesSchema.optional(),
  gossip: boardGossipSchema.optional(),
  fabricGenesisSha256: sha256HexSchema.optional(),
}, mustBe('an object'));

export function networkFilePath(dir: string): string {
  return join(resolve(dir), NETWORK_FILE_NAME);
}

export function loadNetworkFile(dir: string): NetworkFile {
  const path = networkFilePath(dir);
  return parseFile(networkFileSchema, readJson(path, 'network file', `: run 'edgepeer init --dir ${dir}' first`), path);
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

/**
 * The orderer node's identities besides its own: the next one of a key rotation in progress, read from
 * the network folder now (the rotation writes it while the orderer runs).
 */
export function loadOrdererKeyring(dir: string): Signer[] {
  const next = loadNetworkFile(dir).ordererNext;
  return next === undefined ? [] : [loadSigner(dir, next)];
}

/** Reads and checks one board.json (paths inside it are relative to the file). */
export function readBoardConfig(path: string): BoardConfig {
  return parseFile(boardConfigSchema, readJson(path, 'board config'), path);
}

export interface LoadedBoard {
  config: BoardConfig;
  signer: Signer;
  /** Its cert file, absolute (watched by a running board: src/network/certificateWatch.ts). */
  certPath: string;
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
  return { config, signer, certPath: resolve(dirname(configPath), config.cert), genesis: anchor.kind === 'fabric' ? anchor.access : anchor.genesis, anchor };
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

/** A root key pair from its files, the public key file checked against the private key. */
function loadRootFiles(dir: string, keyFile: string, pubFile: string): KeyPair {
  const keyPath = resolve(dir, keyFile);
  const pubPath = resolve(dir, pubFile);
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

function orgEntry(dir: string, org: string): OrgEntry {
  const entry = loadNetworkFile(dir).orgs.find((o) => o.name === org);
  if (!entry) {
    throw new NetworkFileError(`no organisation '${org}' in ${networkFilePath(dir)} (organisations: ${loadNetworkFile(dir).orgs.map((o) => o.name).join(', ')})`);
  }
  return entry;
}

/**
 * The root key pair that issues an organisation's certificates: its root, or, while a root rotation is
 * under way (network.json's nextRootKey), the next one, so that a member added meanwhile outlives it.
 */
export function loadOrgRoot(dir: string, org: string): KeyPair {
  const entry = orgEntry(dir, org);
  return entry.nextRootKey !== undefined && entry.nextRootPub !== undefined
    ? loadRootFiles(dir, entry.nextRootKey, entry.nextRootPub)
    : loadRootFiles(dir, entry.rootKey, entry.rootPub);
}

/** An organisation's current root and the next one of a rotation under way (null when none is). */
export function loadOrgRoots(dir: string, org: string): { current: KeyPair; next: KeyPair | null } {
  const entry = orgEntry(dir, org);
  return {
    current: loadRootFiles(dir, entry.rootKey, entry.rootPub),
    next: entry.nextRootKey !== undefined && entry.nextRootPub !== undefined ? loadRootFiles(dir, entry.nextRootKey, entry.nextRootPub) : null,
  };
}
