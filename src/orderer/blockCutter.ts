// Fabric's block cutter: turns the ordered stream of envelopes into batches.
//
// A batch is cut when it reaches maxMessageCount, when adding an envelope would pass preferredMaxBytes
// (the pending batch is cut first), or when the batch timer fires. An envelope larger than
// preferredMaxBytes goes into a batch of its own. Envelopes above absoluteMaxBytes never get here: the
// Broadcast handler refuses them.
import type { BatchConfig } from '../protocol/channelConfig.js';

export class BlockCutter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private batch: BatchConfig) {}

  setBatchConfig(batch: BatchConfig): void {
    this.batch = batch;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Adds one envelope; returns the batches that are now complete (0, 1 or 2), oldest first. */
  ordered(envelope: Uint8Array): Uint8Array[][] {
    const size = envelope.length;
    const out: Uint8Array[][] = [];
    if (size > this.batch.preferredMaxBytes) {
      if (this.pending.length > 0) out.push(this.cut());
      out.push([envelope]);
      return out;
    }
    if (this.pendingBytes + size > this.batch.preferredMaxBytes && this.pending.length > 0) {
      out.push(this.cut());
    }
    this.pending.push(envelope);
    this.pendingBytes += size;
    if (this.pending.length >= this.batch.maxMessageCount) out.push(this.cut());
    return out;
  }

  /** Cuts whatever is pending (batch timeout, or before a configuration block). */
  cut(): Uint8Array[] {
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return batch;
  }
}
