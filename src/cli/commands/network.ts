// `edgepeer network add-board | add-org | revoke | rotate-orderer-key | rotate-org-key`: fleet operations on a running network, no new chain
// (docs/operations.md, "Changing a running network"). Each works on the network folder `edgepeer init`
// wrote and talks to the running orderer over MQTT as the orderer admin: it reads the channel's chain
// (verified from its genesis block) for the current configuration, submits a CONFIG_UPDATE where one is
// needed, and reports once the configuration block with the new sequence is verified.
import { join } from 'node:path';
import type { Command } from 'commander';
import { type ConfigUpdateOutcome, readChannelConfig, updateChannelConfig } from '../../client/configUpdate.js';
import { broadcastAnswerTimeoutMs } from '../../client/broadcastClient.js';
import {
  type PolicyName, POLICY_NAMES, configWithNextRoot, configWithOrg, configWithRevoked, configWithRootPromoted, configWithSignerReplaced, isPolicyName,
} from '../../network/configChanges.js';
import {
  findMember, listOrg, nextOrdererIdentity, nextOrgRoot, orgMemberFiles, planBoard, planOrg, promoteOrdererNext, promoteOrgRoot,
  recertifyOrgMembers, removeOrgFiles, signedByRoot, writeBoard, writeOrgFiles,
} from '../../network/fleetMembers.js';
import { loadGenesis, loadNetworkFile, loadOrdererIdentities, loadOrgRoot, loadOrgRoots, loadSigner } from '../../network/loadNetwork.js';
import { writeMosquittoConfig } from '../../network/mosquittoConfig.js';
import { recordRevoked, revokedFingerprints } from '../../network/revokedMembers.js';
import { certificateValidityMs } from '../../network/networkDefaults.js';
import type { NetworkFile } from '../../network/networkFiles.js';
import { peerOrgName } from '../../network/names.js';
import { DAY_MS } from '../../observability/certificateExpiry.js';
import type { Signer } from '../../protocol/envelope.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../transport/mqtt/mqttClientLink.js';
import { withDeadline } from '../deadline.js';
import { type MqttTlsOptions, addMqttTlsOptions, atLeast, collect, mqttEndpoint, wholeNumber } from '../options.js';
import { EXIT_USAGE } from './init.js';

/** The broker must have accepted the admin's connection and subscription within this long. */
export const defaultNetworkConnectTimeoutMs = 10_000;
/** Reading a channel's chain to its tip (and again after an update) must end within this long. */
export const defaultChainReadTimeoutMs = 30_000;
const DEFAULT_POLICIES: readonly PolicyName[] = ['readers', 'writers'];
/** Not 'commander.error', which main.ts reads as a runtime failure (see init.ts). */
const USAGE_ERROR_CODE = 'commander.invalidArgument';

interface NetworkCliOptions extends MqttTlsOptions {
  network: string;
  mqtt?: string;
  connectTimeoutMs: number;
  readTimeoutMs: number;
  json?: boolean;
}

interface ChannelCliOptions extends NetworkCliOptions {
  channel?: string[];
}

function addCommonOptions(cmd: Command): Command {
  cmd
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .option('--mqtt <url>', "the orderer's MQTT broker (default: the network's)")
    .option('--connect-timeout-ms <ms>', 'give up when the broker has not answered within this long (0: wait for ever)', wholeNumber, defaultNetworkConnectTimeoutMs)
    .option('--read-timeout-ms <ms>', "give up when a channel's chain has not been read to its tip within this long", atLeast(1, wholeNumber), defaultChainReadTimeoutMs)
    .option('--json', 'print the result as one JSON object');
  return addMqttTlsOptions(cmd);
}

function usageError(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: EXIT_USAGE, code: USAGE_ERROR_CODE });
}

function validityFrom(cmd: Command, days: string | undefined): { nowMs: number; validityMs: number } {
  let validityMs = certificateValidityMs;
  if (days !== undefined) {
    const n = Number(days);
    if (!Number.isSafeInteger(n) || n < 1) usageError(cmd, `--certificate-validity-days must be a whole number of at least 1, got '${days}'`);
    validityMs = n * DAY_MS;
  }
  return { nowMs: Date.now(), validityMs };
}

/** The edgepeer channels (not Fabric ones: their access configuration is a file, not a chain) to change. */
function orderedChannels(cmd: Command, net: NetworkFile, asked: readonly string[] | undefined): string[] {
  const fabric = new Set((net.fabricChannels ?? []).map((f) => f.channel));
  const ordered = net.channels.filter((c) => !fabric.has(c));
  for (const c of asked ?? []) {
    if (!ordered.includes(c)) usageError(cmd, `channel '${c}' is not an edgepeer channel of the network (${ordered.join(', ') || 'none'})`);
  }
  const channels = asked !== undefined ? [...asked] : ordered;
  if (channels.length === 0) usageError(cmd, 'the network has no edgepeer channel (Fabric channels are not changed here)');
  return channels;
}

/** Opens an MQTT link as `signer` for `channels` within the connect deadline, runs `fn`, closes the link. */
async function withLink<T>(o: NetworkCliOptions, net: NetworkFile, signer: Signer, channels: readonly string[], fn: (link: MqttClientLink) => Promise<T>): Promise<T> {
  const url = o.mqtt ?? net.mqtt.url;
  let lastError: string | null = null;
  const link = new MqttClientLink({
    endpoint: mqttEndpoint(url, o), credentials: brokerCredentials(signer), onError: (err) => { lastError = err.message; },
  });
  try {
    await withDeadline(link.open(channels), o.connectTimeoutMs, () =>
      `no MQTT broker answered at ${url} within ${o.connectTimeoutMs} ms${lastError !== null ? ` (${lastError})` : ''}: is the orderer running, and is that its broker?`);
    return await fn(link);
  } finally {
    await link.close();
  }
}

/** One configuration change on each channel, in turn (each read of a chain and the answer have deadlines). */
async function updateChannels(o: ChannelCliOptions, link: MqttClientLink, admin: Signer, channels: readonly string[],
  change: Parameters<typeof updateChannelConfig>[0]['change']): Promise<ConfigUpdateOutcome[]> {
  const outcomes: ConfigUpdateOutcome[] = [];
  for (const channel of channels) {
    outcomes.push(await updateChannelConfig({
      link, channel, admin, genesis: loadGenesis(o.network, channel), change, answerTimeoutMs: broadcastAnswerTimeoutMs, readTimeoutMs: o.readTimeoutMs,
    }));
  }
  return outcomes;
}

function outcomeLine(x: ConfigUpdateOutcome, what: string): string {
  return x.changed
    ? `channel '${x.channel}': ${what}: configuration sequence ${x.fromSequence} -> ${x.sequence} (block ${x.block})`
    : `channel '${x.channel}': ${what} already: configuration sequence ${x.sequence} unchanged`;
}

function print(o: NetworkCliOptions, json: object, lines: readonly string[]): void {
  process.stdout.write(o.json === true ? `${JSON.stringify(json)}\n` : `${lines.join('\n')}\n`);
}

// ---- add-board ----

interface AddBoardCliOptions extends NetworkCliOptions {
  org: string;
  id?: string;
  channel?: string;
  certificateValidityDays?: string;
}

async function runAddBoard(o: AddBoardCliOptions, cmd: Command): Promise<void> {
  const net = loadNetworkFile(o.network);
  const root = loadOrgRoot(o.network, o.org);
  if (o.org === net.ordererOrg) usageError(cmd, `'${o.org}' is the orderer organisation: boards belong to peer organisations`);
  const board = planBoard(o.network, {
    org: o.org, root, validity: validityFrom(cmd, o.certificateValidityDays), ...(o.id !== undefined ? { id: o.id } : {}), ...(o.channel !== undefined ? { channel: o.channel } : {}),
  });
  const channel = board.config.channel;
  const fabric = (net.fabricChannels ?? []).some((f) => f.channel === channel);
  // The running channel must let the board in before it is written: its org known there, in Readers.
  let sequence: number | null = null;
  if (!fabric) {
    const admin = loadOrdererIdentities(o.network).admin;
    sequence = await withLink(o, net, admin, [channel], async (link) => {
      const chain = await readChannelConfig(link, channel, admin, loadGenesis(o.network, channel), o.readTimeoutMs);
      const state = chain.state;
      const denied = state.denyReason(board.issued.certificate, state.config.readers, Date.now());
      if (denied !== null) {
        throw new Error(`channel '${channel}' (configuration sequence ${state.config.sequence}) would not let the board read: ${denied}${state.roots.has(o.org) ? '' : ` (add the organisation first: edgepeer network add-org --org ${o.org})`}`);
      }
      return state.config.sequence;
    });
  }
  const { configPath } = await writeBoard(board);
  const passwd = await mosquittoFilesAgain(o.network);
  const id = board.config.id;
  print(o, { id, org: o.org, channel, config: configPath, fingerprint: board.issued.certificate.fingerprint, sequence, mosquittoPasswd: passwd }, [
    `board ${id} of ${o.org} added: ${configPath}`,
    sequence === null
      ? `  channel '${channel}' is a Fabric channel: its gateway's access configuration was not checked`
      : `  channel '${channel}' (configuration sequence ${sequence}) lets it in; the running orderer and its broker need no restart`,
    `  its Mosquitto login was added to ${passwd} (send an external Mosquitto SIGHUP)`,
    `  start it: edgepeer peer --network ${o.network} --board ${id} --data DIR`,
  ]);
}

// ---- add-org ----

interface AddOrgCliOptions extends ChannelCliOptions {
  org?: string;
  policy?: string[];
  certificateValidityDays?: string;
}

async function runAddOrg(o: AddOrgCliOptions, cmd: Command): Promise<void> {
  const net = loadNetworkFile(o.network);
  const channels = orderedChannels(cmd, net, o.channel);
  const policies = o.policy ?? DEFAULT_POLICIES;
  for (const p of policies) if (!isPolicyName(p)) usageError(cmd, `--policy must be one of ${POLICY_NAMES.join(', ')}, got '${p}'`);
  let name = o.org;
  if (name === undefined) {
    let n = 1;
    while (net.orgs.some((x) => x.name === peerOrgName(n))) n++;
    name = peerOrgName(n);
  }
  const org = planOrg(o.network, name, validityFrom(cmd, o.certificateValidityDays));
  // The keys are on disk before the channel names the root: a root in the channel whose key was lost
  // could never certify anyone.
  const files = await writeOrgFiles(org);
  const admin = loadOrdererIdentities(o.network).admin;
  const done: ConfigUpdateOutcome[] = [];
  try {
    await withLink(o, net, admin, channels, async (link) => {
      for (const channel of channels) {
        done.push(...await updateChannels(o, link, admin, [channel],
          (current) => configWithOrg(current, org.name, org.root.publicKeyRaw, policies as PolicyName[])));
      }
    });
  } catch (err) {
    if (done.length === 0) {
      await removeOrgFiles(org);
      throw err;
    }
    // Some channels name the organisation now: it stays in the folder, so that the rest can be retried.
    await listOrg(org, files);
    throw new Error(`${(err as Error).message}; the organisation '${org.name}' was added to ${done.map((d) => d.channel).join(', ')} and listed in the network folder: run add-org again with --org ${org.name} --channel for the rest`);
  }
  await listOrg(org, files);
  const passwd = await mosquittoFilesAgain(o.network);
  print(o, { org: org.name, policies, admin: files.admin.files.id, client: files.client.files.id, channels: done, mosquittoPasswd: passwd }, [
    ...done.map((d) => outcomeLine(d, `organisation ${org.name} added (${policies.join(', ')})`)),
    `organisation ${org.name} added: root, admin ${files.admin.files.id} and client ${files.client.files.id} in ${o.network}/orgs/${org.name}`,
    `  their Mosquitto logins were added to ${passwd} (send an external Mosquitto SIGHUP)`,
    `  add its boards: edgepeer network add-board --network ${o.network} --org ${org.name}`,
  ]);
}

/**
 * The Mosquitto files (central and sites) written again from the network folder as it is now: the
 * members it lists, a rotation's next orderer key, the revoked ones left out. Returns the password file.
 */
async function mosquittoFilesAgain(dir: string): Promise<string> {
  return join((await writeMosquittoConfig(dir)).dir, 'passwd');
}

// ---- revoke ----

interface RevokeCliOptions extends ChannelCliOptions {
  member: string;
}

async function runRevoke(o: RevokeCliOptions, cmd: Command): Promise<void> {
  const net = loadNetworkFile(o.network);
  const channels = orderedChannels(cmd, net, o.channel);
  const member = findMember(o.network, o.member);
  if (member.kind === 'orderer') usageError(cmd, `'${o.member}' is the orderer node: its certificate signs the blocks and cannot be revoked here`);
  if (member.kind === 'orderer admin') usageError(cmd, `'${o.member}' is the orderer admin, which signs configuration updates: revoking it would leave none`);
  const fingerprint = member.certificate.fingerprint;
  // During an organisation root rotation the certificate it held before is valid too, until the rotation finishes.
  const fingerprints = [fingerprint, ...(member.previous !== null ? [member.previous.fingerprint] : [])];
  const admin = loadOrdererIdentities(o.network).admin;
  const done = await withLink(o, net, admin, channels, (link) =>
    updateChannels(o, link, admin, channels, (current) => configWithRevoked(current, fingerprints)));
  // Kept in the folder so that broker files written from it later leave the member out too.
  for (const f of fingerprints) await recordRevoked(o.network, o.member, f);
  const passwd = await mosquittoFilesAgain(o.network);
  print(o, { member: o.member, kind: member.kind, fingerprint, fingerprints, channels: done, mosquittoPasswd: passwd }, [
    ...done.map((d) => outcomeLine(d, `${member.kind} ${o.member} revoked`)),
    `${member.kind} ${o.member} revoked (certificate ${fingerprints.join(' and its previous ')}): the orderer refuses its requests, and its embedded broker has closed the member's connection`,
    `  its Mosquitto login was removed from ${passwd} (an external Mosquitto: SIGHUP, then restart it to close the open connection)`,
  ]);
}

// ---- rotate-orderer-key ----

interface RotateCliOptions extends ChannelCliOptions {
  certificateValidityDays?: string;
}

async function runRotate(o: RotateCliOptions, cmd: Command): Promise<void> {
  const net = loadNetworkFile(o.network);
  const channels = orderedChannels(cmd, net, o.channel);
  const retiring = loadSigner(o.network, net.orderer).certificate;
  const { member: next, resumed } = await nextOrdererIdentity(o.network, loadOrgRoot(o.network, net.ordererOrg), validityFrom(cmd, o.certificateValidityDays));
  const fresh = next.signer.certificate;
  const admin = loadOrdererIdentities(o.network).admin;
  const done = await withLink(o, net, admin, channels, (link) =>
    updateChannels(o, link, admin, channels, (current) => configWithSignerReplaced(current, retiring.fingerprint, fresh)));
  // Once every channel names the new key, it is the orderer's own, also at its next start; until then the
  // orderer keeps both (network.json's ordererNext), for the channels that still name the old one.
  const everyChannel = orderedChannels(cmd, net, undefined).every((c) => channels.includes(c));
  if (everyChannel) await promoteOrdererNext(o.network);
  const passwd = await mosquittoFilesAgain(o.network);
  print(o, { id: fresh.id, fingerprint: fresh.fingerprint, retired: retiring.fingerprint, resumed, key: next.files.key, channels: done, mosquittoPasswd: passwd }, [
    ...done.map((d) => outcomeLine(d, `orderer ${fresh.id} signs with its new key`)),
    `orderer ${fresh.id} re-keyed${resumed ? ' (a rotation begun earlier, finished)' : ''}: new certificate ${fresh.fingerprint} in ${next.files.key.replace(/key\.pem$/, '')}; the retired one (${retiring.fingerprint}) signs no more blocks`,
    everyChannel
      ? '  the running orderer switched keys at the configuration block; network.json names the new identity for its next start'
      : '  the other channels still name the old key: network.json keeps both until they are rotated too',
    `  its Mosquitto login was replaced in ${passwd} (send an external Mosquitto SIGHUP)`,
  ]);
}

// ---- rotate-org-key ----

interface RotateOrgCliOptions extends RotateCliOptions {
  org: string;
  finish?: boolean;
}

/**
 * An organisation's root rotated in two steps, so that no member is cut off in between (docs/operations.md):
 * first the new root is named beside the old one on every channel and the members listed in the folder
 * are certified again by it (the boards pick up their new cert.cbor live); then, with --finish, the new
 * root becomes the only one, and certificates of the old one stop being the organisation's.
 */
async function runRotateOrg(o: RotateOrgCliOptions, cmd: Command): Promise<void> {
  const net = loadNetworkFile(o.network);
  if (o.org === net.ordererOrg) {
    usageError(cmd, `'${o.org}' is the orderer organisation: its root certifies the block signers, which rotate-orderer-key replaces; its root is not rotated here`);
  }
  const channels = orderedChannels(cmd, net, o.channel);
  const admin = loadOrdererIdentities(o.network).admin;
  if (o.finish === true) {
    const { next } = loadOrgRoots(o.network, o.org);
    if (next === null) usageError(cmd, `organisation '${o.org}' has no root rotation under way in ${o.network} (run rotate-org-key --org ${o.org} without --finish first)`);
    // Nobody the folder lists may be left on the old root: they would be cut off.
    const revoked = revokedFingerprints(o.network);
    const left = orgMemberFiles(o.network, o.org).filter((m) => !revoked.has(m.certificate.fingerprint) && !signedByRoot(m.certificate, next));
    if (left.length > 0) {
      throw new Error(`${left.map((m) => m.id).join(', ')} of '${o.org}' still hold certificates of the old root: run rotate-org-key --org ${o.org} again (without --finish) to certify them`);
    }
    const done = await withLink(o, net, admin, channels, (link) =>
      updateChannels(o, link, admin, channels, (current) => configWithRootPromoted(current, o.org, next.publicKeyRaw)));
    const everyChannel = orderedChannels(cmd, net, undefined).every((c) => channels.includes(c));
    const promoted = everyChannel ? await promoteOrgRoot(o.network, o.org) : null;
    print(o, { org: o.org, finished: true, root: promoted?.rootKey ?? null, retiredRoot: promoted?.retiredRootKey ?? null, channels: done }, [
      ...done.map((d) => outcomeLine(d, `organisation ${o.org}'s new root is its only root`)),
      promoted !== null
        ? `organisation ${o.org}'s root rotation finished: network.json names ${promoted.rootKey}; certificates of the old root (${promoted.retiredRootKey}) are no longer the organisation's. Delete that key once you no longer need it.`
        : '  the other channels still name both roots: run --finish for them too',
    ]);
    return;
  }
  const { root, resumed } = await nextOrgRoot(o.network, o.org);
  const done = await withLink(o, net, admin, channels, (link) =>
    updateChannels(o, link, admin, channels, (current) => configWithNextRoot(current, o.org, root.publicKeyRaw)));
  // Certified again only once the channels accept the new root: a board that picks up its new
  // certificate at once is then let in by a configuration it can verify.
  const recertified = await recertifyOrgMembers(o.network, o.org, root, validityFrom(cmd, o.certificateValidityDays), revokedFingerprints(o.network));
  const passwd = await mosquittoFilesAgain(o.network);
  print(o, {
    org: o.org, finished: false, resumed, channels: done, mosquittoPasswd: passwd,
    recertified: recertified.map((m) => ({ id: m.id, kind: m.kind, cert: m.certPath, fingerprint: m.certificate.fingerprint })),
  }, [
    ...done.map((d) => outcomeLine(d, `organisation ${o.org} names a next root`)),
    `organisation ${o.org}: a new root${resumed ? ' (the rotation begun earlier)' : ''} beside the old one; ${recertified.length} member(s) certified by it: ${recertified.map((m) => m.id).join(', ') || 'none left'}`,
    '  a running board picks up its new cert.cbor by itself (it logs "certificate reloaded"); copy it to deployed boards (edgepeer deploy)',
    `  the Mosquitto logins were written again to ${passwd} (send an external Mosquitto SIGHUP once the boards have their new certificates)`,
    `  then: edgepeer network rotate-org-key --network ${o.network} --org ${o.org} --finish`,
  ]);
}

export function registerNetwork(program: Command): void {
  const network = program
    .command('network')
    .description('change a running network: add a board or an organisation, revoke a member (configuration updates, no new chain)');

  addCommonOptions(network
    .command('add-board')
    .description("issue a new board's key and certificate from its organisation's root and write its board folder")
    .requiredOption('--org <name>', 'the organisation of the board (in the network folder and in the channel)')
    .option('--id <id>', 'the board id (default: the next free <org>-board<N>)')
    .option('--channel <name>', "the channel the board syncs (default: the network's first)")
    .option('--certificate-validity-days <n>', `how long its certificate is valid (default ${certificateValidityMs / DAY_MS})`))
    .action(async (_o: unknown, cmd: Command) => runAddBoard(cmd.opts<AddBoardCliOptions>(), cmd));

  addCommonOptions(network
    .command('add-org')
    .description('make a new organisation (root key, admin, client) and add it to the channels by a configuration update')
    .option('--org <name>', 'its name (default: the next free org<N>)')
    .option('--policy <name>', `a policy to add it to: ${POLICY_NAMES.join(', ')} (repeatable; default ${DEFAULT_POLICIES.join(' and ')})`, collect)
    .option('--channel <name>', 'change only this channel (repeatable; default: every edgepeer channel of the network)', collect)
    .option('--certificate-validity-days <n>', `how long its admin's and client's certificates are valid (default ${certificateValidityMs / DAY_MS})`))
    .action(async (_o: unknown, cmd: Command) => runAddOrg(cmd.opts<AddOrgCliOptions>(), cmd));

  addCommonOptions(network
    .command('revoke')
    .description("revoke a board's, client's or admin's certificate by a configuration update")
    .argument('<member>', 'the id of the board, client or admin (as in network.json)')
    .option('--channel <name>', 'change only this channel (repeatable; default: every edgepeer channel of the network)', collect))
    .action(async (member: string, _o: unknown, cmd: Command) => runRevoke({ ...cmd.opts<Omit<RevokeCliOptions, 'member'>>(), member }, cmd));

  addCommonOptions(network
    .command('rotate-orderer-key')
    .description("replace the orderer node's key: a new certificate from the orderer root, made its block signer by a configuration update")
    .option('--channel <name>', 'change only this channel (repeatable; default: every edgepeer channel of the network)', collect)
    .option('--certificate-validity-days <n>', `how long the new certificate is valid (default ${certificateValidityMs / DAY_MS})`))
    .action(async (_o: unknown, cmd: Command) => runRotate(cmd.opts<RotateCliOptions>(), cmd));

  addCommonOptions(network
    .command('rotate-org-key')
    .description("replace a peer organisation's root key: a new root beside the old one, every member certified again by it; then --finish retires the old root")
    .requiredOption('--org <name>', 'the peer organisation')
    .option('--finish', 'make the new root the only one (after every board has its new certificate)')
    .option('--channel <name>', 'change only this channel (repeatable; default: every edgepeer channel of the network)', collect)
    .option('--certificate-validity-days <n>', `how long the new certificates are valid (default ${certificateValidityMs / DAY_MS})`))
    .action(async (_o: unknown, cmd: Command) => runRotateOrg(cmd.opts<RotateOrgCliOptions>(), cmd));
}
