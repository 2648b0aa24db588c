// The worked examples of docs/protocol.md §14.5 (session keys and MACs), recomputed from fixed keys: the
// document states what the code computes, byte for byte. EDGEPEER_PRINT_VECTORS=1 prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { issueCertificate } from '../../../src/protocol/certificate.js';
import { agreeKey } from '../../../src/crypto/keyAgreement.js';
import { encodeAckFrame, encodeCancelFrame, encodeDeliverStatus } from '../../../src/protocol/frames.js';
import { MessageMac, replyKeyToWire, signReplyKey } from '../../../src/protocol/messageAuth.js';
import { encodeCbor } from '../../../src/protocol/cbor.js';
import { Status } from '../../../src/protocol/status.js';
import { rawPublicKey } from '../../../src/crypto/keys.js';
import { brokerCredentials, brokerUsername } from '../../../src/transport/mqtt/brokerIdentity.js';
import { MessageType, decodeEnvelope, signEnvelope } from '../../../src/protocol/envelope.js';
import { encodeSeekFrame } from '../../../src/protocol/frames.js';
import { MAX_BLOCK_NUMBER, SeekBehavior, seekInfoToWire, seekSpecified } from '../../../src/protocol/seek.js';

const DOC = fileURLToPath(new URL('../../../../docs/protocol.md', import.meta.url));
const X25519_PKCS8 = '302e020100300506032b656e04220420';
const ED25519_PKCS8 = '302e020100300506032b657004220420';

/** 32 bytes first, first + 1, ... (mod 256). */
const counting = (first: number): Buffer => Buffer.from(Array.from({ length: 32 }, (_, i) => (first + i) & 0xff));
const privateKey = (prefix: string, seed: Buffer): KeyObject =>
  createPrivateKey({ key: Buffer.concat([Buffer.from(prefix, 'hex'), seed]), format: 'der', type: 'pkcs8' });
/** The 32 raw bytes of the public key of an X25519 or Ed25519 private key. */
const publicRaw = (key: KeyObject): Uint8Array => rawPublicKey(createPublicKey(key));

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function vectors(): Record<string, string> {
  const client = privateKey(X25519_PKCS8, counting(0x01));
  const orderer = privateKey(X25519_PKCS8, counting(0x21));
  const clientShare = publicRaw(client);
  const ordererShare = publicRaw(orderer);
  const macKey = agreeKey(client, ordererShare, Buffer.concat([ordererShare, clientShare]), 'edgepeer/v1 message mac', 32);
  const fromClient = MessageMac.agree(client, ordererShare, ordererShare, clientShare);
  const fromOrderer = MessageMac.agree(orderer, clientShare, ordererShare, clientShare);
  const session = 's-7f3a';
  const ack = fromClient.ack(session, 3, 1);
  assert.equal(hex(fromOrderer.ack(session, 3, 1)), hex(ack), 'both sides agree on K');
  const status = fromOrderer.deliverStatus(session, 4, Status.SUCCESS);
  const blocks = fromOrderer.deliverBlocks(session, 1, [Uint8Array.of(0x01, 0x02, 0x03), new Uint8Array(0)]);
  const broadcast = fromOrderer.broadcastResponse(session, 'ab'.repeat(32), Status.BAD_REQUEST, 'no');

  // The orderer node's ReplyKey, signed with an Ed25519 key from a fixed seed.
  const nodeKey = privateKey(ED25519_PKCS8, counting(0x41));
  const rootKey = privateKey(ED25519_PKCS8, counting(0x61));
  const nodePub = publicRaw(nodeKey);
  const certificate = issueCertificate(
    { id: 'orderer0', org: 'orderer', role: 'orderer', publicKey: nodePub, notBefore: 1767225600000, notAfter: 1798761600000 }, rootKey,
  );
  const replyKey = signReplyKey(ordererShare, 1767312000000, { certificate, privateKey: nodeKey });
  const login = brokerCredentials({ certificate, privateKey: nodeKey });

  // §14.3: board-1 of org1 opens a session with the key share above.
  const boardKey = privateKey(ED25519_PKCS8, counting(0x81));
  const org1Root = privateKey(ED25519_PKCS8, counting(0xa1));
  const board = issueCertificate(
    { id: 'board-1', org: 'org1', role: 'peer', publicKey: publicRaw(boardKey), notBefore: 1767225600000, notAfter: 1798761600000 }, org1Root,
  );
  const seek = signEnvelope({
    type: MessageType.DELIVER_SEEK, channel: 'ch1', replyTo: `edgepeer/v1/ch1/reply/${brokerUsername(board)}`, session, keyShare: clientShare,
    timestamp: 1767225600123, nonce: Buffer.from('4e872dfe427cc37b75a8f3fd56d3fe13', 'hex'),
    data: seekInfoToWire({ start: seekSpecified(5), stop: seekSpecified(MAX_BLOCK_NUMBER), behavior: SeekBehavior.BLOCK_UNTIL_READY, window: 16 }),
  }, { certificate: board, privateKey: boardKey });
  const seekFrame = encodeSeekFrame(seek.bytes);
  const envelope = decodeEnvelope(seek.bytes);
  return {
    clientShare: hex(clientShare),
    ordererShare: hex(ordererShare),
    macKey: hex(macKey),
    ackMac: hex(ack),
    ackFrame: hex(encodeAckFrame(session, 3, 1, ack)),
    cancelMac: hex(fromClient.cancel(session)),
    cancelFrame: hex(encodeCancelFrame(session, fromClient.cancel(session))),
    statusMac: hex(status),
    statusFrameNoKey: hex(encodeDeliverStatus(session, 4, Status.SUCCESS, status)),
    blocksMac: hex(blocks),
    broadcastMac: hex(broadcast),
    replyKeySignature: hex(replyKey.signature),
    replyKeyWire: hex(encodeCbor(replyKeyToWire(replyKey))),
    brokerUsername: login.username,
    brokerPassword: login.password,
    org1RootPublic: hex(publicRaw(org1Root)),
    boardPublic: hex(publicRaw(boardKey)),
    boardCertBody: hex(board.body),
    boardCertSignature: hex(board.signature),
    boardFingerprint: board.fingerprint,
    seekTxId: seek.txId,
    seekPayloadBytes: String(envelope.payloadBytes.length),
    seekSignature: hex(envelope.signature),
    seekFrame: hex(seekFrame),
  };
}

test('docs/protocol.md §14.5 holds the session-key, MAC and login examples the code computes', () => {
  const v = vectors();
  if (process.env['EDGEPEER_PRINT_VECTORS'] === '1') console.log(JSON.stringify(v, null, 2));
  const doc = readFileSync(DOC, 'utf8').replace(/\s+/g, '');
  for (const [name, value] of Object.entries(v)) assert.ok(doc.includes(value), `${name} (${value.slice(0, 24)}…) is in docs/protocol.md`);
});
