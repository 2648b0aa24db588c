// `edgepeer fabric import PATH`: loads a Fabric block file (or a peer's chains/ folder) into a gateway's
// ledger, verifying every block (src/fabricGateway/blockImport.ts). Registered under `edgepeer fabric`.
import type { Command } from 'commander';
import { type FabricLedgerSource, findFabricLedgers, ledgerBlocks } from '../../fabric/blockFiles.js';
import { BlockImportError, importBlocks } from '../../fabricGateway/blockImport.js';
import { fabricGatewayDefaults } from '../../fabricGateway/gatewayDefaults.js';
import { lockDataFolder } from '../../ledger/dataLock.js';
import type { ChainRules } from '../../ledger/chainRules.js';
import { ledgerPath, openLedger } from '../../ledger/lmdbLedger.js';
import { fabricChannelAnchor, gatewayRulesFor } from '../fabricChannel.js';

interface ImportCliOptions {
  network: string;
  data: string;
  channel?: string;
  json?: boolean;
}

export function registerFabricImport(fabric: Command): void {
  fabric
    .command('import <path>')
    .description('load a Fabric block file (or a peer\'s chains/ folder) into a gateway\'s ledger, verifying every block; a re-run adds only what is missing')
    .requiredOption('--network <dir>', 'network directory; the channel must be one of its Fabric channels')
    .requiredOption('--data <dir>', 'the gateway\'s data folder')
    .option('--channel <name>', 'the Fabric channel (default: the network\'s only Fabric channel)')
    .option('--json', 'print the outcome as one JSON object')
    .action(async (path: string, o: ImportCliOptions) => runImport(path, o));
}

function sourceFor(path: string, channel: string): FabricLedgerSource {
  const sources = findFabricLedgers(path);
  if (sources.length === 1) return sources[0]!;
  const match = sources.find((s) => s.channel === channel);
  if (match === undefined) throw new Error(`${path} holds the ledgers of ${sources.map((s) => s.channel).join(', ')}, not of channel '${channel}'`);
  return match;
}

async function runImport(path: string, o: ImportCliOptions): Promise<void> {
  const anchor = fabricChannelAnchor(o.network, o.channel);
  const rules = gatewayRulesFor(anchor);
  const source = sourceFor(path, anchor.channel);
  // Not beside a running gateway on the same folder: both would append to one ledger.
  const dataLock = await lockDataFolder(o.data, 'edgepeer fabric import');
  try {
    await importInto(path, o, anchor.channel, rules, source);
  } finally {
    await dataLock.release();
  }
}

async function importInto(path: string, o: ImportCliOptions, channel: string, rules: ChainRules, source: FabricLedgerSource): Promise<void> {
  const ledger = openLedger(ledgerPath(o.data, channel), { channel, format: rules.format });
  let outcome;
  try {
    outcome = importBlocks((function* () { for (const b of ledgerBlocks(source)) yield b.block; })(), {
      ledger,
      verifier: rules.anchor(ledger),
      reader: rules.format.reader(),
      limits: { runMaxBlocks: fabricGatewayDefaults.runMaxBlocks, runMaxBytes: fabricGatewayDefaults.runMaxBytes },
    });
  } catch (err) {
    if (err instanceof BlockImportError && o.json) {
      process.stdout.write(`${JSON.stringify({ channel, path, ok: false, block: err.blockNumber, error: err.message, ...err.summary })}\n`);
    }
    throw err;
  } finally {
    await ledger.close();
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ channel, path, ok: true, ...outcome })}\n`);
  else process.stdout.write(`${channel}: ${outcome.added} blocks added, ${outcome.alreadyHeld} already held; height ${outcome.height}\n`);
}
