// The leadership driver (src/gossip/leadership.ts): what the state machine decides is carried out, with
// the real machine and election on a manual clock: the claim announced at once, the Deliver client
// switched on when the claim settles (woken by its own timer, not the next tick), the role, the leader
// seen and the logs told once per change, the step-down for a silent uplink, the rival warning (static
// and elected wording), and nothing after stop(). The uplink and the callbacks beside it are recorded stand-ins.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LeaderElection, StaticElection } from '../../../src/gossip/election.js';
import { Leadership, type LeadershipLimits, type LeadershipRole } from '../../../src/gossip/leadership.js';
import type { OrgMember } from '../../../src/gossip/leadershipState.js';
import { RateLimitedLog } from '../../../src/observability/rateLimitedLog.js';
import type { UplinkHealth } from '../../../src/peer/uplinkHealth.js';
import { ManualClock } from '../../helpers/fakes.js';
import { recordingLogger } from '../../helpers/recordingLogger.js';

const ORG = 'org1';
const SELF = 'org1-board1';
const OTHER = 'org1-board2';
const ELECTION = { leaderHandoverMinBlocks: 16, leaderMinTermMs: 1_000, electionStartupGraceMs: 300, leaderLagSustainMs: 1_000 };
const LIMITS: LeadershipLimits = { leaderClaimSettleMs: 250, leaderMinTermMs: 1_000, leaderUplinkYieldMs: 2_000, leaderYieldHoldMs: 5_000 };
const WARN_INTERVAL_MS = 10_000;

interface Rig {
  leadership: Leadership;
  clock: ManualClock;
  records: Record<string, unknown>[];
  members: OrgMember[];
  uplink: UplinkHealth & { delivering: boolean; switches: boolean[] };
  claims: number;
  streamingCalls: number;
  seen: (string | null)[];
  roles: [LeadershipRole, string | null][];
  messages(): string[];
  /** The machine's state now (a function: assert's narrowing of one read would stick). */
  kind(): string;
}

function rig(o: { static?: boolean; orgLeader?: boolean } = {}): Rig {
  const clock = new ManualClock(0);
  const { log, records } = recordingLogger('leadership-test');
  // One object: the callbacks below update the very fields the test reads.
  const r = {
    clock, records, members: [], claims: 0, streamingCalls: 0, seen: [], roles: [],
    uplink: { lastHeardMs: null, reachable: null, delivering: false, switches: [] },
    messages: () => records.map((x) => String(x['msg'])),
    kind: () => r.leadership.state.kind,
  } as unknown as Rig;
  r.leadership = new Leadership({
    self: { id: SELF, org: ORG },
    election: o.static === true ? new StaticElection(SELF, o.orgLeader ?? true) : new LeaderElection(SELF, ELECTION, 0),
    canYield: o.static !== true,
    limits: LIMITS, clock, log, warnings: new RateLimitedLog(log, clock, WARN_INTERVAL_MS),
    orgMembers: () => r.members,
    ownHeight: () => 10,
    uplink: {
      get isDelivering() { return r.uplink.delivering; },
      setDelivering: (on) => {
        r.uplink.delivering = on;
        r.uplink.switches.push(on);
        // A started client counts its silence from its start (UplinkMonitor).
        r.uplink.lastHeardMs = on ? clock.now() : null;
        return Promise.resolve();
      },
      uplink: () => ({ lastHeardMs: r.uplink.lastHeardMs, reachable: r.uplink.reachable }),
    },
    leaderSeen: (org, leader) => { assert.equal(org, ORG); r.seen.push(leader); },
    claimChanged: () => { r.claims++; },
    streaming: () => { r.streamingCalls++; },
    roleChanged: (role, leader) => { r.roles.push([role, leader]); },
  });
  return r;
}

test('a lone board claims after the startup grace, announces it at once, and streams when the claim settles, woken by its own timer', async () => {
  const r = rig();
  r.leadership.evaluate();
  assert.equal(r.kind(), 'starting');
  assert.deepEqual(r.roles, []);
  await r.clock.advance(ELECTION.electionStartupGraceMs);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'claiming');
  assert.equal(r.leadership.role(), 'leader');
  assert.equal(r.claims, 1, 'the claim is said now, not at the next ALIVE');
  assert.deepEqual(r.roles, [['leader', SELF]]);
  assert.deepEqual(r.seen, [null, SELF]);
  assert.deepEqual(r.uplink.switches, [], 'no stream before the claim settles');
  assert.deepEqual(r.messages(), ['gossip leader elected']);
  assert.equal(r.records[0]!['leader'], SELF);
  // No evaluate() call: the wake-up at the settle time does it.
  await r.clock.advance(LIMITS.leaderClaimSettleMs - 1);
  assert.deepEqual(r.uplink.switches, []);
  await r.clock.advance(1);
  assert.equal(r.kind(), 'streaming');
  assert.deepEqual(r.uplink.switches, [true]);
  assert.equal(r.streamingCalls, 1);
  // Streaming on: told every evaluation, switched once, the role and the leader seen not told again.
  r.uplink.lastHeardMs = r.clock.now();
  r.leadership.evaluate();
  assert.equal(r.streamingCalls, 2);
  assert.deepEqual(r.uplink.switches, [true]);
  assert.deepEqual(r.roles, [['leader', SELF]]);
  assert.deepEqual(r.seen, [null, SELF]);
  assert.equal(r.claims, 1);
});

test('a streaming leader whose uplink is silent for leaderUplinkYieldMs steps down to another board: client off, yield announced, warning logged', async () => {
  const r = rig();
  await r.clock.advance(ELECTION.electionStartupGraceMs);
  r.leadership.evaluate();
  await r.clock.advance(LIMITS.leaderClaimSettleMs);
  assert.equal(r.kind(), 'streaming');
  r.members = [{ id: OTHER, height: 10 }];
  const claimsBefore = r.claims;
  // The stream started at `since` and heard nothing after.
  await r.clock.advance(LIMITS.leaderUplinkYieldMs - 1);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'streaming', 'not yet');
  await r.clock.advance(1);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'yielding');
  assert.equal(r.leadership.yielding, true);
  assert.deepEqual(r.uplink.switches, [true, false]);
  assert.equal(r.claims, claimsBefore + 1, 'the yield is said at once');
  assert.deepEqual(r.roles.at(-1), ['follower', OTHER]);
  assert.equal(r.seen.at(-1), OTHER);
  const stepDown = r.records.find((x) => String(x['msg']).startsWith('gossip leader steps down'))!;
  assert.deepEqual([stepDown['silentMs'], stepDown['successor'], stepDown['leaderUplinkYieldMs']], [LIMITS.leaderUplinkYieldMs, OTHER, LIMITS.leaderUplinkYieldMs]);
  // Alone again (the other board gone): a candidate at once, and the log says so.
  r.members = [];
  r.leadership.evaluate();
  assert.equal(r.leadership.yielding, false);
  assert.ok(r.messages().includes('gossip board a candidate again after yielding'));
});

/**
 * Evaluates across leaderMinTermMs with OTHER claiming all along (r.members says so): no warning within
 * it, exactly one after it however often evaluated (rate-limited), naming OTHER. Returns its text.
 */
async function rivalWarning(r: Rig): Promise<string> {
  r.leadership.evaluate();
  await r.clock.advance(LIMITS.leaderMinTermMs);
  r.leadership.evaluate();
  assert.ok(!r.messages().some((m) => m.includes('keeps claiming')), 'not within leaderMinTermMs');
  await r.clock.advance(1);
  r.leadership.evaluate();
  r.leadership.evaluate();
  const warnings = r.records.filter((x) => String(x['msg']).includes('keeps claiming leadership'));
  assert.equal(warnings.length, 1, 'once per interval');
  assert.deepEqual(warnings[0]!['rivals'], [OTHER]);
  return String(warnings[0]!['msg']);
}

test('a static leader beside another static leader warns that a rival keeps claiming, rate-limited, and never yields', async () => {
  const r = rig({ static: true });
  r.members = [{ id: OTHER, height: 10, leading: true }];
  assert.match(await rivalWarning(r), /two static orgLeaders/);
  // The claim never settles while the rival claims: no stream; and a static leader does not yield on silence.
  assert.equal(r.kind(), 'claiming');
  assert.deepEqual(r.uplink.switches, []);
  r.members = [{ id: OTHER, height: 10, leading: false }];
  await r.clock.advance(LIMITS.leaderClaimSettleMs);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'streaming');
  await r.clock.advance(10 * LIMITS.leaderUplinkYieldMs);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'streaming');
});

test('an elected leader whose rival keeps claiming (it does not hear this board) asks whether the rival hears it, rate-limited, and keeps streaming', async () => {
  const r = rig();
  await r.clock.advance(ELECTION.electionStartupGraceMs);
  r.leadership.evaluate();
  await r.clock.advance(LIMITS.leaderClaimSettleMs);
  assert.equal(r.kind(), 'streaming');
  // A board with a higher id claims too and never steps down: the lower id keeps the role (the election's
  // rival rule), so only a rival that does not hear this board's claim goes on claiming. The uplink's
  // silence stays under leaderUplinkYieldMs meanwhile (leaderMinTermMs is shorter).
  r.members = [{ id: OTHER, height: 10, leading: true }];
  const msg = await rivalWarning(r);
  assert.match(msg, /does it hear this board\?/);
  assert.doesNotMatch(msg, /static/, 'an elected leader is not told of static orgLeaders');
  assert.equal(r.kind(), 'streaming', 'the lower id keeps leading');
  assert.deepEqual(r.uplink.switches, [true]);
});

test('a follower sees another board lead: no claim, no stream, the leader seen and logged once', async () => {
  const r = rig({ static: true, orgLeader: false });
  r.members = [{ id: OTHER, height: 10, leading: true }];
  r.leadership.evaluate();
  r.leadership.evaluate();
  assert.equal(r.leadership.role(), 'follower');
  assert.equal(r.leadership.leader, OTHER);
  assert.deepEqual(r.seen, [OTHER]);
  assert.deepEqual(r.messages(), ['gossip leader elected']);
  assert.equal(r.claims, 0);
  assert.deepEqual(r.uplink.switches, []);
  assert.deepEqual(r.roles, []);
});

test('after stop() the pending wake-up is cleared and evaluate does nothing', async () => {
  const r = rig();
  await r.clock.advance(ELECTION.electionStartupGraceMs);
  r.leadership.evaluate();
  assert.equal(r.clock.pendingTimers, 1, 'the settle wake-up');
  r.leadership.stop();
  assert.equal(r.clock.pendingTimers, 0);
  await r.clock.advance(LIMITS.leaderClaimSettleMs);
  r.leadership.evaluate();
  assert.equal(r.kind(), 'claiming');
  assert.deepEqual(r.uplink.switches, []);
});
