// ChainRules of a Hyperledger Fabric channel (docs/design.md, "Fabric channels"): the channel's genesis
// block, pinned by hash in the network folder and board.json, is the anchor and block 0 of the ledger;
// blocks are verified by FabricBlockVerifier (src/fabric/fabricBlockVerifier.ts) under the newest
// configuration the ledger holds, and audited by fabricAuditRules with block 0 required to be the anchor.
import { FabricChannelRules } from '../fabric/channelRules.js';
import { fabricAuditRules } from '../fabric/fabricAuditRules.js';
import { FabricBlockVerifier } from '../fabric/fabricBlockVerifier.js';
import { fabricBlockFormat } from '../fabric/fabricFormat.js';
import { configFromBlock } from '../channel/blocks.js';
import { ChannelState } from '../channel/channelState.js';
import { ordererTrust } from '../channel/responderTrust.js';
import type { ChainRules } from './chainRules.js';
import type { BlockLedger } from './ledger.js';

export interface FabricChainRulesOptions {
  /** Check every block's orderer signatures on the hot path, not one per run (docs/design.md says what that buys). */
  perBlockSignatures?: boolean;
  /**
   * The channel's edge access configuration block: boards take Deliver answers authenticated by one of
   * its orderers (the gateway, docs/protocol.md §4.1). Without it, none are taken.
   */
  access?: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Writes the anchor into an empty ledger or checks that block 0 is it; returns the rules the newest configuration sets. */
function anchorFabricGenesis(ledger: BlockLedger, channel: string, genesis: Uint8Array): FabricChannelRules {
  const anchorRules = FabricChannelRules.fromConfigBlock(genesis);
  if (anchorRules.channelId !== channel) {
    throw new Error(`the pinned Fabric genesis block is for channel '${anchorRules.channelId}', not '${channel}'`);
  }
  if (ledger.height() === 0) {
    ledger.append([genesis], null, 0, 1);
  } else {
    const stored = ledger.getBlock(0);
    if (stored === undefined || !sameBytes(stored, genesis)) {
      throw new Error(`channel ${channel}: the ledger's block 0 is not the pinned Fabric genesis block`);
    }
  }
  const last = ledger.lastConfigNumber();
  if (last <= 0) return anchorRules;
  const configBlock = ledger.getBlock(last);
  if (configBlock === undefined) throw new Error(`channel ${channel}: configuration block ${last} missing from the ledger`);
  return FabricChannelRules.fromConfigBlock(configBlock);
}

export function fabricChainRules(channel: string, genesis: Uint8Array, opts: FabricChainRulesOptions = {}): ChainRules {
  return {
    format: fabricBlockFormat,
    anchor(ledger, onConfig) {
      const rules = anchorFabricGenesis(ledger, channel, genesis);
      return new FabricBlockVerifier(rules, ledger.height() - 1, ledger.lastHash(), {
        ...(opts.perBlockSignatures !== undefined ? { perBlockSignatures: opts.perBlockSignatures } : {}),
        ...(onConfig !== undefined ? { onConfig: (n: number) => onConfig(n) } : {}),
      });
    },
    responderTrust() {
      if (opts.access === undefined) return { denyReason: () => 'no edge access configuration: nobody serves this channel to boards' };
      const state = new ChannelState(configFromBlock(opts.access));
      return ordererTrust(() => state);
    },
    auditRules() {
      const rules = fabricAuditRules();
      return {
        check(block, n, isConfig) {
          if (n === 0 && !sameBytes(block, genesis)) return 'block 0 is not the pinned Fabric genesis block';
          return rules.check(block, n, isConfig);
        },
      };
    },
  };
}
