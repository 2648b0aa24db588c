// Opening a channel's ledger at the network's genesis (src/ledger/anchorGenesis.ts), on real LMDB ledgers:
// an empty ledger takes the genesis block; a ledger that holds it opens at the configuration in force
// (the newest configuration block, not the genesis one); a ledger whose block 0 is another network's
// genesis is refused, and nothing is written to it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { signConfigEnvelope } from '../../../src/channel/blocks.js';
import { anchorGenesis } from '../../../src/ledger/anchorGenesis.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../../src/ledger/lmdbLedger.js';
import { FLAG_CONFIG } from '../../../src/protocol/block.js';
import { encodeCbor } from '../../../src/protocol/cbor.js';
import { type ChannelConfig, channelConfigToWire } from '../../../src/protocol/channelConfig.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'anchor';

/** A configuration as its wire bytes (key bytes may come back as Buffers or Uint8Arrays). */
const wire = (c: ChannelConfig): Buffer => Buffer.from(encodeCbor(channelConfigToWire(c)));

function freshLedger(t: { after(fn: () => unknown): void }): LmdbLedger {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-anchor-'));
  const ledger = openLedger(ledgerPath(dir, CHANNEL), { channel: CHANNEL });
  t.after(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return ledger;
}

test('an empty ledger takes the genesis block and opens at its configuration; again, it opens without writing', (t) => {
  const tc = makeTestChannel({ channel: CHANNEL });
  const ledger = freshLedger(t);
  assert.deepEqual(wire(anchorGenesis(ledger, tc.genesis)), wire(tc.config));
  assert.equal(ledger.height(), 1);
  assert.deepEqual(Buffer.from(ledger.getBlock(0)!), Buffer.from(tc.genesis));
  assert.deepEqual(wire(anchorGenesis(ledger, tc.genesis)), wire(tc.config));
  assert.equal(ledger.height(), 1, 'the genesis block is not appended twice');
});

test('a ledger past a configuration update opens at the newest configuration, not the genesis one', (t) => {
  const tc = makeTestChannel({ channel: CHANNEL });
  const ledger = freshLedger(t);
  anchorGenesis(ledger, tc.genesis);
  const update = { ...tc.config, sequence: 1, batch: { ...tc.config.batch, maxMessageCount: tc.config.batch.maxMessageCount + 1 } };
  const blocks = [tc.nextBlock(), tc.nextBlock([signConfigEnvelope(update, tc.ordererAdmin)], { flags: FLAG_CONFIG }), tc.nextBlock()];
  ledger.append(blocks, null, 0, blocks.length);
  const config = anchorGenesis(ledger, tc.genesis);
  assert.equal(config.sequence, 1);
  assert.equal(config.batch.maxMessageCount, tc.config.batch.maxMessageCount + 1);
});

test('a ledger whose block 0 is another network\'s genesis is refused, and nothing is written to it', (t) => {
  const ours = makeTestChannel({ channel: CHANNEL });
  const theirs = makeTestChannel({ channel: CHANNEL });
  const ledger = freshLedger(t);
  anchorGenesis(ledger, theirs.genesis);
  assert.throws(() => anchorGenesis(ledger, ours.genesis), new RegExp(`^Error: channel ${CHANNEL}: the ledger's block 0 is not this network's genesis block$`));
  assert.equal(ledger.height(), 1);
  assert.deepEqual(Buffer.from(ledger.getBlock(0)!), Buffer.from(theirs.genesis));
});
