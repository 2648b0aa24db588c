// Gossip addresses on real Pis: `edgepeer init --gossip` writes loopback ports (one machine), the
// inventory replaces them per board (gossipListen, gossipAdvertise; gossipBootstrap also as a default),
// and every loopback address still in a board's gossip section is found (deploy refuses it unless
// --allow-loopback, then warns about it: test/integration/deploy.test.ts).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type BoardSettings, buildBoardOverlay, loopbackAddresses } from '../../../src/deploy/boardOverlay.js';
import { BUNDLE_FORMAT, type BundleManifest } from '../../../src/deploy/bundleManifest.js';
import { InventoryError, KEEP_GOSSIP_ADDRESSES, parseInventoryIni, parseInventoryJson } from '../../../src/deploy/inventory.js';
import type { InventoryGossip } from '../../../src/deploy/inventory.js';
import { createNetwork } from '../../../src/network/createNetwork.js';
import { runCommand } from '../../../src/deploy/runCommand.js';

const GOSSIP_BASE_PORT = 7051;
const BOARD = 'org1-board1';

test('inventory gossip keys: per board in JSON and INI, bootstrap also as a default, own addresses never a default', () => {
  const json = parseInventoryJson(JSON.stringify({
    // An editor's pointer to the published schema is allowed beside the fleet.
    $schema: '../schemas/inventory.schema.json',
    defaults: { gossipBootstrap: ['10.0.0.11:7051', '10.0.0.12:7051'] },
    boards: [
      { board: 'org1-board1', host: 'pi-01', gossipListen: '10.0.0.11:7051' },
      { board: 'org1-board2', host: 'pi-02', gossipListen: '0.0.0.0:7051', gossipAdvertise: 'pi-02.local:7051' },
      { board: 'org1-board3', host: 'pi-03' },
    ],
  }), 'fleet.json');
  assert.deepEqual(json.map((b) => b.gossip), [
    { listen: '10.0.0.11:7051', advertise: null, bootstrap: ['10.0.0.11:7051', '10.0.0.12:7051'] },
    { listen: '0.0.0.0:7051', advertise: 'pi-02.local:7051', bootstrap: ['10.0.0.11:7051', '10.0.0.12:7051'] },
    { listen: null, advertise: null, bootstrap: ['10.0.0.11:7051', '10.0.0.12:7051'] },
  ]);
  const ini = parseInventoryIni(['[defaults]', 'gossipBootstrap = 10.0.0.11:7051, [fd00::12]:7051', '[org1-board1]', 'host = pi-01', 'gossipListen = 10.0.0.11:7051'].join('\n'), 'fleet.ini');
  assert.deepEqual(ini[0]!.gossip, { listen: '10.0.0.11:7051', advertise: null, bootstrap: ['10.0.0.11:7051', '[fd00::12]:7051'] });
  const bad: [unknown, RegExp][] = [
    [{ defaults: { gossipListen: '10.0.0.11:7051' }, boards: [{ board: 'b1', host: 'h' }] }, /gossipListen belongs to each board/],
    [{ boards: [{ board: 'b1', host: 'h', gossipListen: '10.0.0.11' }] }, /gossipListen must be a host:port/],
    [{ boards: [{ board: 'b1', host: 'h', gossipBootstrap: [] }] }, /gossipBootstrap must be a non-empty list of host:port/],
  ];
  for (const [value, message] of bad) {
    assert.throws(() => parseInventoryJson(JSON.stringify(value), 'fleet.json'), (e: Error) => e instanceof InventoryError && message.test(e.message), String(message));
  }
});

const manifest: BundleManifest = {
  format: BUNDLE_FORMAT, name: 'edgepeer', version: '0.0.0-test', target: 'linux-arm64', builtAt: new Date(0).toISOString(), commit: null,
  node: { bundled: null, required: '>=20.15' }, natives: [], profiles: ['raspberry-pi-4'],
};

async function overlayFor(t: { after(fn: () => void): void }, gossip: InventoryGossip) {
  const root = mkdtempSync(join(tmpdir(), 'edgepeer-deploy-gossip-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const net = await createNetwork({ dir: join(root, 'network'), channels: ['c'], orgs: 1, boardsPerOrg: 2, gossip: { basePort: GOSSIP_BASE_PORT } });
  const settings: BoardSettings = {
    board: BOARD, profile: 'raspberry-pi-4', orderers: ['mqtt://10.0.0.2:1883'], heapMb: 384, memoryMb: 1024, metricsPort: 9464,
    statusIntervalMs: 1000, console: null, peerArgs: '', gossip,
  };
  const work = join(root, 'work');
  const overlay = await buildBoardOverlay({ networkDir: net.dir, settings, releaseName: 'r1', bundle: manifest, workDir: work });
  const out = join(root, 'out');
  mkdirSync(out);
  const untar = await runCommand('tar', ['-xzf', overlay.tarball, '-C', out]);
  assert.equal(untar.code, 0, untar.stderr);
  const entry = net.boards.find((b) => b.id === BOARD)!;
  const rel = entry.config.slice(net.dir.length + 1);
  const config = JSON.parse(readFileSync(join(out, 'network', rel), 'utf8')) as { gossip: { listen: string; advertise?: string; bootstrap: string[] } };
  return { overlay, gossip: config.gossip };
}

test("the overlay with init's gossip addresses (what deploy --allow-loopback ships): the loopback listen and bootstrap are shipped, each with a warning", async (t) => {
  const { overlay, gossip } = await overlayFor(t, KEEP_GOSSIP_ADDRESSES);
  assert.equal(gossip.listen, `127.0.0.1:${GOSSIP_BASE_PORT}`);
  assert.ok(overlay.warnings.some((w) => /^gossip listen 127\.0\.0\.1:7051 is loopback: give gossipListen/.test(w)), overlay.warnings.join('\n'));
  assert.ok(overlay.warnings.some((w) => /^gossip bootstrap 127\.0\.0\.1:7052 is loopback: give gossipBootstrap/.test(w)), overlay.warnings.join('\n'));
});

test('loopbackAddresses: a loopback listen is found even behind a LAN advertise, every loopback bootstrap and orderer is named, LAN ones are not', () => {
  const gossip = { listen: '127.0.0.1:7051', advertise: '10.0.0.11:7051', bootstrap: ['10.0.0.12:7051', 'localhost:7053', '[::1]:7054'] };
  const found = loopbackAddresses({ orderers: ['mqtt://10.0.0.2:1883', 'mqtts://localhost:8883'], gossip });
  assert.deepEqual(found.map((l) => [l.kind, l.addresses]), [
    ['orderer endpoint', ['mqtts://localhost:8883']],
    ['gossip listen', ['127.0.0.1:7051']],
    ['gossip bootstrap', ['localhost:7053', '[::1]:7054']],
  ]);
  assert.deepEqual(loopbackAddresses({ orderers: ['mqtt://10.0.0.2:1883'], gossip: { ...gossip, listen: '0.0.0.0:7051', bootstrap: ['10.0.0.12:7051'] } }), []);
  assert.deepEqual(loopbackAddresses({ orderers: ['mqtt://10.0.0.2:1883'], gossip: { ...gossip, listen: '0.0.0.0:7051', advertise: '127.0.0.1:7051' } })
    .map((l) => l.kind), ['gossip advertise', 'gossip bootstrap']);
});

test("deploy with the inventory's gossip addresses: board.json carries them and nothing is warned about gossip", async (t) => {
  const { overlay, gossip } = await overlayFor(t, { listen: '0.0.0.0:7051', advertise: '10.0.0.11:7051', bootstrap: ['10.0.0.12:7051'] });
  assert.deepEqual([gossip.listen, gossip.advertise, gossip.bootstrap], ['0.0.0.0:7051', '10.0.0.11:7051', ['10.0.0.12:7051']]);
  assert.deepEqual(overlay.warnings.filter((w) => w.includes('gossip')), []);
});
