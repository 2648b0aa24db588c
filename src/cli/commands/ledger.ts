// `edgepeer ledger info|verify`: look at a channel's stored chain without starting a node. Opens the
// ledger read-only and writes nothing into the folder it inspects (src/ledger/readOnlyOpen.ts), so it is
// safe beside a running orderer or peer, and on a copy of a board's folder.
import type { Command } from 'commander';
import { toHex } from '../../crypto/hash.js';
import { edgepeerBlockFormat } from '../../channel/edgepeerFormat.js';
import { fabricAuditRules } from '../../fabric/fabricAuditRules.js';
import { fabricBlockFormat } from '../../fabric/fabricFormat.js';
import { type LmdbLedger, findLedgers, ledgerPath, openLedger, readLedgerBlockFormat } from '../../ledger/lmdbLedger.js';
import { readLedger } from '../../ledger/readOnlyOpen.js';
import { type ChainVerdict, verifyChain } from '../../ledger/verifyChain.js';
import { loadChannelAnchor } from '../../network/loadNetwork.js';
import { sha256 } from '../../crypto/hash.js';
import { checkDataFolder } from '../options.js';

export interface LedgerInfo {
  channel: string;
  /** The blocks' format: edgepeer, or fabric (a followed Fabric channel). */
  blockFormat: string;
  path: string;
  height: number;
  /** Hex; 64 zeros for an empty ledger. */
  lastHash: string;
  lastConfigNumber: number;
  /** Blocks whose hashes are in the hash index (it catches up in the background). */
  indexedHeight: number;
  /** Stored segments (groups of consecutive blocks written by one append). */
  segments: number;
}

/** `genesis: 'checked'` when block 0 was compared with the network's genesis block (`--network`). */
export type LedgerVerifyResult =
  | { ok: true; channel: string; height: number; lastHash: string; genesis?: 'checked' }
  | { ok: false; channel: string; height: number; badBlock: number; reason: string; genesis?: 'checked' };

interface LedgerCommandOptions {
  data: string;
  channel?: string;
  json?: boolean;
}

/** The channel to act on: the one named, or the only ledger in the directory. */
export function resolveLedgerChannel(dataDir: string, channel?: string): string {
  const found = findLedgers(dataDir);
  if (channel !== undefined) {
    if (!found.includes(channel)) {
      throw new Error(`no ledger for channel '${channel}' in ${dataDir}${found.length > 0 ? ` (found: ${found.join(', ')})` : ''}`);
    }
    return channel;
  }
  if (found.length === 1) return found[0]!;
  if (found.length === 0) throw new Error(`no ledger in ${dataDir}`);
  throw new Error(`${dataDir} holds ledgers of several channels (${found.join(', ')}): choose one with --channel`);
}

/** Opens a channel's ledger read-only in whatever block format it holds. */
async function openStoredLedger(path: string, channel: string): Promise<LmdbLedger> {
  const format = (await readLedgerBlockFormat(path)) === 'fabric' ? fabricBlockFormat : edgepeerBlockFormat;
  return openLedger(path, { channel, readOnly: true, format });
}

export async function ledgerInfo(dataDir: string, channel?: string): Promise<LedgerInfo> {
  const name = resolveLedgerChannel(dataDir, channel);
  const path = ledgerPath(dataDir, name);
  const { value } = await readLedger(path, (p) => openStoredLedger(p, name), (ledger) => ({
    channel: name, blockFormat: ledger.format.name, path, height: ledger.height(), lastHash: toHex(ledger.lastHash()), lastConfigNumber: ledger.lastConfigNumber(),
    indexedHeight: ledger.indexedHeight(), segments: ledger.segmentCount(),
  }));
  return value;
}

/**
 * Re-checks the chain. With `networkDir`, block 0 must also be that network's genesis block of the
 * channel, byte for byte: a chain is only self-consistent without it (a substituted chain, made by another
 * orderer with its own genesis, passes every other check), so the result then says `genesis: 'unchecked'`.
 */
export async function ledgerVerify(dataDir: string, channel?: string, networkDir?: string): Promise<LedgerVerifyResult> {
  const name = resolveLedgerChannel(dataDir, channel);
  let expected: Uint8Array | null = null;
  if (networkDir !== undefined) {
    const anchor = loadChannelAnchor(networkDir, name);
    expected = anchor.kind === 'fabric' ? anchor.fabricGenesis : anchor.genesis;
  }
  // A Fabric ledger is audited under Fabric's rules from its own block 0 (its genesis, a config block).
  const { value: v } = await readLedger(ledgerPath(dataDir, name), (p) => openStoredLedger(p, name), (ledger): ChainVerdict => {
    if (expected !== null) {
      const block0 = ledger.getBlock(0);
      if (block0 === undefined || !Buffer.from(block0).equals(expected)) {
        const stored = block0 === undefined ? 'none' : `SHA-256 ${toHex(sha256(block0))}`;
        return {
          ok: false, height: ledger.height(), badBlock: 0,
          reason: `block 0 (${stored}) is not the genesis block of channel '${name}' in ${networkDir} (SHA-256 ${toHex(sha256(expected))}): this is another chain`,
        };
      }
    }
    return verifyChain(ledger, ledger.format.name === 'fabric' ? { rules: fabricAuditRules() } : {});
  });
  const genesis = networkDir === undefined ? {} : { genesis: 'checked' as const };
  return v.ok
    ? { ok: true, channel: name, height: v.height, lastHash: toHex(v.lastHash), ...genesis }
    : { ok: false, channel: name, height: v.height, badBlock: v.badBlock, reason: v.reason, ...genesis };
}

function writer(cmd: Command): (s: string) => void {
  return cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
}

export function registerLedger(program: Command): void {
  const ledger = program.command('ledger').description("inspect a channel's stored block chain");

  ledger
    .command('info')
    .description('print the channel, height and last block hash of a ledger')
    .requiredOption('--data <dir>', 'data directory holding ledger-<channel>.mdb files')
    .option('--channel <name>', 'channel (needed when the directory holds several ledgers)')
    .option('--json', 'print one JSON object')
    .action(async (opts: LedgerCommandOptions, cmd: Command) => {
      checkDataFolder(opts.data, '--data', true);
      const info = await ledgerInfo(opts.data, opts.channel);
      const out = writer(cmd);
      if (opts.json) {
        out(`${JSON.stringify(info)}\n`);
      } else {
        out(`channel     ${info.channel}\nformat      ${info.blockFormat}\nheight      ${info.height}\nlast hash   ${info.lastHash}\n`
          + `last config ${info.lastConfigNumber}\nindexed     ${info.indexedHeight}\nsegments    ${info.segments}\n`
          + `path        ${info.path}\n`);
      }
    });

  ledger
    .command('verify')
    .description('re-check the whole chain: layout, hash links, data hashes and orderer signatures')
    .requiredOption('--data <dir>', 'data directory holding ledger-<channel>.mdb files')
    .option('--channel <name>', 'channel (needed when the directory holds several ledgers)')
    .option('--network <dir>', "check block 0 against this network's genesis block (without it a substituted chain is not caught)")
    .option('--json', 'print one JSON object')
    .action(async (opts: LedgerCommandOptions & { network?: string }, cmd: Command) => {
      checkDataFolder(opts.data, '--data', true);
      const result = await ledgerVerify(opts.data, opts.channel, opts.network);
      const out = writer(cmd);
      if (opts.json) out(`${JSON.stringify(result)}\n`);
      else if (result.ok) {
        out(`OK channel ${result.channel}: ${result.height} blocks verified, last hash ${result.lastHash}`
          + `${result.genesis === 'checked' ? ", block 0 is the network's genesis" : ' (block 0 not checked against a network: give --network)'}\n`);
      }
      else out(`FAILED channel ${result.channel}: block ${result.badBlock} of ${result.height}: ${result.reason}\n`);
      if (!result.ok) process.exitCode = 1;
    });
}
