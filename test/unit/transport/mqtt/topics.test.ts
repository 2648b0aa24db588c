// The MQTT topic layout (src/transport/mqtt/topics.ts): no wildcard or level separator gets into a topic
// through a channel name or a client id, topics outside the layout parse to nothing, and a reply route
// read out of a request is allowed only when it is the requester's own, on the request's channel. The
// same rules against real brokers: test/integration/mqttLink.test.ts, brokerAccess.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  parseReplyTopic, parseRequestTopic, replyRouteAllowed, replyTopic, requestSubscriptions, requestTopic, topicRoot,
} from '../../../../src/transport/mqtt/topics.js';
import type { Service } from '../../../../src/transport/link.js';

/** Names that would widen a subscription, add a level, or leave the layout. */
const SMUGGLERS = ['+', '#', 'a/b', 'a+', 'a#', '', '.hidden', `a${'b'.repeat(64)}`, 'ä', 'a b', 'a\u0000'];

test('topics are built only from valid channel names and client ids, for the two services', () => {
  assert.equal(requestTopic('alpha', 'deliver'), `${topicRoot}/alpha/deliver`);
  assert.equal(requestTopic('a.b_c-9', 'broadcast'), `${topicRoot}/a.b_c-9/broadcast`);
  assert.equal(replyTopic('alpha', 'org1.board-1_x'), `${topicRoot}/alpha/reply/org1.board-1_x`);
  for (const bad of SMUGGLERS) {
    assert.throws(() => requestTopic(bad, 'deliver'), /invalid channel name/, JSON.stringify(bad));
    assert.throws(() => replyTopic(bad, 'client'), /invalid channel name/, JSON.stringify(bad));
  }
  for (const bad of ['+', '#', 'a/b', '', 'x'.repeat(65), 'a b']) assert.throws(() => replyTopic('alpha', bad), /invalid client id/, JSON.stringify(bad));
  assert.throws(() => requestTopic('alpha', 'gossip' as Service), /unknown service "gossip"/);
  assert.deepEqual(requestSubscriptions, [`${topicRoot}/+/deliver`, `${topicRoot}/+/broadcast`]);
});

test('parsing: exactly the layout\'s levels, under the root, with valid names; anything else is nothing', () => {
  assert.deepEqual(parseRequestTopic(`${topicRoot}/alpha/deliver`), { channel: 'alpha', service: 'deliver' });
  assert.deepEqual(parseReplyTopic(`${topicRoot}/alpha/reply/c1`), { channel: 'alpha', clientId: 'c1' });
  for (const t of [
    'edgepeer/v2/alpha/deliver', `x${topicRoot}/alpha/deliver`, `${topicRoot}/alpha`, `${topicRoot}/alpha/deliver/more`,
    `${topicRoot}/+/deliver`, `${topicRoot}/alpha/reply`, `${topicRoot}//deliver`,
  ]) assert.equal(parseRequestTopic(t), undefined, t);
  for (const t of [
    `${topicRoot}/alpha/reply`, `${topicRoot}/alpha/reply/c1/more`, `${topicRoot}/alpha/replies/c1`, `${topicRoot}/alpha/reply/#`,
    `${topicRoot}/+/reply/c1`, `edgepeer/alpha/reply/c1`,
  ]) assert.equal(parseReplyTopic(t), undefined, t);
});

test('a reply route is allowed only as the requester\'s own reply topic on the request\'s channel', () => {
  const own = replyTopic('alpha', 'org1.board1.s7');
  assert.equal(replyRouteAllowed('alpha', own, 'org1.board1.s7'), true);
  assert.equal(replyRouteAllowed('alpha', own, 'org1.board2.s7'), false, 'another client\'s replies');
  assert.equal(replyRouteAllowed('beta', own, 'org1.board1.s7'), false, 'another channel');
  assert.equal(replyRouteAllowed('alpha', `${topicRoot}/alpha/reply/#`, '#'), false, 'a wildcard route');
  assert.equal(replyRouteAllowed('alpha', `${topicRoot}/alpha/deliver`, 'org1.board1.s7'), false, 'a request topic');
});
