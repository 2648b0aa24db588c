// A complete channel in memory for tests: org roots, member certificates, the genesis block, and a
// block factory that chains and signs like the orderer does.
import { ChannelState } from '../../src/channel/channelState.js';
import {
  type BlockSigner, ZERO_HASH, encodeBlockData, makeBlock, makeConfigBlock, signConfigEnvelope,
} from '../../src/channel/blocks.js';
import { type Role, issueCertificate } from '../../src/protocol/certificate.js';
import { blockHash } from '../../src/protocol/blockHash.js';
import { sha256 } from '../../src/crypto/hash.js';
import { type KeyPair, generateKeyPair, signBytes } from '../../src/crypto/keys.js';
import { certificateValidityMs, defaultBatch } from '../../src/network/networkDefaults.js';
import {
  BlockLayout, DATA_HASH_OFFSET, HEADER_BYTES, HEADER_OFFSET, LayoutError, PREVIOUS_HASH_OFFSET, SIGNATURE_ENTRY_BYTES,
  encodeBlock, encodeHeader, locateBlock,
} from '../../src/protocol/block.js';
import type { ChannelConfig } from '../../src/protocol/channelConfig.js';
import { MessageType, type Signer, signEnvelope } from '../../src/protocol/envelope.js';

export interface TestChannelOptions {
  channel?: string;
  /** Bytes of data in the default transaction envelope. */
  txDataBytes?: number;
  nowMs?: number;
}

export interface NextBlockOptions {
  flags?: number;
  signers?: readonly BlockSigner[];
}

export interface TestChannel {
  config: ChannelConfig;
  state: ChannelState;
  genesis: Uint8Array;
  genesisHash: Uint8Array;
  ordererSigner: Signer;
  ordererAdmin: Signer;
  boardSigner: Signer;
  clientSigner: Signer;
  /** The orderer signer as a block signer (index 0 of config.orderer.signers). */
  blockSigners: BlockSigner[];
  /** Root key pairs by org name: 'orderer', 'org1'. */
  orgRoots: Map<string, KeyPair>;
  /** The transaction envelope every default block carries. */
  txEnvelope: Uint8Array;
  /** Number of blocks made so far, genesis included (the next block's number). */
  height(): number;
  /** Hash of the newest block made. */
  lastHash(): Uint8Array;
  /** The next block, chained to the previous one and signed; defaults to one transaction envelope. */
  nextBlock(envelopes?: Uint8Array[], opts?: NextBlockOptions): Uint8Array;
  /** The next n blocks. */
  chain(n: number): Uint8Array[];
  /** Copies of a block with one defect each; the other checks still pass. */
  forge: {
    badSignature(block: Uint8Array): Uint8Array;
    badPreviousHash(block: Uint8Array): Uint8Array;
    badDataHash(block: Uint8Array): Uint8Array;
  };
}

const ORDERER_ORG = 'orderer';
const PEER_ORG = 'org1';
const DEFAULT_CHANNEL = 'testchannel';
const DEFAULT_TX_DATA_BYTES = 1024;
/** Certificates start a little in the past so a test's clock skew does not matter. */
const CERTIFICATE_BACKDATE_MS = 3_600_000;

function flipBit(bytes: Uint8Array, offset: number): void {
  bytes[offset] = bytes[offset]! ^ 0x01;
}

export function makeTestChannel(opts: TestChannelOptions = {}): TestChannel {
  const channel = opts.channel ?? DEFAULT_CHANNEL;
  const nowMs = opts.nowMs ?? Date.now();
  const ordererRoot = generateKeyPair();
  const peerRoot = generateKeyPair();
  const orgRoots = new Map([[ORDERER_ORG, ordererRoot], [PEER_ORG, peerRoot]]);

  const member = (id: string, org: string, role: Role): Signer => {
    const keys = generateKeyPair();
    const root = orgRoots.get(org)!;
    const certificate = issueCertificate(
      { id, org, role, publicKey: keys.publicKeyRaw, notBefore: nowMs - CERTIFICATE_BACKDATE_MS, notAfter: nowMs + certificateValidityMs },
      root.privateKey,
    );
    return { certificate, privateKey: keys.privateKey };
  };
  const ordererSigner = member('orderer0', ORDERER_ORG, 'orderer');
  const ordererAdmin = member('orderer-admin', ORDERER_ORG, 'admin');
  const boardSigner = member('board1', PEER_ORG, 'peer');
  const clientSigner = member('client1', PEER_ORG, 'client');

  const config: ChannelConfig = {
    channel,
    sequence: 0,
    orderer: { org: ORDERER_ORG, signers: [ordererSigner.certificate], minSignatures: 1 },
    orgs: [
      { name: ORDERER_ORG, rootPublicKey: ordererRoot.publicKeyRaw },
      { name: PEER_ORG, rootPublicKey: peerRoot.publicKeyRaw },
    ],
    readers: { orgs: [ORDERER_ORG, PEER_ORG], roles: ['peer', 'client', 'admin', 'orderer'] },
    writers: { orgs: [PEER_ORG], roles: ['client', 'peer', 'admin'] },
    admins: { orgs: [ORDERER_ORG], roles: ['admin'] },
    batch: { ...defaultBatch },
    revoked: [],
  };
  const state = new ChannelState(config, nowMs);
  const blockSigners: BlockSigner[] = [{ index: 0, key: ordererSigner.privateKey }];
  const genesisBlock = makeConfigBlock(0, ZERO_HASH, signConfigEnvelope(config, ordererAdmin), blockSigners);

  const txEnvelope = signEnvelope(
    { type: MessageType.TRANSACTION, channel, data: new Uint8Array(opts.txDataBytes ?? DEFAULT_TX_DATA_BYTES).fill(0x5a), timestamp: nowMs },
    clientSigner,
  ).bytes;
  // The default data section is the same for every block, so it is encoded and hashed once.
  const txData = encodeBlockData([txEnvelope]);
  const txDataHash = sha256(txData);

  let height = 1;
  let lastHash = genesisBlock.hash;

  const signHeader = (header: Uint8Array, signers: readonly BlockSigner[]) =>
    signers.map((s) => ({ signerIndex: s.index, signature: signBytes(s.key, header) }));

  const nextBlock = (envelopes?: Uint8Array[], o: NextBlockOptions = {}): Uint8Array => {
    const signers = o.signers ?? blockSigners;
    const flags = o.flags ?? 0;
    let bytes: Uint8Array;
    let hash: Uint8Array;
    if (envelopes === undefined) {
      const header = encodeHeader({ number: height, previousHash: lastHash, dataHash: txDataHash, flags });
      bytes = encodeBlock(header, txData, signHeader(header, signers));
      hash = blockHash(bytes);
    } else {
      ({ bytes, hash } = makeBlock(height, lastHash, envelopes, flags, signers));
    }
    height++;
    lastHash = hash;
    return bytes;
  };

  const located = (block: Uint8Array): BlockLayout => {
    const layout = new BlockLayout();
    if (locateBlock(block, layout) !== LayoutError.ok) throw new Error('forge: not a block');
    return layout;
  };
  // Rewrites header bytes and signs again, so only the intended defect remains.
  const resign = (copy: Uint8Array, layout: BlockLayout): Uint8Array => {
    const header = copy.subarray(HEADER_OFFSET, HEADER_OFFSET + HEADER_BYTES);
    for (let i = 0; i < layout.signatureCount; i++) {
      const o = layout.signaturesOffset + i * SIGNATURE_ENTRY_BYTES;
      const index = (copy[o]! << 8) | copy[o + 1]!;
      const signer = blockSigners.find((s) => s.index === index);
      if (signer) copy.set(signBytes(signer.key, header), o + 2);
    }
    return copy;
  };

  return {
    config,
    state,
    genesis: genesisBlock.bytes,
    genesisHash: genesisBlock.hash,
    ordererSigner,
    ordererAdmin,
    boardSigner,
    clientSigner,
    blockSigners,
    orgRoots,
    txEnvelope,
    height: () => height,
    lastHash: () => lastHash,
    nextBlock,
    chain: (n) => Array.from({ length: n }, () => nextBlock()),
    forge: {
      badSignature(block) {
        const copy = block.slice();
        const layout = located(copy);
        if (layout.signatureCount === 0) throw new Error('forge: block has no signature');
        flipBit(copy, layout.signaturesOffset + 2);
        return copy;
      },
      badPreviousHash(block) {
        const copy = block.slice();
        const layout = located(copy);
        flipBit(copy, PREVIOUS_HASH_OFFSET);
        return resign(copy, layout);
      },
      badDataHash(block) {
        const copy = block.slice();
        const layout = located(copy);
        flipBit(copy, DATA_HASH_OFFSET);
        return resign(copy, layout);
      },
    },
  };
}
