// Making blocks (orderer and `edgepeer init`) and reading configuration out of configuration blocks.
import type { KeyObject } from 'node:crypto';
import { blockHash } from '../protocol/blockHash.js';
import { sha256 } from '../crypto/hash.js';
import { signBytes } from '../crypto/keys.js';
import { WireError, encodeCbor } from '../protocol/cbor.js';
import { FLAG_CONFIG, HASH_BYTES, blockEnvelopes, encodeBlock, encodeHeader, isConfigBlock } from '../protocol/block.js';
import { type ChannelConfig, channelConfigFromWire, channelConfigToWire } from '../protocol/channelConfig.js';
import { MessageType, type Signer, decodeEnvelope, signEnvelope } from '../protocol/envelope.js';

export interface BlockSigner {
  /** Position of this signer in the channel config's orderer.signers. */
  index: number;
  key: KeyObject;
}

export const ZERO_HASH = new Uint8Array(HASH_BYTES);

export function encodeBlockData(envelopes: readonly Uint8Array[]): Uint8Array {
  return encodeCbor(envelopes);
}

export function makeBlock(
  number: number,
  previousHash: Uint8Array,
  envelopes: readonly Uint8Array[],
  flags: number,
  signers: readonly BlockSigner[],
): { bytes: Uint8Array; hash: Uint8Array } {
  const data = encodeBlockData(envelopes);
  const header = encodeHeader({ number, previousHash, dataHash: sha256(data), flags });
  const signatures = signers.map((s) => ({ signerIndex: s.index, signature: signBytes(s.key, header) }));
  const bytes = encodeBlock(header, data, signatures);
  return { bytes, hash: blockHash(bytes) };
}

/** A CONFIG envelope carrying `config`, signed by an orderer-org admin or orderer. */
export function signConfigEnvelope(config: ChannelConfig, signer: Signer): Uint8Array {
  return signEnvelope({ type: MessageType.CONFIG, channel: config.channel, data: channelConfigToWire(config) }, signer).bytes;
}

export function makeConfigBlock(
  number: number,
  previousHash: Uint8Array,
  configEnvelope: Uint8Array,
  signers: readonly BlockSigner[],
): { bytes: Uint8Array; hash: Uint8Array } {
  return makeBlock(number, previousHash, [configEnvelope], FLAG_CONFIG, signers);
}

/** The configuration a configuration block carries. Throws WireError if the block is not one. */
export function configFromBlock(block: Uint8Array): ChannelConfig {
  if (!isConfigBlock(block)) throw new WireError('not a configuration block');
  const envs = blockEnvelopes(block);
  if (envs.length !== 1) throw new WireError('a configuration block holds exactly one envelope');
  const env = decodeEnvelope(envs[0]!);
  if (env.payload.type !== MessageType.CONFIG) throw new WireError('configuration block envelope is not of type CONFIG');
  const config = channelConfigFromWire(env.payload.data);
  if (config.channel !== env.payload.channel) throw new WireError('configuration envelope channel does not match its config');
  return config;
}

