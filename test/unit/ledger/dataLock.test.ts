// The data-folder lock (src/ledger/dataLock.ts) on real temp folders: the token it keeps (made once,
// private, reused, refused when damaged), what it refuses (a second lock in this process or another, two
// at once, a name held by something that does not answer as a holder), that a dead holder's lock is free
// (SIGKILL and a plain exit, no release), that release frees it, that the lock does not keep a process
// alive, and that a copied folder is a folder of its own. (The CLI's refusal is in test/integration/dataLock.test.ts.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DATA_FOLDER_MODE, DATA_LOCK_TOKEN_FILE, DataFolderInUseError, type DataLock, dataFolderHolder, lockDataFolder,
} from '../../../src/ledger/dataLock.js';
import { withTimeout } from '../../helpers/wait.js';

const DATA_LOCK_MODULE = fileURLToPath(new URL('../../../src/ledger/dataLock.js', import.meta.url));
/** A child that takes the lock, says so, and then stays (holding) or ends by itself (exit). */
const CHILD_SCRIPT = `
  const { lockDataFolder } = await import(process.argv[1]);
  await lockDataFolder(process.argv[2], 'test holder');
  process.stdout.write('locked\\n');
  if (process.argv[3] === 'hold') setInterval(() => undefined, 1000);
  if (process.argv[3] === 'exit') process.exit(0);
`;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-datalock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function locked(t: TestContext, lock: DataLock): DataLock {
  t.after(() => lock.release());
  return lock;
}

interface Child {
  pid: number;
  locked: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

function child(t: TestContext, dir: string, then: 'hold' | 'stay-idle' | 'exit'): Child {
  const c = spawn(process.execPath, ['--input-type=module', '-e', CHILD_SCRIPT, DATA_LOCK_MODULE, dir, then], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
  t.after(async () => {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await exited;
  });
  let out = '';
  const lockedP = new Promise<void>((resolve, reject) => {
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('locked\n')) resolve(); });
    void exited.then((e) => reject(new Error(`child exited (${e.code ?? e.signal}) before taking the lock`)));
  });
  lockedP.catch(() => undefined);
  return { pid: c.pid!, locked: withTimeout(lockedP, 'the child to take the lock'), exited, kill: () => c.kill('SIGKILL') };
}

function refusal(pattern: RegExp, holderPid?: number) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof DataFolderInUseError, String(err));
    assert.match(err.message, pattern);
    if (holderPid !== undefined) assert.equal(err.holder?.pid, holderPid);
    return true;
  };
}

test('the folder is made private with a private token, kept and reused across locks', async (t) => {
  const dir = join(tempDir(t), 'a', 'data');
  assert.equal(await dataFolderHolder(dir), null);
  assert.equal(existsSync(dir), false, 'asking who holds a folder creates nothing');
  const first = await lockDataFolder(dir, 'edgepeer test');
  assert.equal(statSync(dir).mode & 0o777, DATA_FOLDER_MODE);
  const tokenPath = join(dir, DATA_LOCK_TOKEN_FILE);
  assert.equal(statSync(tokenPath).mode & 0o777, 0o600);
  const token = readFileSync(tokenPath, 'utf8');
  assert.match(token, /^[0-9a-f]{32}\n$/);
  await first.release();
  const second = locked(t, await lockDataFolder(dir, 'edgepeer test'));
  assert.equal(readFileSync(tokenPath, 'utf8'), token, 'the token is made once');
  const h = await dataFolderHolder(dir);
  assert.ok(h !== null && h !== 'unknown', String(h));
  assert.equal(h.pid, process.pid);
  assert.equal(h.command, 'edgepeer test');
  assert.ok(Math.abs(Date.parse(h.since) - Date.now()) < 60_000, h.since);
  await second.release();
});

test('a second lock in the same process is refused naming this process; released, the folder can be locked again', async (t) => {
  const dir = tempDir(t);
  const first = await lockDataFolder(dir, 'edgepeer orderer');
  await assert.rejects(lockDataFolder(dir, 'edgepeer peer'),
    refusal(new RegExp(`data folder ${dir} is in use by pid ${process.pid} \\(edgepeer orderer, since `), process.pid));
  await first.release();
  assert.equal(await dataFolderHolder(dir), null);
  locked(t, await lockDataFolder(dir, 'edgepeer peer'));
});

test('two locks taken at once on one folder: exactly one is granted', async (t) => {
  const dir = tempDir(t);
  const results = await Promise.allSettled([lockDataFolder(dir, 'one'), lockDataFolder(dir, 'two'), lockDataFolder(dir, 'three')]);
  const granted = results.filter((r): r is PromiseFulfilledResult<DataLock> => r.status === 'fulfilled');
  for (const g of granted) locked(t, g.value);
  assert.equal(granted.length, 1, results.map((r) => r.status).join(','));
  for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof DataFolderInUseError, String(r.reason));
});

test('another process holding the lock is named; once it is dead (SIGKILL, no release) the lock is free', async (t) => {
  const dir = tempDir(t);
  const holder = child(t, dir, 'hold');
  await holder.locked;
  await assert.rejects(lockDataFolder(dir, 'edgepeer test'), refusal(new RegExp(`in use by pid ${holder.pid} \\(test holder, since `), holder.pid));
  const seen = await dataFolderHolder(dir);
  assert.ok(seen !== null && seen !== 'unknown' && seen.pid === holder.pid && seen.command === 'test holder');
  holder.kill();
  assert.equal((await holder.exited).signal, 'SIGKILL');
  // The dead holder's pid is no obstacle: nothing of it is left to judge.
  assert.equal(await dataFolderHolder(dir), null);
  locked(t, await lockDataFolder(dir, 'edgepeer test'));
});

test('the lock keeps no process alive: a holder with nothing else to do ends, and its lock with it', async (t) => {
  const dir = tempDir(t);
  const idle = child(t, dir, 'stay-idle');
  await idle.locked;
  const e = await withTimeout(idle.exited, 'the idle holder to end by itself');
  assert.deepEqual(e, { code: 0, signal: null });
  locked(t, await lockDataFolder(dir, 'edgepeer test'));
});

test('a holder that exits without release leaves the folder free', async (t) => {
  const dir = tempDir(t);
  const quitter = child(t, dir, 'exit');
  await quitter.locked;
  assert.equal((await quitter.exited).code, 0);
  locked(t, await lockDataFolder(dir, 'edgepeer test'));
});

test('a copied folder (another inode, the same token) has a lock of its own', async (t) => {
  const root = tempDir(t);
  const original = join(root, 'original');
  locked(t, await lockDataFolder(original, 'edgepeer original'));
  const copy = join(root, 'copy');
  cpSync(original, copy, { recursive: true });
  assert.equal(readFileSync(join(copy, DATA_LOCK_TOKEN_FILE), 'utf8'), readFileSync(join(original, DATA_LOCK_TOKEN_FILE), 'utf8'));
  assert.equal(await dataFolderHolder(copy), null);
  locked(t, await lockDataFolder(copy, 'edgepeer copy'));
});

test('a damaged token is refused, not replaced; asking who holds such a folder answers unknown', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, DATA_LOCK_TOKEN_FILE), 'not a token\n');
  await assert.rejects(lockDataFolder(dir, 'edgepeer test'), new RegExp(`${DATA_LOCK_TOKEN_FILE} is damaged \\(not a lock token\\)`));
  assert.equal(readFileSync(join(dir, DATA_LOCK_TOKEN_FILE), 'utf8'), 'not a token\n');
  assert.equal(await dataFolderHolder(dir), 'unknown');
});

test('the lock name held by something that does not answer as a holder: refused without a pid, not taken over', { skip: process.platform !== 'linux' && 'abstract socket names are Linux only' }, async (t) => {
  const dir = tempDir(t);
  // Make the token, then free the lock, and squat its name with a server that answers nonsense.
  await (await lockDataFolder(dir, 'setup')).release();
  const token = readFileSync(join(dir, DATA_LOCK_TOKEN_FILE), 'utf8').trim();
  const st = statSync(dir, { bigint: true });
  const name = `\0edgepeer-data-${createHash('sha256').update(`${token}:${st.dev}:${st.ino}`).digest('hex').slice(0, 40)}`;
  const squatter = createServer((s) => { s.on('error', () => undefined); s.end('hello\n'); });
  await new Promise<void>((resolve, reject) => { squatter.once('error', reject); squatter.listen(name, resolve); });
  t.after(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  await assert.rejects(lockDataFolder(dir, 'edgepeer test'), (err: unknown) => {
    assert.ok(err instanceof DataFolderInUseError);
    assert.equal(err.holder, null);
    assert.match(err.message, new RegExp(`data folder ${dir} is in use by another process; stop it first`));
    return true;
  });
  assert.equal(await dataFolderHolder(dir), 'unknown');
});
