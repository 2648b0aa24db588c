// Fabric's signed Deliver request: an Envelope of type DELIVER_SEEK_INFO whose payload data is a
// SeekInfo, signed by the gateway's MSP identity (Fabric's protoutil.CreateSignedEnvelopeWithTLSBinding).
// The orderer checks the timestamp against its clock, the TLS binding when it requires mutual TLS, the
// signature, and the creator against the channel's Readers policy.
import { createHash, randomBytes } from 'node:crypto';
import { common, orderer } from '@hyperledger/fabric-protos';
import jspb from 'google-protobuf';
import timestampPb from 'google-protobuf/google/protobuf/timestamp_pb.js';
import type { FabricSigner } from './mspIdentity.js';

/** Fabric's nonce length (protoutil.CreateNonce). */
export const SEEK_NONCE_BYTES = 24;
/** SeekSpecified.number that never arrives: "every block from start on", as Fabric's deliver clients ask. */
export const SEEK_MAX_NUMBER = 18_446_744_073_709_551_615n;

export type SeekStart = { specified: number } | 'oldest' | 'newest';
export type SeekBehavior = 'block-until-ready' | 'fail-if-not-ready';

export interface SeekRequest {
  channel: string;
  start: SeekStart;
  /** Default: SEEK_MAX_NUMBER (a stream that never ends). */
  stop?: { specified: bigint } | 'newest';
  /** Default: block-until-ready. */
  behavior?: SeekBehavior;
  /** SHA-256 of the client's TLS certificate (DER) under mutual TLS: binds the request to the TLS session. */
  tlsCertHash?: Uint8Array;
}

const SEEK_POSITION_FIELD = { newest: 1, oldest: 2, specified: 3 } as const;
const SEEK_INFO_FIELD = { start: 1, stop: 2, behavior: 3 } as const;

function seekPosition(p: SeekStart | { specified: bigint }): Uint8Array {
  const w = new jspb.BinaryWriter();
  if (p === 'newest') w.writeBytes(SEEK_POSITION_FIELD.newest, new Uint8Array(0));
  else if (p === 'oldest') w.writeBytes(SEEK_POSITION_FIELD.oldest, new Uint8Array(0));
  else {
    const inner = new jspb.BinaryWriter();
    const n = BigInt(p.specified);
    // proto3 leaves a zero scalar out, as Go's marshaller does.
    if (n !== 0n) inner.writeUint64String(1, n.toString());
    w.writeBytes(SEEK_POSITION_FIELD.specified, inner.getResultBuffer());
  }
  return w.getResultBuffer();
}

/**
 * SeekInfo bytes. Written with the protobuf runtime's writer rather than orderer.SeekInfo because the
 * generated class holds uint64 as a JS number, which cannot carry 2^64-1 (its writer refuses it).
 */
export function seekInfoBytes(req: SeekRequest): Uint8Array {
  const w = new jspb.BinaryWriter();
  w.writeBytes(SEEK_INFO_FIELD.start, seekPosition(req.start));
  w.writeBytes(SEEK_INFO_FIELD.stop, seekPosition(req.stop ?? { specified: SEEK_MAX_NUMBER }));
  const behavior = req.behavior === 'fail-if-not-ready'
    ? orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY
    : orderer.SeekInfo.SeekBehavior.BLOCK_UNTIL_READY;
  if (behavior !== 0) w.writeEnum(SEEK_INFO_FIELD.behavior, behavior);
  return w.getResultBuffer();
}

/** Fabric's transaction id: hex SHA-256 of nonce ‖ creator (protoutil.ComputeTxID). */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

export interface SignedSeek {
  /** The serialized common.Envelope. */
  envelope: Uint8Array;
  txId: string;
}

/** The signed DELIVER_SEEK_INFO envelope for `req`, timestamped `nowMs`. */
export function signedSeekEnvelope(
  req: SeekRequest, signer: FabricSigner, nowMs: number, nonce: Uint8Array = randomBytes(SEEK_NONCE_BYTES),
): SignedSeek {
  const creator = signer.serialize();
  const txId = computeTxId(nonce, creator);
  const ts = new timestampPb.Timestamp();
  // Fabric's MakeChannelHeader stamps whole seconds.
  ts.setSeconds(Math.floor(nowMs / 1000));
  const ch = new common.ChannelHeader();
  ch.setType(common.HeaderType.DELIVER_SEEK_INFO);
  ch.setChannelId(req.channel);
  ch.setTimestamp(ts);
  ch.setTxId(txId);
  if (req.tlsCertHash !== undefined) ch.setTlsCertHash(req.tlsCertHash);
  const sh = new common.SignatureHeader();
  sh.setCreator(creator);
  sh.setNonce(nonce);
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  header.setSignatureHeader(sh.serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(seekInfoBytes(req));
  const payloadBytes = payload.serializeBinary();
  const env = new common.Envelope();
  env.setPayload(payloadBytes);
  env.setSignature(signer.sign(payloadBytes));
  return { envelope: env.serializeBinary(), txId };
}
