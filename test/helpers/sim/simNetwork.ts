// An in-memory network under gossip (the GossipTransport seam, src/gossip/seams.ts), on a VirtualClock: a
// message sent from one endpoint arrives at another after the link's latency plus jitter, unless it is
// lost or the two are on different sides of a partition. Per link it keeps TCP's order (a message never
// overtakes an earlier one on the same link), as the catch-up stream's sequence numbers expect.
import type { GossipTransport, GossipTransportFactory } from '../../../src/gossip/seams.js';
import type { VirtualClock } from './virtualClock.js';

export interface LinkModel {
  /** One-way delay of every message, before jitter. */
  latencyMs: number;
  /** Uniform extra delay in [0, jitterMs) per message. */
  jitterMs: number;
  /** Probability that a message is lost (a dropped connection or a full queue: gossip is lossy, §12b.1). */
  loss: number;
}

export interface NetworkCounters {
  sent: number;
  delivered: number;
  lost: number;
  /** Sent across a partition, or to an endpoint nobody listens on. */
  unreachable: number;
  /**
   * Connections a TCP transport would have opened: sends on a link (from -> to) silent for longer than the
   * connection idle time (the sender closes it then, src/gossip/tcpTransport.ts), or never used.
   */
  connectionsOpened: number;
}

export class SimNetwork {
  private readonly receivers = new Map<string, (message: Uint8Array) => void>();
  /** When the last message on each link (from → to) arrives: later ones arrive no earlier. */
  private readonly linkTail = new Map<string, number>();
  /** Partition side of each endpoint; absent: side 0. */
  private readonly side = new Map<string, number>();
  /** Extra one-way delay of the links from or to an endpoint (a board on a slower link). */
  private readonly extraLatencyMs = new Map<string, number>();
  readonly counters: NetworkCounters = { sent: 0, delivered: 0, lost: 0, unreachable: 0, connectionsOpened: 0 };
  /** When each link (from -> to) was last written: a connection is open while younger than connectionIdleMs. */
  private readonly lastSendMs = new Map<string, number>();
  /** Every redial a board asked of its transport (the simulated links have no connections to redial). */
  readonly redials: { from: string; to: string }[] = [];
  /** Sees every message sent, before loss or partitions (tests decode what boards send). */
  tap: ((from: string, to: string, message: Uint8Array) => void) | null = null;

  /** `connectionIdleMs`: how long a link may go unwritten before its connection counts as closed. */
  constructor(
    private readonly clock: VirtualClock, private readonly random: () => number, public model: LinkModel,
    private readonly connectionIdleMs = Number.POSITIVE_INFINITY,
  ) {}

  /** The most connections open to one endpoint now (links written within connectionIdleMs), as a listener counts them. */
  inboundConnectionsMax(): number {
    const now = this.clock.exactNow();
    const open = new Map<string, number>();
    for (const [key, at] of this.lastSendMs) {
      if (now - at > this.connectionIdleMs) continue;
      const to = key.slice(key.indexOf('\n') + 1);
      open.set(to, (open.get(to) ?? 0) + 1);
    }
    return Math.max(0, ...open.values());
  }

  /** The transport of the board listening at `endpoint`. */
  transport(endpoint: string): GossipTransportFactory {
    return (onMessage) => {
      if (this.receivers.has(endpoint)) return Promise.reject(new Error(`sim network: ${endpoint} is already listening`));
      this.receivers.set(endpoint, onMessage);
      let stopped = false;
      const t: GossipTransport = {
        endpoint,
        send: (to, message) => !stopped && this.send(endpoint, to, message),
        redial: (to) => { this.redials.push({ from: endpoint, to }); },
        stop: () => {
          stopped = true;
          if (this.receivers.get(endpoint) === onMessage) this.receivers.delete(endpoint);
          return Promise.resolve();
        },
      };
      return Promise.resolve(t);
    };
  }

  /** Splits the endpoints into sides; messages between sides are lost until heal(). */
  partition(sides: readonly (readonly string[])[]): void {
    this.side.clear();
    sides.forEach((endpoints, i) => { for (const e of endpoints) this.side.set(e, i + 1); });
  }

  heal(): void {
    this.side.clear();
  }

  setExtraLatency(endpoint: string, ms: number): void {
    this.extraLatencyMs.set(endpoint, ms);
  }

  private send(from: string, to: string, message: Uint8Array): boolean {
    this.counters.sent++;
    this.tap?.(from, to, message);
    const link = `${from}\n${to}`;
    const last = this.lastSendMs.get(link);
    const now = this.clock.exactNow();
    if (last === undefined || now - last > this.connectionIdleMs) this.counters.connectionsOpened++;
    this.lastSendMs.set(link, now);
    if ((this.side.get(from) ?? 0) !== (this.side.get(to) ?? 0) || !this.receivers.has(to)) {
      // A TCP sender learns of an unreachable peer only later (a timeout, a refused connection): queued now.
      this.counters.unreachable++;
      return true;
    }
    if (this.model.loss > 0 && this.random() < this.model.loss) {
      this.counters.lost++;
      return true;
    }
    const m = this.model;
    const delay = m.latencyMs + (m.jitterMs > 0 ? this.random() * m.jitterMs : 0)
      + (this.extraLatencyMs.get(from) ?? 0) + (this.extraLatencyMs.get(to) ?? 0);
    const key = `${from}\n${to}`;
    const at = Math.max(this.clock.exactNow() + delay, this.linkTail.get(key) ?? 0);
    this.linkTail.set(key, at);
    const receive = this.receivers.get(to)!;
    this.clock.schedule(at, () => {
      // A partition or a restart in between loses what was on the wire, as a dropped TCP connection does.
      if ((this.side.get(from) ?? 0) !== (this.side.get(to) ?? 0) || this.receivers.get(to) !== receive) {
        this.counters.unreachable++;
        return;
      }
      this.counters.delivered++;
      receive(message);
    });
    return true;
  }
}
