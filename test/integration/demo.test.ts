// `edgepeer demo` as a user runs it: a child process with real board processes, an embedded broker and
// LMDB ledgers in a temp folder. Stopped by SIGTERM, or by --duration-s.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseLogfmtLine } from '../../src/observability/logfmt.js';
import { SUMMARY_DIR_PREFIX } from '../../src/fleet/demoSummary.js';
import { DEMO_BOARD_PREFIX, DEMO_ORG_PREFIX } from '../../src/fleet/plainReport.js';
import { STATUS_LINE_PREFIX, parseBlockSources } from '../../src/observability/statusReport.js';
import { withTimeout } from '../helpers/wait.js';

const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** Startup (network, broker, 4 node processes) plus the first blocks, on a 2-core machine under load. */
const BOARDS_SYNCED_TIMEOUT_MS = 45_000;
/** SIGTERM to exit: load drain, the last block reaching the boards, boards, orderer, broker. */
const STOP_TIMEOUT_MS = 8_000;
const MIN_HEIGHT = 5;
/** Lag is measured when a status line arrives; a block cut a moment earlier may still be on its way. */
const MAX_LAG_BLOCKS = 2;
/** Boards of the main test: two orgs of two, so each org has a leader and a follower. */
const FLEET_BOARDS = 4;

type Fields = Record<string, string>;

interface RunningDemo {
  child: ChildProcess;
  dir: string;
  lines: string[];
  /** Resolves with the first line for which `match` returns a value. */
  waitFor<T>(what: string, match: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startDemo(dir: string, args: string[]): RunningDemo {
  const child = spawn(process.execPath, [CLI_PATH, 'demo', '--plain', '--dir', dir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const watchers = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...watchers]) w(line);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    dir,
    lines,
    exited,
    waitFor<T>(what: string, match: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const done = (): void => {
          watchers.delete(watcher);
          clearTimeout(timer);
        };
        const watcher = (line: string): void => {
          const v = match(line);
          if (v !== undefined) {
            done();
            resolve(v);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${what}; last output:\n${lines.slice(-12).join('\n')}\nstderr:\n${stderr}`));
        }, timeoutMs);
        void exited.then(({ code, signal }) => {
          if (!watchers.has(watcher)) return;
          done();
          reject(new Error(`demo exited (code ${code}, signal ${signal}) before ${what}; stderr:\n${stderr}`));
        });
        watchers.add(watcher);
      });
    },
  };
}

function boardPids(lines: readonly string[]): Map<string, number> {
  const pids = new Map<string, number>();
  for (const line of lines) {
    const f = parseLogfmtLine(DEMO_BOARD_PREFIX, line);
    if (f?.['board'] !== undefined) pids.set(f['board'], Number(f['pid']));
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Whatever a failed test left running is stopped by PID; the temp folder is removed. */
async function cleanUp(demo: RunningDemo | undefined, dir: string): Promise<void> {
  if (demo) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      demo.child.kill('SIGKILL');
      await demo.exited;
    }
    for (const pid of boardPids(demo.lines).values()) if (Number.isSafeInteger(pid) && isRunning(pid)) process.kill(pid, 'SIGKILL');
    // The boards' console PTYs (socat), when the demo made them.
    for (const line of demo.lines) {
      const pid = Number(parseLogfmtLine(DEMO_BOARD_PREFIX, line)?.['console_pid']);
      if (Number.isSafeInteger(pid) && pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  }
  await rm(dir, { recursive: true, force: true });
}

/** The summary names every location, every board ended when asked, and no board process is left. */
function assertStoppedCleanly(demo: RunningDemo, boards: readonly string[]): void {
  const out = demo.lines.join('\n');
  assert.ok(out.includes(`${SUMMARY_DIR_PREFIX}${demo.dir}`), `the data location is printed:\n${out.slice(-2000)}`);
  for (const id of boards) {
    assert.ok(out.includes(join(demo.dir, 'boards', id)), `board ${id}'s data dir is printed`);
    assert.ok(out.includes(join(demo.dir, 'logs', `${id}.log`)), `board ${id}'s log is printed`);
    assert.match(out, new RegExp(`${id}\\s+data \\S+\\s+\\(height \\d+, stopped\\)`), `${id} is reported stopped`);
  }
  const pids = boardPids(demo.lines);
  assert.equal(pids.size, boards.length);
  for (const [id, pid] of pids) assert.equal(isRunning(pid), false, `board ${id} (pid ${pid}) is no longer running`);
}

/** One plain report (the orderer line, then a line per org, then a line per board): its org and board lines. */
interface Report { orgs: Fields[]; boards: Fields[] }

/** Collects whole reports (an orderer line starts one) and resolves with the first that `settled` accepts. */
function waitForReport(d: RunningDemo, what: string, settled: (r: Report) => boolean, timeoutMs: number): Promise<Report> {
  let current: Report | null = null;
  return d.waitFor(what, (line) => {
    if (line.startsWith('edgepeer-demo-orderer ')) {
      const done = current;
      current = { orgs: [], boards: [] };
      return done !== null && settled(done) ? done : undefined;
    }
    const org = parseLogfmtLine(DEMO_ORG_PREFIX, line);
    if (org !== null) current?.orgs.push(org);
    const board = parseLogfmtLine(STATUS_LINE_PREFIX, line);
    if (board?.['board'] !== undefined) current?.boards.push(board);
    return undefined;
  }, timeoutMs);
}

const synced = (b: Fields): boolean => Number(b['height']) > MIN_HEIGHT && Number(b['lag']) <= MAX_LAG_BLOCKS && b['state'] === 'running';

test('demo: four boards in two orgs gossip under load: one leader per org pulls, the followers get their blocks by gossip; SIGTERM stops everything and exits 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-demo-test-'));
  let demo: RunningDemo | undefined;
  try {
    demo = startDemo(dir, ['--boards', String(FLEET_BOARDS), '--duration-s', '0', '--tx-per-sec', '100']);
    const d = demo;
    // Settled: every board synced, exactly one leader per org and streaming, and every follower has taken
    // gossiped blocks. A report can catch a leader between its election and its stream (deliver=connecting,
    // its height already synced by gossip): that report is not the settled one.
    const report = await waitForReport(d, '4 boards synced, one streaming leader per org, followers fed by gossip', (r) => r.boards.length === FLEET_BOARDS
      && r.boards.every(synced) && r.orgs.length === 2 && r.orgs.every((o) => o['leaders'] === '1')
      && r.boards.filter((b) => b['role'] === 'leader').every((b) => b['deliver'] === 'streaming')
      && r.boards.filter((b) => b['role'] === 'follower').every((b) => {
        const f = parseBlockSources(b['from'] ?? '');
        return f !== null && f.push + f.pull + f.catchup > 0;
      }), BOARDS_SYNCED_TIMEOUT_MS);
    const boards = report.boards.map((b) => b['board']!);
    assert.deepEqual([...boardPids(d.lines).keys()].sort(), [...boards].sort(), 'every board PID was printed at start');
    for (const org of ['org1', 'org2']) {
      const members = report.boards.filter((b) => b['org'] === org);
      assert.equal(members.length, 2, `two boards in ${org}`);
      const leaders = members.filter((b) => b['role'] === 'leader');
      assert.equal(leaders.length, 1, `exactly one leader in ${org}: ${members.map((b) => `${b['board']}=${b['role']}`).join(' ')}`);
      assert.equal(report.orgs.find((o) => o['org'] === org)?.['leader'], leaders[0]!['board'], 'the org line names the same leader');
      assert.match(leaders[0]!['leds'] ?? '', /^..1.:/, 'its leader LED is on');
      const follower = members.find((b) => b['role'] === 'follower')!;
      assert.notEqual(follower['deliver'], 'streaming', 'a follower has no Deliver stream');
      assert.match(follower['leds'] ?? '', /^..0.:/, "a follower's leader LED is off");
      for (const b of members) assert.ok(parseBlockSources(b['from'] ?? '') !== null, `${b['board']} shows where its blocks came from: ${b['from']}`);
    }

    d.child.kill('SIGTERM');
    const { code, signal } = await withTimeout(d.exited, 'stopping after SIGTERM', STOP_TIMEOUT_MS);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assertStoppedCleanly(d, boards);
  } finally {
    await cleanUp(demo, dir);
  }
});

test('demo: --no-gossip keeps the old behaviour: every board leads itself and takes every block from the orderer', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-demo-test-'));
  let demo: RunningDemo | undefined;
  try {
    demo = startDemo(dir, ['--boards', '2', '--orgs', '1', '--no-gossip', '--duration-s', '0', '--tx-per-sec', '50']);
    const d = demo;
    const report = await waitForReport(d, '2 boards synced', (r) => r.boards.length === 2 && r.boards.every(synced), BOARDS_SYNCED_TIMEOUT_MS);
    assert.deepEqual(report.orgs, [{ org: 'org1', gossip: 'false', leader: '-', leaders: '2', boards: '2' }]);
    for (const b of report.boards) {
      assert.equal(b['role'], 'leader');
      assert.equal(b['deliver'], 'streaming');
      const f = parseBlockSources(b['from'] ?? '');
      assert.ok(f !== null && f.orderer > 0 && f.push + f.pull + f.catchup === 0, `${b['board']} from ${b['from']}`);
    }
    d.child.kill('SIGTERM');
    const { code } = await withTimeout(d.exited, 'stopping after SIGTERM', STOP_TIMEOUT_MS);
    assert.equal(code, 0);
    assertStoppedCleanly(d, ['org1-board1', 'org1-board2']);
  } finally {
    await cleanUp(demo, dir);
  }
});

test('demo: --duration-s 3 ends by itself with every board stopped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-demo-test-'));
  let demo: RunningDemo | undefined;
  try {
    const started = Date.now();
    demo = startDemo(dir, ['--boards', '2', '--duration-s', '3', '--tx-per-sec', '50']);
    const { code, signal } = await withTimeout(demo.exited, 'a 3 s demo', BOARDS_SYNCED_TIMEOUT_MS);
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(Date.now() - started >= 3_000, 'it ran for the duration');
    assertStoppedCleanly(demo, ['org1-board1', 'org2-board1']);
  } finally {
    await cleanUp(demo, dir);
  }
});

test('demo: a board that dies is shown as dead and the demo carries on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgepeer-demo-test-'));
  let demo: RunningDemo | undefined;
  try {
    demo = startDemo(dir, ['--boards', '2', '--duration-s', '0', '--tx-per-sec', '50']);
    const d = demo;
    await d.waitFor('org1-board1 running', (line) => {
      const f = parseLogfmtLine(STATUS_LINE_PREFIX, line);
      return f?.['board'] === 'org1-board1' && f['state'] === 'running' ? true : undefined;
    }, BOARDS_SYNCED_TIMEOUT_MS);
    const victim = boardPids(d.lines).get('org1-board1');
    assert.ok(victim !== undefined);
    process.kill(victim, 'SIGKILL');
    await d.waitFor('org1-board1 shown dead', (line) => {
      const f = parseLogfmtLine(STATUS_LINE_PREFIX, line);
      return f?.['board'] === 'org1-board1' && f['state'] === 'dead' && f['exit'] === 'SIGKILL' ? true : undefined;
    }, STOP_TIMEOUT_MS);
    // The other board goes on following the orderer after the death.
    const heightAfter = await d.waitFor('org2-board1 still running', (line) => {
      const f = parseLogfmtLine(STATUS_LINE_PREFIX, line);
      return f?.['board'] === 'org2-board1' && f['state'] === 'running' ? Number(f['height']) : undefined;
    }, STOP_TIMEOUT_MS);
    await d.waitFor('org2-board1 committing further', (line) => {
      const f = parseLogfmtLine(STATUS_LINE_PREFIX, line);
      return f?.['board'] === 'org2-board1' && Number(f['height']) > heightAfter ? true : undefined;
    }, STOP_TIMEOUT_MS);

    d.child.kill('SIGTERM');
    const { code } = await withTimeout(d.exited, 'stopping after SIGTERM', STOP_TIMEOUT_MS);
    assert.equal(code, 0);
    const out = d.lines.join('\n');
    assert.match(out, /org1-board1\s+data \S+\s+\(height \d+, died \(SIGKILL\)\)/);
    assert.match(out, /org2-board1\s+data \S+\s+\(height \d+, stopped\)/);
    const board2 = boardPids(d.lines).get('org2-board1');
    assert.ok(board2 !== undefined && !isRunning(board2));
  } finally {
    await cleanUp(demo, dir);
  }
});
