// A site's own Mosquitto, bridged to the network's central one (the Mosquitto that the orderer uses,
// configured by mosquittoConfig.ts): the way an IoT fleet spans sites. The boards of the site log in to
// the site broker with their usual credentials (docs/protocol.md §11.1) under the same ACL; the bridge
// carries their requests to the central broker and brings back only their own reply topics, so a site's
// uplink carries its boards' traffic and nothing else. At the central broker the bridge logs in as
// `bridge.<site>` with a password made here, and its ACL lets it write requests and read exactly the
// reply topics of its boards. The orderer needs no change: it authenticates requests by their signatures
// (docs/protocol.md §7), never by the broker connection they came on.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { brokerCredentials } from '../transport/mqtt/brokerIdentity.js';
import { topicRoot } from '../transport/mqtt/topics.js';
import { loadBoard, loadNetworkFile, readNetworkJson } from './loadNetwork.js';

export const MOSQUITTO_SITES_DIR_NAME = 'sites';
const SITE_FILE_NAME = 'site.json';

export const mosquittoSiteDefaults = {
  /** Bytes of randomness in the bridge's password at the central broker. */
  bridgePasswordBytes: 32,
  /**
   * The bridge pings the central broker this often: a cut uplink is noticed within about 1.5 times this,
   * and the bridge reconnects (restart_timeout below) once the link is back.
   */
  bridgeKeepaliveSeconds: 5,
  /** First and longest wait before the bridge reconnects (Mosquitto's restart_timeout, with its own backoff). */
  bridgeRestartBaseSeconds: 1,
  bridgeRestartCapSeconds: 10,
  /** QoS of bridged messages: edgepeer's requests and replies are QoS 1 (docs/protocol.md §11). */
  bridgeQos: 1,
} as const;

/** What `edgepeer mosquitto site` records of a site, so that the files can be written again unchanged. */
export interface MosquittoSite {
  name: string;
  /** Board ids of the network that log in to this site's broker. */
  boards: string[];
  /** host:port of the central Mosquitto, as the site reaches it. */
  central: string;
  /** The site broker's listener. */
  host: string;
  port: number;
  bridgeUsername: string;
  bridgePassword: string;
}

const SITE_NAME = /^[A-Za-z0-9_-]{1,32}$/;

const siteSchema = z.object({
  name: z.string().regex(SITE_NAME),
  boards: z.array(z.string().min(1)).min(1),
  central: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535),
  bridgeUsername: z.string().min(1),
  bridgePassword: z.string().min(1),
});

export class MosquittoSiteError extends Error {
  override name = 'MosquittoSiteError';
}

function sitesDir(networkDir: string): string {
  return resolve(networkDir, 'mosquitto', MOSQUITTO_SITES_DIR_NAME);
}

/** The sites recorded for the network in `networkDir`, by name. */
export function loadMosquittoSites(networkDir: string): MosquittoSite[] {
  const dir = sitesDir(networkDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, SITE_FILE_NAME)))
    .map((e) => {
      const path = join(dir, e.name, SITE_FILE_NAME);
      return readNetworkJson(siteSchema, path, 'site file');
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** host:port, with the port in range. */
function parseCentral(central: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(central);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new MosquittoSiteError(`--central must be HOST:PORT of the central Mosquitto, got '${central}'`);
  }
  return { host: m[1]!, port };
}

export interface SiteRequest {
  name: string;
  boards: string[];
  central: string;
  host?: string;
  port: number;
}

/**
 * Records a site (a new one, or new settings for one, keeping its bridge password) after checking its
 * boards are the network's and in no other site. The caller then writes the central files again
 * (writeMosquittoConfig) and the site's (writeMosquittoSiteFiles).
 */
export async function recordMosquittoSite(networkDir: string, r: SiteRequest): Promise<MosquittoSite> {
  if (!SITE_NAME.test(r.name)) throw new MosquittoSiteError(`site name must match ${SITE_NAME}, got '${r.name}'`);
  parseCentral(r.central);
  if (r.boards.length === 0) throw new MosquittoSiteError('a site needs at least one board (--boards)');
  const known = new Set(loadNetworkFile(networkDir).boards.map((b) => b.id));
  const unknown = r.boards.filter((b) => !known.has(b));
  if (unknown.length > 0) throw new MosquittoSiteError(`not boards of this network: ${unknown.join(', ')} (boards: ${[...known].join(', ')})`);
  const recorded = loadMosquittoSites(networkDir);
  const others = recorded.filter((s) => s.name !== r.name);
  for (const b of r.boards) {
    const taken = others.find((s) => s.boards.includes(b));
    if (taken !== undefined) throw new MosquittoSiteError(`board ${b} is already in site '${taken.name}'`);
  }
  const previous = recorded.find((s) => s.name === r.name);
  const site: MosquittoSite = {
    name: r.name,
    boards: [...new Set(r.boards)],
    central: r.central,
    host: r.host ?? '0.0.0.0',
    port: r.port,
    bridgeUsername: `bridge.${r.name}`,
    bridgePassword: previous?.bridgePassword ?? randomBytes(mosquittoSiteDefaults.bridgePasswordBytes).toString('base64url'),
  };
  const dir = join(sitesDir(networkDir), site.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, SITE_FILE_NAME), `${JSON.stringify(site, null, 2)}\n`, { mode: 0o600 });
  return site;
}

/** `site` without its boards whose certificates are in `revoked` (fingerprints). */
export function withoutRevoked(networkDir: string, site: MosquittoSite, revoked: ReadonlySet<string>): MosquittoSite {
  return { ...site, boards: site.boards.filter((id) => !revoked.has(loadBoard(networkDir, id).signer.certificate.fingerprint)) };
}

/** The MQTT usernames (and so reply-topic client ids, §11.3) of a site's boards. */
export function siteBoardUsernames(networkDir: string, site: MosquittoSite): string[] {
  return site.boards.map((id) => brokerCredentials(loadBoard(networkDir, id).signer).username);
}

/** The central broker's ACL block for a site's bridge: requests out, its boards' replies in. */
export function centralBridgeAcl(networkDir: string, site: MosquittoSite): string[] {
  return [
    `# site '${site.name}': its bridge writes requests and reads its boards' replies only`,
    `user ${site.bridgeUsername}`,
    `topic write ${topicRoot}/+/deliver`,
    `topic write ${topicRoot}/+/broadcast`,
    ...siteBoardUsernames(networkDir, site).map((u) => `topic read ${topicRoot}/+/reply/${u}`),
    '',
  ];
}

export interface SiteFiles {
  dir: string;
  config: string;
}

/**
 * Writes NETWORK/mosquitto/sites/<site>/{mosquitto.conf,passwd,acl}: the site broker for its boards,
 * with the bridge to the central broker. `broker` is the lines every edgepeer Mosquitto has (limits,
 * retained messages off; mosquittoConfig.ts), `passwordLine` its password file format.
 */
export async function writeMosquittoSiteFiles(
  networkDir: string,
  site: MosquittoSite,
  broker: { settings: readonly string[]; acl: (ordererUser: string | undefined) => string[]; passwordLine: (user: string, password: string) => string },
): Promise<SiteFiles> {
  const dir = join(sitesDir(networkDir), site.name);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const logins = site.boards.map((id) => brokerCredentials(loadBoard(networkDir, id).signer));
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  await writeFile(passwd, `${logins.map((l) => broker.passwordLine(l.username, l.password)).join('\n')}\n`, { mode: 0o600 });
  await writeFile(acl, broker.acl(undefined).join('\n'), { mode: 0o600 });
  const central = parseCentral(site.central);
  const d = mosquittoSiteDefaults;
  const config = join(dir, 'mosquitto.conf');
  await writeFile(config, [
    `# Mosquitto 2 for edgepeer site '${site.name}' (docs/operations.md, "Sites bridged to a central broker"),`,
    '# written by `edgepeer mosquitto site`; run it again to change it, do not edit.',
    'per_listener_settings false',
    `listener ${site.port} ${site.host}`,
    'allow_anonymous false',
    `password_file ${passwd}`,
    `acl_file ${acl}`,
    ...broker.settings,
    '',
    'connection edgepeer-central',
    `address ${central.host}:${central.port}`,
    `remote_clientid ${site.bridgeUsername}`,
    `remote_username ${site.bridgeUsername}`,
    `remote_password ${site.bridgePassword}`,
    'bridge_protocol_version mqttv311',
    // A fresh session after every reconnect: the boards' Deliver sessions recover by themselves (§9.4),
    // and a queue kept at the central broker for a long-cut site would only replay stale replies.
    'cleansession true',
    // Notifications are retained publishes, which an edgepeer broker refuses (retain_available false).
    'notifications false',
    `keepalive_interval ${d.bridgeKeepaliveSeconds}`,
    `restart_timeout ${d.bridgeRestartBaseSeconds} ${d.bridgeRestartCapSeconds}`,
    'start_type automatic',
    `topic ${topicRoot}/+/deliver out ${d.bridgeQos}`,
    `topic ${topicRoot}/+/broadcast out ${d.bridgeQos}`,
    ...logins.map((l) => `topic ${topicRoot}/+/reply/${l.username} in ${d.bridgeQos}`),
    '',
  ].join('\n'), { mode: 0o600 });
  return { dir, config };
}
