// A fleet of boards running the real gossip code (GossipNode and everything it wires: membership,
// election, leadership, push, pull, catch-up, the block server, the message encoding) over a SimNetwork,
// on one VirtualClock, with SimPeers and a SimOrderer. What is a stand-in and why: simPeer.ts and
// standInCodec.ts. Used by the node's unit tests (a few boards, real signatures) and by the fleet
// simulator (fleetSim.ts, `npm run simulate`).
import { BlockVerifier } from '../../../src/channel/blockVerifier.js';
import { seededRandom } from '../../../src/config/random.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import { GossipNode, type GossipLimits } from '../../../src/gossip/gossipNode.js';
import { type GossipCodec, signedGossipCodec } from '../../../src/gossip/messages.js';
import type { GossipMessageKind, GossipMetricsSink } from '../../../src/gossip/seams.js';
import { type Logger, silentLogger } from '../../../src/observability/logger.js';
import type { BlockFormat } from '../../../src/protocol/blockFormat.js';
import { type SimChannel, makeSimChannel } from './simChannel.js';
import { type LinkModel, SimNetwork } from './simNetwork.js';
import { type SimLedger, SimOrderer, SimPeer } from './simPeer.js';
import { standInCodec } from './standInCodec.js';
import { VirtualClock } from './virtualClock.js';

export interface SimFleetOptions {
  boards: number;
  orgs: number;
  seed: number;
  link: LinkModel;
  /** One-way delay between the orderer and a board streaming from it. */
  ordererLatencyMs: number;
  /** Time one commit run takes on a board. */
  commitMs: number;
  /** Blocks a board holds verified and not committed (its payload buffer). */
  bufferBlocksMax: number;
  limits: Partial<GossipLimits>;
  /** 'signed': the real Ed25519 codec; 'stand-in': the same bytes, neither signed nor checked (standInCodec.ts). */
  codec: 'signed' | 'stand-in';
  /** 'signatures': the peer's real BlockVerifier; 'chain': everything but the orderer's signatures (simPeer.ts). */
  verifier: 'signatures' | 'chain';
  txDataBytes: number;
  /** Each board's bootstrap list: every other board, or this many chosen at random (seeded). */
  bootstrap: 'all' | number;
  /** The block format boards are given (default edgepeer's). */
  format?: BlockFormat;
  log?: Logger;
}

export const simFleetDefaults: Omit<SimFleetOptions, 'boards' | 'orgs' | 'seed'> = {
  link: { latencyMs: 1, jitterMs: 0, loss: 0 },
  ordererLatencyMs: 1,
  commitMs: 1,
  bufferBlocksMax: 4096,
  limits: {},
  codec: 'signed',
  verifier: 'signatures',
  txDataBytes: 256,
  bootstrap: 'all',
};

/** What one board slot sent and received since the fleet started (across restarts). */
export interface BoardCounters {
  messagesOut: Record<string, number>;
  bytesOut: Record<string, number>;
  messagesIn: Record<string, number>;
  duplicates: number;
  roleChanges: number;
  dropped: number;
}

export interface SimBoard {
  index: number;
  id: string;
  org: string;
  endpoint: string;
  peer: SimPeer;
  node: GossipNode;
  running: boolean;
  counters: BoardCounters;
  /** Why its last dropped message was dropped (for test failure messages). */
  lastDrop: string | null;
}

function counting(c: BoardCounters): GossipMetricsSink {
  const add = (m: Record<string, number>, k: GossipMessageKind, v: number): void => { m[k] = (m[k] ?? 0) + v; };
  return {
    blocksReceived: () => undefined,
    duplicates: (n) => { c.duplicates += n; },
    message: (direction, kind, bytes) => {
      if (direction === 'out') {
        add(c.messagesOut, kind, 1);
        add(c.bytesOut, kind, bytes);
      } else add(c.messagesIn, kind, 1);
    },
    leader: () => undefined,
    liveMembers: () => undefined,
  };
}

export class SimFleet {
  readonly clock = new VirtualClock();
  readonly network: SimNetwork;
  readonly orderer: SimOrderer;
  readonly channel: SimChannel;
  readonly boards: SimBoard[] = [];
  readonly limits: GossipLimits;
  private readonly log: Logger;
  private readonly netRandom: () => number;
  private readonly bootstrapRandom: () => number;

  constructor(readonly o: SimFleetOptions) {
    this.limits = { ...gossipDefaults, ...o.limits };
    this.log = o.log ?? silentLogger();
    // One generator per concern, each from the seed: a change in how often one is drawn leaves the others.
    this.netRandom = seededRandom(o.seed * 7 + 1);
    this.bootstrapRandom = seededRandom(o.seed * 7 + 2);
    this.network = new SimNetwork(this.clock, this.netRandom, o.link, Math.min(this.limits.outboundIdleTimeoutMs, this.limits.connectionIdleTimeoutMs));
    this.channel = makeSimChannel({ channel: 'simchannel', orgs: o.orgs, boards: o.boards, seed: o.seed, nowMs: this.clock.now(), txDataBytes: o.txDataBytes });
    this.orderer = new SimOrderer(this.clock, this.channel, o.ordererLatencyMs);
    for (const [index, b] of this.channel.boards.entries()) {
      const counters: BoardCounters = { messagesOut: {}, bytesOut: {}, messagesIn: {}, duplicates: 0, roleChanges: 0, dropped: 0 };
      const board: SimBoard = {
        index, id: b.id, org: b.org, endpoint: `sim:${b.id}`, running: false, lastDrop: null, counters, ...this.makeBoard(index, counters),
      };
      this.wire(board);
      this.boards.push(board);
    }
  }

  private bootstrapOf(index: number): string[] {
    const n = this.o.boards;
    if (this.o.bootstrap === 'all') return this.channel.boards.filter((_, i) => i !== index).map((b) => `sim:${b.id}`);
    const out = new Set<string>();
    const want = Math.min(this.o.bootstrap, n - 1);
    while (out.size < want) {
      const j = Math.floor(this.bootstrapRandom() * n);
      if (j !== index) out.add(`sim:${this.channel.boards[j]!.id}`);
    }
    return [...out].sort();
  }

  /** A board as it starts: a peer with an empty ledger (genesis only) and its gossip node. */
  private makeBoard(index: number, counters: BoardCounters, ledger?: SimLedger): { peer: SimPeer; node: GossipNode } {
    const ident = this.channel.boards[index]!;
    const peer = new SimPeer({
      boardId: ident.id, org: ident.org, channel: this.channel.config.channel, clock: this.clock, orderer: this.orderer,
      commitMs: this.o.commitMs, bufferBlocksMax: this.o.bufferBlocksMax,
      ...(ledger !== undefined ? { ledger } : {}),
      ...(this.o.verifier === 'signatures' ? { verifier: (tip: number, hash: Uint8Array) => new BlockVerifier(this.channel.state, tip, hash) } : {}),
    });
    const endpoint = `sim:${ident.id}`;
    const codec: GossipCodec = this.o.codec === 'signed'
      ? signedGossipCodec(this.channel.config.channel, ident.signer, this.channel.state, this.limits.messageTimeWindowMs)
      : standInCodec(this.channel.config.channel, ident.signer.certificate, this.limits.messageTimeWindowMs);
    const node = new GossipNode({
      peer, ledger: peer.ledger, channelState: this.channel.state, signer: ident.signer, listen: endpoint, bootstrap: this.bootstrapOf(index),
      clock: this.clock, random: seededRandom(this.o.seed * 7919 + index * 104_729 + this.clock.now() % 1_000_003), log: this.log,
      limits: this.o.limits, transport: this.network.transport(endpoint), codec,
      ...(this.o.format !== undefined ? { format: this.o.format } : {}),
      metrics: counting(counters),
    });
    return { peer, node };
  }

  private wire(b: SimBoard): void {
    b.node.on('role', () => { b.counters.roleChanges++; });
    b.node.on('dropped', (sender, reason) => {
      b.counters.dropped++;
      b.lastDrop = `${sender}: ${reason}`;
    });
  }

  /** Starts every board (their first ALIVEs go out at once, in board order). */
  async startAll(): Promise<void> {
    for (const b of this.boards) {
      if (b.running) continue;
      await b.node.start();
      b.running = true;
    }
  }

  /** Stops a board (it says it is leaving, as a SIGTERMed board does); its peer commits what it holds. */
  async stopBoard(index: number): Promise<void> {
    const b = this.boards[index]!;
    if (!b.running) return;
    b.running = false;
    await b.node.stop();
    b.peer.stop();
  }

  /** Starts a stopped board again with an empty ledger (genesis only) and a new incarnation. */
  async restartEmpty(index: number): Promise<void> {
    const b = this.boards[index]!;
    await this.stopBoard(index);
    Object.assign(b, this.makeBoard(index, b.counters));
    this.wire(b);
    await b.node.start();
    b.running = true;
  }

  /** Starts a stopped board again over its ledger (a restarted process over its data folder). */
  async resumeBoard(index: number): Promise<void> {
    const b = this.boards[index]!;
    if (b.running) return;
    Object.assign(b, this.makeBoard(index, b.counters, b.peer.ledger));
    this.wire(b);
    await b.node.start();
    b.running = true;
  }

  /** Cuts `count` blocks at `perSecond`, the first at `startMs` (default: now). */
  scheduleLoad(count: number, perSecond: number, startMs = this.clock.exactNow()): void {
    const periodMs = 1000 / perSecond;
    for (let i = 0; i < count; i++) this.clock.schedule(startMs + i * periodMs, () => { this.orderer.cut(); });
  }

  running(): SimBoard[] {
    return this.boards.filter((b) => b.running);
  }

  /** Every running board holds the orderer's whole chain. */
  converged(): boolean {
    const h = this.orderer.height;
    return this.boards.every((b) => !b.running || b.peer.height >= h);
  }

  /** Boards streaming from the orderer, by org. */
  deliveringByOrg(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const b of this.boards) if (b.running && b.peer.isDelivering) out.set(b.org, [...(out.get(b.org) ?? []), b.id]);
    return out;
  }

  /** Every org has exactly one board streaming, and every running board of the org names it leader. */
  settled(): boolean {
    const delivering = this.deliveringByOrg();
    const orgs = new Set(this.boards.map((b) => b.org));
    for (const org of orgs) {
      const d = delivering.get(org);
      if (d === undefined || d.length !== 1) return false;
      if (this.boards.some((b) => b.running && b.org === org && b.node.leader !== d[0])) return false;
    }
    return true;
  }

  async stop(): Promise<void> {
    for (const b of this.boards) await this.stopBoard(b.index);
  }
}
