// `edgepeer init` and the loaders every role starts from: what createNetwork writes must load back, and
// the genesis blocks must verify under the configuration they carry.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, CommanderError } from 'commander';
import { ChannelState } from '../../../src/channel/channelState.js';
import { configFromBlock } from '../../../src/channel/blocks.js';
import { registerInit } from '../../../src/cli/commands/init.js';
import { DAY_MS } from '../../../src/observability/certificateExpiry.js';
import { certificateValidityMs, defaultBatch } from '../../../src/network/networkDefaults.js';
import type { BoardGossipConfig } from '../../../src/gossip/gossipSettings.js';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { sha256 } from '../../../src/crypto/hash.js';
import { generateKeyPair, publicKeyFromRaw, signBytes, verifyBytes } from '../../../src/crypto/keys.js';
import {
  CERTIFICATE_BACKDATE_MS, DEFAULT_MQTT_URL, NetworkExistsError, NetworkOptionsError, type NetworkSummary, createNetwork,
} from '../../../src/network/createNetwork.js';
import {
  NetworkFileError, loadBoard, loadClient, loadGenesis, loadNetworkFile, loadOrdererIdentities, loadOrgRoot, loadSigner, readBoardConfig,
} from '../../../src/network/loadNetwork.js';
import { BlockLayout, LayoutError, blockEnvelopes, blockNumber, dataBytes, locateBlock, readHeader } from '../../../src/protocol/block.js';
import { MessageType, decodeEnvelope } from '../../../src/protocol/envelope.js';

const run = promisify(execFile);
/** The package root, so that the child process resolves 'commander' from this repo's node_modules. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CHANNELS = ['alpha', 'beta'];
const BOARD_IDS = ['org1-board1', 'org1-board2', 'org2-board1', 'org2-board2'];
const NOW_MS = Date.now();

let root: string;
let dir: string;
let summary: NetworkSummary;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgepeer-network-'));
  dir = join(root, 'net');
  summary = await createNetwork({ dir, channels: CHANNELS, orgs: 2, boardsPerOrg: 2, nowMs: NOW_MS, batch: { maxMessageCount: 7 } });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function filesNamed(base: string, names: readonly string[]): Promise<string[]> {
  const entries = await readdir(base, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && names.includes(e.name)).map((e) => join(e.parentPath, e.name));
}

test('createNetwork: the summary names every org, board and client, with absolute board config paths', async () => {
  assert.equal(summary.dir, dir);
  assert.deepEqual(summary.channels, CHANNELS);
  assert.equal(summary.channel, 'alpha');
  assert.deepEqual(summary.orderer, { id: 'orderer0', org: 'orderer', mqtt: DEFAULT_MQTT_URL });
  assert.equal(DEFAULT_MQTT_URL, 'mqtt://127.0.0.1:1883');
  assert.deepEqual(summary.orgs, ['org1', 'org2']);
  assert.deepEqual(summary.boards.map((b) => b.id), BOARD_IDS);
  assert.deepEqual(summary.boards.map((b) => b.org), ['org1', 'org1', 'org2', 'org2']);
  assert.deepEqual(summary.clients, [{ id: 'org1-client', org: 'org1' }, { id: 'org2-client', org: 'org2' }]);
  for (const b of summary.boards) {
    assert.equal(b.config, join(dir, 'orgs', b.org, 'boards', b.id, 'board.json'));
    assert.ok((await stat(b.config)).isFile());
  }
});

test('loadNetworkFile: reads back what createNetwork wrote', () => {
  const network = loadNetworkFile(dir);
  assert.equal(network.version, 1);
  assert.deepEqual(network.channels, CHANNELS);
  assert.equal(network.ordererOrg, 'orderer');
  assert.deepEqual(network.orgs.map((o) => o.name), ['orderer', 'org1', 'org2']);
  assert.deepEqual(network.boards.map((b) => b.id), BOARD_IDS);
  assert.deepEqual(network.clients.map((c) => c.id), ['org1-client', 'org2-client']);
  assert.equal(network.mqtt.url, DEFAULT_MQTT_URL);
  assert.equal(network.orderer.id, 'orderer0');
  assert.equal(network.ordererAdmin.id, 'orderer-admin');
});

test('genesis: block 0 of each channel carries its config and verifies under its own ChannelState', () => {
  const { node, admin } = loadOrdererIdentities(dir);
  const network = loadNetworkFile(dir);
  for (const channel of CHANNELS) {
    const block = loadGenesis(dir, channel);
    const layout = new BlockLayout();
    assert.equal(locateBlock(block, layout), LayoutError.ok);
    const header = readHeader(block);
    assert.equal(blockNumber(block), 0);
    assert.deepEqual(Buffer.from(header.previousHash), Buffer.alloc(32));
    assert.deepEqual(Buffer.from(header.dataHash), Buffer.from(sha256(dataBytes(block, layout))));

    const config = configFromBlock(block);
    assert.equal(config.channel, channel);
    assert.equal(config.sequence, 0);
    assert.deepEqual(config.orgs.map((o) => o.name), ['orderer', 'org1', 'org2']);
    for (const o of config.orgs) assert.deepEqual(Buffer.from(o.rootPublicKey), Buffer.from(loadOrgRoot(dir, o.name).publicKeyRaw));
    assert.equal(config.orderer.org, 'orderer');
    assert.equal(config.orderer.minSignatures, 1);
    assert.deepEqual(config.orderer.signers.map((c) => c.fingerprint), [node.certificate.fingerprint]);
    assert.deepEqual(config.readers, { orgs: ['orderer', 'org1', 'org2'], roles: ['peer', 'client', 'admin', 'orderer'] });
    assert.deepEqual(config.writers, { orgs: ['org1', 'org2'], roles: ['client', 'peer', 'admin'] });
    assert.deepEqual(config.admins, { orgs: ['orderer'], roles: ['admin'] });
    assert.deepEqual(config.batch, { ...defaultBatch, maxMessageCount: 7 });
    assert.deepEqual(config.revoked, []);

    const state = new ChannelState(config, NOW_MS);
    assert.equal(state.blockSignaturesValid(block, layout), true);
    const tampered = Uint8Array.from(block);
    tampered[layout.signaturesOffset + 30]! ^= 0x01;
    assert.equal(state.blockSignaturesValid(tampered, layout), false);

    // The config envelope is the orderer admin's, and passes the Admins policy.
    const env = decodeEnvelope(blockEnvelopes(block)[0]!);
    assert.equal(env.payload.type, MessageType.CONFIG);
    assert.equal(env.payload.creator.fingerprint, admin.certificate.fingerprint);
    assert.equal(state.envelopeSignatureValid(env), true);
    assert.equal(state.denyReason(env.payload.creator, config.admins, NOW_MS), null);
    // The orderer node and its admin are the identities network.json points at.
    assert.equal(loadSigner(dir, network.orderer).certificate.fingerprint, node.certificate.fingerprint);
  }
});

test('loadBoard: every board loads with a key that matches its certificate and passes Readers on every channel', () => {
  const states = CHANNELS.map((c) => new ChannelState(configFromBlock(loadGenesis(dir, c)), NOW_MS));
  for (const id of BOARD_IDS) {
    const { config, signer, genesis } = loadBoard(dir, id);
    assert.equal(config.id, id);
    assert.equal(config.org, id.slice(0, 4));
    assert.equal(config.channel, 'alpha');
    assert.equal(config.profile, 'emulated');
    assert.deepEqual(config.orderers, [DEFAULT_MQTT_URL]);
    assert.equal(configFromBlock(genesis).channel, 'alpha');
    assert.equal(signer.certificate.id, id);
    assert.equal(signer.certificate.role, 'peer');
    assert.equal(signer.certificate.notAfter, NOW_MS + certificateValidityMs);
    assert.equal(signer.certificate.notBefore, NOW_MS - CERTIFICATE_BACKDATE_MS);
    const message = Buffer.from(`signed by ${id}`);
    assert.ok(verifyBytes(publicKeyFromRaw(signer.certificate.publicKey), message, signBytes(signer.privateKey, message)), 'key matches certificate');
    for (const state of states) {
      assert.equal(state.denyReason(signer.certificate, state.config.readers, NOW_MS), null, `${id} on ${state.channel}`);
    }
  }
});

test('loadClient and loadOrgRoot: client identities pass Writers; an org root issues certificates the channel accepts', () => {
  const state = new ChannelState(configFromBlock(loadGenesis(dir, 'beta')), NOW_MS);
  const first = loadClient(dir);
  assert.equal(first.certificate.id, 'org1-client');
  const second = loadClient(dir, 'org2');
  assert.equal(second.certificate.id, 'org2-client');
  assert.equal(second.certificate.role, 'client');
  assert.equal(state.denyReason(second.certificate, state.config.writers, NOW_MS), null);
  assert.throws(() => loadClient(dir, 'org9'), (err: unknown) => err instanceof NetworkFileError && /org1, org2/.test(err.message));

  const org1Root = loadOrgRoot(dir, 'org1');
  const extra = issueCertificate(
    { id: 'org1-board9', org: 'org1', role: 'peer', publicKey: generateKeyPair().publicKeyRaw, notBefore: NOW_MS - 1, notAfter: NOW_MS + 1000 },
    org1Root.privateKey,
  );
  assert.equal(state.denyReason(extra, state.config.readers, NOW_MS), null);
  const ordererRoot = loadOrgRoot(dir, 'orderer');
  const misissued = issueCertificate({ ...extra, org: 'org1' }, ordererRoot.privateKey);
  assert.match(state.denyReason(misissued, state.config.readers, NOW_MS) ?? '', /not signed by the root of 'org1'/);
  assert.throws(() => loadOrgRoot(dir, 'org3'), (err: unknown) => err instanceof NetworkFileError && /orderer, org1, org2/.test(err.message));
});

test('loaders: an unknown board, a missing or malformed network.json, an unknown channel give errors naming the file', async () => {
  assert.throws(
    () => loadBoard(dir, 'org3-board1'),
    (err: unknown) => err instanceof NetworkFileError && /no board 'org3-board1'/.test(err.message) && BOARD_IDS.every((id) => err.message.includes(id)),
  );
  const empty = join(root, 'empty');
  assert.throws(
    () => loadNetworkFile(empty),
    (err: unknown) => err instanceof NetworkFileError && err.message.includes(join(empty, 'network.json')) && /does not exist/.test(err.message),
  );
  const broken = await mkdtemp(join(root, 'broken-'));
  await writeFile(join(broken, 'network.json'), '{ "version": 1, ');
  assert.throws(() => loadNetworkFile(broken), (err: unknown) => err instanceof NetworkFileError && err.message.includes(join(broken, 'network.json')) && /not valid JSON/.test(err.message));
  await writeFile(join(broken, 'network.json'), JSON.stringify({ version: 1, channels: ['a'] }));
  assert.throws(() => loadNetworkFile(broken), (err: unknown) => err instanceof NetworkFileError && err.message.includes(join(broken, 'network.json')) && /ordererOrg/.test(err.message));
  assert.throws(() => loadGenesis(dir, 'gamma'), (err: unknown) => err instanceof NetworkFileError && /alpha, beta/.test(err.message));
});

test('key files: every private key is mode 0600', async () => {
  const keys = await filesNamed(dir, ['key.pem', 'root.key']);
  // 3 org roots, orderer node and admin, 4 boards, 2 clients.
  assert.equal(keys.length, 3 + 2 + 4 + 2);
  for (const k of keys) assert.equal((await stat(k)).mode & 0o777, 0o600, k);
  const pubs = await filesNamed(dir, ['root.pub']);
  assert.equal(pubs.length, 3);
  for (const p of pubs) assert.equal((await readFile(p)).length, 32, `${p} is the raw 32-byte key`);
});

test('createNetwork: refuses an existing network without force, replaces it with force', async () => {
  const before = await readFile(join(dir, 'orgs', 'org1', 'root.pub'));
  await assert.rejects(createNetwork({ dir, channels: ['alpha'], orgs: 1, boardsPerOrg: 1 }), NetworkExistsError);
  assert.deepEqual(await readFile(join(dir, 'orgs', 'org1', 'root.pub')), before, 'nothing was overwritten');

  const other = join(root, 'replaced');
  await createNetwork({ dir: other, channels: ['alpha', 'beta'], orgs: 2, boardsPerOrg: 2 });
  const oldRoot = await readFile(join(other, 'orgs', 'org1', 'root.pub'));
  const replaced = await createNetwork({ dir: other, channels: ['gamma'], orgs: 1, boardsPerOrg: 1, force: true });
  assert.deepEqual(replaced.boards.map((b) => b.id), ['org1-board1']);
  assert.notDeepEqual(await readFile(join(other, 'orgs', 'org1', 'root.pub')), oldRoot, 'new keys');
  assert.deepEqual(await readdir(join(other, 'channels')), ['gamma'], 'the old channels are gone');
  await assert.rejects(stat(join(other, 'orgs', 'org2')), 'the old org is gone');
  assert.deepEqual(loadNetworkFile(other).channels, ['gamma']);
  for (const k of await filesNamed(other, ['key.pem', 'root.key'])) assert.equal((await stat(k)).mode & 0o777, 0o600, k);

  // An init that stopped before network.json still counts as a network: refused, then replaced with force.
  await rm(join(other, 'network.json'));
  await assert.rejects(createNetwork({ dir: other, channels: ['gamma'], orgs: 1, boardsPerOrg: 1 }), NetworkExistsError);
  await createNetwork({ dir: other, channels: ['gamma'], orgs: 1, boardsPerOrg: 1, force: true });
  assert.equal(loadBoard(other, 'org1-board1').config.channel, 'gamma');
});

test('createNetwork: refuses bad options before writing anything', async () => {
  const target = join(root, 'never');
  const base = { dir: target, channels: ['alpha'], orgs: 1, boardsPerOrg: 1 };
  const bad = [
    { ...base, channels: [] },
    { ...base, channels: ['a/b'] },
    { ...base, channels: ['-lead'] },
    { ...base, channels: ['x'.repeat(65)] },
    { ...base, channels: ['dup', 'dup'] },
    { ...base, orgs: 0 },
    { ...base, orgs: 1.5 },
    { ...base, boardsPerOrg: 0 },
    { ...base, mqttUrl: 'http://broker:1883' },
    { ...base, mqttUrl: 'not a url' },
    { ...base, batch: { maxMessageCount: 0 } },
    { ...base, batch: { preferredMaxBytes: 2000, absoluteMaxBytes: 1000 } },
    { ...base, batch: { absoluteMaxBytes: 64 * 1024 * 1024 } },
  ];
  for (const opts of bad) await assert.rejects(createNetwork(opts), NetworkOptionsError, JSON.stringify(opts));
  await assert.rejects(stat(target));
  const longest = await createNetwork({ ...base, dir: join(root, 'long-name'), channels: ['A' + 'x.y_z-'.repeat(10) + 'abc'] });
  assert.equal(longest.channel.length, 64);
});

/** A program like main.ts builds, with output captured and exits turned into exceptions. */
function cli(): { program: Command; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const program = new Command('edgepeer').exitOverride().configureOutput({ writeOut: (s) => { out += s; }, writeErr: (s) => { err += s; } });
  registerInit(program);
  return { program, out: () => out, err: () => err };
}

test('cli: init --json prints exactly one JSON object, the network summary', async () => {
  const target = join(root, 'cli');
  const { program, out, err } = cli();
  await program.parseAsync(
    ['init', '--dir', target, '--channel', 'c1', '--channel', 'c2', '--orgs', '2', '--boards-per-org', '3', '--mqtt', 'mqtt://10.0.0.5:1884',
      '--max-message-count', '9', '--preferred-max-bytes', '1000', '--absolute-max-bytes', '2000', '--batch-timeout-ms', '50', '--json'],
    { from: 'user' },
  );
  assert.equal(err(), '');
  const text = out();
  assert.equal(text.trim().split('\n').length, 1, 'one line');
  const printed = JSON.parse(text) as NetworkSummary;
  assert.deepEqual(printed.channels, ['c1', 'c2']);
  assert.equal(printed.boards.length, 6);
  assert.deepEqual(printed.boards.map((b) => b.id).slice(0, 3), ['org1-board1', 'org1-board2', 'org1-board3']);
  assert.equal(printed.orderer.mqtt, 'mqtt://10.0.0.5:1884');
  assert.deepEqual(loadBoard(target, 'org2-board3').config.orderers, ['mqtt://10.0.0.5:1884']);
  assert.deepEqual(configFromBlock(loadGenesis(target, 'c2')).batch, { maxMessageCount: 9, preferredMaxBytes: 1000, absoluteMaxBytes: 2000, batchTimeoutMs: 50 });

  const human = cli();
  await human.program.parseAsync(['init', '--dir', join(root, 'cli-human'), '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1'], { from: 'user' });
  assert.match(human.out(), /org1-board1/);
  assert.throws(() => JSON.parse(human.out()));
});

test('cli: bad numbers are a usage error with exit code 2; an existing network is a plain failure', async () => {
  const target = join(root, 'cli-bad');
  for (const [flag, value] of [['--orgs', 'two'], ['--orgs', '0'], ['--orgs', '1.5'], ['--boards-per-org', '-1'], ['--max-message-count', '1e3'], ['--batch-timeout-ms', '']]) {
    const args = ['init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1'];
    const i = args.indexOf(flag!);
    if (i >= 0) args[i + 1] = value!; else args.push(flag!, value!);
    const { program, err } = cli();
    await assert.rejects(program.parseAsync(args, { from: 'user' }), (e: unknown) => e instanceof CommanderError && e.exitCode === 2, `${flag} ${value}`);
    assert.match(err(), flag === '--orgs' && value === '0' ? /orgs must be a whole number from 1/ : new RegExp(`${flag}`));
  }
  await assert.rejects(stat(target), 'nothing written');

  const { program } = cli();
  await program.parseAsync(['init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1'], { from: 'user' });
  const again = cli();
  await assert.rejects(again.program.parseAsync(['init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1'], { from: 'user' }), NetworkExistsError);
  const forced = cli();
  await forced.program.parseAsync(['init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1', '--force', '--json'], { from: 'user' });
  assert.equal((JSON.parse(forced.out()) as NetworkSummary).boards.length, 1);
});

test('cli: --certificate-validity-days sets how long every certificate made holds; 0 is a usage error', async () => {
  const target = join(root, 'cli-validity');
  const { program } = cli();
  await program.parseAsync(['init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1', '--certificate-validity-days', '10'], { from: 'user' });
  const board = loadBoard(target, 'org1-board1').signer.certificate;
    // Backdated by a few minutes for clock skew: notBefore sits just before the 10 days start.
  assert.ok(board.notAfter - board.notBefore >= 10 * DAY_MS && board.notAfter - board.notBefore < 10 * DAY_MS + DAY_MS / 24,
    `${board.notAfter - board.notBefore} ms of validity`);
  const bad = cli();
  await assert.rejects(bad.program.parseAsync(['init', '--dir', join(root, 'cli-validity-0'), '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1', '--certificate-validity-days', '0'], { from: 'user' }),
    (e: unknown) => e instanceof CommanderError && e.exitCode === 2);
  assert.match(bad.err(), /certificate validity must be a positive number/);
});

test('cli: in a real process, stdout holds only the JSON object and a bad number exits with code 2', async () => {
  const initModule = new URL('../../../src/cli/commands/init.js', import.meta.url).href;
  const script = `import { Command } from 'commander'; import { registerInit } from ${JSON.stringify(initModule)};
const program = new Command('edgepeer'); registerInit(program); await program.parseAsync(process.argv.slice(1), { from: 'user' });`;
  const target = join(root, 'cli-process');
  const args = ['--input-type=module', '-e', script, 'init', '--dir', target, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '2', '--json'];
  const { stdout } = await run(process.execPath, args, { cwd: REPO_ROOT });
  const printed = JSON.parse(stdout) as NetworkSummary;
  assert.deepEqual(printed.boards.map((b) => b.id), ['org1-board1', 'org1-board2']);

  const bad = ['--input-type=module', '-e', script, 'init', '--dir', join(root, 'cli-process-bad'), '--channel', 'c1', '--orgs', 'x', '--boards-per-org', '2'];
  await assert.rejects(run(process.execPath, bad, { cwd: REPO_ROOT }), (e: unknown) => {
    const r = e as { code?: number; stderr?: string; stdout?: string };
    return r.code === 2 && /--orgs/.test(r.stderr ?? '') && r.stdout === '';
  });
});

test('cli: init --gossip writes listen and bootstrap; --gossip-election static makes the first board of each org its leader', async () => {
  const target = join(root, 'cli-gossip-static');
  const { program } = cli();
  await program.parseAsync(
    ['init', '--dir', target, '--channel', 'c1', '--orgs', '2', '--boards-per-org', '2', '--gossip', '--gossip-base-port', '7300', '--gossip-election', 'static'],
    { from: 'user' },
  );
  const gossip = (id: string): BoardGossipConfig | undefined => loadBoard(target, id).config.gossip;
  assert.deepEqual(gossip('org1-board1'), {
    listen: '127.0.0.1:7300', bootstrap: ['127.0.0.1:7301', '127.0.0.1:7302', '127.0.0.1:7303'], election: 'static', orgLeader: true,
  });
  assert.equal(gossip('org1-board2')?.orgLeader, false);
  assert.equal(gossip('org2-board1')?.orgLeader, true);
  assert.equal(gossip('org2-board2')?.orgLeader, false);

  const dynamic = join(root, 'cli-gossip-dynamic');
  await cli().program.parseAsync(['init', '--dir', dynamic, '--channel', 'c1', '--orgs', '1', '--boards-per-org', '2', '--gossip'], { from: 'user' });
  assert.deepEqual(loadBoard(dynamic, 'org1-board2').config.gossip, { listen: '127.0.0.1:7101', bootstrap: ['127.0.0.1:7100'] }, 'dynamic: nothing more written');

  const bad = cli();
  await assert.rejects(
    bad.program.parseAsync(['init', '--dir', join(root, 'cli-gossip-bad'), '--channel', 'c1', '--orgs', '1', '--boards-per-org', '1', '--gossip-election', 'lowest-id'], { from: 'user' }),
    (e: unknown) => e instanceof CommanderError && e.exitCode === 2,
  );
  assert.match(bad.err(), /--gossip-election: must be dynamic or static, got 'lowest-id'/);
});

/** A board.json with `gossip` as given, read back (or its error). */
async function boardWithGossip(name: string, gossip: unknown): Promise<string> {
  const path = join(root, `gossip-${name}.json`);
  const base = { id: 'b1', org: 'org1', channel: 'ch', key: 'key.pem', cert: 'cert.cbor', profile: 'emulated', orderers: ['mqtt://127.0.0.1:1883'] };
  await writeFile(path, JSON.stringify({ ...base, gossip }));
  return path;
}

test('board.json gossip: every key read back as written', async () => {
  const section = {
    listen: '0.0.0.0:7100', advertise: '192.168.1.20:7100', bootstrap: ['192.168.1.21:7100'],
    limits: { fanout: 4, aliveIntervalMs: 500, electionStartupGraceMs: 0 },
    election: 'static', orgLeader: false,
    multicast: { group: '239.255.1.2', port: 7099, interface: '192.168.1.20' },
  };
  assert.deepEqual(readBoardConfig(await boardWithGossip('full', section)).gossip, section);
  assert.deepEqual(readBoardConfig(await boardWithGossip('min', { listen: '127.0.0.1:7100', bootstrap: [] })).gossip, { listen: '127.0.0.1:7100', bootstrap: [] });
  assert.equal(readBoardConfig(await boardWithGossip('off', { listen: 'h:1', bootstrap: [], multicast: false })).gossip?.multicast, false);
  assert.equal(readBoardConfig(await boardWithGossip('dyn', { listen: 'h:1', bootstrap: [], election: 'dynamic' })).gossip?.election, 'dynamic');
});

test('board.json gossip: what cannot work is refused, naming the file and the field', async () => {
  const ok = { listen: '127.0.0.1:7100', bootstrap: ['127.0.0.1:7101'] };
  const cases: [string, unknown, RegExp][] = [
    ['unknown-key', { ...ok, fanout: 3 }, /gossip\.fanout must be absent: the gossip keys are listen, bootstrap, advertise/],
    ['listen-port', { ...ok, listen: 'h:70000' }, /gossip\.listen must be host:port with a port of 0\.\.65535/],
    ['bootstrap', { ...ok, bootstrap: ['127.0.0.1:7101', '0.0.0.0:7102'] }, /gossip\.bootstrap\[1\] must be an address others can reach/],
    ['any-no-advertise', { ...ok, listen: '0.0.0.0:7100' }, /gossip\.advertise must be given when gossip\.listen is 0\.0\.0\.0:7100: other boards cannot connect/],
    ['advertise-any', { ...ok, advertise: '0.0.0.0:7100' }, /gossip\.advertise must be an address others can reach/],
    ['advertise-port-0', { ...ok, advertise: 'pi:0' }, /gossip\.advertise must be an address with a port of 1\.\.65535/],
    ['limit-unknown', { ...ok, limits: { pushFanout: 3 } }, /gossip\.limits\.pushFanout must be absent: it is not a gossip limit \(the limits are aliveIntervalMs, /],
    ['limit-fraction', { ...ok, limits: { fanout: 1.5 } }, /gossip\.limits\.fanout must be a whole number from 0 to/],
    ['limit-zero', { ...ok, limits: { aliveIntervalMs: 0 } }, /gossip\.limits\.aliveIntervalMs must be a whole number from 1 to/],
    ['limit-expiry', { ...ok, limits: { aliveExpirationMs: 900 } }, /gossip\.limits\.aliveExpirationMs must be greater than aliveIntervalMs/],
    ['limits-array', { ...ok, limits: [] }, /gossip\.limits must be an object of gossip limits/],
    ['election', { ...ok, election: 'lowest-id' }, /gossip\.election must be one of "dynamic", "static" \(got "lowest-id"\)/],
    ['static-no-leader', { ...ok, election: 'static' }, /gossip\.orgLeader must be true or false with election "static"/],
    ['static-leader-string', { ...ok, election: 'static', orgLeader: 'yes' }, /gossip\.orgLeader must be true or false/],
    ['dynamic-leader', { ...ok, orgLeader: true }, /gossip\.orgLeader must be absent unless gossip\.election is "static"/],
    ['multicast-true', { ...ok, multicast: true }, /gossip\.multicast must be an object \{ group, port, interface\? \} \(or false: off\)/],
    ['multicast-group', { ...ok, multicast: { group: '224.0.0.251', port: 5353 } }, /gossip\.multicast\.group must be an IPv4 multicast group in 239\.0\.0\.0\/8/],
    ['multicast-port', { ...ok, multicast: { group: '239.1.1.1' } }, /gossip\.multicast\.port must be a whole number from 1 to 65535 \(got undefined\)/],
    ['multicast-itf', { ...ok, multicast: { group: '239.1.1.1', port: 1, interface: 'wlan0' } }, /gossip\.multicast\.interface must be the IPv4 address of a local interface/],
  ];
  for (const [name, gossip, message] of cases) {
    const path = await boardWithGossip(name, gossip);
    assert.throws(() => readBoardConfig(path), (err: unknown) => err instanceof NetworkFileError && err.message.startsWith(`${path}: `) && message.test(err.message),
      `${name}: ${(() => { try { readBoardConfig(path); return 'accepted'; } catch (e) { return (e as Error).message; } })()}`);
  }
});
