// The configuration of an external Mosquitto 2 for this network (docs/protocol.md §11.4): a listener,
// the password file of every member's broker login (§11.1), the ACL of §11.3, and the broker limits. The
// password file is written in Mosquitto's own hashed format (PBKDF2-SHA512, "$7$"), as mosquitto_passwd
// writes it, so init needs no Mosquitto installed.
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Signer } from '../protocol/envelope.js';
import { maxMessageBytes } from '../transport/messageLimits.js';
import { brokerCredentials } from '../transport/mqtt/brokerIdentity.js';
import { topicRoot } from '../transport/mqtt/topics.js';
import { loadBoard, loadNetworkFile, loadSigner } from './loadNetwork.js';
import { centralBridgeAcl, loadMosquittoSites, withoutRevoked, writeMosquittoSiteFiles } from './mosquittoSite.js';
import { revokedFingerprints } from './revokedMembers.js';

export const MOSQUITTO_DIR_NAME = 'mosquitto';

export const mosquittoLimits = {
  /** Mosquitto's own default of iterations for "$7$" hashes (mosquitto_passwd). */
  passwordHashIterations: 101,
  passwordSaltBytes: 12,
  passwordHashBytes: 64,
  /** Room for the MQTT fixed header, topic and length fields on top of the largest edgepeer message. */
  packetOverheadBytes: 64 * 1024,
  /** QoS 1 messages queued for one client: past it Mosquitto drops them (the Deliver session recovers, §9.4). */
  maxQueuedMessages: 1000,
  /** Bytes queued for one client; a subscriber that stops reading holds no more than this. */
  maxQueuedBytes: 16 * 1024 * 1024,
} as const;

/** One password file line in Mosquitto's "$7$" format: PBKDF2-HMAC-SHA512 of the password with a random salt. */
export function mosquittoPasswordLine(username: string, password: string): string {
  const salt = randomBytes(mosquittoLimits.passwordSaltBytes);
  const hash = pbkdf2Sync(password, salt, mosquittoLimits.passwordHashIterations, mosquittoLimits.passwordHashBytes, 'sha512');
  return `${username}:$7$${mosquittoLimits.passwordHashIterations}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export interface MosquittoConfigOptions {
  /** Listener port; default the port of the network's MQTT URL. */
  port?: number;
  /** Listener address; default 0.0.0.0 (boards reach the broker over the network). */
  host?: string;
  /** Certificates (by fingerprint) left out of the password file: revoked ones. */
  exclude?: ReadonlySet<string>;
}

export interface MosquittoConfigFiles {
  dir: string;
  config: string;
  users: number;
}

/** The ACL of §11.3: the orderer's own block (when this broker has the orderer), then every other login's pattern. */
export function edgepeerAcl(ordererUser: string | undefined): string[] {
  return [
    '# edgepeer (docs/protocol.md §11.3): written by `edgepeer init`; regenerate, do not edit.',
    ...(ordererUser === undefined ? [] : [
      `user ${ordererUser}`,
      `topic read ${topicRoot}/+/deliver`,
      `topic read ${topicRoot}/+/broadcast`,
      `topic write ${topicRoot}/+/reply/+`,
      '',
    ]),
    '# every other login: its own reply topics, and the request topics',
    `pattern read ${topicRoot}/+/reply/%u`,
    `pattern write ${topicRoot}/+/deliver`,
    `pattern write ${topicRoot}/+/broadcast`,
    '',
  ];
}

/** What every edgepeer Mosquitto sets beside its listener and access files. */
export const edgepeerBrokerSettings: readonly string[] = [
  // A retained message on a reply topic would reach every later session of that member (§11).
  'retain_available false',
  `max_packet_size ${maxMessageBytes + mosquittoLimits.packetOverheadBytes}`,
  `max_queued_messages ${mosquittoLimits.maxQueuedMessages}`,
  `max_queued_bytes ${mosquittoLimits.maxQueuedBytes}`,
  'persistence false',
  // Mosquitto leaves Nagle on by default: every request/reply round trip then takes ~44 ms.
  'set_tcp_nodelay true',
];

/**
 * Writes DIR/mosquitto/{mosquitto.conf,passwd,acl} from the identities of the network in DIR, with the
 * bridge logins of the sites recorded under DIR/mosquitto/sites (mosquittoSite.ts), whose own files are
 * written again too.
 */
export async function writeMosquittoConfig(dir: string, o: MosquittoConfigOptions = {}): Promise<MosquittoConfigFiles> {
  const net = loadNetworkFile(dir);
  const orderer = loadSigner(dir, net.orderer);
  const members: Signer[] = [
    // The next key of an orderer rotation under way has the orderer's username: its line replaces the
    // old key's below, as `network rotate-orderer-key` left the file.
    ...(net.ordererNext !== undefined ? [loadSigner(dir, net.ordererNext)] : []),
    loadSigner(dir, net.ordererAdmin),
    ...net.boards.map((b) => loadBoard(dir, b.id).signer),
    ...net.clients.map((c) => loadSigner(dir, c)),
    ...(net.admins ?? []).map((a) => loadSigner(dir, a)),
  ];
  const exclude = o.exclude ?? revokedFingerprints(dir);
  const sites = loadMosquittoSites(dir).map((s) => withoutRevoked(dir, s, exclude));
  // One line per username (Mosquitto takes one password per user), the last one given.
  const logins = [...new Map([
    ...[orderer, ...members].filter((s) => !exclude.has(s.certificate.fingerprint)).map((s) => brokerCredentials(s)),
    ...sites.map((s) => ({ username: s.bridgeUsername, password: s.bridgePassword })),
  ].map((l) => [l.username, l])).values()];
  const ordererUser = brokerCredentials(orderer).username;
  const out = resolve(dir, MOSQUITTO_DIR_NAME);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const passwd = join(out, 'passwd');
  const acl = join(out, 'acl');
  await writeFile(passwd, `${logins.map((l) => mosquittoPasswordLine(l.username, l.password)).join('\n')}\n`, { mode: 0o600 });
  await writeFile(acl, [...edgepeerAcl(ordererUser), ...sites.flatMap((s) => centralBridgeAcl(dir, s))].join('\n'), { mode: 0o600 });
  const port = o.port ?? Number(new URL(net.mqtt.url).port || 1883);
  const config = join(out, 'mosquitto.conf');
  await writeFile(config, [
    '# Mosquitto 2 for edgepeer (docs/protocol.md §11.4), written by `edgepeer init`.',
    'per_listener_settings false',
    `listener ${port} ${o.host ?? '0.0.0.0'}`,
    'allow_anonymous false',
    `password_file ${passwd}`,
    `acl_file ${acl}`,
    ...edgepeerBrokerSettings,
    '',
  ].join('\n'));
  for (const site of sites) {
    await writeMosquittoSiteFiles(dir, site, { settings: edgepeerBrokerSettings, acl: edgepeerAcl, passwordLine: mosquittoPasswordLine });
  }
  return { dir: out, config, users: logins.length };
}

