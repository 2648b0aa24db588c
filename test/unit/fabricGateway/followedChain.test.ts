// The chain a gateway serves (src/fabricGateway/followedChain.ts): a Deliver session waiting for block n is
// woken when the follow loop has stored it, not before; a wait for a block already there, or on a closed
// chain, ends at once; closing wakes every wait. The ledger beside it is a stand-in with a height.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelState } from '../../../src/channel/channelState.js';
import { FollowedChain } from '../../../src/fabricGateway/followedChain.js';
import type { BlockLedger } from '../../../src/ledger/ledger.js';
import { drainImmediates } from '../../helpers/fakes.js';

function chainAt(height: number): { chain: FollowedChain; grow(to: number): void } {
  const ledger = { channel: 'mychannel', height: () => height } as unknown as BlockLedger;
  const chain = new FollowedChain(ledger, {} as ChannelState);
  return { chain, grow: (to) => { height = to; chain.grew(); } };
}

/** Whether `p` has settled once what was queued so far has run. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => { done = true; });
  await drainImmediates();
  return done;
}

test('a wait for a block not yet stored ends when the follow loop stores it, and only then', async () => {
  const { chain, grow } = chainAt(3);
  assert.equal(chain.channel, 'mychannel');
  assert.equal(chain.height(), 3);
  const five = chain.waitForBlock(5);
  const three = chain.waitForBlock(3);
  grow(4);
  assert.equal(await settled(three), true, 'block 3 is stored at height 4');
  assert.equal(await settled(five), false, 'block 5 is not');
  grow(5);
  assert.equal(await settled(five), false, 'nor at height 5');
  grow(6);
  assert.equal(await settled(five), true);
});

test('a wait for a block already stored ends at once; closing wakes every wait and ends later ones at once', async () => {
  const { chain } = chainAt(10);
  assert.equal(await settled(chain.waitForBlock(9)), true);
  const far = chain.waitForBlock(100);
  assert.equal(await settled(far), false);
  assert.equal(chain.isClosed, false);
  chain.close();
  assert.equal(chain.isClosed, true);
  assert.equal(await settled(far), true);
  assert.equal(await settled(chain.waitForBlock(1_000)), true);
});
