// The per-block audit checks of a stored Fabric chain (ChainAuditRules, for src/ledger/verifyChain.ts,
// which has already checked layout, number, link and data hash through FabricBlockReader): the first
// block is the trust anchor and must be a config block; every later block's orderer signatures satisfy
// the BlockValidation policy of the config in effect; a config block moves the configuration on
// (same channel, next sequence) after its own signatures pass. Every block is judged on its own (no
// amortisation). Certificates are judged as of their NotBefore, so the audit's clock plays no part.
import type { ChainAuditRules } from '../protocol/blockFormat.js';
import { FabricChannelRules } from './channelRules.js';
import { BLOCK_VALIDATION_POLICY } from './policies.js';

export function fabricAuditRules(): ChainAuditRules {
  let rules: FabricChannelRules | null = null;
  return {
    check(block, n, isConfig) {
      if (rules === null) {
        if (!isConfig) return `block ${n} is not a config block: a Fabric chain must start at its trust anchor`;
        try {
          rules = FabricChannelRules.fromConfigBlock(block);
        } catch (err) {
          return `unusable configuration: ${(err as Error).message}`;
        }
        return null;
      }
      const verdict = rules.verifyBlockSignatures(block);
      if (!verdict.ok) return [`block signatures do not satisfy ${BLOCK_VALIDATION_POLICY}: ${verdict.error}`, ...verdict.details].join('; ');
      if (isConfig) {
        try {
          rules = rules.next(block);
        } catch (err) {
          return `config: ${(err as Error).message}`;
        }
      }
      return null;
    },
  };
}
