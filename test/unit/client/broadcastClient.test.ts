// The Broadcast client takes an answer only when it is authenticated for its request (docs/protocol.md
// §4.1): the orderer's ReplyKey, a MAC under the key agreed with the client's key share, the request's
// txId. Whatever else arrives on the reply route (made by someone who read the request: its session,
// txId and key share are on the topic) is dropped and counted, and the genuine answer still resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ordererTrust } from '../../../src/channel/responderTrust.js';
import { BroadcastClient } from '../../../src/client/broadcastClient.js';
import { systemClock } from '../../../src/config/clock.js';
import { randomBytes } from 'node:crypto';
import { ReplyKeys, type SessionKey } from '../../../src/orderer/replyKeys.js';
import { replyKeyToWire } from '../../../src/protocol/messageAuth.js';
import { type BroadcastResponse, decodeBroadcastResponse, decodeSubmitFrame, encodeBroadcastResponse } from '../../../src/protocol/frames.js';
import { Status, type StatusCode } from '../../../src/protocol/status.js';
import { FakeClientLink } from '../../helpers/fakes.js';
import { type TestChannel, makeTestChannel } from '../../helpers/testChannel.js';

const CHANNEL = 'testchannel';
/** Bytes of a txId (SHA-256 hex), for one that is not the request's. */
const TX_ID_BYTES = 32;
const tc: TestChannel = makeTestChannel({ channel: CHANNEL });

interface Request {
  session: string;
  txId: string;
  keyShare: Uint8Array;
}

/** The request the client sent as frame `index`: what anyone reading the broadcast topic learns. */
function sentRequest(link: FakeClientLink, index: number): Request {
  const p = decodeSubmitFrame(link.sent[index]!.message).envelope.payload;
  assert.ok(p.session !== undefined && p.keyShare !== undefined, 'the request names a session and a key share');
  return { session: p.session, txId: p.txId, keyShare: p.keyShare };
}

/** The session key `keys` agree with the request's key share, as the orderer does. */
function sessionKey(keys: ReplyKeys, r: Request): SessionKey {
  const k = keys.agree(r.keyShare);
  if (typeof k === 'string') throw new Error(k);
  return k;
}

/** An answer as BroadcastService builds it: MAC over session, txId, status (and info) under `key`. */
function answer(key: SessionKey, session: string, txId: string, status: StatusCode): Uint8Array {
  return encodeBroadcastResponse({ session, txId, status, mac: key.mac.broadcastResponse(session, txId, status, undefined) }, key.replyKey);
}

async function harness(): Promise<{ link: FakeClientLink; client: BroadcastClient }> {
  const link = new FakeClientLink('mqtt://orderer.test:1883');
  await link.open([CHANNEL]);
  return { link, client: new BroadcastClient(link, CHANNEL, tc.clientSigner, ordererTrust(() => tc.state)) };
}

test('forged answers (a bad MAC, no MAC or ReplyKey, an untrusted ReplyKey, another txId, a replay into the session) are dropped and counted; the genuine one resolves the submit; a replay after it changes nothing', async () => {
  const { link, client } = await harness();
  const ordererKeys = new ReplyKeys(tc.ordererSigner, systemClock);
  try {
    // A first request, answered genuinely: the answer an attacker records.
    const first = client.submit({ n: 1 });
    const r1 = sentRequest(link, 0);
    const recorded = answer(sessionKey(ordererKeys, r1), r1.session, r1.txId, Status.REQUEST_ENTITY_TOO_LARGE);
    link.receive(CHANNEL, recorded);
    assert.deepEqual(await first, { txId: r1.txId, status: Status.REQUEST_ENTITY_TOO_LARGE });
    assert.equal(client.forgedAnswers, 0);

    const second = client.submit({ n: 2 });
    const r2 = sentRequest(link, 1);
    const orderer = sessionKey(ordererKeys, r2);
    // Each forgery says something other than the genuine SUCCESS, so taking any would show in the result.
    const badMac = decodeBroadcastResponse(answer(orderer, r2.session, r2.txId, Status.FORBIDDEN));
    const flipped = Uint8Array.from(badMac.mac!);
    flipped[0]! ^= 1;
    const forgeries: [string, Uint8Array][] = [
      ['a bad MAC', encodeBroadcastResponse({ ...badMac, mac: flipped }, orderer.replyKey)],
      ['no MAC and no ReplyKey', encodeBroadcastResponse({ session: r2.session, txId: r2.txId, status: Status.BAD_REQUEST })],
      // A board's ReplyKey, with a MAC right for it: only the trust check tells it from the orderer's.
      ['an untrusted ReplyKey', answer(sessionKey(new ReplyKeys(tc.boardSigner, systemClock), r2), r2.session, r2.txId, Status.FORBIDDEN)],
      // Authentic under the session's key, but for a txId this request does not have.
      ['another txId', answer(orderer, r2.session, randomBytes(TX_ID_BYTES).toString('hex'), Status.NOT_FOUND)],
      ['the recorded answer moved into this session', retarget(recorded, r2.session)],
    ];
    for (const [, bytes] of forgeries) link.receive(CHANNEL, bytes);
    assert.equal(client.forgedAnswers, forgeries.length, `every forgery counted: ${forgeries.map(([what]) => what).join(', ')}`);
    // The recorded answer as it was: its session is answered, so it is no one's and not counted.
    link.receive(CHANNEL, recorded);
    assert.equal(client.forgedAnswers, forgeries.length);

    const genuine = answer(orderer, r2.session, r2.txId, Status.SUCCESS);
    link.receive(CHANNEL, genuine);
    assert.deepEqual(await second, { txId: r2.txId, status: Status.SUCCESS }, 'resolved by the genuine answer only');

    // Replayed after it resolved: neither a forgery nor an answer to anything.
    link.receive(CHANNEL, genuine);
    assert.equal(client.forgedAnswers, forgeries.length);
    const third = client.submit({ n: 3 });
    const r3 = sentRequest(link, 2);
    link.receive(CHANNEL, genuine);
    assert.equal(client.forgedAnswers, forgeries.length, 'a replay names its own session, not the next request\'s');
    link.receive(CHANNEL, answer(sessionKey(ordererKeys, r3), r3.session, r3.txId, Status.SUCCESS));
    assert.deepEqual(await third, { txId: r3.txId, status: Status.SUCCESS });
    assert.equal(client.forgedAnswers, forgeries.length);
  } finally {
    client.close();
  }
});

/** `bytes` (an answer) with its session replaced, MAC and ReplyKey kept. */
function retarget(bytes: Uint8Array, session: string): Uint8Array {
  const r: BroadcastResponse = decodeBroadcastResponse(bytes);
  return encodeBroadcastResponse({ ...r, session }, r.replyKey === undefined ? undefined : replyKeyToWire(r.replyKey));
}
