// A development network whose orderer ledger already holds N small blocks, written straight into LMDB
// (as the benchmark does): a sync test then measures the link, not the block cutting.
import { type KeyObject, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makeBlock } from '../../src/channel/blocks.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { type NetworkSummary, createNetwork } from '../../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
import type { BatchConfig } from '../../src/protocol/channelConfig.js';
import { MessageType, signEnvelope } from '../../src/protocol/envelope.js';

/** Blocks written per LMDB transaction. */
const PREPARE_RUN_BLOCKS = 1_000;

export interface PreparedChain {
  summary: NetworkSummary;
  ordererData: string;
  channel: string;
  /** The transaction every block holds (a valid signed envelope), for ordering more of them later. */
  tx: Uint8Array;
  /** Height of the orderer's ledger (genesis included). */
  height: number;
}

/**
 * `batch`: the channel's batch configuration (default one envelope a block); it governs what the orderer
 * cuts later, not the prepared blocks, which hold one transaction each. `txTimestampMs`: the prepared
 * transaction's timestamp (default now); an old one ends an orderer's replay scan at start (docs/protocol.md
 * §4.2) at the backlog's top instead of reading every block of it.
 */
export async function prepareChain(
  root: string,
  o: { channel?: string; blocks: number; txDataBytes?: number; boards?: number; batch?: Partial<BatchConfig>; txTimestampMs?: number },
): Promise<PreparedChain> {
  const channel = o.channel ?? 'serial';
  const summary = await createNetwork({
    dir: join(root, 'network'), channels: [channel], orgs: 1, boardsPerOrg: o.boards ?? 1, batch: o.batch ?? { maxMessageCount: 1 },
  });
  const ordererData = join(root, 'orderer');
  const ids = loadOrdererIdentities(summary.dir);
  const tx = signEnvelope({
    type: MessageType.TRANSACTION, channel, data: randomBytes(o.txDataBytes ?? 100), ...(o.txTimestampMs === undefined ? {} : { timestamp: o.txTimestampMs }),
  }, loadClient(summary.dir)).bytes;
  const ledger = openLedger(ledgerPath(ordererData, channel), { channel });
  try {
    ledger.append([loadGenesis(summary.dir, channel)], null, 0, 1);
    appendTxBlocks(ledger, tx, o.blocks, ids.node.privateKey);
    return { summary, ordererData, channel, tx, height: ledger.height() };
  } finally {
    await ledger.close();
  }
}

/** Appends `blocks` blocks holding `tx` to an open ledger, signed by the orderer node (signer 0). */
function appendTxBlocks(ledger: LmdbLedger, tx: Uint8Array, blocks: number, key: KeyObject): void {
  let prev: Uint8Array = ledger.lastHash().slice();
  const first = ledger.height();
  const end = first + blocks;
  for (let n = first; n < end; n += PREPARE_RUN_BLOCKS) {
    const run: Uint8Array[] = [];
    const hashes: Uint8Array[] = [];
    for (let k = n; k < Math.min(n + PREPARE_RUN_BLOCKS, end); k++) {
      const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key }]);
      run.push(b.bytes);
      hashes.push(b.hash);
      prev = b.hash;
    }
    ledger.append(run, hashes, 0, run.length);
  }
}

/**
 * Extends a prepared chain's orderer ledger by `blocks` more blocks holding its transaction (the orderer
 * process must be stopped: nothing else may write the file). Returns the new height.
 */
export async function extendPreparedChain(chain: PreparedChain, blocks: number): Promise<number> {
  const key = loadOrdererIdentities(chain.summary.dir).node.privateKey;
  const ledger = openLedger(ledgerPath(chain.ordererData, chain.channel), { channel: chain.channel });
  try {
    appendTxBlocks(ledger, chain.tx, blocks, key);
    return ledger.height();
  } finally {
    await ledger.close();
  }
}
