// A channel for simulated fleets: an orderer org and `orgs` board orgs, a certificate per board, the
// genesis block, and the orderer's block factory (real edgepeer blocks, chained and signed). Keys are
// derived from the seed, so the same seed gives the same bytes everywhere.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ChannelState } from '../../../src/channel/channelState.js';
import { type BlockSigner, ZERO_HASH, encodeBlockData, makeConfigBlock, signConfigEnvelope } from '../../../src/channel/blocks.js';
import { blockHash } from '../../../src/protocol/blockHash.js';
import { sha256 } from '../../../src/crypto/hash.js';
import { issueCertificate, type Role } from '../../../src/protocol/certificate.js';
import { rawPublicKey, signBytes } from '../../../src/crypto/keys.js';
import { certificateValidityMs, defaultBatch } from '../../../src/network/networkDefaults.js';
import { encodeBlock, encodeHeader } from '../../../src/protocol/block.js';
import type { ChannelConfig } from '../../../src/protocol/channelConfig.js';
import { MessageType, type Signer, signEnvelope } from '../../../src/protocol/envelope.js';

const ORDERER_ORG = 'orderer';
/** Certificates start a little before the simulated epoch and outlast any run. */
const CERTIFICATE_BACKDATE_MS = 3_600_000;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface SimBoardIdentity {
  id: string;
  org: string;
  signer: Signer;
}

export interface SimChannel {
  config: ChannelConfig;
  state: ChannelState;
  genesis: Uint8Array;
  boards: SimBoardIdentity[];
  /** A client of the first org (it signs the blocks' transaction; tests forge gossip with it). */
  client: Signer;
  /** The orderer's signer for blocks (index 0 of config.orderer.signers). */
  blockSigners: BlockSigner[];
  /** A block continuing the chain: `number`, after `previousHash`, one transaction of `txDataBytes`. */
  makeBlock(number: number, previousHash: Uint8Array): { bytes: Uint8Array; hash: Uint8Array };
}

export interface SimChannelOptions {
  channel: string;
  orgs: number;
  boards: number;
  seed: number;
  nowMs: number;
  /** Bytes of data in each block's one transaction. */
  txDataBytes: number;
}

/** An Ed25519 key pair from a name and the seed (the seed in PKCS#8 form; node derives the public key). */
function derivedKey(seed: number, name: string): { privateKey: KeyObject; publicKeyRaw: Uint8Array } {
  const raw = createHash('sha256').update(`edgepeer-sim\n${seed}\n${name}`).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKeyRaw: rawPublicKey(createPublicKey(privateKey)) };
}

/** Org of board i of n in `orgs` orgs: boards dealt round-robin, so every org has n/orgs of them. */
export function simOrgName(i: number, orgs: number): string {
  return `org${String((i % orgs) + 1).padStart(2, '0')}`;
}

export function simBoardId(i: number): string {
  return `b${String(i).padStart(4, '0')}`;
}

export function makeSimChannel(o: SimChannelOptions): SimChannel {
  const orgNames = Array.from({ length: o.orgs }, (_, i) => simOrgName(i, o.orgs));
  const roots = new Map<string, ReturnType<typeof derivedKey>>();
  for (const org of [ORDERER_ORG, ...orgNames]) roots.set(org, derivedKey(o.seed, `root ${org}`));
  const member = (id: string, org: string, role: Role): Signer => {
    const keys = derivedKey(o.seed, `member ${org}/${id}`);
    const certificate = issueCertificate(
      { id, org, role, publicKey: keys.publicKeyRaw, notBefore: o.nowMs - CERTIFICATE_BACKDATE_MS, notAfter: o.nowMs + certificateValidityMs },
      roots.get(org)!.privateKey,
    );
    return { certificate, privateKey: keys.privateKey };
  };
  const orderer = member('orderer0', ORDERER_ORG, 'orderer');
  const admin = member('orderer-admin', ORDERER_ORG, 'admin');
  const client = member('client1', orgNames[0]!, 'client');
  const config: ChannelConfig = {
    channel: o.channel,
    sequence: 0,
    orderer: { org: ORDERER_ORG, signers: [orderer.certificate], minSignatures: 1 },
    orgs: [...roots].map(([name, k]) => ({ name, rootPublicKey: k.publicKeyRaw })),
    readers: { orgs: [ORDERER_ORG, ...orgNames], roles: ['peer', 'client', 'admin', 'orderer'] },
    writers: { orgs: orgNames, roles: ['client', 'peer', 'admin'] },
    admins: { orgs: [ORDERER_ORG], roles: ['admin'] },
    batch: { ...defaultBatch },
    revoked: [],
  };
  const blockSigners: BlockSigner[] = [{ index: 0, key: orderer.privateKey }];
  const genesis = makeConfigBlock(0, ZERO_HASH, signConfigEnvelope(config, admin), blockSigners).bytes;
  const boards = Array.from({ length: o.boards }, (_, i) => {
    const id = simBoardId(i);
    const org = simOrgName(i, o.orgs);
    return { id, org, signer: member(id, org, 'peer') };
  });
  // Every block carries the same transaction, so its data is encoded and hashed once.
  const tx = signEnvelope({ type: MessageType.TRANSACTION, channel: o.channel, data: new Uint8Array(o.txDataBytes).fill(0x5a), timestamp: o.nowMs }, client).bytes;
  const data = encodeBlockData([tx]);
  const dataHash = sha256(data);
  return {
    config, state: new ChannelState(config, o.nowMs), genesis, boards, client, blockSigners,
    makeBlock(number, previousHash) {
      const header = encodeHeader({ number, previousHash, dataHash, flags: 0 });
      const bytes = encodeBlock(header, data, blockSigners.map((s) => ({ signerIndex: s.index, signature: signBytes(s.key, header) })));
      return { bytes, hash: blockHash(bytes) };
    },
  };
}
