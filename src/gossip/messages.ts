// Gossip messages between boards (docs/protocol.md "Gossip"): every one signed by the sending member.
//
//   GossipEnvelope = { payload: bstr(CBOR GossipPayload), signature: bstr(64) }   Ed25519 by sender over payload
//   GossipPayload  = { channel: tstr, type: uint, timestamp: uint ms, sender: Certificate, body: map }
//   ALIVE  (type 1) body = { id: tstr, org: tstr, height: uint, incarnation: uint, seq: uint, endpoint: tstr, leader?: bool }
//   BLOCKS (type 2) body = { blocks: [bstr] }
import type { ChannelState } from '../channel/channelState.js';
import { type Certificate, certificateFromWire, certificateKey, certificateToWire } from '../crypto/certificate.js';
import { signBytes, verifyBytes } from '../crypto/keys.js';
import {
  WireError, arrayField, asMap, bytesField, decodeCbor, encodeCbor, stringField, u64, uintField,
} from '../protocol/cbor.js';
import { MAX_ID_CHARS, type Signer } from '../protocol/envelope.js';

export const GossipType = { ALIVE: 1, BLOCKS: 2 } as const;

export const MAX_ENDPOINT_CHARS = 256;

export interface AliveBody {
  id: string;
  org: string;
  height: number;
  incarnation: number;
  seq: number;
  endpoint: string;
  /** The sender computes itself as its org's leader (absent on the wire: false). */
  leader: boolean;
}

export type GossipBody =
  | { type: typeof GossipType.ALIVE; alive: AliveBody }
  | { type: typeof GossipType.BLOCKS; blocks: Uint8Array[] };

export interface GossipMessage {
  channel: string;
  timestamp: number;
  sender: Certificate;
  body: GossipBody;
}

export function signGossip(channel: string, body: GossipBody, signer: Signer, timestamp: number): Uint8Array {
  const wireBody = body.type === GossipType.ALIVE
    ? { ...body.alive, height: u64(body.alive.height), incarnation: u64(body.alive.incarnation), seq: u64(body.alive.seq) }
    : { blocks: body.blocks };
  const payload = encodeCbor({
    channel, type: body.type, timestamp: u64(timestamp), sender: certificateToWire(signer.certificate), body: wireBody,
  });
  return encodeCbor({ payload, signature: signBytes(signer.privateKey, payload) });
}

/** Decodes a gossip message without checking who signed it (see openGossip). */
export function decodeGossip(bytes: Uint8Array): { message: GossipMessage; payload: Uint8Array; signature: Uint8Array } {
  const env = asMap(decodeCbor(bytes), 'gossip envelope');
  const payload = bytesField(env, 'payload', 'gossip envelope');
  const signature = bytesField(env, 'signature', 'gossip envelope', 64);
  const p = asMap(decodeCbor(payload), 'gossip payload');
  const type = uintField(p, 'type', 'gossip payload');
  const b = asMap(p['body'], 'gossip body');
  let body: GossipBody;
  if (type === GossipType.ALIVE) {
    body = {
      type,
      alive: {
        id: stringField(b, 'id', 'alive', MAX_ID_CHARS),
        org: stringField(b, 'org', 'alive', MAX_ID_CHARS),
        height: uintField(b, 'height', 'alive'),
        incarnation: uintField(b, 'incarnation', 'alive'),
        seq: uintField(b, 'seq', 'alive'),
        endpoint: stringField(b, 'endpoint', 'alive', MAX_ENDPOINT_CHARS),
        leader: b['leader'] === true,
      },
    };
  } else if (type === GossipType.BLOCKS) {
    const blocks = arrayField(b, 'blocks', 'blocks').map((x, i) => {
      if (!(x instanceof Uint8Array)) throw new WireError(`blocks.blocks[${i}]: expected a byte string`);
      return x;
    });
    body = { type, blocks };
  } else {
    throw new WireError(`gossip payload.type: unknown type ${type}`);
  }
  if (p['sender'] === undefined) throw new WireError('gossip payload: missing sender');
  const message: GossipMessage = {
    channel: stringField(p, 'channel', 'gossip payload', MAX_ID_CHARS),
    timestamp: uintField(p, 'timestamp', 'gossip payload'),
    sender: certificateFromWire(p['sender'], 'gossip payload.sender'),
    body,
  };
  return { message, payload, signature };
}

export type OpenResult = { ok: true; message: GossipMessage } | { ok: false; reason: string; sender: string };

/**
 * Decodes and authenticates a gossip message: the channel, the sender's certificate against the channel's
 * Readers policy, its signature, the timestamp window, and that an ALIVE speaks for its own signer.
 */
export function openGossip(bytes: Uint8Array, state: ChannelState, nowMs: number, timeWindowMs: number): OpenResult {
  let d: ReturnType<typeof decodeGossip>;
  try {
    d = decodeGossip(bytes);
  } catch (err) {
    return { ok: false, reason: `malformed: ${(err as Error).message}`, sender: 'unknown' };
  }
  const m = d.message;
  const sender = `${m.sender.org}/${m.sender.id}`;
  if (m.channel !== state.channel) return { ok: false, reason: `for channel '${m.channel}'`, sender };
  const deny = state.denyReason(m.sender, state.config.readers, nowMs);
  if (deny !== null) return { ok: false, reason: `sender not allowed: ${deny}`, sender };
  if (!verifyBytes(certificateKey(m.sender), d.payload, d.signature)) return { ok: false, reason: 'bad signature', sender };
  if (Math.abs(m.timestamp - nowMs) > timeWindowMs) return { ok: false, reason: `timestamp ${m.timestamp} outside the window`, sender };
  if (m.body.type === GossipType.ALIVE && (m.body.alive.id !== m.sender.id || m.body.alive.org !== m.sender.org)) {
    return { ok: false, reason: `ALIVE for ${m.body.alive.org}/${m.body.alive.id} signed by another member`, sender };
  }
  return { ok: true, message: m };
}
