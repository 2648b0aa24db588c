// The development network on disk, as written by `edgepeer init` and read by every role.
//
//   DIR/network.json                          NetworkFile (paths inside are relative to DIR)
//   DIR/channels/<channel>/genesis.block      block 0: the channel's configuration
//   DIR/orderer/root.key, root.pub            orderer organisation root (private key PEM / raw public key)
//   DIR/orderer/<id>/key.pem, cert.cbor       orderer node signing identity
//   DIR/orderer/admin/key.pem, cert.cbor      orderer-org admin (signs configuration updates)
//   DIR/orgs/<org>/root.key, root.pub         peer organisation root
//   DIR/orgs/<org>/boards/<id>/key.pem, cert.cbor, board.json
//   DIR/orgs/<org>/client/key.pem, cert.cbor  a client identity (Writers) for `edgepeer submit`

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
}

export interface BoardGossipConfig {
  /** host:port the board listens on for gossip. */
  listen: string;
  /** host:port of other boards it announces itself to. */
  bootstrap: string[];
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
