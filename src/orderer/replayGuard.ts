// Each signed request is taken once (docs/protocol.md §4.2): its txId is remembered until its timestamp
// leaves the request window, after which the window check refuses it anyway. Memory is bounded in
// total and per identity, so one member cannot fill it for the others; what does not fit is refused
// (SERVICE_UNAVAILABLE), never forgotten early (forgetting would let a replay through).
import type { Clock, TimerHandle } from '../config/clock.js';
import type { Certificate } from '../protocol/certificate.js';
import type { BlockLedger } from '../ledger/ledger.js';
import { blockEnvelopes, isConfigBlock } from '../protocol/block.js';
import { MessageType, decodeEnvelope } from '../protocol/envelope.js';

export interface ReplayLimits {
  /** txIds remembered at most, every identity together. */
  maxEntries: number;
  /** txIds remembered at most for one identity (org and id). */
  maxEntriesPerIdentity: number;
}

export const replayGuardDefaults = {
  broadcast: { maxEntries: 1_048_576, maxEntriesPerIdentity: 262_144 },
  deliver: { maxEntries: 65_536, maxEntriesPerIdentity: 4_096 },
  /** Expired txIds are dropped this often. */
  sweepIntervalMs: 60_000,
} as const;

export type Admission = 'admitted' | 'replayed' | 'full' | 'identity-full';

/**
 * A txId is a hex SHA-256; its first 64 bits name it here (collisions among honest requests: about
 * n^2 / 2^65, i.e. 3e-8 at a million entries; nobody can aim one at another's future txId).
 */
const KEY_HEX_CHARS = 16;
const SECOND_MS = 1000;
const BUCKET_SECONDS = 60;

export class ReplayGuard {
  /** key -> expiry, in whole seconds since `epochMs` (small integers: no heap number per entry). */
  private readonly entries = new Map<string, number>();
  private readonly perIdentity = new Map<string, number>();
  /** Expiry minute -> identity -> entries expiring in that minute: what a sweep gives back to each identity. */
  private readonly buckets = new Map<number, Map<string, number>>();
  private readonly epochMs: number;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly windowMs: number,
    private readonly clock: Clock,
    private readonly limits: ReplayLimits,
    private readonly sweepIntervalMs: number = replayGuardDefaults.sweepIntervalMs,
  ) {
    this.epochMs = clock.now();
    this.armSweep();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether `txId` is new; if so (and there is room) it is remembered until `timestampMs` + window. */
  admit(txId: string, identity: string, timestampMs: number): Admission {
    const key = txId.slice(0, KEY_HEX_CHARS);
    const now = this.seconds(this.clock.now());
    const known = this.entries.get(key);
    if (known !== undefined && known >= now) return 'replayed';
    if (this.entries.size >= this.limits.maxEntries) return 'full';
    if ((this.perIdentity.get(identity) ?? 0) >= this.limits.maxEntriesPerIdentity) return 'identity-full';
    this.add(key, identity, timestampMs);
    return 'admitted';
  }

  /** Remembers a txId found in the ledger at start, so a replay after a restart is still caught. */
  remember(txId: string, identity: string, timestampMs: number): boolean {
    if (this.entries.size >= this.limits.maxEntries) return false;
    const key = txId.slice(0, KEY_HEX_CHARS);
    if (!this.entries.has(key)) this.add(key, identity, timestampMs);
    return true;
  }

  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private add(key: string, identity: string, timestampMs: number): void {
    // Rounded up: an entry is kept at least as long as the window check would let the request through.
    const expires = Math.ceil((timestampMs + this.windowMs - this.epochMs) / SECOND_MS);
    this.entries.set(key, expires);
    this.perIdentity.set(identity, (this.perIdentity.get(identity) ?? 0) + 1);
    const minute = Math.floor(expires / BUCKET_SECONDS);
    let bucket = this.buckets.get(minute);
    if (bucket === undefined) {
      bucket = new Map();
      this.buckets.set(minute, bucket);
    }
    bucket.set(identity, (bucket.get(identity) ?? 0) + 1);
  }

  private seconds(ms: number): number {
    return Math.floor((ms - this.epochMs) / SECOND_MS);
  }

  /** Drops what has expired; identities get their quota back by whole expired minutes. */
  sweep(): void {
    const now = this.seconds(this.clock.now());
    for (const [key, expires] of this.entries) if (expires < now) this.entries.delete(key);
    for (const [minute, bucket] of this.buckets) {
      if ((minute + 1) * BUCKET_SECONDS > now) continue;
      for (const [identity, n] of bucket) {
        const left = (this.perIdentity.get(identity) ?? 0) - n;
        if (left > 0) this.perIdentity.set(identity, left);
        else this.perIdentity.delete(identity);
      }
      this.buckets.delete(minute);
    }
  }

  private armSweep(): void {
    this.timer = this.clock.setTimeout(() => {
      this.sweep();
      this.armSweep();
    }, this.sweepIntervalMs);
    this.timer.unref?.();
  }
}

/** What rememberLedgerTransactions found. */
export interface LedgerScan {
  blocks: number;
  remembered: number;
  /** The guard filled up before the scan could stop: older transactions could be replayed. */
  incomplete: boolean;
}

/**
 * Remembers the txIds of the transactions in a ledger that a replay could still get through the window
 * check (timestamp + window not yet past), so that a restart forgets nothing. Blocks are read newest
 * first; a transaction taken at orderer time T has a timestamp within T ± window, so once a block holds
 * only timestamps before now - 3 × window, it and every block below it were cut before now - 2 × window
 * and hold nothing replayable: the scan stops there.
 */
export function rememberLedgerTransactions(
  guard: ReplayGuard, ledger: BlockLedger, nowMs: number, windowMs: number, identityOf: (creator: Certificate) => string,
): LedgerScan {
  const scan: LedgerScan = { blocks: 0, remembered: 0, incomplete: false };
  for (let n = ledger.height() - 1; n >= 1; n--) {
    const block = ledger.getBlock(n);
    if (block === undefined || isConfigBlock(block)) continue;
    scan.blocks++;
    let newest = 0;
    for (const bytes of blockEnvelopes(block)) {
      let p;
      try {
        p = decodeEnvelope(bytes).payload;
      } catch {
        continue; // Not a request this orderer took (it decodes every envelope before ordering it).
      }
      newest = Math.max(newest, p.timestamp);
      if (p.type !== MessageType.TRANSACTION || p.timestamp + windowMs < nowMs) continue;
      if (!guard.remember(p.txId, identityOf(p.creator), p.timestamp)) {
        scan.incomplete = true;
        return scan;
      }
      scan.remembered++;
    }
    if (newest < nowMs - 3 * windowMs) break;
  }
  return scan;
}
