// This board's part in its org's leadership, driven: the state machine (leadershipState.ts: who claims,
// who streams, who yields) is fed the org's live boards, this board's height and its uplink's health on
// every tick and membership change, and this file carries out what it decides: the Deliver client on or
// off, the claim (or the yield) announced at once, a wake-up when a claim settles, the logs and metrics
// (docs/protocol.md §12b.4). Everything it needs comes through LeadershipOptions.
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import type { RateLimitedLog } from '../observability/rateLimitedLog.js';
import type { UplinkHealth } from '../peer/uplinkHealth.js';
import { type LeadershipParams, LeadershipMachine, type LeadershipState, type OrgMember } from './leadershipState.js';
import type { Election } from './seams.js';

/** A board's part in its org: the same values as the peer's BoardRole (src/peer/role.ts). */
export type LeadershipRole = 'leader' | 'follower';

export type LeadershipLimits = LeadershipParams;

/** The Deliver client this board runs while it leads, and how its link to the orderer fares. */
export interface Uplink {
  readonly isDelivering: boolean;
  setDelivering(on: boolean): Promise<void>;
  uplink(): UplinkHealth;
}

export interface LeadershipOptions {
  self: { id: string; org: string };
  election: Election;
  /** False for a static leader: nobody else may lead, so it never yields (Fabric ignores its retry budget too). */
  canYield: boolean;
  limits: LeadershipLimits;
  clock: Clock;
  log: Logger;
  warnings: RateLimitedLog;
  /** The live boards of this board's org, self excluded, as their ALIVEs say (claims and yields included). */
  orgMembers(): OrgMember[];
  /** This board's committed height. */
  ownHeight(): number;
  uplink: Uplink;
  /** Whom this board sees leading its org changed (metrics). */
  leaderSeen(org: string, leader: string | null): void;
  /** This board took or gave up the role, or yields: its ALIVE is to say so now, not at the next tick. */
  claimChanged(): void;
  /** This board streams from the orderer (called on every evaluation while it does): other repair stops. */
  streaming(): void;
  /** This board's role changed (after the Deliver client was switched accordingly). */
  roleChanged(role: LeadershipRole, leader: string | null): void;
}

export class Leadership {
  private readonly machine: LeadershipMachine;
  private wakeTimer: TimerHandle | null = null;
  private wakeAtMs: number | null = null;
  private lastLeaderReported: string | null | undefined = undefined;
  private stopped = false;

  constructor(private readonly o: LeadershipOptions) {
    this.machine = new LeadershipMachine(o.self.id, o.election, o.limits, o.canYield);
  }

  get isLeader(): boolean {
    return this.machine.isLeader;
  }

  /** It stepped down for a failed uplink and is no candidate now (its ALIVE says `yielding`). */
  get yielding(): boolean {
    return this.machine.state.kind === 'yielding';
  }

  get state(): LeadershipState {
    return this.machine.state;
  }

  get leader(): string | null {
    return this.machine.leader;
  }

  role(): LeadershipRole {
    return this.isLeader ? 'leader' : 'follower';
  }

  /** Feeds the machine what is known now and does what it decides. */
  evaluate(): void {
    if (this.stopped) return;
    const o = this.o;
    const now = o.clock.now();
    const uplink = o.uplink.uplink();
    const before = this.machine.state;
    const wasLeader = this.machine.isLeader;
    const d = this.machine.update({ members: o.orgMembers(), height: o.ownHeight(), uplink }, now);
    if (d.leaderChanged) o.log.info({ org: o.self.org, leader: d.leader }, 'gossip leader elected');
    if (this.lastLeaderReported !== d.leader) {
      this.lastLeaderReported = d.leader;
      o.leaderSeen(o.self.org, d.leader);
    }
    if (d.changed) this.logTransition(before, d.state, uplink, now);
    // Said at once rather than at the next tick: a rival that elected itself too hears the claim, a
    // successor learns that its predecessor stepped down, and the org stops counting a yielding board.
    const claimedBefore = before.kind === 'claiming' || before.kind === 'streaming';
    if (claimedBefore !== d.claims || (before.kind === 'yielding') !== d.yielding) o.claimChanged();
    if (d.persistentRivals.length > 0) {
      // A rival steps down within an ALIVE or two of hearing this board's claim (the election's rival
      // rule). One that goes on claiming never gives way (two static orgLeaders) or does not hear this
      // board (a one-way link, or halves of a partition that has not healed for both yet).
      const why = o.canYield ? 'does it hear this board?' : 'two static orgLeaders?';
      o.warnings.warn('rival-leader', { org: o.self.org, rivals: d.persistentRivals }, `another board of this org keeps claiming leadership (${why})`);
    }
    if (d.deliver) o.streaming();
    if (d.deliver !== o.uplink.isDelivering) void o.uplink.setDelivering(d.deliver);
    this.wakeAt(d.wakeAtMs, now);
    if (this.machine.isLeader !== wasLeader) o.roleChanged(this.role(), d.leader);
  }

  stop(): void {
    this.stopped = true;
    if (this.wakeTimer !== null) this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
  }

  private logTransition(from: LeadershipState, to: LeadershipState, uplink: UplinkHealth, nowMs: number): void {
    const o = this.o;
    if (to.kind === 'yielding') {
      const silentMs = uplink.lastHeardMs === null ? null : nowMs - uplink.lastHeardMs;
      o.log.warn({ org: o.self.org, silentMs, leaderUplinkYieldMs: o.limits.leaderUplinkYieldMs, successor: to.leader },
        'gossip leader steps down: nothing from the orderer for leaderUplinkYieldMs; another board of the org leads');
    } else if (from.kind === 'yielding') {
      o.log.info({ org: o.self.org, leader: this.leader }, 'gossip board a candidate again after yielding');
    }
  }

  /** A claim settles at `atMs`: evaluate then, not only at the next tick. */
  private wakeAt(atMs: number | null, nowMs: number): void {
    if (atMs === null || atMs === this.wakeAtMs) return;
    if (this.wakeTimer !== null) this.o.clock.clearTimeout(this.wakeTimer);
    this.wakeAtMs = atMs;
    this.wakeTimer = this.o.clock.setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAtMs = null;
      this.evaluate();
    }, atMs - nowMs);
    this.wakeTimer.unref?.();
  }
}
