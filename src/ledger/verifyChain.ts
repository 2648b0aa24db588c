// Re-checks a stored chain from block 0, every block on its own (no amortisation: this is the audit,
// not the hot path): layout, number, previous-hash link, data hash, and the orderer signatures under
// the configuration in effect. Block 0 is the trust anchor: its own configuration must sign it.
import { ChannelState } from '../channel/channelState.js';
import { ZERO_HASH, configFromBlock } from '../channel/blocks.js';
import { blockHashLocated } from '../crypto/blockHash.js';
import { sha256, toHex } from '../crypto/hash.js';
import {
  BlockLayout, DATA_HASH_OFFSET, HASH_BYTES, LayoutError, PREVIOUS_HASH_OFFSET, blockNumber, bytesEqualAt,
  dataBytes, isConfigBlock, layoutErrorText, locateBlock,
} from '../protocol/block.js';
import type { BlockLedger } from './ledger.js';

export type ChainVerdict =
  | { ok: true; height: number; lastHash: Uint8Array }
  | { ok: false; height: number; badBlock: number; reason: string };

export interface VerifyChainOptions {
  /** Time at which certificates of block signers must be valid; defaults to now. */
  nowMs?: number;
}

export function verifyChain(ledger: BlockLedger, opts: VerifyChainOptions = {}): ChainVerdict {
  const nowMs = opts.nowMs ?? Date.now();
  const height = ledger.height();
  const fail = (badBlock: number, reason: string): ChainVerdict => ({ ok: false, height, badBlock, reason });
  const layout = new BlockLayout();
  let state: ChannelState | null = null;
  let previousHash: Uint8Array = ZERO_HASH;
  let lastConfig = -1;

  for (let n = 0; n < height; n++) {
    const block = ledger.getBlock(n);
    if (block === undefined) return fail(n, 'block is missing below the recorded height');
    const err = locateBlock(block, layout);
    if (err !== LayoutError.ok) return fail(n, `bad layout: ${layoutErrorText(err)}`);
    const number = blockNumber(block);
    if (number !== n) return fail(n, `header carries block number ${number}`);
    if (!bytesEqualAt(block, PREVIOUS_HASH_OFFSET, previousHash, 0, HASH_BYTES)) {
      return fail(n, n === 0 ? 'previous hash of block 0 is not zero' : `previous hash does not match the hash of block ${n - 1}`);
    }
    if (!bytesEqualAt(block, DATA_HASH_OFFSET, sha256(dataBytes(block, layout)), 0, HASH_BYTES)) {
      return fail(n, 'data hash does not match the SHA-256 of the block data');
    }
    const config = isConfigBlock(block);
    if (state === null) {
      if (!config) return fail(n, 'block 0 is not a configuration block');
      const genesisState = stateFromConfigBlock(block, ledger.channel, nowMs);
      if (typeof genesisState === 'string') return fail(n, genesisState);
      state = genesisState;
    }
    if (!state.blockSignaturesValid(block, layout)) {
      return fail(n, `orderer signatures do not satisfy the block-validation policy (sequence ${state.config.sequence})`);
    }
    if (config) {
      if (n > 0) {
        const next = stateFromConfigBlock(block, ledger.channel, nowMs);
        if (typeof next === 'string') return fail(n, next);
        if (next.config.sequence <= state.config.sequence) {
          return fail(n, `configuration sequence ${next.config.sequence} does not follow ${state.config.sequence}`);
        }
        state = next;
      }
      lastConfig = n;
    }
    const hash = blockHashLocated(block, layout);
    if (ledger.numberOfHash(hash) !== n) return fail(n, 'hash index does not map this block hash to its number');
    previousHash = hash;
  }

  if (!bytesEqualAt(ledger.lastHash(), 0, previousHash, 0, HASH_BYTES)) {
    return fail(Math.max(height - 1, 0), `recorded last hash ${toHex(ledger.lastHash())} is not the hash of block ${height - 1}`);
  }
  if (ledger.lastConfigNumber() !== lastConfig) {
    return fail(Math.max(lastConfig, 0), `recorded last config number ${ledger.lastConfigNumber()} is not ${lastConfig}`);
  }
  if (ledger.getBlock(height) !== undefined) return fail(height, 'a block is stored above the recorded height');
  return { ok: true, height, lastHash: new Uint8Array(previousHash) };
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
