// New members of a running network, written into the network folder `edgepeer init` made (layout in
// src/network/networkFiles.ts): a board of an organisation (its key, its certificate from the
// organisation's root key, its board.json), a new organisation (root key, admin, client), and finding a
// member's certificate by name for revocation. Keys are made in memory first, so that the caller can
// check them against the running channel before anything is written; network.json is written last and
// in one rename, so a network folder never lists a member whose files are not all there.
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type KeyPair, generateKeyPair, verifyBytes } from '../crypto/keys.js';
import { type Certificate, decodeCertificate, encodeCertificate, issueCertificate } from '../protocol/certificate.js';
import { isValidChannelName } from '../protocol/names.js';
import {
  BOARD_CONFIG_FILE_NAME, BOARD_PROFILE, CERTIFICATE_BACKDATE_MS, type IssuedMember, type Member, type Validity, issueMember, writeIssuedMember, writeRoot,
} from './createNetwork.js';
import { NetworkFileError, loadBoard, loadNetworkFile, loadOrgRoots, loadSigner, networkFilePath } from './loadNetwork.js';
import type { BoardConfig, IdentityFiles, NetworkFile } from './networkFiles.js';
import { boardId, clientId } from './names.js';

/** An organisation's admin's id, as add-org names it. */
export const orgAdminId = (org: string): string => `${org}-admin`;
/** An organisation name add-org accepts: also a readable broker username part (docs/protocol.md §11.1). */
const ORG_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** A board id add-board accepts (a folder name and a broker username part). */
const BOARD_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Writes network.json through a temporary file and a rename: readers see the old file or the new one. */
async function saveNetworkFile(dir: string, net: NetworkFile): Promise<void> {
  const path = networkFilePath(dir);
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(net, null, 2)}\n`);
  await rename(temp, path);
}

function memberIds(net: NetworkFile): Set<string> {
  return new Set([
    net.orderer.id, net.ordererAdmin.id, ...net.boards.map((b) => b.id), ...net.clients.map((c) => c.id), ...(net.admins ?? []).map((a) => a.id),
  ]);
}

export interface PlannedBoard {
  dir: string;
  config: BoardConfig;
  /** The board's folder, relative to the network folder. */
  relDir: string;
  issued: IssuedMember;
}

/**
 * A new board of `org` (its key and certificate made, nothing written): `id` or the next free
 * `<org>-board<N>`, on `channel` or the network's first, reaching the orderer at the network's MQTT URL.
 */
export function planBoard(dir: string, o: { org: string; root: KeyPair; id?: string; channel?: string; validity: Validity }): PlannedBoard {
  const net = loadNetworkFile(dir);
  const taken = memberIds(net);
  let id = o.id;
  if (id === undefined) {
    let n = 1;
    while (taken.has(boardId(o.org, n))) n++;
    id = boardId(o.org, n);
  }
  if (!BOARD_ID_PATTERN.test(id)) throw new NetworkFileError(`board id '${id}' does not match ${BOARD_ID_PATTERN.source}`);
  if (taken.has(id)) throw new NetworkFileError(`${networkFilePath(dir)} already has a member '${id}'`);
  const channel = o.channel ?? net.channels[0]!;
  if (!isValidChannelName(channel) || !net.channels.includes(channel)) {
    throw new NetworkFileError(`channel '${channel}' is not in ${networkFilePath(dir)} (channels: ${net.channels.join(', ')})`);
  }
  const pin = net.fabricChannels?.find((f) => f.channel === channel)?.genesisSha256;
  const config: BoardConfig = {
    id, org: o.org, channel, key: 'key.pem', cert: 'cert.cbor', profile: BOARD_PROFILE, orderers: [net.mqtt.url],
    ...(pin !== undefined ? { fabricGenesisSha256: pin } : {}),
  };
  return { dir, config, relDir: join('orgs', o.org, 'boards', id), issued: issueMember(id, o.org, 'peer', o.root, o.validity) };
}

/** Writes a planned board's folder and lists it in network.json; returns its board.json path (absolute). */
export async function writeBoard(b: PlannedBoard): Promise<{ member: Member; configPath: string }> {
  const member = await writeIssuedMember(b.dir, b.relDir, b.issued);
  const configRel = join(b.relDir, BOARD_CONFIG_FILE_NAME);
  await writeFile(join(b.dir, configRel), `${JSON.stringify(b.config, null, 2)}\n`);
  const net = loadNetworkFile(b.dir);
  net.boards.push({ id: b.config.id, org: b.config.org, config: configRel });
  await saveNetworkFile(b.dir, net);
  return { member, configPath: resolve(b.dir, configRel) };
}

export interface PlannedOrg {
  dir: string;
  name: string;
  root: KeyPair;
  admin: IssuedMember;
  client: IssuedMember;
}

/** A new organisation: its root key, an admin and a client, made in memory. */
export function planOrg(dir: string, name: string, validity: Validity): PlannedOrg {
  if (!ORG_NAME_PATTERN.test(name)) throw new NetworkFileError(`organisation name '${name}' does not match ${ORG_NAME_PATTERN.source}`);
  const net = loadNetworkFile(dir);
  if (net.orgs.some((o) => o.name === name)) throw new NetworkFileError(`${networkFilePath(dir)} already has an organisation '${name}'`);
  const taken = memberIds(net);
  for (const id of [orgAdminId(name), clientId(name)]) {
    if (taken.has(id)) throw new NetworkFileError(`${networkFilePath(dir)} already has a member '${id}'`);
  }
  const root = generateKeyPair();
  return {
    dir, name, root,
    admin: issueMember(orgAdminId(name), name, 'admin', root, validity),
    client: issueMember(clientId(name), name, 'client', root, validity),
  };
}

/** Writes the organisation's folder (root key, admin, client) without listing it in network.json yet. */
export async function writeOrgFiles(o: PlannedOrg): Promise<{ rootKey: string; rootPub: string; admin: Member; client: Member }> {
  const orgDir = join('orgs', o.name);
  const roots = await writeRoot(o.dir, orgDir, o.root);
  const admin = await writeIssuedMember(o.dir, join(orgDir, 'admin'), o.admin);
  const client = await writeIssuedMember(o.dir, join(orgDir, 'client'), o.client);
  return { ...roots, admin, client };
}

/** Removes the folder writeOrgFiles wrote (the channel refused the organisation). */
export async function removeOrgFiles(o: PlannedOrg): Promise<void> {
  await rm(join(o.dir, 'orgs', o.name), { recursive: true, force: true });
}

/** Lists a written organisation in network.json: its root, its client, its admin. */
export async function listOrg(o: PlannedOrg, files: Awaited<ReturnType<typeof writeOrgFiles>>): Promise<void> {
  const net = loadNetworkFile(o.dir);
  net.orgs.push({ name: o.name, rootKey: files.rootKey, rootPub: files.rootPub });
  net.clients.push(files.client.files);
  net.admins = [...(net.admins ?? []), files.admin.files];
  await saveNetworkFile(o.dir, net);
}

export type MemberKind = 'orderer' | 'orderer admin' | 'admin' | 'board' | 'client';

/**
 * A member of the network folder by id (board, client, admin), with its certificate and, when an
 * organisation root rotation re-certified it, the certificate it held before (still valid until the
 * rotation finishes, so a revocation names both).
 */
export function findMember(dir: string, id: string): { kind: MemberKind; certificate: Certificate; previous: Certificate | null } {
  const net = loadNetworkFile(dir);
  const ofIdentity = (kind: MemberKind, files: IdentityFiles): { kind: MemberKind; certificate: Certificate; previous: Certificate | null } => {
    const certificate = loadSigner(dir, files).certificate;
    return { kind, certificate, previous: previousCertificate(resolve(dir, files.cert), certificate) };
  };
  if (net.orderer.id === id) return ofIdentity('orderer', net.orderer);
  if (net.ordererAdmin.id === id) return ofIdentity('orderer admin', net.ordererAdmin);
  if (net.boards.some((b) => b.id === id)) {
    const board = loadBoard(dir, id);
    return { kind: 'board', certificate: board.signer.certificate, previous: previousCertificate(board.certPath, board.signer.certificate) };
  }
  const client = net.clients.find((c) => c.id === id);
  if (client !== undefined) return ofIdentity('client', client);
  const admin = net.admins?.find((a) => a.id === id);
  if (admin !== undefined) return ofIdentity('admin', admin);
  throw new NetworkFileError(`no member '${id}' in ${networkFilePath(dir)} (boards, clients and admins: ${[...memberIds(net)].join(', ')})`);
}

/** Hex digits of the new certificate's fingerprint in the folder name of a rotated orderer key. */
const ROTATED_FOLDER_FINGERPRINT_CHARS = 12;

/**
 * The orderer node's next identity for a key rotation: the one network.json names already (a rotation
 * that did not finish is taken up again), or a new key and certificate from the orderer organisation's
 * root, with the node's id (so its broker username stays), written to `orderer/<id>-<fingerprint>/` and
 * named `ordererNext` in network.json. The running orderer reads it from there when the configuration
 * update names it.
 */
export async function nextOrdererIdentity(dir: string, root: KeyPair, validity: Validity): Promise<{ member: Member; resumed: boolean }> {
  const net = loadNetworkFile(dir);
  if (net.ordererNext !== undefined) return { member: { files: net.ordererNext, signer: loadSigner(dir, net.ordererNext) }, resumed: true };
  const issued = issueMember(net.orderer.id, net.ordererOrg, 'orderer', root, validity);
  const member = await writeIssuedMember(dir, join('orderer', `${net.orderer.id}-${issued.certificate.fingerprint.slice(0, ROTATED_FOLDER_FINGERPRINT_CHARS)}`), issued);
  net.ordererNext = member.files;
  await saveNetworkFile(dir, net);
  return { member, resumed: false };
}

/** Makes the rotation's next identity the orderer's own in network.json (the old files stay, unused). */
export async function promoteOrdererNext(dir: string): Promise<IdentityFiles> {
  const net = loadNetworkFile(dir);
  const next = net.ordererNext;
  if (next === undefined) throw new NetworkFileError(`${networkFilePath(dir)} names no next orderer identity`);
  const retired = net.orderer;
  net.orderer = next;
  delete net.ordererNext;
  await saveNetworkFile(dir, net);
  return retired;
}

// ---- an organisation's root rotation (edgepeer network rotate-org-key) ----

/** Hex digits of the new root's public key in the folder name of a rotated organisation root. */
const ROTATED_ROOT_FOLDER_HEX_CHARS = 12;
/** Beside a re-certified member's cert file: the certificate it replaced, for revoking both during the overlap. */
export const PREVIOUS_CERTIFICATE_SUFFIX = '.previous';

/**
 * The organisation's next root for a rotation: the one network.json names already (a rotation begun
 * earlier is taken up again), or a new key pair written to `orgs/<org>/root-<hex>/` and named there.
 */
export async function nextOrgRoot(dir: string, org: string): Promise<{ root: KeyPair; resumed: boolean }> {
  const roots = loadOrgRoots(dir, org);
  if (roots.next !== null) return { root: roots.next, resumed: true };
  const root = generateKeyPair();
  const files = await writeRoot(dir, join('orgs', org, `root-${Buffer.from(root.publicKeyRaw).toString('hex').slice(0, ROTATED_ROOT_FOLDER_HEX_CHARS)}`), root);
  const net = loadNetworkFile(dir);
  const entry = net.orgs.find((o) => o.name === org)!;
  entry.nextRootKey = files.rootKey;
  entry.nextRootPub = files.rootPub;
  await saveNetworkFile(dir, net);
  return { root, resumed: false };
}

/** A member of an organisation whose certificate file the rotation rewrites. */
export interface OrgMemberFile {
  id: string;
  kind: 'board' | 'client' | 'admin';
  /** The cert file, absolute. */
  certPath: string;
  certificate: Certificate;
}

/** Every board, client and admin of `org` the network folder lists, with its certificate. */
export function orgMemberFiles(dir: string, org: string): OrgMemberFile[] {
  const net = loadNetworkFile(dir);
  const members: OrgMemberFile[] = [];
  for (const b of net.boards.filter((x) => x.org === org)) {
    const board = loadBoard(dir, b.id);
    members.push({ id: b.id, kind: 'board', certPath: board.certPath, certificate: board.signer.certificate });
  }
  const identities: [OrgMemberFile['kind'], IdentityFiles][] = [
    ...net.clients.filter((c) => c.org === org).map((c): [OrgMemberFile['kind'], IdentityFiles] => ['client', c]),
    ...(net.admins ?? []).filter((a) => a.org === org).map((a): [OrgMemberFile['kind'], IdentityFiles] => ['admin', a]),
  ];
  for (const [kind, files] of identities) {
    members.push({ id: files.id, kind, certPath: resolve(dir, files.cert), certificate: loadSigner(dir, files).certificate });
  }
  return members;
}

/** Whether `root` signed `cert` (the certificate is of the organisation whose root that is). */
export function signedByRoot(cert: Certificate, root: KeyPair): boolean {
  return verifyBytes(root.publicKey, cert.body, cert.signature);
}

/**
 * Each listed member of `org` not signed by `root` yet and not revoked, certified again by `root`: the
 * same id, role and key (so its key file, broker username and gossip identity stay), valid from now for
 * `validity`. The new cert file replaces the old one by a rename (a board watching it never reads half of
 * one); the old certificate is kept beside it (PREVIOUS_CERTIFICATE_SUFFIX). Returns those rewritten.
 */
export async function recertifyOrgMembers(dir: string, org: string, root: KeyPair, validity: Validity, revoked: ReadonlySet<string>): Promise<OrgMemberFile[]> {
  const done: OrgMemberFile[] = [];
  for (const m of orgMemberFiles(dir, org)) {
    if (revoked.has(m.certificate.fingerprint) || signedByRoot(m.certificate, root)) continue;
    const { id, role, publicKey } = m.certificate;
    const certificate = issueCertificate(
      { id, org, role, publicKey, notBefore: validity.nowMs - CERTIFICATE_BACKDATE_MS, notAfter: validity.nowMs + validity.validityMs }, root.privateKey,
    );
    await writeFile(`${m.certPath}${PREVIOUS_CERTIFICATE_SUFFIX}`, encodeCertificate(m.certificate));
    const temp = `${m.certPath}.tmp-${process.pid}`;
    await writeFile(temp, encodeCertificate(certificate));
    await rename(temp, m.certPath);
    done.push({ ...m, certificate });
  }
  return done;
}

/** Makes the rotation's next root the organisation's root in network.json (the old files stay, unlisted). */
export async function promoteOrgRoot(dir: string, org: string): Promise<{ rootKey: string; retiredRootKey: string }> {
  const net = loadNetworkFile(dir);
  const entry = net.orgs.find((o) => o.name === org);
  if (entry?.nextRootKey === undefined || entry.nextRootPub === undefined) throw new NetworkFileError(`${networkFilePath(dir)} names no next root of '${org}'`);
  const retiredRootKey = entry.rootKey;
  entry.rootKey = entry.nextRootKey;
  entry.rootPub = entry.nextRootPub;
  delete entry.nextRootKey;
  delete entry.nextRootPub;
  await saveNetworkFile(dir, net);
  return { rootKey: entry.rootKey, retiredRootKey };
}

/** The certificate a re-certified member held before (PREVIOUS_CERTIFICATE_SUFFIX), if it is for the same key. */
export function previousCertificate(certPath: string, current: Certificate): Certificate | null {
  const path = `${certPath}${PREVIOUS_CERTIFICATE_SUFFIX}`;
  if (!existsSync(path)) return null;
  try {
    const prev = decodeCertificate(new Uint8Array(readFileSync(path)));
    return prev.id === current.id && prev.org === current.org && Buffer.compare(Buffer.from(prev.publicKey), Buffer.from(current.publicKey)) === 0 ? prev : null;
  } catch {
    return null;
  }
}
