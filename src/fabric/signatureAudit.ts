// The audit's signature stage: every block's orderer signatures judged under the BlockValidation policy
// of the most recent config block before it, config blocks applied after their own signatures pass.
// The first config block (the genesis, or the anchor given by the caller) is the trust anchor: its
// signatures cannot be judged by anything before it, exactly as a Fabric peer takes the genesis block
// it joins with on trust. A ledger that starts after its last config block (joined from a snapshot)
// needs that config block given; without it the blocks' signatures are reported as not checked.
import type { FabricBlockLayout } from './blockLayout.js';
import { isConfigBlockInPlace } from './blockLayout.js';
import { FabricChannelRules } from './channelRules.js';
import type { BlockRulesStage } from './ledgerAudit.js';
import { BLOCK_VALIDATION_POLICY } from './policies.js';
import { ProtoFieldCursor } from './protoWire.js';

export class SignatureAuditStage implements BlockRulesStage {
  private rules: FabricChannelRules | null;
  /** Why there are no rules (when there are none). */
  private noRulesReason = 'no channel configuration to judge signatures by (the ledger does not start with a config block; give one with --config-block)';
  private readonly cursor = new ProtoFieldCursor();
  /** Distinct signers seen, in order. */
  readonly signers = new Set<string>();
  /** Numbers of config blocks applied (the anchor first). */
  readonly configBlocks: number[] = [];
  signaturesChecked = 0;
  /** The block taken on trust (its signatures not judged), or -1. */
  anchorBlock = -1;

  constructor(anchor?: FabricChannelRules) {
    this.rules = anchor ?? null;
    if (anchor !== undefined) this.configBlocks.push(anchor.configBlockNumber);
  }

  get current(): FabricChannelRules | null {
    return this.rules;
  }

  check(block: Uint8Array, layout: FabricBlockLayout, errors: string[]): void {
    const isConfig = layout.number === 0 || isConfigBlockInPlace(block, layout, this.cursor);
    if (this.rules === null) {
      if (!isConfig) { errors.push(`signatures not checked: ${this.noRulesReason}`); return; }
      try {
        this.rules = FabricChannelRules.fromConfigBlock(block);
        this.anchorBlock = layout.number;
        this.configBlocks.push(layout.number);
      } catch (err) {
        this.noRulesReason = `the configuration of block ${layout.number} is not usable: ${(err as Error).message}`;
        errors.push(`config: ${(err as Error).message}`);
      }
      return;
    }
    if (layout.number <= this.rules.configBlockNumber && this.anchorBlock < 0) {
      // At or below a caller-given anchor: nothing here can judge these blocks' signatures.
      if (layout.number < this.rules.configBlockNumber) errors.push(`signatures not checked: block is before the given config block ${this.rules.configBlockNumber}`);
      return;
    }
    const verdict = this.rules.verifyBlockSignatures(block);
    this.signaturesChecked++;
    for (const s of verdict.signers) this.signers.add(s);
    if (!verdict.ok) {
      errors.push(`block signatures do not satisfy ${BLOCK_VALIDATION_POLICY}: ${verdict.error}`, ...verdict.details);
      return;
    }
    if (!isConfig) return;
    try {
      this.rules = this.rules.next(block);
      this.configBlocks.push(layout.number);
    } catch (err) {
      errors.push(`config: ${(err as Error).message}`);
    }
  }
}
