// The hot path's verifier of Fabric blocks (a RunVerifier, src/protocol/blockFormat.ts): every block's
// layout, number, previous-hash link, well-formed transactions and data hash, allocation-free through
// FabricBlockReader; the orderer signatures checked under the channel's BlockValidation policy once per
// contiguous run, on its newest block; a config block closes a run, is verified on its own, and its
// configuration governs the blocks after it; when a run's tip fails, the run is re-checked block by
// block so the good prefix is kept and the bad block named.
//
// What one signature per run authenticates, precisely: Fabric signs value ‖ signature header ‖
// BlockHeaderBytes, and the header (number, previous hash, data hash) is what the next block's previous
// hash covers. A valid signature on the tip therefore authenticates the tip's header and metadata
// value, and through the previous-hash chain the header of every block of the run, and through each
// header's data hash each block's data. It does NOT authenticate the metadata of the blocks below the
// tip: their SIGNATURES entries (who signed, the last-config index) and the other metadata entries are
// not covered by any hash in the chain, so a relay could alter or drop them undetected. Data and
// headers are never at risk. Pass `perBlockSignatures` to check every block's signatures (the audit,
// `edgepeer fabric verify`, always does).
import { bytesEqualAt } from '../protocol/block.js';
import { type RejectReason, RunResult, type RunVerifier } from '../protocol/blockFormat.js';
import { FABRIC_HASH_BYTES } from './blockLayout.js';
import { FabricChannelRules } from './channelRules.js';
import { FabricBlockReader } from './fabricFormat.js';
import { WellFormed, wellFormedErrorText } from './wellFormed.js';

export { RunResult };

export interface FabricVerifierOptions {
  /** Check the signatures of every block, not only the newest of each run. */
  perBlockSignatures?: boolean;
  /** Hears of each config block accepted (its number and the rules that now govern). */
  onConfig?: (number: number, rules: FabricChannelRules) => void;
}

export class FabricBlockVerifier implements RunVerifier {
  private rulesValue: FabricChannelRules;
  private tip: number;
  private readonly tipHashBytes = new Uint8Array(FABRIC_HASH_BYTES);
  private readonly reader = new FabricBlockReader();
  private readonly perBlock: boolean;
  private readonly onConfig: ((number: number, rules: FabricChannelRules) => void) | undefined;
  /** A fork's conflicting previous hash, copied out of the block (rare path). */
  private readonly scratchHash = new Uint8Array(FABRIC_HASH_BYTES);
  /** Why the last signature check failed (set only on failure). */
  private signatureError = '';

  constructor(rules: FabricChannelRules, tipNumber: number, tipHash: Uint8Array, options: FabricVerifierOptions = {}) {
    this.rulesValue = rules;
    this.tip = tipNumber;
    this.tipHashBytes.set(tipHash);
    this.perBlock = options.perBlockSignatures ?? false;
    this.onConfig = options.onConfig;
  }

  get rules(): FabricChannelRules {
    return this.rulesValue;
  }

  get tipNumber(): number {
    return this.tip;
  }

  get tipHash(): Uint8Array {
    return this.tipHashBytes;
  }

  /** Re-anchors at a committed tip (after a restart of the stream or a rejected run). */
  reset(rules: FabricChannelRules, tipNumber: number, tipHash: Uint8Array): void {
    this.rulesValue = rules;
    this.tip = tipNumber;
    this.tipHashBytes.set(tipHash);
  }

  verifyRun(blocks: ArrayLike<Uint8Array>, from: number, count: number, hashOut: Uint8Array, r: RunResult): void {
    r.reset();
    const reader = this.reader;
    const end = from + count;
    let i = from;
    // Skip what we already have (re-delivery after a reconnect). The one held block whose hash the
    // verifier knows, the tip, is compared: an orderer-signed different block there is a fork.
    while (i < end && reader.locate(blocks[i]!) && reader.number(blocks[i]!) <= this.tip) {
      const b = blocks[i]!;
      const off = (i - from) * FABRIC_HASH_BYTES;
      if (reader.number(b) === this.tip && this.forkAtTip(b, hashOut, off)) {
        r.duplicates = i - from;
        r.markFork(i, this.tip, this.tip, this.tipHashBytes, 0, hashOut, off);
        return;
      }
      i++;
    }
    r.duplicates = i - from;
    let segStart = i;
    let expected = this.tip + 1;
    let bad = -1;
    let reason: RejectReason | null = null;
    let detail = '';
    for (; i < end; i++) {
      const b = blocks[i]!;
      if (!reader.locate(b)) { bad = i; reason = 'layout'; detail = reader.locateError; break; }
      const n = reader.number(b);
      if (n !== expected) { bad = i; reason = 'number'; detail = `expected block ${expected}, got ${n}`; break; }
      const prevOk = i === from + r.duplicates
        ? reader.previousHashEquals(b, this.tipHashBytes, 0)
        : reader.previousHashEquals(b, hashOut, (i - 1 - from) * FABRIC_HASH_BYTES);
      if (!prevOk) { bad = i; reason = 'previous-hash'; detail = `block ${n}: PreviousHash mismatch`; break; }
      if (!reader.dataHashValid(b)) {
        bad = i; reason = 'data-hash';
        detail = `block ${n}: ${reader.wellFormed.code === WellFormed.ok ? 'DataHash mismatch' : wellFormedErrorText(b, reader.wellFormed)}`;
        break;
      }
      reader.hashInto(b, hashOut, (i - from) * FABRIC_HASH_BYTES);
      if (this.perBlock && !this.signatureOk(b)) {
        this.advance(blocks, hashOut, from, segStart, i, r);
        bad = i; reason = 'signature'; detail = `block ${n}: ${this.signatureError}`;
        segStart = i;
        break;
      }
      if (reader.isConfig(b)) {
        // Close the run on the config block, verified under the configuration before it.
        const segBad = this.perBlock ? -1 : this.verifySegment(blocks, segStart, i);
        if (segBad >= 0) {
          this.advance(blocks, hashOut, from, segStart, segBad, r);
          bad = segBad; reason = 'signature'; detail = `block ${this.numberOf(blocks[segBad]!)}: ${this.signatureError}`;
          segStart = segBad;
          break;
        }
        let next: FabricChannelRules;
        try {
          // next() decodes from its own copy (the delivered bytes may be a view into a reused ring).
          next = this.rulesValue.next(b);
        } catch (err) {
          this.advance(blocks, hashOut, from, segStart, i, r);
          bad = i; reason = 'config'; detail = `block ${n}: ${(err as Error).message}`;
          segStart = i;
          break;
        }
        this.advance(blocks, hashOut, from, segStart, i + 1, r);
        this.rulesValue = next;
        this.onConfig?.(n, next);
        segStart = i + 1;
      }
      expected++;
    }
    const stop = bad >= 0 ? bad : end;
    if (segStart < stop) {
      const segBad = this.perBlock ? -1 : this.verifySegment(blocks, segStart, stop - 1);
      if (segBad >= 0) {
        this.advance(blocks, hashOut, from, segStart, segBad, r);
        bad = segBad; reason = 'signature';
        detail = `block ${this.numberOf(blocks[segBad]!)}: ${this.signatureError}`;
      } else {
        this.advance(blocks, hashOut, from, segStart, stop, r);
      }
    }
    if (bad >= 0) {
      r.badIndex = bad;
      r.reason = reason;
      r.detail = detail;
      r.badNumber = this.numberOf(blocks[bad]!);
      // A block that does not chain to the verified tip (the blocks before it in the run verified, so
      // the tip is the block before it) but that the orderer signed is a fork, not a forgery. Checked
      // only here, on the rare conflict path: the hot path pays nothing for it.
      if (reason === 'previous-hash' && this.tip === r.badNumber - 1 && this.signatureOk(blocks[bad]!)) {
        this.previousHashOf(blocks[bad]!);
        r.markFork(bad, r.badNumber, this.tip, this.tipHashBytes, 0, this.scratchHash, 0);
      }
    }
  }

  /**
   * Whether `b`, numbered as the verified tip, is another block than the tip that the orderer signed.
   * Its hash is written to hashOut at `offset` (a duplicate's slot, unused otherwise). A re-delivered
   * tip costs one header hash; a different one that does not verify is garbled, skipped as before.
   */
  private forkAtTip(b: Uint8Array, hashOut: Uint8Array, offset: number): boolean {
    this.reader.hashInto(b, hashOut, offset);
    return !bytesEqualAt(hashOut, offset, this.tipHashBytes, 0, FABRIC_HASH_BYTES) && this.signatureOk(b);
  }

  /** The previous-hash field of `b` into scratchHash (an empty one, the genesis block's, as zeros). */
  private previousHashOf(b: Uint8Array): void {
    const l = this.reader.layout;
    this.reader.locate(b);
    this.scratchHash.fill(0);
    if (l.previousHashLength === FABRIC_HASH_BYTES) this.scratchHash.set(b.subarray(l.previousHashStart, l.previousHashStart + FABRIC_HASH_BYTES));
  }

  private numberOf(b: Uint8Array): number {
    return this.reader.locate(b) ? this.reader.number(b) : -1;
  }

  /**
   * Checks the signatures of blocks[tipIndex], which authenticate blocks[from..tipIndex] (their headers
   * and data) through the hash chain; on failure checks each block on its own. Returns the index of the
   * first bad block, or -1.
   */
  private verifySegment(blocks: ArrayLike<Uint8Array>, from: number, tipIndex: number): number {
    if (this.signatureOk(blocks[tipIndex]!)) return -1;
    for (let k = from; k < tipIndex; k++) if (!this.signatureOk(blocks[k]!)) return k;
    this.signatureOk(blocks[tipIndex]!);
    return tipIndex;
  }

  private signatureOk(b: Uint8Array): boolean {
    const check = this.rulesValue.verifyBlockSignatures(b);
    if (!check.ok) this.signatureError = [check.error, ...check.details].join('; ');
    return check.ok;
  }

  /** Marks blocks[a..b) good and moves the tip to the last of them (hashOut indexed from `base`). */
  private advance(blocks: ArrayLike<Uint8Array>, hashOut: Uint8Array, base: number, a: number, b: number, r: RunResult): void {
    if (b <= a) return;
    r.good += b - a;
    this.tip = this.numberOf(blocks[b - 1]!);
    const off = (b - 1 - base) * FABRIC_HASH_BYTES;
    for (let k = 0; k < FABRIC_HASH_BYTES; k++) this.tipHashBytes[k] = hashOut[off + k]!;
  }
}
