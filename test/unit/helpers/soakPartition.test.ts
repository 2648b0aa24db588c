// The soak's partition judgement (test/helpers/soak.ts, deliverOverlaps and partitionHealed): two Deliver
// streams in the cut-off board's org are excused only as the partition's heal, in order: after the cut,
// ended by a board that, since the restore, only logged that it follows another board. No grace period:
// a heal that takes long on a loaded machine is still a heal, and an overlap soon after the restore that
// is not one is still a violation. Checked on made-up orderer and board logs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliverLogEvent } from '../../helpers/gossipFleet.js';
import { type LeaderRecord, type Partition, deliverOverlaps, leaderRecords } from '../../helpers/soak.js';

const LEADER = 'org2-board1';
const CUT_OFF = 'org2-board2';
const CUT_MS = 1_000;
const RESTORED_MS = 5_000;
const PARTITION: Partition = { board: CUT_OFF, org: 'org2', fromMs: CUT_MS, restoredMs: RESTORED_MS };
/** The cut makes the cut-off board's streams stale, as the soak records it. */
const STALE = [{ board: CUT_OFF, atMs: CUT_MS }];

/** An orderer log from [kind, requester, org, session, time] rows, in order. */
function orderer(rows: readonly (readonly [DeliverLogEvent['kind'], string, string, string, number])[]): DeliverLogEvent[] {
  return rows.map(([kind, requester, org, session, time], index) => ({ kind, requester, org, session, start: 0, blocksSent: 0, index, time }));
}
const follows = (board: string, leader: string, atMs: number): LeaderRecord => ({ board, leader, atMs });
/** Cut off, the board saw the others dead and led by itself. */
const LED_ALONE = follows(CUT_OFF, CUT_OFF, CUT_MS + 1_500);

/** The org's leader streams throughout; the cut-off board streams again after the restore, from `openMs` to `endMs`. */
const healLog = (openMs: number, endMs: number, endedBy = CUT_OFF): DeliverLogEvent[] => orderer([
  ['opened', LEADER, 'org2', 'a', 0],
  ['opened', CUT_OFF, 'org2', 'b', openMs],
  ['ended', endedBy, 'org2', endedBy === CUT_OFF ? 'b' : 'a', endMs],
]);
const judge = (events: DeliverLogEvent[], elections: LeaderRecord[], partitions: Partition[] = [PARTITION]) =>
  deliverOverlaps(events, 0, STALE, partitions, elections);

test('the heal of a partition: the cut-off board streams beside the leader until it follows it, and that overlap is excused', () => {
  const overlaps = judge(healLog(RESTORED_MS + 100, RESTORED_MS + 400), [LED_ALONE, follows(CUT_OFF, LEADER, RESTORED_MS + 390)]);
  assert.equal(overlaps.length, 1);
  assert.deepEqual({ ...overlaps[0]!, requesters: [...overlaps[0]!.requesters].sort() }, {
    org: 'org2', fromMs: RESTORED_MS + 100, toMs: RESTORED_MS + 400, streams: 2, requesters: [LEADER, CUT_OFF], endedBy: CUT_OFF, duringPartition: true,
  });
  // The other way round: the leader yields to the board that was cut off and ends its own stream.
  const [other] = judge(healLog(RESTORED_MS + 100, RESTORED_MS + 400, LEADER), [LED_ALONE, follows(LEADER, CUT_OFF, RESTORED_MS + 390)]);
  assert.equal(other!.endedBy, LEADER);
  assert.equal(other!.duringPartition, true);
});

test('a heal is judged by its order, not its time: one that takes a minute after the restore is still excused', () => {
  const slowMs = 60_000;
  const [o] = judge(healLog(RESTORED_MS + slowMs - 500, RESTORED_MS + slowMs), [LED_ALONE, follows(CUT_OFF, LEADER, RESTORED_MS + slowMs - 10)]);
  assert.equal(o!.duringPartition, true);
});

test('an overlap soon after the restore that is not the heal, in order, is a violation', () => {
  const open = RESTORED_MS + 100;
  const end = RESTORED_MS + 400;
  const refused = (why: string, events: DeliverLogEvent[], elections: LeaderRecord[], partitions?: Partition[]): void => {
    const overlaps = judge(events, elections, partitions);
    assert.ok(overlaps.length > 0, why);
    assert.equal(overlaps.some((o) => o.duringPartition), false, why);
  };
  refused('the board that ended it never logged following anyone', healLog(open, end), [LED_ALONE]);
  refused('its only record that it follows the leader is from before the restore',
    healLog(open, end), [follows(CUT_OFF, LEADER, RESTORED_MS - 100)]);
  refused('it elected itself again after the restore before it followed the leader',
    healLog(open, end), [LED_ALONE, follows(CUT_OFF, CUT_OFF, open), follows(CUT_OFF, LEADER, end - 10)]);
  refused('it followed the leader only after its stream had ended (something else ended it)',
    healLog(open, end), [LED_ALONE, follows(CUT_OFF, LEADER, end + 1)]);
  refused('the leader\'s stream ended (a crash) and the leader logged nothing', healLog(open, end, LEADER), [LED_ALONE]);
  refused('still open when the log ends', orderer([['opened', LEADER, 'org2', 'a', 0], ['opened', CUT_OFF, 'org2', 'b', open]]),
    [LED_ALONE, follows(CUT_OFF, LEADER, end)]);
  refused('no partition at all', healLog(open, end), [LED_ALONE, follows(CUT_OFF, LEADER, end - 10)], []);
  // Two streams in org1 during org2's partition: a partition says nothing about the other orgs.
  refused('another org', orderer([
    ['opened', 'org1-board1', 'org1', 'c', 0], ['opened', 'org1-board2', 'org1', 'd', open], ['ended', 'org1-board2', 'org1', 'd', end],
  ]), [follows('org1-board2', 'org1-board1', end - 10)]);
  // Two other boards of the cut-off board's org: not its heal.
  refused('the cut-off board is not one of the streams', orderer([
    ['opened', LEADER, 'org2', 'a', 0], ['opened', 'org2-board3', 'org2', 'e', open], ['ended', 'org2-board3', 'org2', 'e', end],
  ]), [follows('org2-board3', LEADER, end - 10)]);
  refused('the overlap began before the cut', orderer([
    ['opened', LEADER, 'org2', 'a', 0], ['opened', CUT_OFF, 'org2', 'b', CUT_MS - 10], ['ended', CUT_OFF, 'org2', 'b', end],
  ]), [follows(CUT_OFF, LEADER, end - 10)], [{ ...PARTITION }]);
});

test('a partition excuses one overlap, its heal: a second one after it, even in order, is a violation', () => {
  const events = orderer([
    ['opened', LEADER, 'org2', 'a', 0],
    ['opened', CUT_OFF, 'org2', 'b', RESTORED_MS + 100], ['ended', CUT_OFF, 'org2', 'b', RESTORED_MS + 400],
    ['opened', CUT_OFF, 'org2', 'c', RESTORED_MS + 5_000], ['ended', CUT_OFF, 'org2', 'c', RESTORED_MS + 5_300],
  ]);
  const overlaps = judge(events, [LED_ALONE, follows(CUT_OFF, LEADER, RESTORED_MS + 390), follows(CUT_OFF, LEADER, RESTORED_MS + 5_290)]);
  assert.deepEqual(overlaps.map((o) => o.duringPartition), [true, false]);
});

test('leaderRecords reads the board\'s election records, in its order, and nothing else', () => {
  assert.deepEqual(leaderRecords(CUT_OFF, [
    { msg: 'gossip member dead', member: `org2/${LEADER}`, time: 10 },
    { msg: 'gossip leader elected', org: 'org2', leader: CUT_OFF, time: 20 },
    { msg: 'gossip leader elected', org: 'org2', leader: null, time: 25 },
    { msg: 'gossip leader elected', org: 'org2', leader: LEADER, time: 30 },
  ]), [follows(CUT_OFF, CUT_OFF, 20), follows(CUT_OFF, LEADER, 30)]);
});
