// One configuration change on a running channel, as the orderer admin makes it (`edgepeer network`):
// read the chain to its tip (the current configuration, verified from the genesis block), submit the
// changed configuration as a CONFIG_UPDATE signed by the admin, and read on until the configuration
// block with the new sequence is verified: the change is then what every board applies.
import type { ChannelConfig } from '../protocol/channelConfig.js';
import { channelConfigToWire } from '../protocol/channelConfig.js';
import { MessageType, type Signer } from '../protocol/envelope.js';
import { Status, statusName } from '../protocol/status.js';
import type { ClientLink } from '../transport/link.js';
import { ordererTrust } from '../channel/responderTrust.js';
import { BroadcastClient } from './broadcastClient.js';
import { ChainReader } from './chainReader.js';

export type ConfigUpdateOutcome =
  | { channel: string; changed: true; fromSequence: number; sequence: number; block: number }
  | { channel: string; changed: false; sequence: number };

export interface ConfigUpdateRequest {
  link: ClientLink;
  channel: string;
  /** Signs the Deliver requests and the CONFIG_UPDATE: an identity the channel's Admins policy names. */
  admin: Signer;
  /** Block 0 of the channel (the trust anchor). */
  genesis: Uint8Array;
  /** The next configuration, or null when the change is already in place. Throws when it cannot be made. */
  change: (current: ChannelConfig) => ChannelConfig | null;
  /** How long the orderer has to answer the CONFIG_UPDATE. */
  answerTimeoutMs: number;
  /** How long each read of the chain to its tip may take. */
  readTimeoutMs: number;
}

/** Reads the current configuration, changes it, and returns once the configuration block is verified. */
export async function updateChannelConfig(r: ConfigUpdateRequest): Promise<ConfigUpdateOutcome> {
  const reader = new ChainReader(r.link, r.channel, r.admin, r.genesis);
  await reader.readToTip(r.readTimeoutMs);
  const current = reader.state.config;
  const next = r.change(current);
  if (next === null) return { channel: r.channel, changed: false, sequence: current.sequence };
  const client = new BroadcastClient(r.link, r.channel, r.admin, ordererTrust(() => reader.state));
  let answer;
  try {
    answer = await client.submit(channelConfigToWire(next), MessageType.CONFIG_UPDATE, r.answerTimeoutMs);
  } finally {
    client.close();
  }
  if (answer.status !== Status.SUCCESS) {
    throw new Error(`channel '${r.channel}': the orderer refused the configuration update (${statusName(answer.status)}${answer.info === undefined ? '' : `: ${answer.info}`})`);
  }
  // SUCCESS means the block is in the orderer's ledger; it counts once it is verified here.
  await reader.readToTip(r.readTimeoutMs);
  const now = reader.state.config.sequence;
  if (now !== next.sequence) {
    throw new Error(`channel '${r.channel}': the orderer accepted the update, but its chain ends at configuration sequence ${now}, not ${next.sequence}`);
  }
  return { channel: r.channel, changed: true, fromSequence: current.sequence, sequence: now, block: reader.lastConfigNumber };
}

/** The current configuration of a channel, verified from its genesis block. */
export async function readChannelConfig(link: ClientLink, channel: string, reader: Signer, genesis: Uint8Array, timeoutMs: number): Promise<ChainReader> {
  const chain = new ChainReader(link, channel, reader, genesis);
  await chain.readToTip(timeoutMs);
  return chain;
}
