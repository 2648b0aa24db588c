// Who is in the channel's gossip and alive: fed by authenticated ALIVE messages, judged against the clock.
import type { AliveBody } from './messages.js';

export interface Member {
  id: string;
  org: string;
  endpoint: string;
  /** Height from its last ALIVE, raised by blocks it pushed us (an ALIVE can be a second old). */
  height: number;
  incarnation: number;
  seq: number;
  /** Whether its last ALIVE said it leads its org. */
  leader: boolean;
  lastHeardMs: number;
  alive: boolean;
}

export type AliveOutcome = 'new' | 'revived' | 'updated' | 'stale';

export class Membership {
  private readonly members = new Map<string, Member>();

  constructor(private readonly selfId: string, private readonly aliveExpirationMs: number) {}

  /** Records an authenticated ALIVE; an (incarnation, seq) not newer than the last one is stale (a replay). */
  heard(a: AliveBody, nowMs: number): AliveOutcome {
    if (a.id === this.selfId) return 'stale';
    const m = this.members.get(a.id);
    if (m === undefined) {
      this.members.set(a.id, { ...a, lastHeardMs: nowMs, alive: true });
      return 'new';
    }
    if (a.incarnation < m.incarnation || (a.incarnation === m.incarnation && a.seq <= m.seq)) return 'stale';
    const revived = !m.alive;
    Object.assign(m, { endpoint: a.endpoint, incarnation: a.incarnation, seq: a.seq, leader: a.leader, lastHeardMs: nowMs, alive: true });
    m.height = Math.max(m.height, a.height);
    return revived ? 'revived' : 'updated';
  }

  /** A block numbered `number` came from `id`: it holds at least number + 1 blocks. */
  sawBlock(id: string, number: number): void {
    const m = this.members.get(id);
    if (m !== undefined && m.height < number + 1) m.height = number + 1;
  }

  /** `id` said (in a DIGEST) that it holds `height` blocks. */
  sawHeight(id: string, height: number): void {
    const m = this.members.get(id);
    if (m !== undefined && m.height < height) m.height = height;
  }

  /** `id` said it is stopping: dead now, live again at its next ALIVE (a restart has a higher incarnation). */
  left(id: string): Member | undefined {
    const m = this.members.get(id);
    if (m === undefined || !m.alive) return undefined;
    m.alive = false;
    m.leader = false;
    return m;
  }

  /** Marks members not heard within aliveExpirationMs dead; returns those that just died. */
  expire(nowMs: number): Member[] {
    const died: Member[] = [];
    for (const m of this.members.values()) {
      if (m.alive && nowMs - m.lastHeardMs > this.aliveExpirationMs) {
        m.alive = false;
        died.push(m);
      }
    }
    return died;
  }

  live(): Member[] {
    return [...this.members.values()].filter((m) => m.alive);
  }

  get(id: string): Member | undefined {
    return this.members.get(id);
  }
}
