// This board's part in its org's leadership, as one state machine (docs/protocol.md §12b.4):
//
//   starting ─(a leader known)─▶ follower ◀─(another is elected)─ claiming, streaming
//   starting, follower ─(this board is elected)─▶ claiming
//   claiming ─(leaderClaimSettleMs over, no rival claims)─▶ streaming
//   streaming ─(uplink failed leaderUplinkYieldMs, another board could lead)─▶ yielding
//   yielding ─(leaderYieldHoldMs over and uplink not known down, or no other candidate)─▶ follower
//
// Who should lead is the election's (src/gossip/election.ts: heights, hysteresis, claims); this file adds
// what the board does about it: it claims before it streams (so two boards that elected themselves at once
// open no second Deliver stream), it streams, and it steps down when its own uplink (the deliver client's
// orderer link) has failed for a bounded time while another board of its org could lead, as Fabric's
// blocksprovider yields leadership after its retry budget. A yielding board tells the others (ALIVE
// `yielding`) so that nobody elects it, and stays out until leaderYieldHoldMs have passed and its link is
// not known to be down: a board whose uplink is dead does not win the election back while it stays dead.
// The machine is pure (fed its inputs and the time, it returns what to do); the node's driver around it
// runs the timers, the deliver client and the announcements.
import type { UplinkHealth } from '../peer/uplinkHealth.js';
import type { Candidate, Election } from './seams.js';

export type { UplinkHealth } from '../peer/uplinkHealth.js';

/** The timings the machine runs with (gossipDefaults, board.json gossip.limits). */
export interface LeadershipParams {
  /** A new leader announces its claim and waits this long before it streams (a rival's claim arrives first). */
  leaderClaimSettleMs: number;
  /** A rival that goes on claiming for this long while this board leads is reported (two static leaders). */
  leaderMinTermMs: number;
  /** A streaming leader that has not heard from the orderer for this long steps down, when another board could lead. */
  leaderUplinkYieldMs: number;
  /** A board that stepped down is no candidate for at least this long. */
  leaderYieldHoldMs: number;
}

/** A live board of this org as its ALIVEs describe it. */
export interface OrgMember extends Candidate {
  /** It stepped down for a failed uplink and is no candidate (ALIVE `yielding`). */
  yielding?: boolean;
}

/** What the machine is fed at each evaluation. */
export interface LeadershipView {
  /** The live boards of this org other than this one (board certificates only: never a client or admin). */
  members: readonly OrgMember[];
  /** This board's ledger height. */
  height: number;
  uplink: UplinkHealth;
}

export type LeadershipState =
  | { kind: 'starting' }
  | { kind: 'follower'; leader: string | null }
  | { kind: 'claiming'; sinceMs: number }
  | { kind: 'streaming'; sinceMs: number }
  | { kind: 'yielding'; sinceMs: number; leader: string | null };

export type LeadershipKind = LeadershipState['kind'];

/** What the board does now. */
export interface LeadershipDecision {
  state: LeadershipState;
  /** The leader this board sees for its org (itself while claiming or streaming); null: none yet. */
  leader: string | null;
  /** Its ALIVE says `leader` (claiming or streaming). */
  claims: boolean;
  /** Its ALIVE says `yielding`. */
  yielding: boolean;
  /** Its deliver client should run. */
  deliver: boolean;
  /** The state changed in this evaluation (the board announces itself at once). */
  changed: boolean;
  /** The leader it sees changed in this evaluation. */
  leaderChanged: boolean;
  /** Evaluate again at this time at the latest (a claim settling); null: at the next tick is enough. */
  wakeAtMs: number | null;
  /** Members that have kept claiming for longer than leaderMinTermMs while this board leads. */
  persistentRivals: string[];
}

export class LeadershipMachine {
  private s: LeadershipState = { kind: 'starting' };
  private rivalsSinceMs: number | null = null;

  /** `canYield`: false for a static leader (Fabric ignores its retry budget too: nobody else may lead). */
  constructor(
    readonly selfId: string,
    private readonly election: Election,
    private readonly p: LeadershipParams,
    private readonly canYield: boolean,
  ) {}

  get state(): LeadershipState {
    return this.s;
  }

  /** Whether this board leads (claims or streams): its role. */
  get isLeader(): boolean {
    return this.s.kind === 'claiming' || this.s.kind === 'streaming';
  }

  /** The leader this board sees for its org (itself while it claims or streams); null: none yet. */
  get leader(): string | null {
    const s = this.s;
    if (this.isLeader) return this.selfId;
    return s.kind === 'follower' || s.kind === 'yielding' ? s.leader : null;
  }

  /** Every transition is here. */
  update(v: LeadershipView, nowMs: number): LeadershipDecision {
    const before = this.s;
    const leaderBefore = this.leader;
    const rivals = v.members.filter((m) => m.leading === true).map((m) => m.id);
    let s = this.s;
    if (s.kind === 'yielding' && this.mayReturn(s.sinceMs, v, nowMs)) s = { kind: 'follower', leader: s.leader };
    let elected = this.elect(v, s.kind !== 'yielding', nowMs);
    switch (s.kind) {
      case 'starting':
        if (elected !== null) s = elected === this.selfId ? { kind: 'claiming', sinceMs: nowMs } : { kind: 'follower', leader: elected };
        break;
      case 'follower':
        s = elected === this.selfId ? { kind: 'claiming', sinceMs: nowMs } : { kind: 'follower', leader: elected };
        break;
      case 'claiming':
        if (elected !== this.selfId) s = { kind: 'follower', leader: elected };
        else if (nowMs - s.sinceMs >= this.p.leaderClaimSettleMs && rivals.length === 0) s = { kind: 'streaming', sinceMs: nowMs };
        break;
      case 'streaming':
        if (elected !== this.selfId) s = { kind: 'follower', leader: elected };
        else if (this.mustYield(v, nowMs)) {
          // Off the role in this evaluation: its own election must stop naming it now.
          elected = this.elect(v, false, nowMs);
          s = { kind: 'yielding', sinceMs: nowMs, leader: elected };
        }
        break;
      case 'yielding':
        s = { kind: 'yielding', sinceMs: s.sinceMs, leader: elected };
        break;
    }
    this.s = s;
    return this.decision(before, leaderBefore, rivals, nowMs);
  }

  /** Runs the election over the org's candidates (this board among them unless it yields). */
  private elect(v: LeadershipView, selfCandidate: boolean, nowMs: number): string | null {
    const candidates: Candidate[] = [];
    for (const m of v.members) {
      // `leading` as heard, false included: the election tells a withdrawn claim from none said.
      if (m.yielding !== true) candidates.push({ id: m.id, height: m.height, ...(m.leading !== undefined ? { leading: m.leading } : {}) });
    }
    if (selfCandidate) candidates.push({ id: this.selfId, height: v.height });
    this.election.update(candidates, nowMs);
    const elected = this.election.leader;
    return !selfCandidate && elected === this.selfId ? null : elected;
  }

  /** A streaming leader steps down when its uplink has failed long enough and someone else could lead. */
  private mustYield(v: LeadershipView, nowMs: number): boolean {
    if (!this.canYield) return false;
    const heard = v.uplink.lastHeardMs;
    if (heard === null || nowMs - heard < this.p.leaderUplinkYieldMs) return false;
    return v.members.some((m) => m.yielding !== true);
  }

  /**
   * A yielding board becomes a candidate again once its hold is over and its link is not known to be
   * down, or at once when no other board of its org is a candidate (an org led by a board with a bad
   * uplink still does better than an org led by nobody).
   */
  private mayReturn(sinceMs: number, v: LeadershipView, nowMs: number): boolean {
    if (!v.members.some((m) => m.yielding !== true)) return true;
    return nowMs - sinceMs >= this.p.leaderYieldHoldMs && v.uplink.reachable !== false;
  }

  private decision(before: LeadershipState, leaderBefore: string | null, rivals: string[], nowMs: number): LeadershipDecision {
    const s = this.s;
    const leads = this.isLeader;
    if (!leads || rivals.length === 0) this.rivalsSinceMs = null;
    else if (this.rivalsSinceMs === null) this.rivalsSinceMs = nowMs;
    const settleAtMs = s.kind === 'claiming' ? s.sinceMs + this.p.leaderClaimSettleMs : null;
    return {
      state: s,
      leader: this.leader,
      claims: leads,
      yielding: s.kind === 'yielding',
      deliver: s.kind === 'streaming',
      changed: s.kind !== before.kind,
      leaderChanged: this.leader !== leaderBefore,
      wakeAtMs: settleAtMs !== null && settleAtMs > nowMs ? settleAtMs : null,
      persistentRivals: this.rivalsSinceMs !== null && nowMs - this.rivalsSinceMs > this.p.leaderMinTermMs ? rivals : [],
    };
  }
}
