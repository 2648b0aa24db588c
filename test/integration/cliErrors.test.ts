// Error messages that name the operator's mistake, not the internals it hit: each of these once printed
// a Node error code, a library's option name or a misleading reason (issue 14). Real processes, real files.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type NetworkSummary } from '../../src/network/createNetwork.js';
import { initNetwork, killAllProcesses, spawnCli } from '../helpers/processes.js';

const root = mkdtempSync(join(tmpdir(), 'edgepeer-cli-errors-'));
after(async () => {
  await killAllProcesses();
  rmSync(root, { recursive: true, force: true });
});
let network: Promise<NetworkSummary> | undefined;
const net = (): Promise<NetworkSummary> => (network ??= initNetwork(join(root, 'net'), { boardsPerOrg: 1 }));

async function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawnCli(args, { name: args[0]! });
  const e = await p.exited;
  return { code: e.code, out: p.lines.join('\n'), err: p.stderr };
}

test('--mqtt-port 99999 names the flag and refuses before the data folder is made', async () => {
  await net();
  const data = join(root, 'orderer-data');
  const r = await run(['orderer', '--network', join(root, 'net'), '--data', data, '--mqtt-port', '99999']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--mqtt-port <port>.*'99999' is not a port \(a whole number from 0 to 65535\)/);
  assert.doesNotMatch(r.err, /options\.port/);
  assert.equal(existsSync(data), false, 'nothing was made');
});

test('peer --data FILE says the path is a file, not EEXIST', async () => {
  const s = await net();
  const file = join(root, 'README.md');
  writeFileSync(file, 'not a folder\n');
  const r = await run(['peer', '--network', join(root, 'net'), '--board', s.boards[0]!.id, '--data', file]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /--data .*README\.md: is a file, not a data folder/);
  assert.doesNotMatch(r.err, /EEXIST/);
});

test('ledger verify --data FILE (or a missing folder) says so, not ENOTDIR', async () => {
  const file = join(root, 'a-file');
  writeFileSync(file, 'x');
  const r = await run(['ledger', 'verify', '--data', file]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /--data .*a-file: is a file, not a data folder/);
  assert.doesNotMatch(r.err, /ENOTDIR|scandir/);
  const missing = await run(['ledger', 'info', '--data', join(root, 'nowhere')]);
  assert.match(missing.err, /no ledger in .*nowhere: --data names no such folder/);
});

test('boards check NAME takes a profile name as `boards` lists it', async () => {
  const r = await run(['boards', 'check', 'raspberry-pi-5']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /raspberry-pi-5/);
  const unknown = await run(['boards', 'check', 'no-such-board']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /no board profile 'no-such-board' in .* \(profiles: .*raspberry-pi-5/);
});

test("health pointed at an orderer's metrics says it is an orderer, not that no link is up", async () => {
  await net();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const orderer = spawnCli(['orderer', '--network', join(root, 'net'), '--data', join(root, 'orderer-health'), '--mqtt-port', '0', '--metrics-port', String(port)], { name: 'orderer' });
  try {
    // The orderer says where its metrics are once it serves them.
    let r = await run(['health', '--metrics-port', String(port)]);
    for (let i = 0; i < 100 && /no answer/.test(r.out); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await run(['health', '--metrics-port', String(port)]);
    }
    assert.equal(r.code, 1);
    assert.match(r.out, /unhealthy: these are an orderer's metrics \(edgepeer_deliver_streams_open\), not a board peer's/);
  } finally {
    await orderer.stop();
  }
});

test('a demo that cannot start names the folder it leaves behind', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  try {
    const port = (busy.address() as AddressInfo).port;
    const r = await run(['demo', '--mqtt-port', String(port), '--duration-s', '1', '--plain']);
    assert.notEqual(r.code, 0);
    const m = /the demo's files \(its log: (\S+)\) are left in (\S+)/.exec(r.err);
    assert.ok(m !== null, `the folder is named:\n${r.err}`);
    assert.ok(existsSync(m[2]!), `${m[2]} exists`);
    rmSync(m[2]!, { recursive: true, force: true });
  } finally {
    await new Promise<void>((resolve) => busy.close(() => resolve()));
  }
});
