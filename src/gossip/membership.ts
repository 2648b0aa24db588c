// Who is in the channel's gossip and alive: fed by authenticated ALIVE messages, judged against the clock.
// A member is named by org and id together (memberKey): ids are chosen by each org's admin, so an id alone
// names nobody in particular, and another org's admin could otherwise mint a certificate with this org's
// board id and take over that board's entry (its endpoint, its height, its place in the election).
import type { Role } from '../protocol/certificate.js';
import type { AliveBody } from './messages.js';

/** What names a member: `org/id`. */
export type MemberKey = string;

export function memberKey(org: string, id: string): MemberKey {
  return `${org}/${id}`;
}

export interface Member {
  key: MemberKey;
  id: string;
  org: string;
  /** Its certificate's role: only boards ('peer') gossip, and only they are elected. */
  role: Role;
  endpoint: string;
  /**
   * Height from its ALIVEs, raised by blocks it sent us and the DIGESTs it sent, within one incarnation; a
   * new incarnation (a restart, perhaps on an empty ledger) starts from what its first ALIVE says.
   */
  height: number;
  incarnation: number;
  seq: number;
  /** Whether its last ALIVE said it leads its org. */
  leader: boolean;
  /** Whether its last ALIVE said it yields (stepped down for a failed uplink: no candidate). */
  yielding: boolean;
  lastHeardMs: number;
  /** When an ALIVE of it newer than the one before came straight from it (null: never, this incarnation). */
  lastDirectMs: number | null;
  /** When its ALIVEs began to say `leader` (null: its last one does not). */
  leaderSinceMs: number | null;
  /** Its last accepted ALIVE as signed by it (null: larger than a relay takes): what is relayed of it. */
  aliveBytes: Uint8Array | null;
  alive: boolean;
  /** Timestamp of its last DIGEST, and of its last RANGE_REQUEST, taken: a copy not newer is a replay. */
  lastDigestMs: number;
  lastRangeRequestMs: number;
}

/**
 * new: first heard · restarted: a new incarnation · revived: dead and heard again · stale: a replay or old ·
 * full: a new member while membersMax are remembered (not taken).
 */
export type AliveOutcome = 'new' | 'restarted' | 'revived' | 'updated' | 'stale' | 'full';

/** How an ALIVE came: straight from its signer (a direct ALIVE, or the first of its ALIVES) or relayed by another. */
export interface AliveArrival {
  direct: boolean;
  /** Its signed bytes, when small enough to be relayed (aliveRelayedEntryBytesMax). */
  bytes: Uint8Array | null;
}

/** Whether a live member is dead now; default: not heard within aliveExpirationMs. */
export type ExpiryRule = (m: Member, nowMs: number) => boolean;

/** Whether an ALIVE's (incarnation, seq) is not greater than the last one accepted from its member: a replay or an old copy. */
function notNewer(a: Pick<AliveBody, 'incarnation' | 'seq'>, m: Pick<Member, 'incarnation' | 'seq'>): boolean {
  return a.incarnation < m.incarnation || (a.incarnation === m.incarnation && a.seq <= m.seq);
}

/** Requests whose replay would make this board send blocks again: each copy is taken once. */
export type ReplayableRequest = 'digest' | 'range_request';

export class Membership {
  private readonly members = new Map<MemberKey, Member>();
  private readonly selfKey: MemberKey;

  /**
   * `forgetAfterMs`: a member dead this long is forgotten, so that its next ALIVE is taken whatever its
   * incarnation (a board whose clock was set back). Not less than the message time window: a replay of its
   * last ALIVE is refused by its timestamp by then.
   */
  constructor(
    self: { id: string; org: string }, private readonly aliveExpirationMs: number, private readonly forgetAfterMs: number,
    private readonly membersMax = Number.MAX_SAFE_INTEGER,
  ) {
    this.selfKey = memberKey(self.org, self.id);
  }

  /**
   * Records an authenticated ALIVE (its id and org are its signer's: openGossip checked); an
   * (incarnation, seq) not newer than the last one is stale (a replay).
   */
  heard(a: AliveBody, role: Role, nowMs: number, via: AliveArrival = { direct: true, bytes: null }): AliveOutcome {
    const key = memberKey(a.org, a.id);
    if (key === this.selfKey) return 'stale';
    const m = this.members.get(key);
    const yielding = a.yielding === true;
    const lastDirectMs = via.direct ? nowMs : null;
    if (m === undefined) {
      if (this.members.size >= this.membersMax) return 'full';
      this.members.set(key, {
        key, id: a.id, org: a.org, role, endpoint: a.endpoint, height: a.height, incarnation: a.incarnation, seq: a.seq,
        leader: a.leader, yielding, lastHeardMs: nowMs, lastDirectMs, leaderSinceMs: a.leader ? nowMs : null, aliveBytes: via.bytes,
        alive: true, lastDigestMs: 0, lastRangeRequestMs: 0,
      });
      return 'new';
    }
    if (notNewer(a, m)) return 'stale';
    const restarted = a.incarnation > m.incarnation;
    const revived = !m.alive;
    const leaderSinceMs = !a.leader ? null : m.leader && !restarted ? m.leaderSinceMs : nowMs;
    Object.assign(m, {
      role, endpoint: a.endpoint, incarnation: a.incarnation, seq: a.seq, leader: a.leader, yielding, lastHeardMs: nowMs, alive: true,
      lastDirectMs: via.direct ? nowMs : restarted ? null : m.lastDirectMs, leaderSinceMs, aliveBytes: via.bytes,
    });
    // A restarted member holds what its ALIVE says, perhaps less than before (an emptied ledger): a height
    // that only ratchets up would have everyone ask it for blocks it lost and elect it for them.
    m.height = restarted ? a.height : Math.max(m.height, a.height);
    return restarted ? 'restarted' : revived ? 'revived' : 'updated';
  }

  /**
   * Whether `a` is not newer than the last ALIVE accepted from its member (or is this board's own): what
   * heard() would call stale. Changes nothing, so it may be asked of an ALIVE not yet authenticated.
   */
  isStale(a: Pick<AliveBody, 'id' | 'org' | 'incarnation' | 'seq'>): boolean {
    const key = memberKey(a.org, a.id);
    if (key === this.selfKey) return true;
    const m = this.members.get(key);
    return m !== undefined && notNewer(a, m);
  }

  /** A block numbered `number` came from `key`: it holds at least number + 1 blocks. */
  sawBlock(key: MemberKey, number: number): void {
    const m = this.members.get(key);
    if (m !== undefined && m.height < number + 1) m.height = number + 1;
  }

  /** `key` said (in a DIGEST) that it holds `height` blocks. */
  sawHeight(key: MemberKey, height: number): void {
    const m = this.members.get(key);
    if (m !== undefined && m.height < height) m.height = height;
  }

  /**
   * Whether a DIGEST or RANGE_REQUEST signed at `timestampMs` by `key` is new: later than the last one of
   * that kind taken from it (recorded). Copies of a captured request, replayed within the message time
   * window, are not. Unknown members' requests are not taken (there is nowhere to answer them).
   */
  fresh(key: MemberKey, kind: ReplayableRequest, timestampMs: number): boolean {
    const m = this.members.get(key);
    if (m === undefined) return false;
    const field = kind === 'digest' ? 'lastDigestMs' : 'lastRangeRequestMs';
    if (timestampMs <= m[field]) return false;
    m[field] = timestampMs;
    return true;
  }

  /** `key` said it is stopping: dead now, live again at its next ALIVE (a restart has a higher incarnation). */
  left(key: MemberKey): Member | undefined {
    const m = this.members.get(key);
    if (m === undefined || !m.alive) return undefined;
    m.alive = false;
    m.leader = false;
    m.leaderSinceMs = null;
    return m;
  }

  /**
   * Marks members dead by `isDead` (default: not heard within aliveExpirationMs; returns those that just
   * died); forgets long-dead ones.
   */
  expire(nowMs: number, isDead: ExpiryRule = (m, now) => now - m.lastHeardMs > this.aliveExpirationMs): Member[] {
    const died: Member[] = [];
    for (const [key, m] of this.members) {
      if (m.alive && isDead(m, nowMs)) {
        m.alive = false;
        m.leader = false;
        m.leaderSinceMs = null;
        died.push(m);
      } else if (!m.alive && nowMs - m.lastHeardMs > this.forgetAfterMs) {
        this.members.delete(key);
      }
    }
    return died;
  }

  live(): Member[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  /** How many live() would return, without building the list (asked for every ALIVE taken in relay mode). */
  liveCount(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.alive) n++;
    return n;
  }

  get(key: MemberKey): Member | undefined {
    return this.members.get(key);
  }

  /** Members remembered, live or dead (for tests: forgotten ones are not). */
  get size(): number {
    return this.members.size;
  }
}
