// The development network on disk, as written by `edgepeer init` (createNetwork.ts) and read by every role
// (loadNetwork.ts).
//
//   DIR/network.json                          NetworkFile (paths inside are relative to DIR)
//   DIR/channels/<channel>/genesis.block      block 0: the channel's configuration (for a Fabric channel: the
//                                             edge access configuration, which is not in the ledger)
//   DIR/channels/<channel>/fabric-genesis.block  a Fabric channel's genesis (config) block, as Fabric wrote it
//   DIR/orderer/root.key, root.pub            orderer organisation root (private key PEM / raw public key)
//   DIR/orderer/<id>/key.pem, cert.cbor       orderer node signing identity
//   DIR/orderer/admin/key.pem, cert.cbor      orderer-org admin (signs configuration updates)
//   DIR/orgs/<org>/root.key, root.pub         peer organisation root
//   DIR/orgs/<org>/root-<hex>/root.key, root.pub  a root made by `edgepeer network rotate-org-key`
//   DIR/orgs/<org>/boards/<id>/key.pem, cert.cbor, board.json
//   DIR/orgs/<org>/client/key.pem, cert.cbor  a client identity (Writers) for `edgepeer submit`
//   DIR/orgs/<org>/admin/key.pem, cert.cbor   an organisation's admin (organisations added by `edgepeer network add-org`)
import type { LedPinOverrides } from '../board/profile.js';
import type { BoardGossipConfig } from '../gossip/gossipSettings.js';

export interface IdentityFiles {
  id: string;
  org: string;
  /** PKCS#8 PEM private key, mode 0600. */
  key: string;
  /** CBOR Certificate. */
  cert: string;
}

export interface NetworkFile {
  version: 1;
  channels: string[];
  ordererOrg: string;
  orderer: IdentityFiles;
  ordererAdmin: IdentityFiles;
  /**
   * The orderer node's next identity while `edgepeer network rotate-orderer-key` replaces its key: the
   * orderer signs with it from the configuration block that names it on (and becomes `orderer` after).
   */
  ordererNext?: IdentityFiles;
  orgs: OrgEntry[];
  boards: { id: string; org: string; config: string }[];
  clients: IdentityFiles[];
  /** Admins of peer organisations added by `edgepeer network add-org` (the orderer's admin is `ordererAdmin`). */
  admins?: IdentityFiles[];
  /** Where the orderer's MQTT endpoint is by default. */
  mqtt: { url: string };
  /**
   * Channels (also listed in `channels`) that carry a Hyperledger Fabric channel's blocks, followed by a
   * gateway instead of cut by the orderer (docs/design.md, "Fabric channels").
   */
  fabricChannels?: FabricChannelEntry[];
}

/** A peer organisation's root key files (relative to DIR). */
export interface OrgEntry {
  name: string;
  rootKey: string;
  rootPub: string;
  /**
   * The root being rolled in while `edgepeer network rotate-org-key` runs (docs/operations.md): it issues
   * the organisation's certificates from then on, and becomes rootKey/rootPub when the rotation finishes.
   */
  nextRootKey?: string;
  nextRootPub?: string;
}

export interface FabricChannelEntry {
  channel: string;
  /** The Fabric channel's genesis block file, relative to DIR. */
  genesis: string;
  /** SHA-256 of that file, hex: the pin every board of the channel also carries. */
  genesisSha256: string;
}

/** One board's config file (orgs/<org>/boards/<id>/board.json); paths relative to the file. */
export interface BoardConfig {
  id: string;
  org: string;
  channel: string;
  key: string;
  cert: string;
  /** Board profile name (boards/<profile>.json). */
  profile: string;
  /** LED pins that differ from the profile's (`GPIO17` or `P1-11`); checked when the board starts. */
  pins?: LedPinOverrides;
  /** Orderer endpoints in order of preference: mqtt://…, mqtts://… or serial:PATH[@BAUD] (src/transport/endpoints.ts). */
  orderers: string[];
  /** Gossip with other boards (src/gossip); absent: the board pulls from the orderer itself and leads itself. */
  gossip?: BoardGossipConfig;
  /**
   * When `channel` is a Fabric channel: SHA-256 (hex) of its genesis block. The board trusts only a
   * genesis block with this hash (never one the gateway hands it).
   */
  fabricGenesisSha256?: string;
}
