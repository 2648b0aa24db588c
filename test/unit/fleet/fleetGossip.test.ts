// The demo with gossip: each board's role and where its blocks came from, read from its JSON status line,
// and per org who leads, in the live view and in plain mode; free loopback ports for the gossip listeners.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseStatusJson } from '../../../src/fleet/boardStatus.js';
import { DemoOptionsError, prepareDemoNetwork } from '../../../src/fleet/demoNetwork.js';
import { loadBoard } from '../../../src/network/loadNetwork.js';
import { type BoardRow, type DemoSnapshot, orgRows } from '../../../src/fleet/demoSnapshot.js';
import { GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE, GOSSIP_PORT_RANGE_LOW, findFreePortRange } from '../../../src/fleet/freePorts.js';
import { parseLogfmtLine } from '../../../src/observability/logfmt.js';
import { lineText, renderFrame } from '../../../src/fleet/liveView.js';
import { DEMO_ORG_PREFIX, formatBoardLine, formatPlainReport } from '../../../src/fleet/plainReport.js';
import { STATUS_LINE_PREFIX, type StatusReport } from '../../../src/observability/statusReport.js';

const REPORT: StatusReport = {
  board: 'org1-board2', channel: 'demo', height: 3533, lastHash: 'ab'.repeat(32), link: 'up', endpoint: 'mqtt://127.0.0.1:1883',
  deliver: 'idle', committed: 3532, rejected: 0, error: null, sync: 'in-sync', role: 'follower', blocksPerSec: 40, uptimeSec: 90, leds: null,
  from: { orderer: 120, push: 3400, pull: 12, catchup: 0 },
};

function row(id: string, org: string, role: BoardRow['role'], state: BoardRow['state'] = 'running'): BoardRow {
  return {
    id, org, pid: 42, state, role, from: { orderer: role === 'leader' ? 3532 : 0, push: role === 'leader' ? 0 : 3520, pull: 12, catchup: 0 },
    height: 3533, lag: 0, link: 'up', deliver: role === 'leader' ? 'streaming' : 'idle', blocksPerSec: 40, rejected: 0, error: null, leds: null,
    exitCode: null, exitSignal: null,
  };
}

function snapshot(boards: BoardRow[], gossip = true): DemoSnapshot {
  return {
    channel: 'demo', brokerUrl: 'mqtt://127.0.0.1:1883', dir: '/tmp/demo', targetTxPerSec: 50, txSizeBytes: 256, gossip, atMs: 0,
    uptimeMs: 3_000, ordererHeight: 3533, txPerSec: 50, blocksPerSec: 40,
    load: { submitted: 0, accepted: 0, failed: 0, inFlight: 0, skipped: 0 }, boards, orgs: orgRows(boards),
  };
}

test("a board's JSON status carries its block sources; a report without them, or with a bad count, is not trusted", () => {
  assert.deepEqual(parseStatusJson(JSON.stringify(REPORT))?.from, REPORT.from);
  const { from: _from, ...without } = REPORT;
  assert.equal(parseStatusJson(JSON.stringify(without)), null);
  assert.equal(parseStatusJson(JSON.stringify({ ...REPORT, from: { ...REPORT.from, push: -1 } })), null);
  assert.equal(parseStatusJson(JSON.stringify({ ...REPORT, from: { orderer: 1, push: 2, pull: 3 } })), null);
});

test('per org: the running boards that report leading it; a dead or silent board leads nothing; a stopping one still counts', () => {
  const rows = [row('org1-board1', 'org1', 'leader'), row('org2-board1', 'org2', 'leader'), row('org1-board2', 'org1', 'follower'),
    row('org2-board2', 'org2', 'leader'), row('org1-board3', 'org1', 'leader', 'dead'), row('org1-board4', 'org1', 'leader', 'silent')];
  assert.deepEqual(orgRows(rows), [
    { org: 'org1', leaders: ['org1-board1'], boards: 4 },
    { org: 'org2', leaders: ['org2-board1', 'org2-board2'], boards: 2 },
  ]);
  assert.deepEqual(orgRows([row('org1-board1', 'org1', 'leader', 'stopping')])[0]!.leaders, ['org1-board1'], "the view's last frame, drawn while stopping");
});

test('the live view shows org, role and sources per board, and who leads each org (several leaders as a problem)', () => {
  const rows = [row('org1-board1', 'org1', 'leader'), row('org1-board2', 'org1', 'follower'), row('org2-board1', 'org2', null)];
  const lines = renderFrame(snapshot(rows), 30).map((l) => lineText(l, 200, false));
  const title = lines.find((l) => l.includes('HEIGHT'))!;
  assert.ok(title.indexOf('BOARD') < title.indexOf('ORG') && title.indexOf('ORG') < title.indexOf('ROLE'), title);
  assert.ok(title.includes('FROM'), title);
  const follower = lines.find((l) => l.startsWith('org1-board2'))!;
  assert.match(follower, /org1\s+follower/);
  assert.ok(follower.includes('o 0 p 3520 l 12 c 0'), follower);
  assert.match(lines.find((l) => l.startsWith('org2-board1'))!, /org2\s+-\s/, 'no role before the board has reported');
  const leaders = lines.find((l) => l.startsWith('leaders'))!;
  assert.ok(leaders.includes('org1 org1-board1') && leaders.includes('org2 electing'), leaders);
  const two = renderFrame(snapshot([row('a', 'org1', 'leader'), row('b', 'org1', 'leader')]), 30).map((l) => lineText(l, 200, false));
  assert.ok(two.some((l) => l.includes('org1 2 leaders: a, b')), two.join('\n'));
  // A follower's link is down by design (no orderer stream): not painted as a fault, as a leader's would be.
  const down = (role: BoardRow['role']): string | undefined => renderFrame(snapshot([{ ...row('a', 'org1', role), link: 'down' }]), 30)
    .find((l) => l[0]?.[0].trim() === 'a')!.find(([text]) => text.trim() === 'down')?.[1];
  assert.equal(down('follower'), 'dim');
  assert.equal(down('leader'), 'red');
  const off = renderFrame(snapshot([row('a', 'org1', 'leader')], false), 30).map((l) => lineText(l, 200, false));
  assert.ok(off.some((l) => l.startsWith('gossip') && l.includes('off')), off.join('\n'));
});

test('plain mode prints the same: org, role and from on board lines, and one line per org with its leader', () => {
  const rows = [row('org1-board1', 'org1', 'leader'), row('org1-board2', 'org1', 'follower'), row('org2-board1', 'org2', 'follower')];
  const lines = formatPlainReport(snapshot(rows));
  const orgs = lines.map((l) => parseLogfmtLine(DEMO_ORG_PREFIX, l)).filter((f) => f !== null);
  assert.deepEqual(orgs, [
    { org: 'org1', gossip: 'true', leader: 'org1-board1', leaders: '1', boards: '2' },
    { org: 'org2', gossip: 'true', leader: '-', leaders: '0', boards: '1' },
  ]);
  const b = parseLogfmtLine(STATUS_LINE_PREFIX, formatBoardLine(rows[1]!, 'demo'))!;
  assert.equal(b['org'], 'org1');
  assert.equal(b['role'], 'follower');
  assert.equal(b['from'], 'orderer:0,push:3520,pull:12,catchup:0');
  assert.equal(parseLogfmtLine(STATUS_LINE_PREFIX, formatBoardLine({ ...rows[1]!, from: null, role: null }, 'demo'))!['from'], '-');
});

test('free port range: consecutive ports that can be bound; a base whose range has a taken port is passed over', async () => {
  const count = 4;
  const span = GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE - GOSSIP_PORT_RANGE_LOW - count;
  const drawFor = (base: number): number => (base - GOSSIP_PORT_RANGE_LOW + 0.5) / span;
  const free = await findFreePortRange('127.0.0.1', count);
  assert.ok(free >= GOSSIP_PORT_RANGE_LOW && free + count <= GOSSIP_PORT_RANGE_HIGH_EXCLUSIVE);
  const blocker = createServer();
  await new Promise<void>((resolve, reject) => { blocker.once('error', reject); blocker.listen({ host: '127.0.0.1', port: free + 2 }, resolve); });
  try {
    const draws = [drawFor(free), 0.75];
    const base = await findFreePortRange('127.0.0.1', count, () => draws.shift() ?? Math.random());
    assert.notEqual(base, free, 'the range holding the taken port is not offered');
    assert.ok(base > free + 2 || base + count - 1 < free + 2);
    for (let k = 0; k < count; k++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => { s.once('error', reject); s.listen({ host: '127.0.0.1', port: base + k }, resolve); });
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  } finally {
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
  }
});

test("the demo's network gossips on consecutive free loopback ports; a reused folder keeps its mode and refuses the other", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-fleet-gossip-'));
  try {
    const base = { boards: 3, orgs: 2, channel: 'demo', mqttUrl: 'mqtt://127.0.0.1:1883' };
    const gossipDir = join(dir, 'gossip');
    const net = await prepareDemoNetwork({ ...base, networkDir: gossipDir, gossip: true });
    assert.deepEqual(net.boards.map((b) => b.id), ['org1-board1', 'org2-board1', 'org1-board2']);
    const listens = net.boards.map((b) => loadBoard(gossipDir, b.id).config.gossip?.listen);
    assert.ok(listens.every((l) => l !== undefined && /^127\.0\.0\.1:\d+$/.test(l)), listens.join(' '));
    const ports = listens.map((l) => Number(l!.split(':')[1]));
    assert.equal(new Set(ports).size, ports.length, 'one port per board');
    assert.ok(loadBoard(gossipDir, 'org1-board1').config.gossip!.bootstrap.includes(listens[1]!), 'a board bootstraps from the others');
    assert.equal((await prepareDemoNetwork({ ...base, networkDir: gossipDir, gossip: true })).created, false);
    await assert.rejects(prepareDemoNetwork({ ...base, networkDir: gossipDir, gossip: false }), (e) => e instanceof DemoOptionsError && /made with gossip/.test(e.message));

    const plainDir = join(dir, 'plain');
    await prepareDemoNetwork({ ...base, networkDir: plainDir, gossip: false });
    assert.equal(loadBoard(plainDir, 'org1-board1').config.gossip, undefined);
    await assert.rejects(prepareDemoNetwork({ ...base, networkDir: plainDir, gossip: true }), (e) => e instanceof DemoOptionsError && /made without gossip/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
