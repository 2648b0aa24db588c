// The board's serial console and `edgepeer console` on it, over a socat PTY pair: a peer process
// writes its status and warnings to one end (`peer --console`), the monitor reads the other end. The
// monitor must show the board's real height (the one the peer prints on stdout), survive the PTY
// going away and coming back, mirror a warning, keep a log file, and draw its panel in a terminal.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseLogLine } from '../../src/observability/consoleLog.js';
import { parseStatusLine } from '../../src/observability/statusReport.js';
import { prepareChain } from '../helpers/preparedChain.js';
import { CLI_PATH, type CliProcess, TestRig, freePort, heightOf, killAllProcesses, waitForStatus } from '../helpers/processes.js';
import { ptyPair, socatMissing, stopAllPtyPairs } from '../helpers/pty.js';
import { TMUX_MISSING, TmuxSession, findTmux } from '../helpers/tmux.js';

const BLOCKS = 300;
const HEIGHT = BLOCKS + 1;
const STATUS_INTERVAL_MS = 200;
const WAIT_MS = 20_000;
/** `HH:MM:SS.mmm ` in front of every line the monitor prints in --plain mode. */
const STAMP = /^\d\d:\d\d:\d\d\.\d{3} /;
const ESC = '\u001b';

after(async () => {
  await killAllProcesses();
  await stopAllPtyPairs();
});

const unstamped = (line: string): string => line.replace(STAMP, '');
const monitorStatus = (line: string): Record<string, string> | null => parseStatusLine(unstamped(line));

async function boardWithConsole(rig: TestRig): Promise<{
  root: string; consoleEnd: string; peer: CliProcess; orderer: CliProcess; restartPair(): Promise<void>; stopPair(): Promise<void>; board: string;
}> {
  const root = rig.tempDir();
  const chain = await prepareChain(root, { blocks: BLOCKS });
  let pair = await ptyPair(root, 'board-console', 'laptop');
  rig.defer(() => pair.stop());
  const mqttPort = await freePort();
  const { proc: orderer } = await rig.orderer(['--network', chain.summary.dir, '--data', chain.ordererData, '--mqtt-port', String(mqttPort)]);
  const board = chain.summary.boards[0]!.id;
  const peer = rig.spawn([
    'peer', '--network', chain.summary.dir, '--board', board, '--data', join(root, 'peer'),
    '--mqtt', `mqtt://127.0.0.1:${mqttPort}`, '--console', `${pair.a}@115200`, '--status-interval-ms', String(STATUS_INTERVAL_MS),
  ], { name: 'peer' });
  return {
    root, consoleEnd: pair.b, peer, orderer, board,
    stopPair: () => pair.stop(),
    restartPair: async () => { pair = await ptyPair(root, 'board-console', 'laptop'); },
  };
}

test('edgepeer console --plain shows the board\'s real height, reconnects when the PTY comes back, mirrors warnings, logs to a file; --hex dumps', async (t) => {
  const missing = await socatMissing();
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const b = await boardWithConsole(rig);
  const logFile = join(b.root, 'console.log');
  const monitor = rig.spawn(['console', b.consoleEnd, '--plain', '--log', logFile], { name: 'console' });

  // The peer's own stdout says where it really is; the monitor must show the same.
  const real = await waitForStatus(b.peer, (s) => heightOf(s) === HEIGHT, `height=${HEIGHT}`, { timeoutMs: WAIT_MS });
  const shown = monitorStatus(await monitor.waitForLine((l) => monitorStatus(l)?.['height'] === String(HEIGHT), `a console status line with height=${HEIGHT}`));
  assert.equal(shown?.['board'], b.board);
  assert.equal(shown?.['hash'], real['hash']);
  assert.match(monitor.lines[0]!, STAMP, 'lines carry a timestamp');

  // The cable is pulled and plugged back in: the monitor says so, reopens, and reads on.
  const beforeLoss = monitor.lineCount;
  await b.stopPair();
  await monitor.waitForLine((l) => /\[console\] .*reopening with backoff/.test(l), 'the monitor noticing the loss', { since: beforeLoss });
  await b.restartPair();
  const reopenedAt = monitor.lineCount;
  await monitor.waitForLine((l) => /\[console\] .* open at 115200 baud/.test(l), 'the monitor reopening the port', { since: reopenedAt });
  await monitor.waitForLine((l) => monitorStatus(l)?.['height'] === String(HEIGHT), 'a status line after the reopen', { since: reopenedAt });

  // A warning of the board reaches its console: the orderer goes away, the board's stream ends.
  const beforeWarning = monitor.lineCount;
  await b.orderer.stop();
  const warning = await monitor.waitForLine((l) => parseLogLine(unstamped(l))?.['level'] === 'warn', 'a warning on the console', { since: beforeWarning });
  assert.match(parseLogLine(unstamped(warning))!['msg']!, /deliver stream ended/);

  await monitor.stop();
  // --hex: the same bytes as a dump; the ASCII columns, joined, spell the board's lines.
  const hex = rig.spawn(['console', b.consoleEnd, '--hex', '--no-timestamps'], { name: 'console --hex' });
  const ascii = (): string => hex.lines.map((l) => /\|(.*)\|$/.exec(l)?.[1] ?? '').join('');
  await hex.waitForLine(() => ascii().includes('edgepeer-status board='), 'a status line in the hex dump');
  assert.match(hex.lines.find((l) => /^[0-9a-f]{8} {2}/.test(l)) ?? '', /^[0-9a-f]{8} {2}([0-9a-f]{2} ){1,8}/);
  await hex.stop();
  await b.peer.stop();
  const logged = readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(logged.length > 0);
  for (const l of logged) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, `log file line: ${l}`);
  assert.ok(logged.some((l) => parseStatusLine(l.replace(/^\S+ /, ''))?.['height'] === String(HEIGHT)), 'the log file holds the status lines');
});

test('edgepeer console draws its panel in a terminal (tmux), without colour under NO_COLOR, and quits on q', async (t) => {
  const missing = (await socatMissing()) ?? ((await findTmux()) === undefined ? TMUX_MISSING : null);
  if (missing !== null) return t.skip(missing);
  const rig = new TestRig();
  t.after(() => rig.close());
  const b = await boardWithConsole(rig);
  await waitForStatus(b.peer, (s) => heightOf(s) === HEIGHT, `height=${HEIGHT}`, { timeoutMs: WAIT_MS });
  const exitFile = join(b.root, 'console.exit');
  const tmux = await TmuxSession.start(`${process.execPath} ${CLI_PATH} console ${b.consoleEnd}; echo "exit=$?" > ${exitFile}`, {
    width: 120, height: 30, env: { NO_COLOR: '1', EDGEPEER_LOG_LEVEL: 'warn' },
  });
  rig.defer(() => tmux.stop());
  const screen = await tmux.waitForScreen((s) => new RegExp(`height\\s+${HEIGHT}\\b`).test(s), `the panel showing height ${HEIGHT}`, WAIT_MS);
  assert.match(screen, /edgepeer console .*laptop @ 115200 · open/);
  assert.match(screen, new RegExp(`board\\s+${b.board}\\b`));
  assert.match(screen, /link\s+up\b/);
  assert.doesNotMatch(await tmux.screen(true), new RegExp(`${ESC}\\[(?:\\d+;)*3[1-7]m`), 'no colour with NO_COLOR set');
  await tmux.sendKeys('q');
  const deadline = Date.now() + WAIT_MS;
  while (await tmux.alive()) {
    if (Date.now() > deadline) assert.fail('the monitor did not quit on q');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(readFileSync(exitFile, 'utf8').trim(), 'exit=0');
  await b.peer.stop();
});
