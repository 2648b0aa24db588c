// The audit's checks of edgepeer blocks (src/ledger/verifyChain.ts calls them for every block in order):
// block 0 is the trust anchor, a configuration block signed under its own configuration; every block's
// orderer signatures satisfy the block-validation policy of the configuration in effect; a later
// configuration block moves the sequence on and governs the blocks after it.
import { BlockLayout, locateBlock } from '../protocol/block.js';
import type { ChainAuditRules } from '../protocol/blockFormat.js';
import { configFromBlock } from './blocks.js';
import { ChannelState } from './channelState.js';

export function edgepeerAuditRules(channel: string, nowMs: number): ChainAuditRules {
  let state: ChannelState | null = null;
  const layout = new BlockLayout();
  return {
    check(block, n, isConfig) {
      locateBlock(block, layout);
      if (state === null) {
        if (!isConfig) return 'block 0 is not a configuration block';
        const genesis = stateFromConfigBlock(block, channel, nowMs);
        if (typeof genesis === 'string') return genesis;
        state = genesis;
      }
      if (!state.blockSignaturesValid(block, layout)) {
        return `orderer signatures do not satisfy the block-validation policy (sequence ${state.config.sequence})`;
      }
      if (isConfig && n > 0) {
        const next = stateFromConfigBlock(block, channel, nowMs);
        if (typeof next === 'string') return next;
        if (next.config.sequence <= state.config.sequence) {
          return `configuration sequence ${next.config.sequence} does not follow ${state.config.sequence}`;
        }
        state = next;
      }
      return null;
    },
  };
}

/** The ChannelState a configuration block sets up, or why it cannot. */
function stateFromConfigBlock(block: Uint8Array, channel: string, nowMs: number): ChannelState | string {
  try {
    const config = configFromBlock(block);
    if (config.channel !== channel) return `configuration is for channel '${config.channel}', not '${channel}'`;
    return new ChannelState(config, nowMs);
  } catch (err) {
    return `unusable configuration: ${(err as Error).message}`;
  }
}
