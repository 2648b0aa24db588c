// The development network on disk, as written by `edgepeer init` and read by every role.
//
//   DIR/network.json                          NetworkFile (paths inside are relative to DIR)
//   DIR/channels/<channel>/genesis.block      block 0: the channel's configuration (for a Fabric channel: the
//                                             edge access configuration, which is not in the ledger)
//   DIR/channels/<channel>/fabric-genesis.block  a Fabric channel's genesis (config) block, as Fabric wrote it
//   DIR/orderer/root.key, root.pub            orderer organisation root (private key PEM / raw public key)
//   DIR/orderer/<id>/key.pem, cert.cbor       orderer node signing identity
//   DIR/orderer/admin/key.pem, cert.cbor      orderer-org admin (signs configuration updates)
//   DIR/orgs/<org>/root.key, root.pub         peer organisation root
//   DIR/orgs/<org>/boards/<id>/key.pem, cert.cbor, board.json
//   DIR/orgs/<org>/client/key.pem, cert.cbor  a client identity (Writers) for `edgepeer submit`
import type { gossipDefaults } from './constants.js';

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
  orgs: { name: string; rootKey: string; rootPub: string }[];
  boards: { id: string; org: string; config: string }[];
  clients: IdentityFiles[];
  /** Where the orderer's MQTT endpoint is by default. */
  mqtt: { url: string };
  /**
   * Channels (also listed in `channels`) that carry a Hyperledger Fabric channel's blocks, followed by a
   * gateway instead of cut by the orderer (docs/design.md, "Fabric channels").
   */
  fabricChannels?: FabricChannelEntry[];
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
  /** Orderer endpoints in order of preference: mqtt://…, mqtts://… */
  orderers: string[];
  /** Gossip with other boards (src/gossip); absent: the board pulls from the orderer itself, as before. */
  gossip?: BoardGossipConfig;
  /**
   * When `channel` is a Fabric channel: SHA-256 (hex) of its genesis block. The board trusts only a
   * genesis block with this hash (never one the gateway hands it).
   */
  fabricGenesisSha256?: string;
}

export interface BoardGossipConfig {
  /** host:port the board listens on for gossip (0.0.0.0: every interface, then `advertise` is needed). */
  listen: string;
  /** host:port of other boards it announces itself to. */
  bootstrap: string[];
  /** host:port the others reach this board at, when that is not `listen` (0.0.0.0, NAT, a proxy). */
  advertise?: string;
  /** Overrides of gossipDefaults (src/config/constants.ts), by the same names; whole numbers. */
  limits?: GossipLimitOverrides;
  /** dynamic (default): height-aware election among the org's live members; static: `orgLeader` says. */
  election?: GossipElectionKind;
  /** With election static: whether this board is its org's leader (Fabric's orgLeader). */
  orgLeader?: boolean;
  /** LAN discovery by UDP multicast; absent: as the board profile says; false: off. */
  multicast?: GossipMulticastConfig | false;
}

export type GossipLimitName = keyof typeof gossipDefaults;

export type GossipLimitOverrides = Partial<Record<GossipLimitName, number>>;

export type GossipElectionKind = 'dynamic' | 'static';

export const GOSSIP_ELECTION_KINDS: readonly GossipElectionKind[] = ['dynamic', 'static'];

export function isGossipElectionKind(v: unknown): v is GossipElectionKind {
  return (GOSSIP_ELECTION_KINDS as readonly unknown[]).includes(v);
}

/** Where boards announce themselves on the LAN (board profile or board.json). */
export interface GossipMulticastConfig {
  /** An administratively scoped IPv4 group, 239.0.0.0/8 (RFC 2365). */
  group: string;
  /** UDP port, the same on every board of the LAN. */
  port: number;
  /** IPv4 address of the local interface to join and send on; absent: the one the routing table picks. */
  interface?: string;
}

/** A board's own LED wiring, where it differs from its profile. */
export interface LedPinOverrides {
  link?: string;
  sync?: string;
  leader?: string;
  error?: string;
  /** Replaces the whole height bar (its length may differ from the profile's). */
  height?: string[];
}
