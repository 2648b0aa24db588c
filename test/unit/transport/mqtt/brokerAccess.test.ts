// The topic rules of docs/protocol.md §11.3, as the embedded broker applies them: what each role may
// subscribe to and publish. (Who may log in at all is tested with real certificates and a real broker in
// test/integration/brokerAccess.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { publishDenial, subscribeDenial } from '../../../../src/transport/mqtt/brokerAccess.js';

const orderer = { role: 'orderer', username: 'orderer0' } as const;
const member = { role: 'member', username: 'org1-board1' } as const;

test('members subscribe to their own reply topics only, on one channel or with the channel as a wildcard', () => {
  assert.equal(subscribeDenial(member, 'edgepeer/v1/mychannel/reply/org1-board1'), null);
  assert.equal(subscribeDenial(member, 'edgepeer/v1/+/reply/org1-board1'), null);
  assert.match(subscribeDenial(member, 'edgepeer/v1/mychannel/reply/org1-board2') ?? '', /reply topic of another member/);
  assert.match(subscribeDenial(member, 'edgepeer/v1/+/reply/org1-board2') ?? '', /reply topic of another member/);
  for (const filter of [
    'edgepeer/v1/mychannel/reply/+', // everyone's replies
    'edgepeer/v1/mychannel/reply/#',
    'edgepeer/v1/#',
    '#',
    'edgepeer/v1/mychannel/deliver', // the requests of others
    'edgepeer/v1/+/deliver',
    'edgepeer/v2/mychannel/reply/org1-board1', // another root
    'other/v1/mychannel/reply/org1-board1',
    '$SYS/#',
    '$SYS/broker/clients/connected',
  ]) {
    assert.match(subscribeDenial(member, filter) ?? '', /is not a reply topic/, filter);
  }
});

test('the orderer subscribes to request topics only, of one channel or of every channel', () => {
  assert.equal(subscribeDenial(orderer, 'edgepeer/v1/mychannel/deliver'), null);
  assert.equal(subscribeDenial(orderer, 'edgepeer/v1/mychannel/broadcast'), null);
  assert.equal(subscribeDenial(orderer, 'edgepeer/v1/+/deliver'), null);
  for (const filter of ['edgepeer/v1/mychannel/+', 'edgepeer/v1/#', '#', 'edgepeer/v1/+/reply/org1-board1', 'edgepeer/v1/mychannel/reply/+', '$SYS/#']) {
    assert.match(subscribeDenial(orderer, filter) ?? '', /request topics only/, filter);
  }
});

test('members publish requests only, the orderer replies only; nobody publishes retained messages', () => {
  assert.equal(publishDenial(member, 'edgepeer/v1/mychannel/deliver', false), null);
  assert.equal(publishDenial(member, 'edgepeer/v1/mychannel/broadcast', false), null);
  assert.match(publishDenial(member, 'edgepeer/v1/mychannel/reply/org1-board2', false) ?? '', /request topics only/);
  assert.match(publishDenial(member, 'edgepeer/v2/mychannel/deliver', false) ?? '', /request topics only/);
  assert.equal(publishDenial(orderer, 'edgepeer/v1/mychannel/reply/org1-board2', false), null);
  assert.match(publishDenial(orderer, 'edgepeer/v1/mychannel/deliver', false) ?? '', /replies only/);
  assert.match(publishDenial(member, 'edgepeer/v1/mychannel/deliver', true) ?? '', /retained/);
  assert.match(publishDenial(orderer, 'edgepeer/v1/mychannel/reply/org1-board2', true) ?? '', /retained/);
});
