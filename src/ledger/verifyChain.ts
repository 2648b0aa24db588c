// Re-checks a stored chain from block 0, every block on its own (no amortisation: this is the audit,
// not the hot path): the segments' structure (count, offsets, hash table) and that they tile
// [0, height) exactly, then per block its layout, number, previous-hash link, data hash and what the
// chain's format asks of it beyond that (ChainAuditRules: for edgepeer blocks, the orderer signatures
// under the configuration in effect); then the recorded last hash and last config number, and that the
// hash index holds exactly the blocks below its indexed height, each under its number.
//
// Everything is read in one synchronous pass, so it sees one snapshot of the store even while a node
// keeps writing to it.
import { ZERO_HASH } from '../channel/blocks.js';
import { edgepeerAuditRules } from '../channel/edgepeerAudit.js';
import { toHex } from '../crypto/hash.js';
import { HASH_BYTES, bytesEqualAt } from '../protocol/block.js';
import type { BlockReader, ChainAuditRules } from '../protocol/blockFormat.js';
import type { BlockLedger, LedgerAudit, StoredLedgerState } from './ledger.js';
import { SegmentSlot, locateInSegment, segmentCount, segmentDefect, segmentHashAt } from './segment.js';

export type ChainVerdict =
  | { ok: true; height: number; lastHash: Uint8Array }
  | { ok: false; height: number; badBlock: number; reason: string };

export interface VerifyChainOptions {
  /** Time at which certificates of block signers must be valid; defaults to now (edgepeer rules). */
  nowMs?: number;
  /** The format's checks; default: edgepeer's (block 0 is the trust anchor, signed under its own configuration). */
  rules?: ChainAuditRules;
}

type Failure = Extract<ChainVerdict, { ok: false }>;

export function verifyChain(ledger: BlockLedger & LedgerAudit, opts: VerifyChainOptions = {}): ChainVerdict {
  const stored = ledger.storedState();
  const rules = opts.rules ?? edgepeerAuditRules(ledger.channel, opts.nowMs ?? Date.now());
  const audit = new ChainAudit(ledger, stored, rules);
  if (stored.indexedHeight > stored.height) {
    return audit.fail(stored.height, `indexed height ${stored.indexedHeight} is above the recorded height`);
  }
  ledger.forEachSegment((first, segment) => audit.segment(first, segment));
  return audit.finish();
}

/** The walk's state: where the chain has got to, and the first failure. */
class ChainAudit {
  private failure: Failure | null = null;
  private next = 0;
  private previousHash: Uint8Array = ZERO_HASH;
  private lastConfig = -1;
  private readonly reader: BlockReader;
  private readonly hash = new Uint8Array(HASH_BYTES);
  private readonly slot = new SegmentSlot();
  private readonly badIndex = { i: 0 };

  constructor(
    private readonly ledger: BlockLedger & LedgerAudit,
    private readonly stored: StoredLedgerState,
    private readonly rules: ChainAuditRules,
  ) {
    this.reader = ledger.format.reader();
  }

  fail(badBlock: number, reason: string): Failure {
    this.failure = { ok: false, height: this.stored.height, badBlock, reason };
    return this.failure;
  }

  /** Checks one segment and its blocks; false stops the walk. */
  segment(first: number, seg: Uint8Array): boolean {
    const height = this.stored.height;
    if (first !== this.next) {
      if (first < this.next) this.fail(first, `the segment from block ${first} overlaps the one before it (which ends at ${this.next - 1})`);
      else if (this.next < height) this.fail(this.next, 'block is missing below the recorded height');
      else this.fail(first, 'a block is stored above the recorded height');
      return false;
    }
    if (first >= height) {
      this.fail(first, 'a block is stored above the recorded height');
      return false;
    }
    const defect = segmentDefect(seg, seg.length, this.badIndex);
    if (defect !== null) {
      this.fail(first + this.badIndex.i, `${defect} (segment from block ${first})`);
      return false;
    }
    const count = segmentCount(seg, seg.length);
    for (let i = 0; i < count; i++) {
      const n = first + i;
      if (n >= height) {
        this.fail(n, 'a block is stored above the recorded height');
        return false;
      }
      // segmentDefect has checked every offset, so this cannot fail.
      locateInSegment(seg, seg.length, count, i, this.slot);
      const reason = this.block(seg.subarray(this.slot.start, this.slot.end), n, seg, segmentHashAt(i));
      if (reason !== null) {
        this.fail(n, reason);
        return false;
      }
    }
    this.next = first + count;
    return true;
  }

  /** Checks block n; returns why it is bad, or null. */
  private block(block: Uint8Array, n: number, seg: Uint8Array, hashAt: number): string | null {
    const reader = this.reader;
    if (!reader.locate(block)) return `bad layout: ${reader.locateError}`;
    const number = reader.number(block);
    if (number !== n) return `header carries block number ${number}`;
    if (!reader.previousHashEquals(block, this.previousHash, 0)) {
      return n === 0 ? 'previous hash of block 0 is not zero' : `previous hash does not match the hash of block ${n - 1}`;
    }
    if (!reader.dataHashValid(block)) return 'data hash does not match the SHA-256 of the block data';
    const config = reader.isConfig(block);
    const ruled = this.rules.check(block, n, config);
    if (ruled !== null) return ruled;
    if (config) this.lastConfig = n;
    const hash = this.hash;
    reader.hashInto(block, hash, 0);
    if (!bytesEqualAt(seg, hashAt, hash, 0, HASH_BYTES)) return "the segment's hash table does not hold this block's hash";
    const indexed = this.ledger.indexedNumberOf(hash);
    if (n < this.stored.indexedHeight && indexed !== n) {
      return `hash index maps this block's hash to ${indexed === undefined ? 'nothing' : `block ${indexed}`} (indexed height ${this.stored.indexedHeight})`;
    }
    if (n >= this.stored.indexedHeight && indexed !== undefined) {
      return `hash index has an entry for this block, above the indexed height ${this.stored.indexedHeight}`;
    }
    this.previousHash = new Uint8Array(hash);
    return null;
  }

  finish(): ChainVerdict {
    if (this.failure !== null) return this.failure;
    const { height, lastHash, lastConfigNumber, indexedHeight, indexEntryCount } = this.stored;
    if (this.next < height) return this.fail(this.next, 'block is missing below the recorded height');
    if (!bytesEqualAt(lastHash, 0, this.previousHash, 0, HASH_BYTES)) {
      return this.fail(Math.max(height - 1, 0), `recorded last hash ${toHex(lastHash)} is not the hash of block ${height - 1}`);
    }
    if (lastConfigNumber !== this.lastConfig) {
      return this.fail(Math.max(this.lastConfig, 0), `recorded last config number ${lastConfigNumber} is not ${this.lastConfig}`);
    }
    if (indexEntryCount !== indexedHeight) {
      return this.fail(Math.min(indexedHeight, Math.max(height - 1, 0)),
        `hash index holds ${indexEntryCount} entries for ${indexedHeight} indexed blocks`);
    }
    return { ok: true, height, lastHash: new Uint8Array(this.previousHash) };
  }
}
