// A development network whose orderer ledger already holds N small blocks, written straight into LMDB
// (as the benchmark does): a sync test then measures the link, not the block cutting.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { makeBlock } from '../../src/channel/blocks.js';
import { ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { type NetworkSummary, createNetwork } from '../../src/network/createNetwork.js';
import { loadClient, loadGenesis, loadOrdererIdentities } from '../../src/network/loadNetwork.js';
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

export async function prepareChain(root: string, o: { channel?: string; blocks: number; txDataBytes?: number; boards?: number }): Promise<PreparedChain> {
  const channel = o.channel ?? 'serial';
  const summary = await createNetwork({
    dir: join(root, 'network'), channels: [channel], orgs: 1, boardsPerOrg: o.boards ?? 1, batch: { maxMessageCount: 1 },
  });
  const ordererData = join(root, 'orderer');
  const ids = loadOrdererIdentities(summary.dir);
  const tx = signEnvelope({ type: MessageType.TRANSACTION, channel, data: randomBytes(o.txDataBytes ?? 100) }, loadClient(summary.dir)).bytes;
  const ledger = openLedger(ledgerPath(ordererData, channel), { channel });
  try {
    ledger.append([loadGenesis(summary.dir, channel)], null, 0, 1);
    let prev: Uint8Array = ledger.lastHash().slice();
    for (let n = 1; n <= o.blocks; n += PREPARE_RUN_BLOCKS) {
      const run: Uint8Array[] = [];
      const hashes: Uint8Array[] = [];
      for (let k = n; k < Math.min(n + PREPARE_RUN_BLOCKS, o.blocks + 1); k++) {
        const b = makeBlock(k, prev, [tx], 0, [{ index: 0, key: ids.node.privateKey }]);
        run.push(b.bytes);
        hashes.push(b.hash);
        prev = b.hash;
      }
      ledger.append(run, hashes, 0, run.length);
    }
    return { summary, ordererData, channel, tx, height: ledger.height() };
  } finally {
    await ledger.close();
  }
}
