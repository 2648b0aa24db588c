// The files of a site's Mosquitto and the central broker's bridge login (src/network/mosquittoSite.ts);
// that they work with a real Mosquitto is test/integration/mosquittoBridge.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createNetwork } from '../../../src/network/createNetwork.js';
import { writeMosquittoConfig } from '../../../src/network/mosquittoConfig.js';
import { MosquittoSiteError, loadMosquittoSites, recordMosquittoSite } from '../../../src/network/mosquittoSite.js';
import { loadBoard } from '../../../src/network/loadNetwork.js';
import { recordRevoked } from '../../../src/network/revokedMembers.js';

let root: string;
let dir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'edgepeer-site-'));
  dir = join(root, 'network');
  await createNetwork({ dir, channels: ['c'], orgs: 2, boardsPerOrg: 2 });
});
after(() => rmSync(root, { recursive: true, force: true }));

test('a site: its boards log in to it, its bridge carries requests out and only its boards\' replies in', async () => {
  const site = await recordMosquittoSite(dir, { name: 'east', boards: ['org1-board1', 'org1-board2'], central: 'central.example:1883', port: 1884 });
  await writeMosquittoConfig(dir);
  const conf = readFileSync(join(dir, 'mosquitto', 'sites', 'east', 'mosquitto.conf'), 'utf8');
  assert.match(conf, /^address central\.example:1883$/m);
  assert.match(conf, /^listener 1884 0\.0\.0\.0$/m);
  assert.match(conf, /^retain_available false$/m);
  assert.match(conf, /^notifications false$/m);
  const bridged = conf.split('\n').filter((l) => l.startsWith('topic '));
  assert.deepEqual(bridged, [
    'topic edgepeer/v1/+/deliver out 1',
    'topic edgepeer/v1/+/broadcast out 1',
    'topic edgepeer/v1/+/reply/org1.org1-board1 in 1',
    'topic edgepeer/v1/+/reply/org1.org1-board2 in 1',
  ]);
  const sitePasswd = readFileSync(join(dir, 'mosquitto', 'sites', 'east', 'passwd'), 'utf8');
  assert.deepEqual(sitePasswd.trim().split('\n').map((l) => l.split(':')[0]), ['org1.org1-board1', 'org1.org1-board2'], 'only the site\'s boards log in to it');

  const centralAcl = readFileSync(join(dir, 'mosquitto', 'acl'), 'utf8');
  const bridgeBlock = centralAcl.slice(centralAcl.indexOf(`user ${site.bridgeUsername}`)).trim().split('\n');
  assert.deepEqual(bridgeBlock, [
    'user bridge.east',
    'topic write edgepeer/v1/+/deliver',
    'topic write edgepeer/v1/+/broadcast',
    'topic read edgepeer/v1/+/reply/org1.org1-board1',
    'topic read edgepeer/v1/+/reply/org1.org1-board2',
  ]);
  assert.match(readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8'), /^bridge\.east:\$7\$/m, 'the central broker knows the bridge login');

  // Written again (new settings): the bridge keeps its password, so the central broker's file stays valid.
  const again = await recordMosquittoSite(dir, { name: 'east', boards: ['org1-board1'], central: 'central.example:1883', port: 1885 });
  assert.equal(again.bridgePassword, site.bridgePassword);
  assert.deepEqual(loadMosquittoSites(dir).map((s) => [s.name, s.boards]), [['east', ['org1-board1']]]);
});

test('a site is refused, naming why: an unknown board, a board of another site, a bad name or central address', async () => {
  await recordMosquittoSite(dir, { name: 'north', boards: ['org2-board1'], central: 'c:1883', port: 1883 });
  const refused = async (r: Parameters<typeof recordMosquittoSite>[1], why: RegExp): Promise<void> => {
    await assert.rejects(recordMosquittoSite(dir, r), (err: Error) => err instanceof MosquittoSiteError && why.test(err.message));
  };
  await refused({ name: 'south', boards: ['org9-board1'], central: 'c:1883', port: 1883 }, /not boards of this network: org9-board1/);
  await refused({ name: 'south', boards: ['org2-board1'], central: 'c:1883', port: 1883 }, /org2-board1 is already in site 'north'/);
  await refused({ name: 'a/b', boards: ['org2-board2'], central: 'c:1883', port: 1883 }, /site name must match/);
  await refused({ name: 'south', boards: ['org2-board2'], central: 'c', port: 1883 }, /--central must be HOST:PORT/);
  await refused({ name: 'south', boards: [], central: 'c:1883', port: 1883 }, /at least one board/);
});

test('a revoked member stays out of every Mosquitto file written afterwards: central passwd, site passwd, bridge topics', async () => {
  await recordMosquittoSite(dir, { name: 'west', boards: ['org2-board2'], central: 'c:1883', port: 1883 });
  await writeMosquittoConfig(dir);
  const username = 'org2.org2-board2';
  assert.match(readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8'), new RegExp(`^${username}:`, 'm'));
  await recordRevoked(dir, 'org2-board2', loadBoard(dir, 'org2-board2').signer.certificate.fingerprint);
  await writeMosquittoConfig(dir);
  assert.doesNotMatch(readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8'), new RegExp(`^${username}:`, 'm'), 'not in the central passwd');
  assert.doesNotMatch(readFileSync(join(dir, 'mosquitto', 'acl'), 'utf8'), new RegExp(`reply/${username}`), 'no bridge reads its replies');
  assert.doesNotMatch(readFileSync(join(dir, 'mosquitto', 'sites', 'west', 'passwd'), 'utf8'), new RegExp(`^${username}:`, 'm'), 'not in its site\'s passwd');
  assert.doesNotMatch(readFileSync(join(dir, 'mosquitto', 'sites', 'west', 'mosquitto.conf'), 'utf8'), new RegExp(`reply/${username}`), 'its site\'s bridge no longer carries its replies');
  assert.match(readFileSync(join(dir, 'mosquitto', 'passwd'), 'utf8'), /^org2\.org2-board1:/m, 'the others stay');
});
