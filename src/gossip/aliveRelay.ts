// How ALIVEs reach a fleet larger than aliveDirectMembersMax ("relay mode", docs/protocol.md §12b.3), as
// SWIM and Fabric's gossip disseminate membership: each interval a board sends its own signed ALIVE to
// aliveFanout random members, and with it the ALIVEs it accepted from others since its last send, each
// relayed once (infect-and-die: an ALIVE not newer than what a board holds is stale there and goes no
// further). What this file holds: which mode a board is in, the queue of ALIVEs to relay (bounded), which
// of them one message carries, and when a member heard only now and then counts as dead.
import type { Member, MemberKey } from './membership.js';

export interface AliveRelayLimits {
  aliveExpirationMs: number;
  aliveDirectMembersMax: number;
  aliveFanout: number;
  aliveRelayedPerMessageMax: number;
  aliveRelayedBytesPerMessageMax: number;
  aliveRelayedEntryBytesMax: number;
  aliveRelayPendingMax: number;
  aliveRelayExpirationPerRoundMs: number;
}

/** Entries one ALIVES message may carry besides the relayed ones: the sender's own, its org's leader's. */
export const ALIVES_OWN_ENTRIES = 2;

/** Whether a board that knows `liveMembers` live members (itself excluded) relays rather than sends to all. */
export function relayMode(liveMembers: number, l: AliveRelayLimits): boolean {
  return liveMembers > l.aliveDirectMembersMax;
}

/**
 * The silence after which a member heard by relay is dead: aliveExpirationMs, plus
 * aliveRelayExpirationPerRoundMs for every aliveFanout x aliveRelayedPerMessageMax live members, and one
 * more. Each board relays at most aliveRelayedPerMessageMax ALIVEs to aliveFanout members per interval,
 * so a fleet of N boards delivers about N x aliveFanout x aliveRelayedPerMessageMax relayed ALIVEs per
 * interval while N x N would refresh every view once: a view is refreshed about once every
 * N / (aliveFanout x aliveRelayedPerMessageMax) intervals, and the expiry grows with that. The extra
 * round is the tail: relays go to random members, so some pairs go unrefreshed far longer than the mean
 * (longest silences measured in the simulator, no member dying: 21 s at 100 boards, 38 s at 300, 39 s
 * in 30 s at 1,000; the expiry there: 29, 53 and 113 s).
 */
export function relayExpirationMs(liveMembers: number, l: AliveRelayLimits): number {
  const rounds = 1 + Math.ceil(liveMembers / (l.aliveFanout * l.aliveRelayedPerMessageMax));
  return l.aliveExpirationMs + rounds * l.aliveRelayExpirationPerRoundMs;
}

/**
 * When a live member counts as dead. Direct mode: not heard within aliveExpirationMs, as before relays
 * existed, except a member last heard by relay (a board that has just left relay mode), which gets
 * the relay expiry. Relay mode: not heard for relayExpirationMs; but a board of this org that leads and
 * has been heard straight from since it began to lead (it sends its ALIVE to its whole org every
 * interval) is dead when not heard for aliveExpirationMs, so the org notices a dead leader as quickly as
 * a small fleet does. Heard by any path: a relayed ALIVE newer than its last direct one was signed since.
 */
export function aliveExpiryRule(
  o: { org: string; liveMembers: number; limits: AliveRelayLimits },
): (m: Member, nowMs: number) => boolean {
  const l = o.limits;
  const relayed = relayExpirationMs(Math.max(o.liveMembers, l.aliveDirectMembersMax + 1), l);
  if (!relayMode(o.liveMembers, l)) {
    return (m, now) => now - m.lastHeardMs > (m.lastDirectMs !== null && m.lastDirectMs >= m.lastHeardMs ? l.aliveExpirationMs : relayed);
  }
  return (m, now) => {
    if (now - m.lastHeardMs > relayed) return true;
    return expectsDirect(m, o.org) && now - m.lastHeardMs > l.aliveExpirationMs;
  };
}

/** A leader of `org` heard straight from since it began to lead: it is expected so every interval. */
export function expectsDirect(m: Member, org: string): boolean {
  return m.org === org && m.leader && m.leaderSinceMs !== null && m.lastDirectMs !== null && m.lastDirectMs >= m.leaderSinceMs;
}

/**
 * ALIVEs accepted since the last send and not yet relayed: one per member (the newest), at most
 * aliveRelayPendingMax (the oldest dropped first). `take` empties it: what the next message does not
 * carry is never relayed (the member's next ALIVE is on its way), so nothing is held for long.
 */
export class AliveRelayQueue {
  private readonly pending = new Map<MemberKey, Uint8Array>();

  constructor(private readonly l: AliveRelayLimits) {}

  get size(): number {
    return this.pending.size;
  }

  /** An ALIVE of `key` newer than any before was accepted; false when too large to relay. */
  offer(key: MemberKey, bytes: Uint8Array): boolean {
    if (bytes.length > this.l.aliveRelayedEntryBytesMax) return false;
    this.pending.delete(key);
    this.pending.set(key, bytes);
    if (this.pending.size > this.l.aliveRelayPendingMax) this.pending.delete(this.pending.keys().next().value!);
    return true;
  }

  /**
   * The newest pending ALIVEs, newest first, up to aliveRelayedPerMessageMax and
   * aliveRelayedBytesPerMessageMax, except those in `skip` (carried anyway); the queue is empty after.
   */
  take(skip: ReadonlySet<Uint8Array> = new Set()): Uint8Array[] {
    const all = [...this.pending.values()];
    this.pending.clear();
    const out: Uint8Array[] = [];
    let bytes = 0;
    for (let i = all.length - 1; i >= 0 && out.length < this.l.aliveRelayedPerMessageMax; i--) {
      const e = all[i]!;
      if (skip.has(e) || bytes + e.length > this.l.aliveRelayedBytesPerMessageMax) continue;
      bytes += e.length;
      out.push(e);
    }
    return out;
  }

  clear(): void {
    this.pending.clear();
  }
}

/**
 * Which entries of a received ALIVES message are opened: the first ALIVES_OWN_ENTRIES +
 * aliveRelayedPerMessageMax, each at most aliveRelayedEntryBytesMax, together at most
 * aliveRelayedBytesPerMessageMax + ALIVES_OWN_ENTRIES x aliveRelayedEntryBytesMax. Returns how many are
 * taken (a prefix) and why the rest are not (null: all taken); entries too large are skipped one by one.
 */
export function alivesTaken(entries: readonly Uint8Array[], l: AliveRelayLimits): { count: number; cut: string | null } {
  const countMax = ALIVES_OWN_ENTRIES + l.aliveRelayedPerMessageMax;
  const bytesMax = l.aliveRelayedBytesPerMessageMax + ALIVES_OWN_ENTRIES * l.aliveRelayedEntryBytesMax;
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    if (i >= countMax) return { count: i, cut: `ALIVES of ${entries.length} entries: those past ${countMax} are not opened` };
    bytes += Math.min(entries[i]!.length, l.aliveRelayedEntryBytesMax + 1);
    if (bytes > bytesMax) return { count: i, cut: `ALIVES entries past ${bytesMax} bytes are not opened` };
  }
  return { count: entries.length, cut: null };
}
