// ChainRules of an edgepeer chain: the network's genesis block is the anchor (block 0, the channel's
// first configuration), blocks are verified by BlockVerifier (src/channel/blockVerifier.ts) and audited
// by edgepeerAuditRules.
import { edgepeerAuditRules } from '../channel/edgepeerAudit.js';
import { edgepeerBlockFormat } from '../channel/edgepeerFormat.js';
import { BlockVerifier } from '../channel/blockVerifier.js';
import { ChannelState } from '../channel/channelState.js';
import { configFromBlock } from '../channel/blocks.js';
import { ordererTrust } from '../channel/responderTrust.js';
import { anchorGenesis } from './anchorGenesis.js';
import type { ChainRules } from './chainRules.js';

export function edgepeerChainRules(channel: string, genesis: Uint8Array): ChainRules {
  // The configuration replies are judged under: the anchored verifier's, as it follows configuration blocks.
  let verifier: BlockVerifier | null = null;
  const genesisState = new ChannelState(configFromBlock(genesis));
  return {
    format: edgepeerBlockFormat,
    anchor(ledger, onConfig) {
      const config = anchorGenesis(ledger, genesis);
      verifier = new BlockVerifier(new ChannelState(config), ledger.height() - 1, ledger.lastHash(), onConfig && ((n) => onConfig(n)));
      return verifier;
    },
    responderTrust: () => ordererTrust(() => verifier?.state ?? genesisState),
    auditRules: (nowMs) => edgepeerAuditRules(channel, nowMs),
  };
}
