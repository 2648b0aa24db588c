// The gateway's follow loop, in the manner of Fabric's blocksprovider (internal/pkg/peer/blocksprovider):
// ask an ordering node (or a peer) for every block from the ledger height on, without end; verify each
// run of blocks received before storing it (the gateway trusts the orderer no more than a board trusts
// the gateway); on any failure (cannot connect, stream lost, a Deliver status, a block that does not
// verify) drop the stream, wait (src/config/backoff.ts: the project's one jittered policy, never below its
// base, reset by a stored run) and ask the next endpoint, again from the ledger height,
// so a restart or a reconnect neither skips nor repeats a block.
//
// States: idle -> connecting -> streaming -> (failure) backingOff -> connecting ...; stop() from any
// state -> stopped; a ledger that refuses a verified run -> failed (the ledger and the verifier
// disagree: nothing more can be stored safely; the process should stop and be restarted).
import { Backoff, type BackoffPolicy } from '../config/backoff.js';
import type { Clock, TimerHandle } from '../config/clock.js';
import { RunResult, type RunVerifier } from '../protocol/blockFormat.js';
import type { Logger } from '../observability/logger.js';
import { fabricStatusName } from './deliverResponse.js';
import type { DeliverAnswer } from './deliverResponse.js';
import { type DeliverConnector, type DeliverStream, type FabricEndpoint, type StreamEnd, endpointName } from './deliverConnector.js';
import type { FabricSigner } from './mspIdentity.js';
import { signedSeekEnvelope } from './seekEnvelope.js';

/** Bytes per block hash in a RunVerifier's hash output (blockFormat.ts: 32 per block). */
const HASH_BYTES = 32;

export type FollowState = 'idle' | 'connecting' | 'streaming' | 'backingOff' | 'stopped' | 'failed';

/** What the loop stores into: the gateway's ledger (BlockLedger satisfies it). */
export interface FollowLedger {
  readonly channel: string;
  height(): number;
  append(blocks: ArrayLike<Uint8Array>, hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void;
}

export interface FollowLimits extends BackoffPolicy {
  /** Blocks verified and stored in one run (one ledger transaction) at most. */
  runMaxBlocks: number;
  /** Block bytes in one run at most (a run always takes at least one block). */
  runMaxBytes: number;
}

/** Why an attempt ended; a fixed word, used as a metric label. */
export type AttemptFailure = 'transport' | 'hung-up' | 'status' | 'rejected' | 'unexpected';

export interface FollowObserver {
  state?(state: FollowState, endpoint: string): void;
  /** A run was stored; `height` is the ledger height after it. */
  stored?(count: number, height: number): void;
  rejected?(reason: string, blockNumber: number, endpoint: string): void;
  /** A Deliver status the server answered with (FORBIDDEN, NOT_FOUND, ...). */
  deliverStatus?(status: string, endpoint: string): void;
  attemptFailed?(failure: AttemptFailure, endpoint: string, retryInMs: number): void;
  failed?(err: Error): void;
}

export interface BlocksProviderOptions {
  channel: string;
  endpoints: readonly FabricEndpoint[];
  connector: DeliverConnector;
  signer: FabricSigner;
  ledger: FollowLedger;
  /** Positioned at the ledger's tip (tipNumber = height - 1). */
  verifier: RunVerifier;
  clock: Clock;
  /** [0, 1): the backoff's jitter (Math.random; a seeded generator in tests). */
  random: () => number;
  log: Logger;
  limits: FollowLimits;
  observer?: FollowObserver;
}

/** What a Deliver status means for the operator: the clear error the loop logs. */
function statusExplanation(status: number, channel: string): string {
  switch (fabricStatusName(status)) {
    case 'FORBIDDEN': return `the server refuses this identity on channel '${channel}' (not in the channel's Readers policy, or its certificate expired or was revoked)`;
    case 'NOT_FOUND': return `the server does not serve channel '${channel}' (wrong channel name, or the node has not joined it)`;
    case 'BAD_REQUEST': return 'the server refused the request as malformed (or its timestamp is too far from the server\'s clock, or the TLS binding does not match)';
    case 'SERVICE_UNAVAILABLE': return 'the server cannot serve the channel now (its consenter failed or it is not a member)';
    case 'SUCCESS': return 'the server ended a stream that asked for every block without end';
    default: return 'the server ended the stream';
  }
}

export class BlocksProvider {
  private stateValue: FollowState = 'idle';
  private endpointIndex = 0;
  private readonly backoff: Backoff;
  private attempts = 0;
  private stream: DeliverStream | null = null;
  private timer: TimerHandle | null = null;
  private flushQueued = false;
  private readonly pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private hashOut: Uint8Array;
  private hashViews: Uint8Array[] = [];
  private readonly result = new RunResult();
  private failure: Error | null = null;

  constructor(private readonly o: BlocksProviderOptions) {
    if (o.endpoints.length === 0) throw new Error('no Fabric endpoint to follow');
    if (o.limits.runMaxBlocks < 1) throw new RangeError('runMaxBlocks must be at least 1');
    this.backoff = new Backoff({ baseDelayMs: o.limits.baseDelayMs, maxDelayMs: o.limits.maxDelayMs }, o.random);
    this.hashOut = new Uint8Array(0);
    this.ensureHashRoom(Math.min(o.limits.runMaxBlocks, 256));
  }

  get state(): FollowState {
    return this.stateValue;
  }

  get endpoint(): FabricEndpoint {
    return this.o.endpoints[this.endpointIndex]!;
  }

  /** Attempts (connections asked for) so far. */
  get attemptCount(): number {
    return this.attempts;
  }

  /** Failures in a row (0 after a stored block). */
  get failuresInARow(): number {
    return this.backoff.attempts;
  }

  /** Why the loop failed for good (state 'failed'), or null. */
  get error(): Error | null {
    return this.failure;
  }

  start(): void {
    if (this.stateValue !== 'idle') throw new Error(`the follow loop of channel ${this.o.channel} is ${this.stateValue}, not idle`);
    this.attempt();
  }

  /** Ends the stream and every timer; blocks received but not yet stored are dropped (asked again next time). */
  stop(): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    this.endAttempt();
    this.transition('stopped');
  }

  private transition(next: FollowState): void {
    this.stateValue = next;
    this.o.observer?.state?.(next, endpointName(this.endpoint));
  }

  private attempt(): void {
    this.timer = null;
    const { ledger, verifier } = this.o;
    const height = ledger.height();
    if (verifier.tipNumber !== height - 1) {
      this.fail(new Error(`channel ${this.o.channel}: the verifier is at block ${verifier.tipNumber} but the ledger height is ${height}`));
      return;
    }
    this.attempts++;
    this.transition('connecting');
    const endpoint = this.endpoint;
    const { envelope } = signedSeekEnvelope(
      { channel: this.o.channel, start: { specified: height }, ...(this.o.connector.tlsCertHash && { tlsCertHash: this.o.connector.tlsCertHash }) },
      this.o.signer, this.o.clock.now(),
    );
    const stream = this.o.connector.open(endpoint, envelope, {
      onOpen: () => {
        if (this.stream !== stream) return;
        this.transition('streaming');
        this.o.log.info({ channel: this.o.channel, endpoint: endpointName(endpoint), nextBlock: height }, 'pulling blocks from the Fabric endpoint');
      },
      onAnswer: (a) => { if (this.stream === stream) this.onAnswer(a); },
      onEnd: (end) => { if (this.stream === stream) this.onEnd(end); },
    });
    this.stream = stream;
  }

  private onAnswer(a: DeliverAnswer): void {
    switch (a.kind) {
      case 'block': {
        this.pending.push(a.block);
        this.pendingBytes += a.block.length;
        const l = this.o.limits;
        if (this.pending.length >= l.runMaxBlocks || this.pendingBytes >= l.runMaxBytes) this.flush();
        else if (!this.flushQueued) {
          // Blocks that arrive together (one socket read holds several) are verified and stored as one run.
          this.flushQueued = true;
          setImmediate(() => {
            this.flushQueued = false;
            if (this.stream !== null) this.flush();
          });
        }
        return;
      }
      case 'status': {
        // Blocks before the status are good to keep.
        if (!this.flush()) return;
        const name = fabricStatusName(a.status);
        this.o.observer?.deliverStatus?.(name, endpointName(this.endpoint));
        this.retry('status', `answered ${name}: ${statusExplanation(a.status, this.o.channel)}`, { status: name });
        return;
      }
      case 'other':
        if (!this.flush()) return;
        this.retry('unexpected', `sent a response of a kind not asked for (field ${a.field})`);
        return;
      case 'malformed':
        if (!this.flush()) return;
        this.retry('unexpected', `sent a malformed response: ${a.reason}`);
    }
  }

  private onEnd(end: StreamEnd): void {
    if (end.kind === 'cancelled') return;
    if (!this.flush()) return;
    if (end.kind === 'hung-up') this.retry('hung-up', 'hung up without sending a status');
    else this.retry('transport', end.reason);
  }

  private ensureHashRoom(blocks: number): void {
    if (this.hashViews.length >= blocks) return;
    this.hashOut = new Uint8Array(blocks * HASH_BYTES);
    this.hashViews = [];
    for (let i = 0; i < blocks; i++) this.hashViews.push(this.hashOut.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
  }

  /** Verifies and stores what is pending. False when the attempt ended (a block was refused, or the loop failed). */
  private flush(): boolean {
    const n = this.pending.length;
    if (n === 0) return true;
    this.ensureHashRoom(n);
    const r = this.result;
    const { ledger, verifier } = this.o;
    try {
      verifier.verifyRun(this.pending, 0, n, this.hashOut, r);
    } catch (err) {
      // A verifier throws only on its own bugs; treat the run as refused rather than stored.
      r.reset();
      r.badIndex = 0;
      r.reason = 'layout';
      r.detail = `verifier error: ${(err as Error).message}`;
    }
    if (r.good > 0) {
      try {
        ledger.append(this.pending, this.hashViews, r.duplicates, r.good);
      } catch (err) {
        this.clearPending();
        this.fail(new Error(`channel ${this.o.channel}: the ledger refused ${r.good} verified blocks: ${(err as Error).message}`));
        return false;
      }
      this.backoff.reset();
      this.o.observer?.stored?.(r.good, ledger.height());
    }
    this.clearPending();
    if (r.badIndex >= 0) {
      const endpoint = endpointName(this.endpoint);
      this.o.observer?.rejected?.(r.reason ?? 'unknown', r.badNumber, endpoint);
      this.retry('rejected', `sent block ${r.badNumber} that does not verify (${r.reason ?? 'unknown'}: ${r.detail}); nothing of it was stored`,
        { block: r.badNumber, reason: r.reason });
      return false;
    }
    return true;
  }

  private clearPending(): void {
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  /** Ends this attempt and schedules the next one, on the next endpoint, after the backoff. */
  private retry(failure: AttemptFailure, reason: string, fields: Record<string, unknown> = {}): void {
    if (this.stateValue === 'stopped' || this.stateValue === 'failed') return;
    const endpoint = endpointName(this.endpoint);
    this.endAttempt();
    const delay = this.backoff.next();
    this.endpointIndex = (this.endpointIndex + 1) % this.o.endpoints.length;
    this.o.log.warn({
      channel: this.o.channel, endpoint, ...fields, failuresInARow: this.backoff.attempts, retryInMs: delay, next: endpointName(this.endpoint),
    }, `Fabric endpoint ${endpoint} ${reason}`);
    this.o.observer?.attemptFailed?.(failure, endpoint, delay);
    this.transition('backingOff');
    this.timer = this.o.clock.setTimeout(() => this.attempt(), delay);
  }

  private endAttempt(): void {
    const s = this.stream;
    this.stream = null;
    s?.cancel();
    if (this.timer !== null) {
      this.o.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    this.clearPending();
  }

  private fail(err: Error): void {
    this.endAttempt();
    this.failure = err;
    this.o.log.error({ channel: this.o.channel, err: err.message }, 'the follow loop stopped');
    this.transition('failed');
    this.o.observer?.failed?.(err);
  }
}
