// ChainRules of an edgepeer chain: the network's genesis block is the anchor (block 0, the channel's
// first configuration), blocks are verified by BlockVerifier (src/channel/blockVerifier.ts) and audited
// by edgepeerAuditRules.
import { edgepeerAuditRules } from '../channel/edgepeerAudit.js';
import { edgepeerBlockFormat } from '../channel/edgepeerFormat.js';
import { BlockVerifier } from '../channel/blockVerifier.js';
import { ChannelState } from '../channel/channelState.js';
import { anchorGenesis } from './anchorGenesis.js';
import type { ChainRules } from './chainRules.js';

export function edgepeerChainRules(channel: string, genesis: Uint8Array): ChainRules {
  return {
    format: edgepeerBlockFormat,
    anchor(ledger, onConfig) {
      const config = anchorGenesis(ledger, genesis);
      return new BlockVerifier(new ChannelState(config), ledger.height() - 1, ledger.lastHash(), onConfig && ((n) => onConfig(n)));
    },
    auditRules: (nowMs) => edgepeerAuditRules(channel, nowMs),
  };
}
