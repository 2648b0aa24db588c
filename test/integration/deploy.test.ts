// `npm run deploy` against fake Pis (test/helpers/fakePi.ts): an ssh wrapper runs the board commands in
// a folder per board. With small fake bundles: dry run, release folders, the current/previous links,
// the board's files and key mode, parallel boards, rollback on an unhealthy or crashing release, prune,
// and init's loopback addresses refused unless --allow-loopback.
// With a real linux-x64 bundle: the peer really runs from the release, syncs from an orderer, is judged
// healthy by `edgepeer health`, survives an upgrade with its ledger, and a release that cannot reach
// the orderer is rolled back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../../src/deploy/runCommand.js';
import { targetForMachine } from '../../src/deploy/targets.js';
import { fakeBundle, fakePiFarm, type FakePiFarm } from '../helpers/fakePi.js';
import { REPO_ROOT, testBundle } from '../helpers/bundles.js';
import { TestRig, freePort, initNetwork, killAllProcesses, ledgerInfo, ledgerVerify, runCli, waitForMetric } from '../helpers/processes.js';

after(killAllProcesses);

const DEPLOY_JS = join(REPO_ROOT, 'dist', 'scripts', 'deploy.js');
/** init's first gossip port in the loopback test: the board addresses below follow from it. */
const GOSSIP_BASE_PORT = 7051;

async function hostTarget(): Promise<string> {
  const arch = (await runCommand('dpkg', ['--print-architecture'])).stdout.trim();
  const machine = (await runCommand('uname', ['-m'])).stdout.trim();
  const t = targetForMachine(arch, machine);
  if (t === null) throw new Error(`no bundle target for this machine (${arch} ${machine})`);
  return t.name;
}

function deploy(farm: FakePiFarm, args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, [DEPLOY_JS, '--ssh', farm.sshWrapper, ...args], { env: farm.env(), timeoutMs: 120_000 });
}

function describe(r: CommandResult): string {
  return `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

const currentRelease = (root: string): string => readlinkSync(join(root, 'opt/edgepeer/current'));
const releases = (root: string): string[] => readdirSync(join(root, 'opt/edgepeer/releases')).sort();

test('deploy --dry-run prints every command for every board and runs none', async () => {
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-deploy-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const root = farm.addBoard('pi-a');
    await initNetwork(join(dir, 'net'), { boardsPerOrg: 2 });
    const bundle = await fakeBundle(dir, '1.0.0', await hostTarget(), 'good');
    writeFileSync(join(dir, 'fleet.ini'), '[defaults]\norderers = mqtt://10.0.0.2:1883\n\n[org1-board1]\nhost = pi-a\nprofile = raspberry-pi-4\n');

    const r = await deploy(farm, ['--inventory', join(dir, 'fleet.ini'), '--bundle', bundle, '--network', join(dir, 'net'), '--dry-run']);
    assert.equal(r.code, 0, describe(r));
    const out = r.stdout;
    // Each step is one ssh command to the board, through sudo for the non-root default user.
    for (const step of ['# preflight', '# upload', '# install', '# activate', '# health', '# prune', '# rollback']) assert.ok(out.includes(step), `${step} in\n${out}`);
    const ssh = `${farm.sshWrapper} -p 22 -o BatchMode=yes -o ConnectTimeout=10 pi@pi-a`;
    assert.ok(out.includes(`${ssh} 'sudo -n sh -s' <<'EDGEPEER_SCRIPT'\n`), `scripts go to sh -s as here-documents:\n${out}`);
    assert.ok(out.includes(`${ssh} 'sudo -n sh -c '`), 'uploads are sh -c with the file on standard input');
    assert.ok(out.includes(`-bundle.tar.gz"'\\''' < ${bundle}\n`), 'the bundle goes as standard input of its upload');
    assert.match(out, /ln -sfn .*releases\/\d{8}T\d{6}\.\d{3}Z-1\.0\.0-linux-/);
    assert.match(out, /mv -T .*\/opt\/edgepeer\/current\.next.* .*\/opt\/edgepeer\/current/);
    assert.match(out, /systemctl restart edgepeer\.service/);
    assert.match(out, /would deploy/);
    assert.ok(!existsSync(join(root, 'opt')), 'nothing was installed');
    assert.ok(!existsSync(join(root, 'ssh.log')), 'no command reached the board');
  } finally {
    await rig.close();
  }
});

test('deploy installs releases on several boards in parallel, rolls back unhealthy and crashing releases, and prunes', async () => {
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-deploy-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const roots = { a: farm.addBoard('pi-a'), b: farm.addBoard('pi-b') };
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 3 });
    const target = await hostTarget();
    const inventory = join(dir, 'fleet.json');
    writeFileSync(inventory, JSON.stringify({
      defaults: { user: 'root', orderers: ['mqtt://10.0.0.2:1883'] },
      boards: [
        { board: 'org1-board1', host: 'pi-a', profile: 'raspberry-pi-zero-2-w' },
        { board: 'org1-board2', host: 'pi-b', profile: 'raspberry-pi-4', console: true },
      ],
    }));
    // The ledger in the state directory belongs to neither release.
    mkdirSync(join(roots.a, 'var/lib/edgepeer'), { recursive: true });
    writeFileSync(join(roots.a, 'var/lib/edgepeer/ledger-marker'), 'blocks');
    const common = [
      '--inventory', inventory, '--network', net, '--remote-root', join(farm.base, 'boards', '{host}'),
      '--parallel', '2', '--health-timeout-ms', '1500', '--health-interval-ms', '100', '--keep-releases', '2',
    ];

    // 1. A good release on both boards.
    const v1 = await deploy(farm, [...common, '--bundle', await fakeBundle(dir, '1.0.0', target, 'good')]);
    assert.equal(v1.code, 0, describe(v1));
    assert.match(v1.stdout, /2 boards: 2 deployed/);
    const rel1 = currentRelease(roots.a);
    assert.match(rel1, /^releases\/\d{8}T\d{6}\.\d{3}Z-1\.0\.0-/);
    assert.equal(currentRelease(roots.b), rel1, 'both boards run the same release');
    assert.ok(lstatSync(join(roots.a, 'opt/edgepeer/current')).isSymbolicLink());
    const relA = join(roots.a, 'opt/edgepeer', rel1);
    // Only the board's own files: its key, no other board's key, no organisation root key.
    const boardDir = join(relA, 'network/orgs/org1/boards/org1-board1');
    assert.equal(statSync(join(boardDir, 'key.pem')).mode & 0o777, 0o600, 'private key mode 0600');
    assert.ok(!existsSync(join(relA, 'network/orgs/org1/boards/org1-board2')), 'no other board is shipped');
    assert.ok(!existsSync(join(relA, 'network/orgs/org1/root.key')), 'no organisation root key is shipped');
    const network = JSON.parse(readFileSync(join(relA, 'network/network.json'), 'utf8')) as { boards: { id: string }[] };
    assert.deepEqual(network.boards.map((b) => b.id), ['org1-board1']);
    const boardJson = JSON.parse(readFileSync(join(boardDir, 'board.json'), 'utf8')) as { profile: string; orderers: string[] };
    assert.equal(boardJson.profile, 'raspberry-pi-zero-2-w');
    assert.deepEqual(boardJson.orderers, ['mqtt://10.0.0.2:1883']);
    const envA = readFileSync(join(relA, 'board.env'), 'utf8');
    assert.match(envA, /^EDGEPEER_BOARD=org1-board1$/m);
    assert.match(envA, /^NODE_OPTIONS=--max-old-space-size=192 --max-semi-space-size=2$/m, 'a Pi Zero 2 W (512 MB) gets a 192 MB heap and a 2 MB young generation');
    assert.match(envA, /^EDGEPEER_PEER_ARGS=$/m);
    const envB = readFileSync(join(roots.b, 'opt/edgepeer', rel1, 'board.env'), 'utf8');
    assert.match(envB, /^NODE_OPTIONS=--max-old-space-size=384 --max-semi-space-size=2$/m, 'a Pi 4 (1 GB) gets a 384 MB heap');
    assert.match(envB, /^EDGEPEER_PEER_ARGS=--console \/dev\/serial0@115200$/m, "console = true uses the profile's UART");
    assert.equal(
      readFileSync(join(roots.a, 'etc/systemd/system/edgepeer.service'), 'utf8'),
      readFileSync(join(REPO_ROOT, 'packaging/systemd/edgepeer.service'), 'utf8'),
      'the unit is installed from the release',
    );
    const cmdsA = farm.commands('pi-a');
    assert.ok(cmdsA.some((c) => /^chown edgepeer:edgepeer .*org1-board1\/key\.pem$/.test(c)), `key owned by the service user:\n${cmdsA.join('\n')}`);
    assert.ok(cmdsA.includes('usermod --append --groups dialout,gpio edgepeer'));
    assert.deepEqual(cmdsA.filter((c) => c.startsWith('systemctl') && !c.includes('is-active') && !c.includes('show')),
      ['systemctl daemon-reload', 'systemctl enable edgepeer.service', 'systemctl restart edgepeer.service']);

    // 2. A release that starts but never becomes healthy: rolled back to the first.
    const v2 = await deploy(farm, [...common, '--board', 'org1-board1', '--bundle', await fakeBundle(dir, '2.0.0', target, 'unhealthy')]);
    assert.equal(v2.code, 1, describe(v2));
    assert.match(v2.stdout, /ROLLED BACK to .*1\.0\.0.*health failed: not healthy after 1\.5 s: unhealthy: no orderer link is up/);
    assert.equal(currentRelease(roots.a), rel1);
    assert.equal(readlinkSync(join(roots.a, 'opt/edgepeer/previous')), rel1);

    // 3. A release whose service does not start: rolled back as well.
    const v3 = await deploy(farm, [...common, '--board', 'org1-board1', '--bundle', await fakeBundle(dir, '3.0.0', target, 'crash')]);
    assert.equal(v3.code, 1, describe(v3));
    assert.match(v3.stdout, /ROLLED BACK to .*1\.0\.0.*activate failed: .*control process exited with error code/);
    assert.equal(currentRelease(roots.a), rel1);
    assert.match(readFileSync(join(roots.a, 'service.state'), 'utf8'), /active/, 'the restored release runs');

    // 4. A good release again: current moves on, the old ones beyond --keep-releases go, previous stays.
    const v4 = await deploy(farm, [...common, '--board', 'org1-board1', '--bundle', await fakeBundle(dir, '4.0.0', target, 'good')]);
    assert.equal(v4.code, 0, describe(v4));
    const rel4 = currentRelease(roots.a);
    assert.match(rel4, /-4\.0\.0-/);
    assert.equal(readlinkSync(join(roots.a, 'opt/edgepeer/previous')), rel1);
    const left = releases(roots.a);
    assert.equal(left.length, 3, `kept: the newest 2 and previous: ${left.join(', ')}`);
    assert.ok(left.some((r) => r.includes('-1.0.0-')) && left.some((r) => r.includes('-3.0.0-')) && left.some((r) => r.includes('-4.0.0-')), left.join(', '));
    assert.equal(readFileSync(join(roots.a, 'var/lib/edgepeer/ledger-marker'), 'utf8'), 'blocks', 'the state directory is untouched');
    assert.equal(currentRelease(roots.b), rel1, 'a board left out by --board is left alone');
  } finally {
    await rig.close();
  }
});

test('deploy reports an unreachable board and a board of another architecture, and deploys the rest', async () => {
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-deploy-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const root = farm.addBoard('pi-a');
    await initNetwork(join(dir, 'net'), { boardsPerOrg: 2 });
    const inventory = join(dir, 'fleet.json');
    writeFileSync(inventory, JSON.stringify({
      defaults: { user: 'root', profile: 'raspberry-pi-4' },
      boards: [{ board: 'org1-board1', host: 'pi-a' }, { board: 'org1-board2', host: 'pi-gone' }],
    }));
    const other = (await hostTarget()) === 'linux-armv7' ? 'linux-arm64' : 'linux-armv7';
    // board.json's orderer is init's loopback one, on purpose: deployed with a warning.
    const args = ['--inventory', inventory, '--network', join(dir, 'net'), '--remote-root', join(farm.base, 'boards', '{host}'), '--allow-loopback'];
    const wrongArch = await deploy(farm, [...args, '--bundle', await fakeBundle(dir, '1.0.0', other, 'good')]);
    assert.equal(wrongArch.code, 1, describe(wrongArch));
    assert.match(wrongArch.stdout, new RegExp(`org1-board1 .*FAILED at preflight: the board is \\S+ \\(linux-\\S+\\); the bundle is for ${other}`));
    assert.match(wrongArch.stdout, /org1-board2 .*FAILED at preflight: .*No route to host/);
    assert.match(wrongArch.stdout, /warning: orderer endpoint mqtt:\/\/127\.0\.0\.1:1883 is loopback/);
    assert.ok(!existsSync(join(root, 'opt/edgepeer/current')), 'nothing was switched');
  } finally {
    await rig.close();
  }
});

test("deploy refuses init's loopback gossip and orderer addresses before touching any board, and deploys them with warnings under --allow-loopback", async () => {
  const rig = new TestRig();
  try {
    const dir = rig.tempDir('edgepeer-deploy-');
    const farm = fakePiFarm(join(dir, 'farm'));
    const roots = [farm.addBoard('pi-a'), farm.addBoard('pi-b'), farm.addBoard('pi-c')];
    const net = join(dir, 'net');
    // init --gossip: board n listens on 127.0.0.1:7050+n, its bootstrap is the other boards' loopback ports.
    await initNetwork(net, { boardsPerOrg: 3, gossipBasePort: GOSSIP_BASE_PORT });
    const inventory = join(dir, 'fleet.json');
    const lan = { gossipBootstrap: ['10.0.0.11:7051', '10.0.0.12:7051', '10.0.0.13:7051'] };
    writeFileSync(inventory, JSON.stringify({
      defaults: { user: 'root', profile: 'raspberry-pi-4' },
      boards: [
        // init's gossip addresses, a LAN orderer.
        { board: 'org1-board1', host: 'pi-a', orderers: ['mqtt://10.0.0.2:1883'] },
        // LAN gossip addresses, init's loopback orderer.
        { board: 'org1-board2', host: 'pi-b', gossipListen: '10.0.0.12:7051', ...lan },
        // Nothing on loopback.
        { board: 'org1-board3', host: 'pi-c', orderers: ['mqtt://10.0.0.2:1883'], gossipListen: '0.0.0.0:7051', gossipAdvertise: '10.0.0.13:7051', ...lan },
      ],
    }));
    const args = [
      '--inventory', inventory, '--network', net, '--remote-root', join(farm.base, 'boards', '{host}'),
      '--bundle', await fakeBundle(dir, '1.0.0', await hostTarget(), 'good'),
    ];
    const untouched = (): void => {
      for (const root of roots) assert.ok(!existsSync(join(root, 'ssh.log')), `no command reached ${root}`);
    };

    for (const extra of [[], ['--dry-run']]) {
      const refused = await deploy(farm, [...args, ...extra]);
      assert.equal(refused.code, 2, describe(refused));
      const err = refused.stderr;
      assert.match(err, /refusing to deploy loopback addresses .* to 2 boards; no board was touched/);
      assert.match(err, /org1-board1 \(pi-a\): gossip listen 127\.0\.0\.1:7051: give gossipListen/);
      assert.match(err, /org1-board1 \(pi-a\): gossip bootstrap 127\.0\.0\.1:7052, 127\.0\.0\.1:7053: give gossipBootstrap/);
      assert.match(err, /org1-board2 \(pi-b\): orderer endpoint mqtt:\/\/127\.0\.0\.1:1883: give "orderers"/);
      assert.doesNotMatch(err, /org1-board2 \(pi-b\): gossip|org1-board3/, 'only the loopback addresses are named');
      assert.match(err, /pass --allow-loopback/);
      assert.equal(refused.stdout, '', 'no board was planned or deployed');
      untouched();
    }

    const allowed = await deploy(farm, [...args, '--allow-loopback']);
    assert.equal(allowed.code, 0, describe(allowed));
    assert.match(allowed.stdout, /3 boards: 3 deployed/);
    assert.match(allowed.stdout, /warning: gossip listen 127\.0\.0\.1:7051 is loopback/);
    assert.match(allowed.stdout, /warning: gossip bootstrap 127\.0\.0\.1:7052, 127\.0\.0\.1:7053 is loopback/);
    assert.match(allowed.stdout, /warning: orderer endpoint mqtt:\/\/127\.0\.0\.1:1883 is loopback/);
    const gossipOf = (root: string, board: string): { listen: string } => {
      const json = JSON.parse(readFileSync(join(root, 'opt/edgepeer', currentRelease(root), 'network/orgs/org1/boards', board, 'board.json'), 'utf8')) as { gossip: { listen: string } };
      return json.gossip;
    };
    assert.equal(gossipOf(roots[0]!, 'org1-board1').listen, '127.0.0.1:7051', "init's address is shipped as it is");
    assert.equal(gossipOf(roots[2]!, 'org1-board3').listen, '0.0.0.0:7051');
  } finally {
    await rig.close();
  }
});

test('a real bundle deployed to a fake Pi runs its peer, survives an upgrade with its ledger, and a release that cannot reach the orderer is rolled back', async () => {
  const rig = new TestRig();
  const farm = fakePiFarm(rig.tempDir('edgepeer-deploy-farm-'));
  const host = 'pi-real';
  rig.defer(() => farm.stopService(host));
  try {
    const dir = rig.tempDir('edgepeer-deploy-');
    const root = farm.addBoard(host);
    const bundle = await testBundle((await hostTarget()) as 'linux-x64');
    const net = join(dir, 'net');
    await initNetwork(net, { boardsPerOrg: 1, maxMessageCount: 1 });
    const mqttPort = await freePort();
    const deadPort = await freePort();
    const { ready } = await rig.orderer(['--network', net, '--data', join(dir, 'orderer'), '--mqtt-port', String(mqttPort)]);
    await runCli(['submit', '--network', net, '--mqtt', ready.mqtt, '--count', '20', '--size', '64']);
    const metricsPort = await freePort();
    const inventory = (orderer: string): string => {
      const p = join(dir, `fleet-${orderer.replace(/\W/g, '')}.json`);
      writeFileSync(p, JSON.stringify({ boards: [{ board: 'org1-board1', host, user: 'root', profile: 'emulated', orderers: [orderer], metricsPort }] }));
      return p;
    };
    const args = (inv: string): string[] => [
      '--inventory', inv, '--bundle', bundle, '--network', net, '--remote-root', join(farm.base, 'boards', '{host}'),
      '--health-timeout-ms', '8000', '--health-interval-ms', '250', '--status-interval-ms', '1000',
      // The orderer runs on this machine, which is also the fake Pi: its loopback endpoint is right here.
      '--allow-loopback',
    ];

    const first = await deploy(farm, args(inventory(ready.mqtt)));
    assert.equal(first.code, 0, `${describe(first)}\nservice stderr:\n${readFileSync(join(root, 'service.err'), 'utf8')}`);
    const rel1 = currentRelease(root);
    assert.ok(existsSync(join(root, 'opt/edgepeer', rel1, 'node_modules/lmdb')), 'the release carries its dependencies');
    const peerOut = (): string => readFileSync(join(root, 'service.out'), 'utf8');

    const second = await deploy(farm, args(inventory(ready.mqtt)));
    assert.equal(second.code, 0, describe(second));
    assert.notEqual(currentRelease(root), rel1);
    await runCli(['submit', '--network', net, '--mqtt', ready.mqtt, '--count', '5', '--size', '64']);

    const bad = await deploy(farm, args(inventory(`mqtt://127.0.0.1:${deadPort}`)));
    assert.equal(bad.code, 1, describe(bad));
    assert.match(bad.stdout, /ROLLED BACK to \S+: health failed: not healthy after 8 s: unhealthy: no orderer link is up/);
    assert.doesNotMatch(bad.stdout, /still unhealthy/, 'the restored release is healthy again');
    assert.match(peerOut(), /link=up/);

    await waitForMetric(metricsPort, 'edgepeer_ledger_height', (v) => v === 26, 'at 26');
    await farm.stopService(host);
    const data = join(root, 'var/lib/edgepeer');
    const info = await ledgerInfo(data);
    assert.equal(info.height, 26, 'genesis + 25 blocks, synced across three releases');
    const verified = await ledgerVerify(data);
    assert.equal(verified.ok, true);
  } finally {
    await rig.close();
  }
});
