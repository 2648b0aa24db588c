// A board's peer for one channel: ledger, verifier, payload buffer, commit loop and deliver client,
// wired together. Blocks flow deliver client → verifier → payload buffer → committer → ledger.
import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../config/clock.js';
import { deliverClientDefaults, peerDefaults } from './peerDefaults.js';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { mqttDefaults } from '../transport/mqtt/mqttDefaults.js';
import { toHex } from '../crypto/hash.js';
import type { ChainRules } from '../ledger/chainRules.js';
import type { BlockLedger } from '../ledger/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { PeerMetrics } from '../observability/metrics.js';
import type { ReportedPeerStatus } from '../observability/statusReport.js';
import { HASH_BYTES } from '../protocol/block.js';
import { type BlockReader, RunResult, type RunVerifier } from '../protocol/blockFormat.js';
import type { Signer } from '../protocol/envelope.js';
import type { ClientLink } from '../transport/link.js';
import { Committer } from './committer.js';
import { type ForkReport, forkErrorText, forkReportOf } from './fork.js';
import { type BlockSink, DeliverClient, type DeliverClientLimits, type DeliverClientState } from './deliverClient.js';
import { PayloadBuffer } from './payloadBuffer.js';
import { type RoleSource, soloLeader } from './role.js';
import { SyncTracker } from './syncTracker.js';
import { type UplinkHealth, UplinkMonitor } from './uplinkHealth.js';

export interface PeerLimits {
  payloadBufferSlots: number;
  commitRunMaxBlocks: number;
  deliver: DeliverClientLimits;
}

export const defaultPeerLimits: PeerLimits = {
  payloadBufferSlots: peerDefaults.payloadBufferSlots,
  commitRunMaxBlocks: peerDefaults.commitRunMaxBlocks,
  deliver: { ...deliverClientDefaults, connectTimeoutMs: mqttDefaults.connectTimeoutMs },
};

export interface PeerOptions {
  boardId: string;
  ledger: BlockLedger;
  /** The channel's chain: its format, trust anchor and verification (edgepeerChainRules, or a Fabric channel's). */
  rules: ChainRules;
  signer: Signer;
  links: ClientLink[];
  log: Logger;
  clock?: Clock;
  metrics?: PeerMetrics;
  limits?: Partial<Omit<PeerLimits, 'deliver'>> & { deliver?: Partial<DeliverClientLimits> };
  /** Who decides the board's role (the gossip node's leader election); default: its own leader (soloLeader). */
  role?: RoleSource;
  /**
   * The orderer's response packing limit on the link to `endpoint`, for the sync judgement
   * (src/peer/syncTracker.ts); default deliverDefaults.maxResponseBytes, the MQTT links' limit.
   */
  responsePackingLimitBytes?: (endpoint: string) => number;
  /** Whether start() starts the deliver client (default true); gossip starts it only while leading. */
  deliverAtStart?: boolean;
}

/** Where blocks offered to the peer came from. */
export type BlockSource = 'orderer' | 'gossip';

/** The peer's part of the board's status report (src/observability/statusReport.ts). */
export interface PeerStatus extends ReportedPeerStatus {
  deliver: DeliverClientState;
}

export interface PeerEvents {
  committed: [height: number];
  rejected: [reason: string, detail: string];
  stopped: [reason: string];
  /** An orderer-signed block conflicts with the board's chain: it takes no more blocks (see src/peer/fork.ts). */
  forked: [fork: ForkReport];
  /**
   * Blocks newly verified and buffered (not yet committed), with where they came from; for gossip. The
   * bytes may be reused once the block is committed (the deliver client's ingress ring): copy to keep.
   */
  accepted: [blocks: Uint8Array[], source: BlockSource];
}

export class Peer extends EventEmitter<PeerEvents> implements BlockSink {
  private readonly ledger: BlockLedger;
  private readonly verifier: RunVerifier;
  private readonly reader: BlockReader;
  private readonly buffer: PayloadBuffer;
  private readonly committer: Committer;
  private readonly deliver: DeliverClient;
  private readonly clock: Clock;
  private readonly uplinkMonitor = new UplinkMonitor();
  private readonly result = new RunResult();
  private readonly sync = new SyncTracker();
  /** Header hashes of the run being verified: one slot per block a Deliver response can carry. */
  private hashScratch: Uint8Array;
  private committedCount = 0;
  private rejectedCount = 0;
  private errorText: string | null = null;
  /** Set once, for good: a board on a fork takes no block from anyone until an operator recovers it. */
  private forkValue: ForkReport | null = null;
  private delivering = false;
  /** setDelivering calls, in order: a start must not overtake the stop before it. */
  private deliverSwitch: Promise<void> = Promise.resolve();
  readonly channel: string;

  constructor(private readonly o: PeerOptions) {
    super();
    const limits: PeerLimits = {
      ...defaultPeerLimits,
      ...o.limits,
      deliver: { ...defaultPeerLimits.deliver, ...o.limits?.deliver },
    };
    const clock = o.clock ?? systemClock;
    this.clock = clock;
    this.ledger = o.ledger;
    this.channel = o.ledger.channel;
    if (o.rules.format.name !== o.ledger.format.name) {
      throw new Error(`channel ${this.channel}: the ledger holds ${o.ledger.format.name} blocks, the channel's are ${o.rules.format.name}`);
    }
    this.verifier = o.rules.anchor(this.ledger, (n) => o.log.info({ channel: this.channel, block: n }, 'configuration block verified'));
    this.reader = o.rules.format.reader();
    const height = this.ledger.height();
    this.buffer = new PayloadBuffer(limits.payloadBufferSlots, height);
    this.hashScratch = new Uint8Array(1024 * HASH_BYTES);
    const channelLabel = { channel: this.channel };
    this.committer = new Committer(this.ledger, this.buffer, limits.commitRunMaxBlocks, {
      committed: (h, n) => {
        this.committedCount += n;
        o.metrics?.ledgerHeight.set(channelLabel, h);
        o.metrics?.blocksCommitted.inc(channelLabel, n);
        this.emit('committed', h);
        this.deliver.resume();
      },
      failed: (err) => {
        this.errorText = `commit failed: ${err.message}`;
        o.log.fatal({ channel: this.channel, err: err.message }, 'commit failed; this channel stops committing');
        void this.deliver.stop();
        this.emit('stopped', this.errorText);
      },
    });
    o.metrics?.ledgerHeight.set({ channel: this.channel }, height);
    this.deliver = new DeliverClient({
      channel: this.channel,
      links: o.links,
      signer: o.signer,
      sink: this,
      clock,
      log: o.log,
      limits: limits.deliver,
      // Responses are taken from the orderers of the configuration the board has verified up to now.
      responderTrust: o.rules.responderTrust(),
      committedHeight: () => this.ledger.height(),
      events: {
        state: (s) => {
          // Pulling, or trying to: what `edgepeer health` judges the silence of (src/observability/boardHealth.ts).
          o.metrics?.deliverActive.set({ channel: this.channel }, s === 'idle' || s === 'stopped' ? 0 : 1);
          if (s === 'streaming') {
            this.sync.streamOpened(o.responsePackingLimitBytes?.(this.deliver.endpoint) ?? deliverDefaults.maxResponseBytes);
          } else {
            this.sync.streamClosed();
          }
        },
        response: (blocks) => {
          o.metrics?.deliverLastResponse.set({ channel: this.channel }, clock.now() / 1000);
          this.uplinkMonitor.heard(clock.now());
          this.sync.response(blocks);
        },
        // Forged and replayed responses are counted here and change nothing else (docs/protocol.md §4.1).
        dropped: (reason) => o.metrics?.linkMessagesDropped.inc({ reason: `deliver-${reason}` }),
        gaveUp: (reason) => {
          o.metrics?.deliverStopped.set({ channel: this.channel }, 1);
          this.errorText = reason;
          this.emit('stopped', reason);
        },
      },
    });
    for (const l of o.links) {
      l.on('state', (s) => o.metrics?.ordererLinkUp.set({ endpoint: l.endpoint }, s === 'up' ? 1 : 0));
    }
  }

  start(): void {
    if (this.o.deliverAtStart ?? true) {
      this.delivering = true;
      this.uplinkMonitor.started(this.clock.now());
      this.deliver.start();
    }
  }

  /** Starts or stops pulling from the orderer (the gossip leader pulls, followers do not). */
  setDelivering(on: boolean): Promise<void> {
    this.deliverSwitch = this.deliverSwitch.then(async () => {
      if (on === this.delivering) return;
      // A forked board pulls no more (gossip's leadership may still ask it to): asking again cannot help.
      if (on && this.forkValue !== null) return;
      this.delivering = on;
      if (on) {
        this.uplinkMonitor.started(this.clock.now());
        this.deliver.start();
      } else {
        this.uplinkMonitor.stopped();
        await this.deliver.stop();
      }
    });
    return this.deliverSwitch;
  }

  /** How the uplink fares: when the deliver client last heard from the orderer, and whether a link is up (gossip's leader yields on it). */
  uplink(): UplinkHealth {
    return this.uplinkMonitor.health(this.o.links.some((l) => l.state === 'up'));
  }

  /** Whether the deliver client is running (started and not stopped). */
  get isDelivering(): boolean {
    return this.delivering;
  }

  /** BlockSink: where a new seek starts. */
  nextNumber(): number {
    return this.verifier.tipNumber + 1;
  }

  /** BlockSink: verify and buffer blocks[from..] as far as the buffer has room. */
  offer(blocks: Uint8Array[], from: number): number {
    return this.take(blocks, from, 'orderer');
  }

  /**
   * Blocks another board gossiped: verified exactly like delivered ones (never trusted). Returns how
   * many were taken (or already had), -1 when one was rejected.
   */
  offerFromGossip(blocks: Uint8Array[], from: number): number {
    return this.take(blocks, from, 'gossip');
  }

  /** The fork this board found, or null (see src/peer/fork.ts). */
  get fork(): ForkReport | null {
    return this.forkValue;
  }

  get isForked(): boolean {
    return this.forkValue !== null;
  }

  private take(blocks: Uint8Array[], from: number, source: BlockSource): number {
    // Nothing is taken on a fork, from anyone: the board serves what it holds, unchanged.
    if (this.forkValue !== null) return 0;
    const inBuffer = this.verifier.tipNumber + 1 - this.buffer.next;
    const room = this.buffer.capacity - inBuffer;
    const count = Math.min(blocks.length - from, room);
    if (count <= 0) return 0;
    if (this.hashScratch.length < count * HASH_BYTES) this.hashScratch = new Uint8Array(count * HASH_BYTES);
    const r = this.result;
    this.verifier.verifyRun(blocks, from, count, this.hashScratch, r);
    const first = from + r.duplicates;
    for (let i = first; i < first + r.good; i++) {
      const b = blocks[i]!;
      // Verified, so it locates.
      this.reader.locate(b);
      this.buffer.push(this.reader.number(b), b, this.hashScratch, (i - from) * HASH_BYTES);
    }
    if (r.good > 0) {
      this.committer.schedule();
      if (this.listenerCount('accepted') > 0) this.emit('accepted', blocks.slice(first, first + r.good), source);
    }
    if (r.reason === 'fork') {
      this.forked(forkReportOf(r, source, source === 'orderer' ? this.deliver.endpoint : null));
      return -1;
    }
    if (r.badIndex >= 0) {
      this.rejectedCount++;
      this.o.metrics?.blocksRejected.inc({ channel: this.channel, reason: r.reason ?? 'unknown' });
      if (source === 'gossip') {
        this.o.log.warn({ channel: this.channel, block: r.badNumber, reason: r.reason, detail: r.detail }, 'gossiped block rejected');
      } else {
        this.o.log.warn({ channel: this.channel, block: r.badNumber, reason: r.reason, detail: r.detail, endpoint: this.deliver.endpoint },
          'block rejected; restarting the stream from the ledger height');
      }
      this.emit('rejected', r.reason ?? 'unknown', r.detail);
      return -1;
    }
    return r.duplicates + r.good;
  }

  /**
   * The board's chain and an orderer-signed one conflict. Re-requesting would bring the same block for
   * ever, so the deliver client is stopped (no retry loop), the fork is reported once, and the ledger is
   * left as it is (what was verified before the conflicting block is still committed).
   */
  private forked(fork: ForkReport): void {
    this.forkValue = fork;
    this.errorText = forkErrorText(fork);
    const channelLabel = { channel: this.channel };
    this.o.metrics?.forkDetected.set(channelLabel, 1);
    this.o.metrics?.forkBlock.set(channelLabel, fork.block);
    this.o.log.error({
      channel: this.channel, block: fork.block, hash: fork.heldHash, conflictingHash: fork.conflictingHash,
      offeredBlock: fork.offeredBlock, source: fork.source, endpoint: fork.endpoint,
    }, 'fork detected; this board takes no more blocks until an operator recovers it');
    this.sync.forked();
    this.delivering = false;
    this.uplinkMonitor.stopped();
    // At once, before the client can retry the stream it is ending; a later setDelivering(true) is refused above.
    void this.deliver.stop();
    this.emit('forked', fork);
    this.emit('stopped', this.errorText);
  }

  /** Deliver responses copied into the ingress ring, and those that got a buffer of their own. */
  get ingress(): { inRing: number; outsideRing: number } {
    return { inRing: this.deliver.responsesInRing, outsideRing: this.deliver.responsesOutsideRing };
  }

  /** Committed height, without building a whole status report. */
  get height(): number {
    return this.ledger.height();
  }

  status(): PeerStatus {
    const link = this.o.links.find((l) => l.endpoint === this.deliver.endpoint) ?? this.o.links[0]!;
    return {
      board: this.o.boardId,
      channel: this.channel,
      height: this.ledger.height(),
      lastHash: toHex(this.ledger.lastHash()),
      link: link.state,
      endpoint: link.endpoint,
      deliver: this.deliver.state,
      committed: this.committedCount,
      rejected: this.rejectedCount,
      error: this.errorText,
      // A fork outranks what a follower's neighbours say: the tracker holds it for good.
      sync: this.delivering || this.sync.state === 'forked' ? this.sync.state : (this.o.role?.followerSync?.() ?? this.sync.state),
      role: (this.o.role ?? soloLeader).role(),
    };
  }

  /** Stops delivering, commits what is verified, leaves the ledger to its owner to close. */
  async stop(): Promise<void> {
    await this.deliverSwitch;
    this.delivering = false;
    await this.deliver.stop();
    await this.committer.flush();
  }
}
