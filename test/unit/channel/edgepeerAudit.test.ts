// The audit's rules for edgepeer chains (src/channel/edgepeerAudit.ts), fed block by block as
// verifyChain feeds them, on real signed blocks: block 0 must be a configuration block of this channel,
// signed under itself; every block's signatures must satisfy the configuration in effect; a later
// configuration block must be a usable one of this channel and move the sequence on. That it then governs
// (blocks by a retired signer fail), and verifyChain on disk damage: test/unit/ledger/ledger.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signConfigEnvelope } from '../../../src/channel/blocks.js';
import { edgepeerAuditRules } from '../../../src/channel/edgepeerAudit.js';
import { FLAG_CONFIG, isConfigBlock } from '../../../src/protocol/block.js';
import { makeTestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'audited';

/** The verdicts of a fresh audit over `blocks`, in order (null: passed). */
function audit(blocks: Uint8Array[], channel = CHANNEL): (string | null)[] {
  const rules = edgepeerAuditRules(channel, Date.now());
  return blocks.map((b, n) => rules.check(b, n, isConfigBlock(b)));
}

test('a chain from its genesis through a configuration update passes block by block', () => {
  const tc = makeTestChannel({ channel: CHANNEL });
  const update = signConfigEnvelope({ ...tc.config, sequence: 1 }, tc.ordererAdmin);
  const blocks = [tc.genesis, ...tc.chain(2), tc.nextBlock([update], { flags: FLAG_CONFIG }), ...tc.chain(2)];
  assert.deepEqual(audit(blocks), blocks.map(() => null));
});

test('block 0 must be a configuration block of this very channel', () => {
  const tc = makeTestChannel({ channel: CHANNEL });
  assert.deepEqual(audit([tc.chain(1)[0]!]), ['block 0 is not a configuration block']);
  assert.deepEqual(audit([tc.genesis], 'another'), [`configuration is for channel '${CHANNEL}', not 'another'`]);
});

test('signatures must satisfy the configuration in effect: another network\'s orderer does not', () => {
  const tc = makeTestChannel({ channel: CHANNEL });
  const stranger = makeTestChannel({ channel: CHANNEL });
  const forged = stranger.chain(1)[0]!;
  assert.deepEqual(audit([tc.genesis, forged]), [null, 'orderer signatures do not satisfy the block-validation policy (sequence 0)']);
  assert.deepEqual(audit([tc.genesis, tc.forge.badSignature(tc.chain(1)[0]!)]), [null, 'orderer signatures do not satisfy the block-validation policy (sequence 0)']);
});

test('a later configuration block must move the sequence on and be a usable configuration', () => {
  const tc = makeTestChannel({ channel: CHANNEL });
  const same = tc.nextBlock([signConfigEnvelope({ ...tc.config, sequence: 0 }, tc.ordererAdmin)], { flags: FLAG_CONFIG });
  assert.deepEqual(audit([tc.genesis, same]), [null, 'configuration sequence 0 does not follow 0']);
  const tc2 = makeTestChannel({ channel: CHANNEL });
  const notConfig = tc2.nextBlock([tc2.txEnvelope], { flags: FLAG_CONFIG });
  const [first, second] = audit([tc2.genesis, notConfig]);
  assert.equal(first, null);
  assert.match(second!, /^unusable configuration: /);
  const tc3 = makeTestChannel({ channel: CHANNEL });
  const otherChannel = tc3.nextBlock([signConfigEnvelope({ ...tc3.config, channel: 'elsewhere', sequence: 1 }, tc3.ordererAdmin)], { flags: FLAG_CONFIG });
  assert.deepEqual(audit([tc3.genesis, otherChannel]), [null, `configuration is for channel 'elsewhere', not '${CHANNEL}'`]);
});
