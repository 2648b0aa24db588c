// Where a Deliver session starts and stops (docs/design.md, "Deliver, step by step", step 5): every start
// type against every stop type at several chain heights, the Newest..Newest special case, and
// stop-before-start refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSeek } from '../../../src/orderer/seekResolution.js';
import {
  MAX_BLOCK_NUMBER, SeekBehavior, type SeekInfo, type SeekPosition, seekNewest, seekNextCommit, seekOldest, seekSpecified,
} from '../../../src/protocol/seek.js';
import { Status } from '../../../src/protocol/status.js';

const HEIGHTS = [1, 2, 5, 100];
const SPECIFIED_NUMBERS = [0, 3, 7, 250];

function seek(start: SeekPosition, stop: SeekPosition): SeekInfo {
  return { start, stop, behavior: SeekBehavior.BLOCK_UNTIL_READY };
}

function name(p: SeekPosition): string {
  switch (p.type) {
    case 0: return 'NEWEST';
    case 1: return 'OLDEST';
    case 2: return `SPECIFIED(${p.number})`;
    case 3: return 'NEXT_COMMIT';
  }
}

// The oracle, written from Fabric's rules rather than from the code under test:
//   start: OLDEST -> 0, NEWEST -> height-1, NEXT_COMMIT -> height, SPECIFIED(n) -> n
//   stop:  OLDEST -> start, NEWEST -> height-1, NEXT_COMMIT -> height, SPECIFIED(n) -> n
function expectedStart(p: SeekPosition, height: number): number {
  if (p.type === 1) return 0;
  if (p.type === 0) return height - 1;
  if (p.type === 3) return height;
  return p.number;
}

function expectedStop(start: SeekPosition, p: SeekPosition, height: number): number {
  if (p.type === 1) return expectedStart(start, height);
  if (p.type === 0) return height - 1;
  if (p.type === 3) return height;
  return p.number;
}

function positions(): SeekPosition[] {
  return [seekOldest(), seekNewest(), seekNextCommit(), ...SPECIFIED_NUMBERS.map(seekSpecified)];
}

test('every start type against every stop type at several heights resolves as Fabric does', () => {
  let ok = 0;
  let refused = 0;
  for (const height of HEIGHTS) {
    for (const start of positions()) {
      for (const stop of positions()) {
        const r = resolveSeek(seek(start, stop), height);
        const s = expectedStart(start, height);
        const e = expectedStop(start, stop, height);
        const label = `${name(start)}..${name(stop)} at height ${height}`;
        if (e < s) {
          assert.equal(r.ok, false, `${label}: stop ${e} < start ${s} must be refused`);
          if (!r.ok) assert.equal(r.status, Status.BAD_REQUEST, label);
          refused++;
        } else {
          assert.deepEqual(r, { ok: true, start: s, stop: e }, label);
          ok++;
        }
      }
    }
  }
  // The matrix must exercise both outcomes, or it proves little.
  assert.ok(ok > 50 && refused > 50, `ok ${ok}, refused ${refused}`);
});

test('hand-worked cases at height 5 (blocks 0..4)', () => {
  const h = 5;
  const cases: [SeekPosition, SeekPosition, number, number][] = [
    [seekOldest(), seekOldest(), 0, 0],
    [seekOldest(), seekNewest(), 0, 4],
    [seekOldest(), seekNextCommit(), 0, 5],
    [seekOldest(), seekSpecified(MAX_BLOCK_NUMBER), 0, MAX_BLOCK_NUMBER],
    [seekNewest(), seekOldest(), 4, 4],
    [seekNewest(), seekNextCommit(), 4, 5],
    [seekNewest(), seekSpecified(9), 4, 9],
    [seekNextCommit(), seekNextCommit(), 5, 5],
    [seekNextCommit(), seekOldest(), 5, 5],
    [seekNextCommit(), seekSpecified(MAX_BLOCK_NUMBER), 5, MAX_BLOCK_NUMBER],
    [seekSpecified(2), seekOldest(), 2, 2],
    [seekSpecified(2), seekNewest(), 2, 4],
    [seekSpecified(2), seekNextCommit(), 2, 5],
    [seekSpecified(2), seekSpecified(3), 2, 3],
    [seekSpecified(9), seekSpecified(9), 9, 9],
  ];
  for (const [start, stop, s, e] of cases) {
    assert.deepEqual(resolveSeek(seek(start, stop), h), { ok: true, start: s, stop: e }, `${name(start)}..${name(stop)}`);
  }
});

test('NEWEST..NEWEST is exactly one block, the newest, at every height', () => {
  for (const height of HEIGHTS) {
    assert.deepEqual(resolveSeek(seek(seekNewest(), seekNewest()), height), { ok: true, start: height - 1, stop: height - 1 });
  }
});

test('a stop before the start is BAD_REQUEST', () => {
  const refusals: [SeekPosition, SeekPosition, number][] = [
    [seekSpecified(5), seekSpecified(4), 10],
    [seekSpecified(7), seekNewest(), 5],
    [seekNextCommit(), seekNewest(), 5],
    [seekNewest(), seekSpecified(3), 10],
    [seekSpecified(6), seekNextCommit(), 5],
  ];
  for (const [start, stop, height] of refusals) {
    const r = resolveSeek(seek(start, stop), height);
    assert.equal(r.ok, false, `${name(start)}..${name(stop)} at ${height}`);
    if (!r.ok) {
      assert.equal(r.status, Status.BAD_REQUEST);
      assert.match(r.reason, /before start/);
    }
  }
});

test('the behaviour and window do not change where a seek starts and stops', () => {
  const a = resolveSeek({ start: seekOldest(), stop: seekNewest(), behavior: SeekBehavior.FAIL_IF_NOT_READY, window: 1 }, 8);
  const b = resolveSeek({ start: seekOldest(), stop: seekNewest(), behavior: SeekBehavior.BLOCK_UNTIL_READY }, 8);
  assert.deepEqual(a, b);
});
