// A config block handed to the Fabric rules as a view into a buffer that is reused afterwards (the
// deliver client's ingress ring hands out Buffers, whose slice() is a view too): the rules it sets up
// must not change when those bytes are overwritten. Seen in the fleet test: after a reconnect, the
// leader refused every block with "the identity is a member of a different MSP (expected , got
// OrdererMSP)", its policies' principals read from ring bytes that held other blocks by then.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FabricChannelRules } from '../../../src/fabric/channelRules.js';
import { makeTestChannel } from '../../helpers/fabric/chainBuilder.js';

test('rules from a config block in a reused Buffer keep judging blocks after the Buffer is overwritten', async () => {
  const { spec, builder } = await makeTestChannel('ringchannel');
  const genesis = builder.genesis();
  const update = builder.configBlock(spec);
  const next = builder.dataBlock();
  const ring = Buffer.alloc(update.length + 64);
  const view = ring.subarray(16, 16 + update.length);
  view.set(update);
  const rules = FabricChannelRules.fromConfigBlock(genesis).next(view);
  ring.fill(0);
  const check = rules.verifyBlockSignatures(next);
  assert.equal(check.ok, true, [check.error, ...check.details].join('; '));
});
