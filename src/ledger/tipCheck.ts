// A board checks the top of its ledger before it starts (issue 12 §7): a damaged tip block would
// otherwise be the block every new one is chained to, and the board would reject the orderer's next
// block for ever (its previous hash matches the real tip, not the stored one) without saying why. The
// newest block must be readable, hold the data its data hash names, hash to the recorded last hash, and
// chain to the block below it. Everything deeper is `edgepeer ledger verify`'s.
import { toHex } from '../crypto/hash.js';
import type { BlockFormat } from '../protocol/blockFormat.js';
import { HASH_BYTES } from '../protocol/block.js';
import type { BlockLedger } from './ledger.js';

export class LedgerTipError extends Error {
  override readonly name = 'LedgerTipError';
}

/** Throws LedgerTipError naming the block and the damage; an empty ledger passes. */
export function checkLedgerTip(ledger: BlockLedger & { readonly format: BlockFormat; readonly path?: string }): void {
  const height = ledger.height();
  if (height === 0) return;
  const where = `ledger ${ledger.path ?? ledger.channel}`;
  const fail = (n: number, why: string): never => {
    throw new LedgerTipError(`${where}: its newest block ${n} ${why}; run \`edgepeer ledger verify\`, then move the folder aside so the board syncs again`);
  };
  const reader = ledger.format.reader();
  const tip = ledger.getBlock(height - 1);
  if (tip === undefined) fail(height - 1, 'is missing');
  if (!reader.locate(tip!)) fail(height - 1, `is unreadable (${reader.locateError})`);
  if (reader.number(tip!) !== height - 1) fail(height - 1, `carries the number ${reader.number(tip!)}`);
  if (!reader.dataHashValid(tip!)) fail(height - 1, 'does not hold the data its data hash names');
  const hash = new Uint8Array(HASH_BYTES);
  reader.hashInto(tip!, hash, 0);
  if (toHex(hash) !== toHex(ledger.lastHash())) fail(height - 1, `hashes to ${toHex(hash)}, not the recorded last hash ${toHex(ledger.lastHash())}`);
  if (height < 2) return;
  const below = ledger.getBlock(height - 2);
  if (below === undefined || !reader.locate(below)) fail(height - 2, 'is missing or unreadable');
  const belowHash = new Uint8Array(HASH_BYTES);
  reader.hashInto(below!, belowHash, 0);
  reader.locate(tip!);
  if (!reader.previousHashEquals(tip!, belowHash, 0)) fail(height - 1, `does not chain to block ${height - 2}`);
}
