// This board's part in its org's leadership: asks the election who leads, claims the role at once when it
// is this board (its next ALIVE says so), and runs the Deliver client only once the claim has settled
// (docs/protocol.md §12b.4). The node calls evaluate() on every tick and membership change; everything
// else it needs comes through LeadershipOptions, so that this policy can be replaced as a whole.
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import type { RateLimitedLog } from '../observability/rateLimitedLog.js';
import type { Candidate, Election } from './seams.js';

/** A board's part in its org: the same values as the peer's BoardRole (src/peer/role.ts). */
export type LeadershipRole = 'leader' | 'follower';

export interface LeadershipLimits {
  /** A claim that a rival keeps contesting for longer than this is warned about (two static leaders). */
  leaderMinTermMs: number;
  /** A new leader waits this long after claiming before it opens its Deliver stream. */
  leaderClaimSettleMs: number;
}

/** The Deliver client this board runs while it leads. */
export interface Uplink {
  readonly isDelivering: boolean;
  setDelivering(on: boolean): Promise<void>;
}

export interface LeadershipOptions {
  self: { id: string; org: string };
  election: Election;
  limits: LeadershipLimits;
  clock: Clock;
  log: Logger;
  warnings: RateLimitedLog;
  /** The live members of this board's org, self excluded, as the election sees them. */
  orgMembers(): Candidate[];
  /** This board's committed height. */
  ownHeight(): number;
  uplink: Uplink;
  /** Whom this board sees leading its org changed (metrics). */
  leaderSeen(org: string, leader: string | null): void;
  /** This board took or gave up the role: its claim is to be announced now, not at the next tick. */
  claimChanged(): void;
  /** This board streams from the orderer (called on every evaluation while it does): other repair stops. */
  streaming(): void;
  /** This board's role changed (after the Deliver client was switched accordingly). */
  roleChanged(role: LeadershipRole, leader: string | null): void;
}

export class Leadership {
  /** When this board last became (or stopped being) its org's leader. */
  private leaderSinceMs = 0;
  private settleTimer: TimerHandle | null = null;
  /** Since when another org member has claimed leadership while this board leads; null: none does. */
  private rivalClaimSinceMs: number | null = null;
  private lastLeaderReported: string | null | undefined = undefined;
  private stopped = false;

  constructor(private readonly o: LeadershipOptions) {}

  get isLeader(): boolean {
    return this.o.election.isLeader;
  }

  get leader(): string | null {
    return this.o.election.leader;
  }

  role(): LeadershipRole {
    return this.isLeader ? 'leader' : 'follower';
  }

  /** Re-elects from the current membership and switches the Deliver client to match. */
  evaluate(): void {
    if (this.stopped) return;
    const o = this.o;
    const now = o.clock.now();
    const live = o.orgMembers();
    live.push({ id: o.self.id, height: o.ownHeight() });
    const wasLeader = o.election.isLeader;
    if (o.election.update(live, now)) {
      o.log.info({ org: o.self.org, leader: o.election.leader }, 'gossip leader elected');
    }
    if (this.lastLeaderReported !== o.election.leader) {
      this.lastLeaderReported = o.election.leader;
      o.leaderSeen(o.self.org, o.election.leader);
    }
    const isLeader = o.election.isLeader;
    if (isLeader !== wasLeader) {
      this.leaderSinceMs = now;
      // Said at once rather than at the next tick: a rival that elected itself too hears the claim, and
      // a successor learns that its predecessor stepped down, one aliveIntervalMs sooner.
      o.claimChanged();
    }
    const rivals = live.filter((c) => c.id !== o.self.id && c.leading === true).map((c) => c.id);
    if (!isLeader || rivals.length === 0) this.rivalClaimSinceMs = null;
    else if (this.rivalClaimSinceMs === null) this.rivalClaimSinceMs = now;
    if (this.rivalClaimSinceMs !== null && now - this.rivalClaimSinceMs > o.limits.leaderMinTermMs) {
      // A rival steps down within an ALIVE or two of hearing this board's claim (the election's rival
      // rule); one that goes on claiming never gives way: two static orgLeaders.
      o.warnings.warn('rival-leader', { org: o.self.org, rivals }, 'another board of this org keeps claiming leadership (two static orgLeaders?)');
    }
    // A new leader waits for a predecessor that still claims the role to step down (its next ALIVE), and
    // for leaderClaimSettleMs for a rival's claim, so that a handover or boards electing themselves at the
    // same moment open no second Deliver stream. A leader already streaming goes on while a rival (a board
    // back from a partition, which led its island) claims: the rival rule makes one of them step down, and
    // stopping here too would leave the org without a stream in between.
    const settled = now - this.leaderSinceMs >= o.limits.leaderClaimSettleMs;
    const deliver = isLeader && settled && (o.uplink.isDelivering || rivals.length === 0);
    if (deliver) o.streaming();
    if (deliver !== o.uplink.isDelivering) void o.uplink.setDelivering(deliver);
    if (isLeader && !settled && this.settleTimer === null) {
      this.settleTimer = o.clock.setTimeout(() => {
        this.settleTimer = null;
        this.evaluate();
      }, this.leaderSinceMs + o.limits.leaderClaimSettleMs - now);
      this.settleTimer.unref?.();
    }
    if (isLeader !== wasLeader) o.roleChanged(this.role(), o.election.leader);
  }

  stop(): void {
    this.stopped = true;
    if (this.settleTimer !== null) this.o.clock.clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }
}
