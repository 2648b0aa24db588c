// A Deliver session's access check before every block (src/orderer/sessionAccess.ts), as Fabric's
// SessionAccessControl: the channel's full policy check again whenever its configuration changes, and in
// between only the requester's certificate expiry, on a manual clock. The channel state is a stand-in
// that counts its policy checks; what a real configuration denies: deliverService.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChannelState } from '../../../src/channel/channelState.js';
import { SessionAccess } from '../../../src/orderer/sessionAccess.js';
import type { ServedChain } from '../../../src/orderer/servedChain.js';
import type { Certificate } from '../../../src/protocol/certificate.js';
import { ManualClock } from '../../helpers/fakes.js';

const START_MS = Date.UTC(2026, 0, 1);
const NOT_AFTER_MS = START_MS + 60_000;
const CREATOR = { id: 'org1.client1', notAfter: NOT_AFTER_MS } as unknown as Certificate;

/** A configuration whose Readers check answers `deny`, counting the checks. */
function state(deny: string | null): ChannelState & { checks: number } {
  const s = {
    checks: 0,
    config: { readers: { kind: 'readers' } },
    denyReason(cert: Certificate, policy: unknown, nowMs: number): string | null {
      assert.equal(cert, CREATOR);
      assert.deepEqual(policy, { kind: 'readers' });
      assert.equal(typeof nowMs, 'number');
      s.checks++;
      return deny;
    },
  };
  return s as unknown as ChannelState & { checks: number };
}

function access(first: ChannelState): { access: SessionAccess; chain: { state: ChannelState }; clock: ManualClock } {
  const chain = { state: first };
  const clock = new ManualClock(START_MS);
  return { access: new SessionAccess(chain as unknown as ServedChain, CREATOR, clock), chain, clock };
}

test('the policy is checked once per configuration: again only when the configuration changes', () => {
  const open = state(null);
  const a = access(open);
  assert.equal(a.access.check(), null);
  assert.equal(a.access.check(), null);
  assert.equal(open.checks, 1);
  const revoked = state('certificate org1.client1: revoked');
  a.chain.state = revoked;
  assert.equal(a.access.check(), 'certificate org1.client1: revoked');
  assert.equal(a.access.check(), 'certificate org1.client1: revoked');
  assert.equal(revoked.checks, 1);
  // Readmitted by a later configuration.
  a.chain.state = state(null);
  assert.equal(a.access.check(), null);
});

test('between configuration changes the certificate\'s expiry ends access, and it stays ended', async () => {
  const open = state(null);
  const a = access(open);
  assert.equal(a.access.check(), null);
  await a.clock.advance(NOT_AFTER_MS - START_MS);
  assert.equal(a.access.check(), null, 'valid up to notAfter itself');
  await a.clock.advance(1);
  assert.equal(a.access.check(), `certificate org1.client1: expired at ${new Date(NOT_AFTER_MS).toISOString()}`);
  assert.equal(a.access.check(), `certificate org1.client1: expired at ${new Date(NOT_AFTER_MS).toISOString()}`);
  assert.equal(open.checks, 1, 'the expiry is read off the certificate, not by a policy check');
});

test('a denial is not replaced by the expiry text: the configuration\'s reason stands until it changes', async () => {
  const a = access(state('not a reader'));
  assert.equal(a.access.check(), 'not a reader');
  await a.clock.advance(2 * (NOT_AFTER_MS - START_MS));
  assert.equal(a.access.check(), 'not a reader');
});
