// Leader election per organisation: the live member (self included) with the highest ledger height, ties to
// the lowest id, with hysteresis so that leadership does not flap between boards whose heights leapfrog
// each other (docs/design.md, "Where edgepeer departs from Fabric"). Every member computes it from its own
// membership view; views agree once membership is stable, so there is one leader per org.

import type { Candidate, Election } from './seams.js';

export type { Candidate, Election } from './seams.js';

export interface ElectionParams {
  leaderHandoverMinBlocks: number;
  leaderMinTermMs: number;
  electionStartupGraceMs: number;
  /**
   * A live leader is replaced for being behind only once a challenger has led it by
   * leaderHandoverMinBlocks for this long without a break. A member learns the leader's height from its
   * ALIVE (up to aliveIntervalMs old) but its own at once, so under steady load every follower briefly
   * looks ahead of a healthy leader; a stuck leader stays behind, and is replaced.
   */
  leaderLagSustainMs: number;
}

/** Highest height, ties to the lowest id. */
export function bestCandidate(live: readonly Candidate[]): Candidate | null {
  let best: Candidate | null = null;
  for (const c of live) {
    if (best === null || c.height > best.height || (c.height === best.height && c.id < best.id)) best = c;
  }
  return best;
}

/**
 * Who leads now, given the live candidates and the current leader (null: none yet) and its term start.
 * The current leader keeps the role while it is live and either its term is younger than
 * leaderMinTermMs or no challenger leads it by leaderHandoverMinBlocks.
 */
export function chooseLeader(
  live: readonly Candidate[], current: string | null, termStartMs: number, nowMs: number, p: ElectionParams,
): string | null {
  const best = bestCandidate(live);
  if (best === null) return null;
  const incumbent = current === null ? undefined : live.find((c) => c.id === current);
  if (incumbent === undefined) {
    // A live member that already leads is kept rather than elected against (a board joining late).
    return bestCandidate(live.filter((c) => c.leading === true))?.id ?? best.id;
  }
  if (nowMs - termStartMs < p.leaderMinTermMs) return incumbent.id;
  return best.height >= incumbent.height + p.leaderHandoverMinBlocks ? best.id : incumbent.id;
}

export type ElectionState =
  | { kind: 'starting'; sinceMs: number }
  | { kind: 'elected'; leader: string; termStartMs: number; challengedSinceMs: number | null };

/** The election as seen by one member: waits out the startup grace, then follows chooseLeader. */
export class LeaderElection implements Election {
  private s: ElectionState;

  constructor(readonly selfId: string, private readonly p: ElectionParams, nowMs: number) {
    this.s = { kind: 'starting', sinceMs: nowMs };
  }

  get state(): ElectionState {
    return this.s;
  }

  get leader(): string | null {
    return this.s.kind === 'elected' ? this.s.leader : null;
  }

  get isLeader(): boolean {
    return this.leader === this.selfId;
  }

  /** Re-evaluates with the live members of the org (self included); returns true when the leader changed. */
  update(live: readonly Candidate[], nowMs: number): boolean {
    const s = this.s;
    if (s.kind === 'starting') {
      if (nowMs - s.sinceMs < this.p.electionStartupGraceMs) return false;
      const leader = chooseLeader(live, null, 0, nowMs, this.p);
      if (leader === null) return false;
      this.s = { kind: 'elected', leader, termStartMs: nowMs, challengedSinceMs: null };
      return true;
    }
    const current = live.find((c) => c.id === s.leader);
    if (s.leader !== this.selfId && current?.leading === false) {
      // The member this board follows says it does not lead (it stepped down to a rival after this board
      // adopted its claim): follow whoever claims now, or every other board's leader and this one's differ
      // for as long as their heights stay level.
      const claimant = bestCandidate(live.filter((c) => c.leading === true && c.id !== this.selfId));
      if (claimant !== null) {
        this.s = { kind: 'elected', leader: claimant.id, termStartMs: nowMs, challengedSinceMs: null };
        return true;
      }
    }
    let leader = chooseLeader(live, s.leader, s.termStartMs, nowMs, this.p);
    const incumbentLive = live.some((c) => c.id === s.leader);
    if (leader !== s.leader && incumbentLive && !live.some((c) => c.id === leader && c.leading === true)) {
      // Handover for lag, not for death: only once the lag has lasted (leaderLagSustainMs).
      if (s.challengedSinceMs === null) s.challengedSinceMs = nowMs;
      if (nowMs - s.challengedSinceMs < this.p.leaderLagSustainMs) leader = s.leader;
    } else if (leader === s.leader) {
      s.challengedSinceMs = null;
    }
    if (leader === this.selfId) {
      // Two boards that elected themselves before hearing each other: the one with the lower id keeps
      // the role unless the other leads it by leaderHandoverMinBlocks (then the lower one hands over).
      const self = live.find((c) => c.id === this.selfId);
      const rival = live.find((c) => c.leading === true && c.id < this.selfId
        && (self === undefined || self.height < c.height + this.p.leaderHandoverMinBlocks));
      if (rival !== undefined) leader = rival.id;
    }
    if (leader === null || leader === s.leader) return false;
    this.s = { kind: 'elected', leader, termStartMs: nowMs, challengedSinceMs: null };
    return true;
  }
}

/**
 * Fabric's static leadership (useLeaderElection=false, orgLeader): configuration says who leads, so there
 * is nothing to wait for and nothing to hand over. The configured board leads from the start and for
 * good; the others never lead, and report as leader the live member of their org that says it leads
 * (the LED and the metrics show whom a follower depends on). If that member dies nobody takes over:
 * that is what static means, and why dynamic is the default.
 */
export class StaticElection implements Election {
  private current: string | null;

  constructor(readonly selfId: string, readonly orgLeader: boolean) {
    this.current = orgLeader ? selfId : null;
  }

  get leader(): string | null {
    return this.current;
  }

  get isLeader(): boolean {
    return this.orgLeader;
  }

  update(live: readonly Candidate[], _nowMs: number): boolean {
    if (this.orgLeader) return false;
    // Two boards configured as leader is a misconfiguration; every follower names the same one of them.
    let claimed: string | null = null;
    for (const c of live) if (c.leading === true && c.id !== this.selfId && (claimed === null || c.id < claimed)) claimed = c.id;
    if (claimed === this.current) return false;
    this.current = claimed;
    return true;
  }
}
