// "Durable when append returns" (src/ledger/lmdbLedger.ts, docs/operations.md), seen in the system calls:
// a child appends blocks one per transaction, printing `committed <height>` after each append returns,
// under strace. Between one such line and the next, the ledger file's data must be fdatasync'd and then
// its meta page written through the file's O_DSYNC descriptor (LMDB's durable commit), both before the
// line. The orderer hands a block to Deliver only after its append returns (src/orderer/chain.ts), so a
// block leaves the orderer only once it is on the disk. SKIP without strace.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ledgerPath } from '../../src/ledger/lmdbLedger.js';
import { writeChainFile } from '../helpers/crashAppender.js';
import { TestRig } from '../helpers/processes.js';
import { makeTestChannel } from '../helpers/testChannel.js';
import { withTimeout } from '../helpers/wait.js';

const CHANNEL = 'durable';
const APPENDS = 40;
const LEDGER_MODULE = fileURLToPath(new URL('../../src/ledger/lmdbLedger.js', import.meta.url));
const CRASH_APPENDER_MODULE = fileURLToPath(new URL('../helpers/crashAppender.js', import.meta.url));
const CHILD = `
  const { openLedger } = await import(process.argv[1]);
  const { readChainFile } = await import(process.argv[2]);
  const chain = readChainFile(process.argv[4]);
  const ledger = openLedger(process.argv[3], { channel: ${JSON.stringify(CHANNEL)}, hashIndexIdleMs: 3600000 });
  for (let i = 0; i < chain.length; i++) {
    ledger.append(chain, null, i, 1);
    process.stdout.write('committed ' + ledger.height() + '\\n');
  }
  await ledger.close();
`;

const hasStrace = spawnSync('strace', ['-V']).status === 0;

test('ledger durability: every append fdatasyncs the data, then writes the meta page O_DSYNC, before it returns',
  { skip: hasStrace ? false : 'strace is not installed' }, async (t) => {
    const rig = new TestRig();
    t.after(() => rig.close());
    const dir = rig.tempDir();
    const ch = makeTestChannel({ channel: CHANNEL });
    const chainFile = join(dir, 'chain.bin');
    writeChainFile(chainFile, [ch.genesis, ...ch.chain(APPENDS - 1)]);
    const path = ledgerPath(join(dir, 'data'), CHANNEL);
    const trace = join(dir, 'strace.txt');
    const child = spawn('strace', [
      '-f', '-qq', '-o', trace, '-e', 'trace=openat,pwrite64,write,fdatasync,fsync', '-e', 'signal=none',
      process.execPath, '--input-type=module', '-e', CHILD, LEDGER_MODULE, CRASH_APPENDER_MODULE, path, chainFile,
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    rig.defer(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    const code = await withTimeout(new Promise<number | null>((resolve) => child.once('exit', resolve)), 'the traced appender');
    assert.equal(code, 0);

    const dataFds = new Set<string>();
    const metaFds = new Set<string>();
    type Step = 'sync' | 'meta' | 'committed';
    let window: Step[] = [];
    let committed = 0;
    for (const line of readFileSync(trace, 'utf8').split('\n')) {
      const open = /openat\(AT_FDCWD, "([^"]+)", ([A-Z_|]+)[^)]*\) = (\d+)/.exec(line);
      if (open !== null && open[1] === path) {
        (open[2]!.includes('O_DSYNC') ? metaFds : dataFds).add(open[3]!);
        continue;
      }
      const sync = /(?:fdatasync|fsync)\((\d+)\)\s+= 0/.exec(line);
      if (sync !== null && dataFds.has(sync[1]!)) window.push('sync');
      const pw = /pwrite64\((\d+),/.exec(line);
      if (pw !== null && metaFds.has(pw[1]!)) window.push('meta');
      if (/write\(1, "committed \d+/.test(line)) {
        committed++;
        const meta = window.lastIndexOf('meta');
        assert.ok(meta >= 0, `append ${committed}: no meta page was written O_DSYNC before it returned (${window.join(', ') || 'nothing'})`);
        assert.ok(window.slice(0, meta).includes('sync'), `append ${committed}: the meta page was written before the data was synced (${window.join(', ')})`);
        window = [];
      }
    }
    assert.ok(metaFds.size > 0 && dataFds.size > 0, 'the trace shows the ledger file opened for data and for O_DSYNC meta writes');
    assert.equal(committed, APPENDS);
  });
