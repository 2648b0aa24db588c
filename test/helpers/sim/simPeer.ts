// The board side of a simulated fleet, behind the seams gossip sees (GossipPeer, GossipLedger): a peer
// that verifies what it is offered, buffers it and commits it in runs after a modelled commit time; an
// in-memory ledger; and the orderer's Deliver streams, with their link delay, to the boards that lead.
//
// Stand-ins, and why (docs/design.md, gossip simulator):
// - The ledger keeps its height and reads blocks from the orderer's chain. A run is appended only after
//   its bytes were compared with the orderer's blocks, so this is exact, and a thousand boards do not
//   hold a thousand copies of the chain.
// - ChainVerifier checks every block's layout, number, previous-hash link and data hash with the real
//   block reader, but not the orderer's signature: Ed25519 at ~0.1 ms a block is what would make a
//   thousand boards slow to simulate, and no simulated board forges. The unit tests of the node pass the
//   real BlockVerifier instead (src/channel/blockVerifier.ts).
import { EventEmitter } from 'node:events';
import { edgepeerBlockFormat } from '../../../src/channel/edgepeerFormat.js';
import type { GossipLedger } from '../../../src/gossip/gossipNode.js';
import type { GossipPeer, PeerBlockSource } from '../../../src/gossip/seams.js';
import type { UplinkHealth } from '../../../src/peer/uplinkHealth.js';
import type { BlockVisitor } from '../../../src/ledger/ledger.js';
import { HASH_BYTES } from '../../../src/protocol/block.js';
import { type BlockReader, RunResult, type RunVerifier } from '../../../src/protocol/blockFormat.js';
import type { TimerHandle } from '../../../src/config/clock.js';
import type { SimChannel } from './simChannel.js';
import type { VirtualClock } from './virtualClock.js';

/** Verifies the hash chain of every block (the real reader), not the orderer's signatures (see above). */
export class ChainVerifier implements RunVerifier {
  private tip: number;
  private readonly tipHashBytes = new Uint8Array(HASH_BYTES);
  private readonly reader: BlockReader = edgepeerBlockFormat.reader();

  constructor(tipNumber: number, tipHash: Uint8Array) {
    this.tip = tipNumber;
    this.tipHashBytes.set(tipHash);
  }

  get tipNumber(): number {
    return this.tip;
  }

  get tipHash(): Uint8Array {
    return this.tipHashBytes;
  }

  verifyRun(blocks: ArrayLike<Uint8Array>, from: number, count: number, hashOut: Uint8Array, r: RunResult): void {
    r.reset();
    const rd = this.reader;
    let i = from;
    while (i < from + count && rd.locate(blocks[i]!) && rd.number(blocks[i]!) <= this.tip) i++;
    r.duplicates = i - from;
    for (; i < from + count; i++) {
      const b = blocks[i]!;
      const bad = (reason: RunResult['reason'], detail: string): void => {
        r.badIndex = i;
        r.reason = reason;
        r.detail = detail;
        r.badNumber = rd.locate(b) ? rd.number(b) : -1;
      };
      if (!rd.locate(b)) { bad('layout', rd.locateError); return; }
      if (rd.number(b) !== this.tip + 1) { bad('number', `expected block ${this.tip + 1}, got ${rd.number(b)}`); return; }
      if (!rd.previousHashEquals(b, this.tipHashBytes, 0)) { bad('previous-hash', `block ${this.tip + 1} does not chain`); return; }
      if (!rd.dataHashValid(b)) { bad('data-hash', `block ${this.tip + 1} data does not match its data hash`); return; }
      rd.hashInto(b, hashOut, (i - from) * HASH_BYTES);
      this.tipHashBytes.set(hashOut.subarray((i - from) * HASH_BYTES, (i - from + 1) * HASH_BYTES));
      this.tip++;
      r.good++;
    }
  }
}

/** The orderer of a simulated channel: cuts blocks on demand, and streams them to the boards that lead. */
export class SimOrderer {
  /** The chain, genesis first: the ground truth every ledger is compared with. */
  readonly chain: Uint8Array[];
  /** Virtual time each block was cut (genesis: 0). */
  readonly cutAt: number[] = [0];
  private lastHash: Uint8Array;
  private readonly streams = new Set<SimDeliverStream>();
  /** Every stream opened: who, when, and when it closed (null: open). */
  readonly streamLog: { board: string; org: string; openedMs: number; closedMs: number | null }[] = [];

  constructor(private readonly clock: VirtualClock, private readonly channel: SimChannel, readonly linkLatencyMs: number) {
    this.chain = [channel.genesis];
    this.lastHash = edgepeerHash(channel.genesis);
  }

  get height(): number {
    return this.chain.length;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Open streams by org. */
  streamsByOrg(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.streams) out.set(s.org, (out.get(s.org) ?? 0) + 1);
    return out;
  }

  cut(): number {
    const n = this.chain.length;
    const b = this.channel.makeBlock(n, this.lastHash);
    this.chain.push(b.bytes);
    this.lastHash = b.hash;
    this.cutAt.push(this.clock.exactNow());
    for (const s of this.streams) s.sees(n + 1, this.linkLatencyMs);
    return n;
  }

  open(peer: SimPeer): SimDeliverStream {
    const s = new SimDeliverStream(this, this.clock, peer);
    this.streams.add(s);
    this.streamLog.push({ board: peer.boardId, org: peer.org, openedMs: this.clock.exactNow(), closedMs: null });
    // The seek goes up the link and the first response comes down it.
    s.sees(this.chain.length, 2 * this.linkLatencyMs);
    return s;
  }

  close(s: SimDeliverStream): void {
    if (!this.streams.delete(s)) return;
    s.closed = true;
    for (let i = this.streamLog.length - 1; i >= 0; i--) {
      const e = this.streamLog[i]!;
      if (e.board === s.peer.boardId && e.closedMs === null) {
        e.closedMs = this.clock.exactNow();
        break;
      }
    }
  }
}

/** Blocks in one Deliver response at most (the orderer's packing, deliverDefaults: small blocks). */
const DELIVER_RESPONSE_BLOCKS_MAX = 256;

export class SimDeliverStream {
  closed = false;
  /** Blocks below this have reached the board's end of the link. */
  private visible = 0;

  constructor(private readonly orderer: SimOrderer, private readonly clock: VirtualClock, readonly peer: SimPeer) {}

  get org(): string {
    return this.peer.org;
  }

  /** Blocks below `height` reach the board after `delayMs`. */
  sees(height: number, delayMs: number): void {
    this.clock.schedule(this.clock.exactNow() + delayMs, () => {
      if (this.closed) return;
      this.visible = Math.max(this.visible, height);
      this.pump();
    });
  }

  /** Offers what has arrived and the peer has room for (the deliver client's flow control). */
  pump(): void {
    while (!this.closed) {
      const next = this.peer.nextNumber();
      if (next >= this.visible) return;
      const end = Math.min(this.visible, next + DELIVER_RESPONSE_BLOCKS_MAX);
      const taken = this.peer.offerFromOrderer(this.orderer.chain.slice(next, end));
      if (taken <= 0) return;
    }
  }
}

function edgepeerHash(block: Uint8Array): Uint8Array {
  const r = edgepeerBlockFormat.reader();
  if (!r.locate(block)) throw new Error(`sim: not a block: ${r.locateError}`);
  const out = new Uint8Array(HASH_BYTES);
  r.hashInto(block, out, 0);
  return out;
}

/** A ledger whose blocks are the orderer's (compared byte for byte on append), up to its own height. */
export class SimLedger implements GossipLedger {
  private h = 1;
  /** Virtual time at which each block was appended (index: block number). */
  readonly committedAt: number[] = [];

  constructor(private readonly chain: readonly Uint8Array[]) {}

  height(): number {
    return this.h;
  }

  lastConfigNumber(): number {
    return 0;
  }

  getBlock(n: number): Uint8Array | undefined {
    return n < this.h ? this.chain[n] : undefined;
  }

  readBlocks(from: number, toInclusive: number, maxBytes: number, visit: BlockVisitor): number {
    let bytes = 0;
    let n = from;
    for (; n <= toInclusive && n < this.h; n++) {
      const b = this.chain[n]!;
      if (n > from && bytes + b.length > maxBytes) break;
      bytes += b.length;
      visit(b, n);
    }
    return n - from;
  }

  append(blocks: readonly Uint8Array[], atMs: number): void {
    for (const b of blocks) {
      const own = this.chain[this.h];
      if (own === undefined || Buffer.compare(b, own) !== 0) throw new Error(`sim ledger: block ${this.h} differs from the orderer's`);
      this.committedAt[this.h] = atMs;
      this.h++;
    }
  }

  /** Hash of the last block (where a peer restarted over this ledger resumes verifying). */
  lastHash(): Uint8Array {
    return edgepeerHash(this.chain[this.h - 1]!);
  }
}

export interface SimPeerOptions {
  boardId: string;
  org: string;
  channel: string;
  clock: VirtualClock;
  orderer: SimOrderer;
  /** A ledger to continue (a board restarted over its data); default a new one holding genesis only. */
  ledger?: SimLedger;
  /** Verifies offered runs from the ledger's tip; default ChainVerifier (no signatures: see the head of this file). */
  verifier?: (tipNumber: number, tipHash: Uint8Array) => RunVerifier;
  /** Time one commit run takes (verify is instant; the durable write is what a board waits for). */
  commitMs: number;
  /** Blocks verified and not yet committed at most (the payload buffer). */
  bufferBlocksMax: number;
}

/** The peer of a simulated board: verify → buffer → commit after commitMs, with the real peer's events. */
export class SimPeer extends EventEmitter<{ accepted: [Uint8Array[], PeerBlockSource]; committed: [number] }> implements GossipPeer {
  readonly ledger: SimLedger;
  readonly boardId: string;
  readonly org: string;
  readonly channel: string;
  private readonly verifier: RunVerifier;
  private readonly result = new RunResult();
  private hashes = new Uint8Array(64 * HASH_BYTES);
  private buffered: Uint8Array[] = [];
  private commitTimer: TimerHandle | null = null;
  private stream: SimDeliverStream | null = null;
  private stopped = false;
  rejected = 0;

  constructor(private readonly o: SimPeerOptions) {
    super();
    this.boardId = o.boardId;
    this.org = o.org;
    this.channel = o.channel;
    this.ledger = o.ledger ?? new SimLedger(o.orderer.chain);
    const tip = this.ledger.height() - 1;
    const tipHash = this.ledger.lastHash();
    this.verifier = o.verifier?.(tip, tipHash) ?? new ChainVerifier(tip, tipHash);
  }

  /** Virtual time at which each block was committed here (index: block number). */
  get committedAt(): readonly number[] {
    return this.ledger.committedAt;
  }

  get height(): number {
    return this.ledger.height();
  }

  get isDelivering(): boolean {
    return this.stream !== null;
  }

  /**
   * The simulated fleet has one orderer chain, so a SimPeer never finds a fork itself; a test sets this
   * to stand for a peer that did (src/peer/peer.ts), to see what gossip does around it.
   */
  isForked = false;

  nextNumber(): number {
    return this.verifier.tipNumber + 1;
  }

  /** The simulated orderer link never fails: an open stream counts as heard from now. */
  uplink(): UplinkHealth {
    return { lastHeardMs: this.stream === null ? null : this.o.clock.now(), reachable: true };
  }

  setDelivering(on: boolean): Promise<void> {
    if (on && this.stream === null && !this.stopped) this.stream = this.o.orderer.open(this);
    else if (!on && this.stream !== null) {
      this.o.orderer.close(this.stream);
      this.stream = null;
    }
    return Promise.resolve();
  }

  offerFromGossip(blocks: Uint8Array[], from: number): number {
    return this.take(blocks, from, 'gossip');
  }

  offerFromOrderer(blocks: Uint8Array[]): number {
    return this.take(blocks, 0, 'orderer');
  }

  /** Stops the stream and commits what is buffered (as Peer.stop does). */
  stop(): void {
    this.stopped = true;
    void this.setDelivering(false);
    if (this.commitTimer !== null) this.o.clock.clearTimeout(this.commitTimer);
    this.commitTimer = null;
    this.commit();
  }

  private take(blocks: Uint8Array[], from: number, source: PeerBlockSource): number {
    if (this.stopped) return 0;
    const room = this.o.bufferBlocksMax - this.buffered.length;
    const count = Math.min(blocks.length - from, room);
    if (count <= 0) return 0;
    if (this.hashes.length < count * HASH_BYTES) this.hashes = new Uint8Array(count * HASH_BYTES);
    const r = this.result;
    this.verifier.verifyRun(blocks, from, count, this.hashes, r);
    const first = from + r.duplicates;
    if (r.good > 0) {
      const good = blocks.slice(first, first + r.good);
      for (const b of good) this.buffered.push(b);
      this.commitTimer ??= this.o.clock.setTimeout(() => {
        this.commitTimer = null;
        this.commit();
      }, this.o.commitMs);
      this.emit('accepted', good, source);
    }
    if (r.badIndex >= 0) {
      this.rejected++;
      return -1;
    }
    return r.duplicates + r.good;
  }

  private commit(): void {
    if (this.buffered.length === 0) return;
    const run = this.buffered;
    this.buffered = [];
    this.ledger.append(run, this.o.clock.exactNow());
    this.emit('committed', this.ledger.height());
    this.stream?.pump();
  }
}
