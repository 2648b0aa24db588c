// A fleet spanning sites (issue 13 §3): a central Mosquitto with the orderer, two sites with their own
// Mosquitto bridged to it (`edgepeer mosquitto site`), each site's boards in a network namespace of their
// own, reaching the central broker only through their site's bridge over a link that adds
// SITE_LINK_DELAY_MS each way. The brokers run with the configuration edgepeer writes (passwords, ACLs,
// retained messages off). Site east's uplink is cut (its namespace link down): its boards keep serving
// each other by gossip (a board that lost its ledger rebuilds it from its neighbour), site west goes on
// syncing, and once the link is back east converges with nothing lost.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeMosquittoConfig } from '../../src/network/mosquittoConfig.js';
import { parseBlockSources } from '../../src/observability/statusReport.js';
import { type DelayProxy, startDelayProxy } from '../helpers/delayProxy.js';
import { GossipFleet, untilSettled } from '../helpers/gossipFleet.js';
import { type MosquittoHandle, configAsTestUser, findMosquitto, freePort, mosquittoMissing, runMosquitto } from '../helpers/mosquitto.js';
import { type Netns, createNetns } from '../helpers/netns.js';
import { TestRig, heightOf, killAllProcesses, lastStatus, runCli, waitForStatus } from '../helpers/processes.js';

const SITE_LINK_DELAY_MS = 20;
const MAX_MESSAGE_COUNT = 1;
const BATCH_TIMEOUT_MS = 600_000;
const WARM_UP_TX = 30;
const CUT_OFF_TX = 200;
const AFTER_TX = 30;
const SETTLE_TIMEOUT_MS = 45_000;
const SYNC_TIMEOUT_MS = 60_000;
/** From the restore: the bridge's keepalive notices a dead link (~1.5 × 5 s), reconnects, the stream resumes. */
const CONVERGE_TIMEOUT_MS = 60_000;
/** A site's broker listens inside its namespace, where every port is free. */
const SITE_BROKER_PORT = 1883;

after(killAllProcesses);

interface Site {
  name: string;
  org: string;
  ns: Netns;
  boards: string[];
  proxyPort: number;
  broker?: MosquittoHandle;
  proxy?: DelayProxy;
}

test('sites bridged to a central Mosquitto: boards sync through their site broker; a site cut off serves itself by gossip and converges', { timeout: 240_000 }, async (t) => {
  const mosquitto = await findMosquitto();
  if (mosquitto === undefined) return t.skip(mosquittoMissing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const sites: Site[] = [];
  for (const [name, org] of [['east', 'org1'], ['west', 'org2']] as const) {
    const ns = await createNetns();
    if ('skip' in ns) return t.skip(ns.skip);
    rig.defer(() => ns.remove());
    sites.push({ name, org, ns, boards: [`${org}-board1`, `${org}-board2`], proxyPort: await freePort() });
  }
  const [east, west] = sites as [Site, Site];
  const siteOf = (boardId: string): Site => sites.find((s) => s.boards.includes(boardId))!;
  const centralPort = await freePort();
  const central = `mqtt://127.0.0.1:${centralPort}`;

  const fleet = await GossipFleet.create(rig, {
    orgs: 2, boardsPerOrg: 2, maxMessageCount: MAX_MESSAGE_COUNT, batchTimeoutMs: BATCH_TIMEOUT_MS,
    ordererMqtt: central,
    boardMqtt: () => `mqtt://127.0.0.1:${SITE_BROKER_PORT}`,
    bootstrapsTo: (a, b) => siteOf(a) === siteOf(b),
    beforeOrderer: async (net) => {
      for (const s of sites) {
        await runCli(['mosquitto', 'site', s.name, '--network', net.dir, '--boards', s.boards.join(','),
          '--central', `${s.ns.hostAddr}:${s.proxyPort}`, '--port', String(SITE_BROKER_PORT), '--host', '127.0.0.1'], { name: `mosquitto site ${s.name}` });
      }
      // The central listener on loopback only: a site reaches it through its own link's proxy, nothing else.
      const files = await writeMosquittoConfig(net.dir, { port: centralPort, host: '127.0.0.1' });
      const centralBroker = await runMosquitto(configAsTestUser(files.config), { binary: mosquitto, port: centralPort });
      rig.defer(() => centralBroker.stop());
      for (const s of sites) {
        const proxy = await startDelayProxy({ host: s.ns.hostAddr, port: s.proxyPort, target: { host: '127.0.0.1', port: centralPort }, delayMs: SITE_LINK_DELAY_MS });
        rig.defer(() => proxy.close());
        s.proxy = proxy;
        s.broker = await runMosquitto(configAsTestUser(join(files.dir, 'sites', s.name, 'mosquitto.conf')), { binary: mosquitto, port: SITE_BROKER_PORT, prefix: s.ns.prefix });
        const broker = s.broker;
        rig.defer(() => broker.stop());
      }
    },
  });
  for (const s of sites) for (const id of s.boards) fleet.startBoard(id, { prefix: s.ns.prefix });
  const describe = (): string => [fleet.describe(), ...sites.map((s) => `--- ${s.name} broker ---\n${s.broker?.log() ?? ''}`)].join('\n');

  // Each site is an org: one leader each, streaming through its site's bridge.
  await untilSettled(fleet, fleet.deliverLog, SETTLE_TIMEOUT_MS);
  await fleet.submit(WARM_UP_TX);
  const warm = await fleet.ordererHeight();
  await fleet.allAt(warm, SYNC_TIMEOUT_MS).catch((err: Error) => assert.fail(`${err.message}\n${describe()}`));

  await east.ns.cut();
  await fleet.submit(CUT_OFF_TX);
  const cutHeight = await fleet.ordererHeight();
  await fleet.allAt(cutHeight, SYNC_TIMEOUT_MS, west.boards);
  for (const id of east.boards) assert.equal(heightOf(lastStatus(fleet.proc(id))!), warm, `${id} got nothing while its site was cut off`);

  // While cut off, a board of the site that lost its ledger rebuilds it from its neighbour, by gossip alone.
  const rebuilt = east.boards[1]!;
  await fleet.stopBoard(rebuilt, 'SIGKILL');
  rmSync(fleet.board(rebuilt).data, { recursive: true, force: true });
  const again = fleet.startBoard(rebuilt, { prefix: east.ns.prefix });
  const back = await waitForStatus(again, (s) => heightOf(s) === warm, `height=${warm}`, { timeoutMs: SYNC_TIMEOUT_MS });
  const from = parseBlockSources(back['from'] ?? '');
  assert.ok(from !== null, `status line carries from=: ${back['from']}`);
  assert.equal(from.orderer, 0, `${rebuilt} had no orderer to stream from: ${JSON.stringify(from)}`);
  assert.equal(from.push + from.pull + from.catchup, warm - 1, `every block but the genesis from its neighbour: ${JSON.stringify(from)}`);

  const restoredAt = Date.now();
  await east.ns.restore();
  await fleet.allAt(cutHeight, CONVERGE_TIMEOUT_MS, east.boards).catch((err: Error) => assert.fail(`${err.message}\n${describe()}`));
  t.diagnostic(`east converged ${Date.now() - restoredAt} ms after its link came back, ${cutHeight - warm} blocks behind`);
  await fleet.submit(AFTER_TX);
  const height = await fleet.ordererHeight();
  assert.equal(height, warm + CUT_OFF_TX + AFTER_TX, 'every accepted transaction is a block');
  await fleet.allAt(height, SYNC_TIMEOUT_MS);
  await fleet.assertConverged(fleet.ids(), height);
  // The sites' traffic went over their links: each bridge connected through its proxy.
  for (const s of sites) assert.ok(s.proxy!.connections >= 1, `site ${s.name}'s bridge connected through its link`);
  t.diagnostic(`bridge connections over the site links: ${sites.map((s) => `${s.name} ${s.proxy!.connections}`).join(', ')}`);
});
