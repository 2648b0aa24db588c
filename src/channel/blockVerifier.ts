// Verification of runs of edgepeer blocks before they are buffered, with amortised signatures
// (docs/design.md, "Amortised verification"):
// every block's layout, number, previous-hash link and data hash are checked, and the orderer's
// signature is checked on the newest block of each contiguous segment. Because each header carries
// the hash of the one before it, a valid signature on the segment's tip authenticates every block
// down to the verified tip. A configuration block closes a segment and is verified on its own, then
// its configuration governs the blocks after it. If a segment's tip does not verify, the segment is
// re-checked block by block so the good prefix is kept and the bad block is named.
import { configFromBlock } from './blocks.js';
import { ChannelState } from './channelState.js';
import { blockHashInto } from '../protocol/blockHash.js';
import { Sha256 } from '../crypto/sha256.js';
import {
  BlockLayout, DATA_HASH_OFFSET, HASH_BYTES, LayoutError, PREVIOUS_HASH_OFFSET,
  blockNumber, bytesEqualAt, isConfigBlock, layoutErrorText, locateBlock,
} from '../protocol/block.js';
import { RunResult, type RunVerifier } from '../protocol/blockFormat.js';

export { RunResult, type RejectReason } from '../protocol/blockFormat.js';

export class BlockVerifier implements RunVerifier {
  private stateValue: ChannelState;
  private tip: number;
  private readonly tipHashBytes = new Uint8Array(HASH_BYTES);
  private readonly layout = new BlockLayout();
  /** Hashing without allocation: one hasher and one data-hash output, reused for every block. */
  private readonly sha = new Sha256();
  private readonly dataHash = new Uint8Array(HASH_BYTES);
  /** Configuration blocks verified but maybe not committed yet: number -> state that follows them. */
  private readonly onConfig: ((number: number, state: ChannelState) => void) | undefined;

  constructor(state: ChannelState, tipNumber: number, tipHash: Uint8Array, onConfig?: (number: number, state: ChannelState) => void) {
    this.stateValue = state;
    this.tip = tipNumber;
    this.tipHashBytes.set(tipHash);
    this.onConfig = onConfig;
  }

  get state(): ChannelState {
    return this.stateValue;
  }

  /** Number of the newest verified block. */
  get tipNumber(): number {
    return this.tip;
  }

  get tipHash(): Uint8Array {
    return this.tipHashBytes;
  }

  /** Re-anchors at a committed tip (after a restart of the stream or a rejected run). */
  reset(state: ChannelState, tipNumber: number, tipHash: Uint8Array): void {
    this.stateValue = state;
    this.tip = tipNumber;
    this.tipHashBytes.set(tipHash);
  }

  /**
   * Verifies blocks[from..from+count) as a run continuing the verified tip. Header hashes are written
   * to `hashOut` at ((index - from) * 32). Advances the tip past the good blocks.
   */
  verifyRun(blocks: ArrayLike<Uint8Array>, from: number, count: number, hashOut: Uint8Array, r: RunResult): void {
    r.reset();
    const layout = this.layout;
    let i = from;
    // Skip what we already have (re-delivery after a reconnect). The one held block whose hash the
    // verifier knows, the tip, is compared: an orderer-signed different block there is a fork.
    while (i < from + count) {
      const b = blocks[i]!;
      if (locateBlock(b, layout) !== LayoutError.ok) break;
      const n = blockNumber(b);
      if (n > this.tip) break;
      if (n === this.tip && this.forkAtTip(b, hashOut, (i - from) * HASH_BYTES)) {
        r.duplicates = i - from;
        r.markFork(i, n, n, this.tipHashBytes, 0, hashOut, (i - from) * HASH_BYTES);
        return;
      }
      i++;
    }
    r.duplicates = i - from;
    let segStart = i;
    let expected = this.tip + 1;
    let bad = -1;
    for (; i < from + count; i++) {
      const b = blocks[i]!;
      const le = locateBlock(b, layout);
      if (le !== LayoutError.ok) { bad = i; r.reason = 'layout'; r.detail = layoutErrorText(le); break; }
      const n = blockNumber(b);
      if (n !== expected) { bad = i; r.reason = 'number'; r.detail = `expected block ${expected}, got ${n}`; break; }
      const prevOk = i === from + r.duplicates
        ? bytesEqualAt(b, PREVIOUS_HASH_OFFSET, this.tipHashBytes, 0, HASH_BYTES)
        : bytesEqualAt(b, PREVIOUS_HASH_OFFSET, hashOut, (i - 1 - from) * HASH_BYTES, HASH_BYTES);
      if (!prevOk) { bad = i; r.reason = 'previous-hash'; r.detail = `block ${n} does not chain to block ${n - 1}`; break; }
      this.sha.update(b, layout.dataOffset, layout.dataLength).digestInto(this.dataHash, 0);
      if (!bytesEqualAt(b, DATA_HASH_OFFSET, this.dataHash, 0, HASH_BYTES)) {
        bad = i; r.reason = 'data-hash'; r.detail = `block ${n} data does not match its data hash`; break;
      }
      blockHashInto(this.sha, b, layout, hashOut, (i - from) * HASH_BYTES);
      if (isConfigBlock(b)) {
        // Close the segment on the configuration block, verified under the configuration before it.
        const segBad = this.verifySegment(blocks, segStart, i);
        if (segBad >= 0) { bad = segBad; r.reason = 'signature'; r.detail = `block ${blockNumber(blocks[segBad]!)} signature does not verify`; break; }
        let next: ChannelState;
        try {
          // From a copy: the decoded config keeps views into the bytes it came from, and a delivered
          // block's bytes are reused once it is committed (the ingress ring). Config blocks are rare.
          next = new ChannelState(configFromBlock(Uint8Array.prototype.slice.call(b)));
        } catch (err) {
          bad = i; r.reason = 'config'; r.detail = `block ${n}: ${(err as Error).message}`; break;
        }
        if (next.config.channel !== this.stateValue.config.channel || next.config.sequence <= this.stateValue.config.sequence) {
          bad = i; r.reason = 'config'; r.detail = `block ${n}: configuration for another channel or an old sequence`; break;
        }
        this.advance(blocks, hashOut, from, segStart, i + 1, r);
        this.stateValue = next;
        this.onConfig?.(n, next);
        segStart = i + 1;
      }
      expected++;
    }
    const end = bad >= 0 ? bad : from + count;
    if (segStart < end) {
      const segBad = this.verifySegment(blocks, segStart, end - 1);
      if (segBad >= 0) {
        bad = segBad; r.reason = 'signature';
        r.detail = `block ${blockNumber(blocks[segBad]!)} signature does not verify`;
        this.advance(blocks, hashOut, from, segStart, segBad, r);
      } else {
        this.advance(blocks, hashOut, from, segStart, end, r);
      }
    }
    if (bad >= 0) {
      r.badIndex = bad;
      const b = blocks[bad]!;
      r.badNumber = locateBlock(b, layout) === LayoutError.ok ? blockNumber(b) : -1;
      // A block that does not chain to the verified tip (the blocks before it in the run verified, so
      // the tip is the block before it) but that the orderer signed is a fork, not a forgery. Checked
      // only here, on the rare conflict path: the hot path pays nothing for it.
      if (r.reason === 'previous-hash' && this.tip === r.badNumber - 1 && this.signatureOk(b)) {
        r.markFork(bad, r.badNumber, this.tip, this.tipHashBytes, 0, b, PREVIOUS_HASH_OFFSET);
      }
    }
  }

  /**
   * Whether `b`, numbered as the verified tip, is another block than the tip that the orderer signed.
   * Its hash is written to hashOut at `offset` (a duplicate's slot, unused otherwise). A re-delivered
   * tip costs one header hash; a different one that does not verify is garbled, skipped as before.
   */
  private forkAtTip(b: Uint8Array, hashOut: Uint8Array, offset: number): boolean {
    blockHashInto(this.sha, b, this.layout, hashOut, offset);
    if (bytesEqualAt(hashOut, offset, this.tipHashBytes, 0, HASH_BYTES)) return false;
    return this.signatureOk(b);
  }

  /**
   * Checks the signature on blocks[tipIndex], which authenticates blocks[from..tipIndex] through the
   * hash chain. On failure checks each block on its own; returns the index of the first bad block, or -1.
   */
  private verifySegment(blocks: ArrayLike<Uint8Array>, from: number, tipIndex: number): number {
    if (this.signatureOk(blocks[tipIndex]!)) return -1;
    for (let k = from; k <= tipIndex; k++) if (!this.signatureOk(blocks[k]!)) return k;
    return tipIndex;
  }

  private signatureOk(b: Uint8Array): boolean {
    locateBlock(b, this.layout);
    return this.stateValue.blockSignaturesValid(b, this.layout);
  }

  /** Marks blocks[a..b) good and moves the tip to the last of them (hashOut is indexed from `base`). */
  private advance(blocks: ArrayLike<Uint8Array>, hashOut: Uint8Array, base: number, a: number, b: number, r: RunResult): void {
    if (b <= a) return;
    r.good += b - a;
    this.tip = blockNumber(blocks[b - 1]!);
    const off = (b - 1 - base) * HASH_BYTES;
    for (let k = 0; k < HASH_BYTES; k++) this.tipHashBytes[k] = hashOut[off + k]!;
  }
}
