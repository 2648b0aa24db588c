// A network folder with a Fabric channel: init stores the Fabric genesis block byte for byte, pins it by
// hash in network.json and every board.json, writes the channel's edge access configuration beside it,
// and the loaders refuse a genesis file or a board pin that does not match.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromBlock } from '../../../src/channel/blocks.js';
import { createNetwork, type NetworkSummary } from '../../../src/network/createNetwork.js';
import { NetworkFileError, loadBoard, loadChannelAnchor, loadNetworkFile } from '../../../src/network/loadNetwork.js';
import { FABRIC_FIXTURES } from '../../helpers/fabric/realData.js';

/** A real Fabric config block (from Fabric's orderer tests), channel 'mychannel'. */
const FABRIC_GENESIS = join(FABRIC_FIXTURES, 'cluster_mychannel.block');

let root: string;
let dir: string;
let genesis: Uint8Array;
let summary: NetworkSummary;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'edgepeer-fabric-net-'));
  dir = join(root, 'net');
  genesis = new Uint8Array(await readFile(FABRIC_GENESIS));
  summary = await createNetwork({ dir, channels: [], fabricChannels: [{ channel: 'mychannel', genesis }], orgs: 1, boardsPerOrg: 2 });
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('init with a Fabric channel: the genesis is kept byte for byte and pinned in network.json and every board.json', async () => {
  assert.deepEqual(summary.channels, ['mychannel']);
  assert.deepEqual(summary.fabricChannels, ['mychannel']);
  assert.equal(summary.channel, 'mychannel', 'boards follow the Fabric channel when it is the only one');
  const net = loadNetworkFile(dir);
  assert.equal(net.fabricChannels?.[0]?.genesisSha256, sha256Hex(genesis));
  const board = loadBoard(dir, summary.boards[0]!.id);
  assert.equal(board.config.fabricGenesisSha256, sha256Hex(genesis));
  assert.equal(board.anchor.kind, 'fabric');
  if (board.anchor.kind !== 'fabric') return;
  assert.deepEqual(Buffer.from(board.anchor.fabricGenesis), Buffer.from(genesis));
  // The edge access configuration is an edgepeer configuration block for the same channel name.
  assert.equal(configFromBlock(board.anchor.access).channel, 'mychannel');
  assert.deepEqual(Buffer.from(board.genesis), Buffer.from(board.anchor.access));
});

test('a Fabric genesis file that no longer matches its pin is refused, naming the file and both hashes', async () => {
  const path = join(dir, 'channels', 'mychannel', 'fabric-genesis.block');
  const tampered = Buffer.from(genesis);
  tampered.writeUInt8(tampered.readUInt8(tampered.length - 1) ^ 0x01, tampered.length - 1);
  await writeFile(path, tampered);
  try {
    assert.throws(() => loadChannelAnchor(dir, 'mychannel'), (err: unknown) => err instanceof NetworkFileError
      && err.message.includes(path) && err.message.includes(sha256Hex(tampered)) && err.message.includes(sha256Hex(genesis)));
  } finally {
    await writeFile(path, genesis);
  }
  assert.equal(loadChannelAnchor(dir, 'mychannel').kind, 'fabric');
});

test("a board.json whose pin differs from the network's is refused", async () => {
  const configPath = summary.boards[1]!.config;
  const original = await readFile(configPath, 'utf8');
  const other = JSON.parse(original) as Record<string, unknown>;
  other['fabricGenesisSha256'] = '0'.repeat(64);
  await writeFile(configPath, JSON.stringify(other));
  try {
    assert.throws(() => loadBoard(dir, summary.boards[1]!.id), /fabricGenesisSha256 0{64} is not the hash/);
    delete other['fabricGenesisSha256'];
    await writeFile(configPath, JSON.stringify(other));
    assert.throws(() => loadBoard(dir, summary.boards[1]!.id), /is a Fabric channel, so fabricGenesisSha256 must pin/);
  } finally {
    await writeFile(configPath, original);
  }
});

test('edgepeer and Fabric channels side by side: boards name the first edgepeer channel, only the Fabric one is pinned', async () => {
  const mixed = join(root, 'mixed');
  const s = await createNetwork({ dir: mixed, channels: ['alpha'], fabricChannels: [{ channel: 'mychannel', genesis }], orgs: 1, boardsPerOrg: 1 });
  assert.deepEqual(s.channels, ['alpha', 'mychannel']);
  assert.equal(s.channel, 'alpha');
  const board = loadBoard(mixed, s.boards[0]!.id);
  assert.equal(board.anchor.kind, 'edgepeer');
  assert.equal(board.config.fabricGenesisSha256, undefined);
  assert.equal(loadChannelAnchor(mixed, 'mychannel').kind, 'fabric');
});
