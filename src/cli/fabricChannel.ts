// What `edgepeer gateway` and `edgepeer fabric import` share: the Fabric channel of a network folder
// (its pinned genesis block and its edge access configuration) and the rules its blocks are held to.
import type { ChainRules } from '../ledger/chainRules.js';
import { edgepeerChainRules } from '../ledger/edgepeerChainRules.js';
import { fabricChainRules } from '../ledger/fabricChainRules.js';
import { type ChannelAnchor, loadChannelAnchor, loadNetworkFile } from '../network/loadNetwork.js';

export type FabricChannelAnchor = Extract<ChannelAnchor, { kind: 'fabric' }>;

/** The Fabric channel `channel` of the network in `dir`, or its only Fabric channel when none is named. */
export function fabricChannelAnchor(dir: string, channel: string | undefined): FabricChannelAnchor {
  const fabric = (loadNetworkFile(dir).fabricChannels ?? []).map((f) => f.channel);
  if (channel === undefined) {
    if (fabric.length !== 1) {
      throw new Error(fabric.length === 0
        ? `the network in ${dir} has no Fabric channel (network.json fabricChannels)`
        : `the network in ${dir} has several Fabric channels (${fabric.join(', ')}): name one with --channel`);
    }
    channel = fabric[0]!;
  } else if (!fabric.includes(channel)) {
    throw new Error(`channel '${channel}' is not a Fabric channel of the network in ${dir} (its Fabric channels: ${fabric.join(', ') || 'none'})`);
  }
  const anchor = loadChannelAnchor(dir, channel);
  if (anchor.kind !== 'fabric') throw new Error(`channel '${channel}' is not a Fabric channel`);
  return anchor;
}

/** The Fabric channel's rules: Fabric's block format, its pinned genesis as the anchor, Fabric's verification. */
export function fabricRulesFor(anchor: FabricChannelAnchor): ChainRules {
  return fabricChainRules(anchor.channel, anchor.fabricGenesis, { access: anchor.access });
}

/**
 * The rules as the gateway (and `fabric import`) holds the channel: every block's orderer signatures
 * checked, not only the newest of each run. Below a run's tip the signature metadata is covered by no
 * hash, and what the gateway stores is what every board is served: it must not keep metadata it did not
 * check. Boards, which verify for themselves, keep the amortised check.
 */
export function gatewayRulesFor(anchor: FabricChannelAnchor): ChainRules {
  return fabricChainRules(anchor.channel, anchor.fabricGenesis, { perBlockSignatures: true, access: anchor.access });
}

/** The rules of any channel of a network folder: edgepeer's for its own chains, Fabric's for a Fabric channel. */
export function chainRulesFor(anchor: ChannelAnchor): ChainRules {
  return anchor.kind === 'fabric' ? fabricRulesFor(anchor) : edgepeerChainRules(anchor.channel, anchor.genesis);
}
