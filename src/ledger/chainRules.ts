// What a channel's kind of chain brings to the nodes that hold it: the block format, the trust anchor
// a ledger is opened against, the hot path's run verifier and the audit's per-block checks. The peer,
// the gateway and `ledger verify` take a ChainRules and never look at a format themselves, so the same
// pipeline holds edgepeer chains (src/ledger/edgepeerChainRules.ts) and Fabric channels (src/fabric/).
import type { BlockFormat, ChainAuditRules, RunVerifier } from '../protocol/blockFormat.js';
import type { ResponderTrust } from '../protocol/messageAuth.js';
import type { BlockLedger } from './ledger.js';

export interface ChainRules {
  readonly format: BlockFormat;
  /**
   * Opens the chain held in `ledger`: writes the trust anchor (the pinned first configuration block)
   * into an empty ledger, or checks that the stored one is it, and returns a run verifier at the
   * ledger's tip, governed by the newest configuration the ledger holds. Throws when the ledger does
   * not start with the anchor. `onConfig` hears of each configuration block the verifier accepts.
   */
  anchor(ledger: BlockLedger, onConfig?: (number: number) => void): RunVerifier;
  /**
   * Whose ReplyKeys authenticate the Deliver responses a board takes for this channel (docs/protocol.md
   * §4.1), judged under the configuration the anchored verifier holds at each check.
   */
  responderTrust(): ResponderTrust;
  /** The audit's checks (every block on its own, from the anchor), judging certificates as of `nowMs` where the format does. */
  auditRules(nowMs: number): ChainAuditRules;
}
