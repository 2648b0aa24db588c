// What the orderer and every board do when they open a channel's ledger: write the network's genesis
// block into an empty ledger, or check that the stored block 0 is that genesis block, then read the
// configuration in force (the newest configuration block).
import { configFromBlock } from '../channel/blocks.js';
import type { ChannelConfig } from '../protocol/channelConfig.js';
import type { BlockLedger } from './ledger.js';

export function anchorGenesis(ledger: BlockLedger, genesis: Uint8Array): ChannelConfig {
  if (ledger.height() === 0) {
    ledger.append([genesis], null, 0, 1);
  } else {
    const stored = ledger.getBlock(0);
    if (!stored || !Buffer.from(stored).equals(genesis)) {
      throw new Error(`channel ${ledger.channel}: the ledger's block 0 is not this network's genesis block`);
    }
  }
  const configBlock = ledger.getBlock(ledger.lastConfigNumber());
  if (!configBlock) throw new Error(`channel ${ledger.channel}: configuration block missing from the ledger`);
  return configFromBlock(configBlock);
}
