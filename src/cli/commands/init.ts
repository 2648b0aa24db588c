// `edgepeer init`: writes a development network (see src/network/createNetwork.ts).
import { writeMosquittoConfig } from '../../network/mosquittoConfig.js';
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { FabricChannelRules } from '../../fabric/channelRules.js';
import {
  DEFAULT_MQTT_URL, INIT_MAX_BOARDS_PER_ORG, INIT_MAX_ORGS, NetworkOptionsError, type NetworkSummary, createNetwork,
} from '../../network/createNetwork.js';
import type { BatchConfig } from '../../protocol/channelConfig.js';
import { certificateValidityMs, defaultBatch } from '../../network/networkDefaults.js';
import { DAY_MS, certificateExpiryWarnMs } from '../../observability/certificateExpiry.js';
import { GOSSIP_ELECTION_KINDS, type GossipElectionKind, isGossipElectionKind } from '../../gossip/gossipSettings.js';
import { collect, wholeNumber } from '../options.js';

/** Exit code for a command line that cannot be carried out as written. */
export const EXIT_USAGE = 2;
/** Not 'commander.error', which main.ts reads as a runtime failure that keeps the exit code it was given. */
export const USAGE_ERROR_CODE = 'commander.invalidArgument';

interface RawInitOptions {
  dir: string;
  channel?: string[];
  fabricGenesis?: string[];
  orgs: string;
  boardsPerOrg: string;
  mqtt?: string;
  maxMessageCount?: string;
  preferredMaxBytes?: string;
  absoluteMaxBytes?: string;
  batchTimeoutMs?: string;
  json?: boolean;
  force?: boolean;
  gossip?: boolean;
  gossipBasePort?: string;
  gossipElection?: string;
  certificateValidityDays?: string;
}

/** First gossip port `init --gossip` gives out when --gossip-base-port is not given. */
const DEFAULT_GOSSIP_BASE_PORT = 7_100;

/**
 * Parsed in the action rather than as commander option parsers: commander's own argument errors exit
 * with code 1 unless main.ts maps them, and `init` must exit with 2 wherever it is registered.
 */
function parseWholeNumber(value: string, flag: string): number {
  try {
    return wholeNumber(value);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new NetworkOptionsError(`${flag}: ${err.message}`);
    throw err;
  }
}

function parseElection(value: string): GossipElectionKind {
  if (!isGossipElectionKind(value)) {
    throw new NetworkOptionsError(`--gossip-election: must be ${GOSSIP_ELECTION_KINDS.join(' or ')}, got '${value}'`);
  }
  return value;
}

function batchFrom(o: RawInitOptions): Partial<BatchConfig> {
  const batch: Partial<BatchConfig> = {};
  if (o.maxMessageCount !== undefined) batch.maxMessageCount = parseWholeNumber(o.maxMessageCount, '--max-message-count');
  if (o.preferredMaxBytes !== undefined) batch.preferredMaxBytes = parseWholeNumber(o.preferredMaxBytes, '--preferred-max-bytes');
  if (o.absoluteMaxBytes !== undefined) batch.absoluteMaxBytes = parseWholeNumber(o.absoluteMaxBytes, '--absolute-max-bytes');
  if (o.batchTimeoutMs !== undefined) batch.batchTimeoutMs = parseWholeNumber(o.batchTimeoutMs, '--batch-timeout-ms');
  return batch;
}

/** A Fabric genesis block file and the channel it names; refused when Fabric's rules refuse its configuration. */
function readFabricGenesis(file: string): { channel: string; genesis: Uint8Array } {
  let genesis: Uint8Array;
  try {
    genesis = new Uint8Array(readFileSync(file));
  } catch (err) {
    throw new NetworkOptionsError(`--fabric-genesis ${file}: ${(err as Error).message}`);
  }
  try {
    return { channel: FabricChannelRules.fromConfigBlock(genesis).channelId, genesis };
  } catch (err) {
    throw new NetworkOptionsError(`--fabric-genesis ${file} is not a usable Fabric genesis block: ${(err as Error).message}`);
  }
}

export function formatSummary(s: NetworkSummary): string {
  const clients = s.clients.map((c) => c.id).join(', ');
  const lines = [
    `development network written to ${s.dir}`,
    `  channels: ${s.channels.join(', ')} (boards are configured for '${s.channel}')`,
    ...(s.fabricChannels.length > 0 ? [`  Fabric:   ${s.fabricChannels.join(', ')} (followed by \`edgepeer gateway\`, genesis pinned by hash)`] : []),
    `  orderer:  ${s.orderer.id} of '${s.orderer.org}', MQTT ${s.orderer.mqtt}`,
    `  orgs:     ${s.orgs.join(', ')}`,
    `  boards:   ${s.boards.length} (${s.boards.map((b) => b.id).join(', ')})`,
    `  clients:  ${clients}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a development network: org roots, certificates, one genesis block per channel, board configs')
    .requiredOption('--dir <dir>', 'folder to write the network into')
    .option('--channel <name>', 'edgepeer channel to create (repeat for more; boards use the first)', collect)
    .option('--fabric-genesis <file>', "a Hyperledger Fabric channel's genesis block: the channel a gateway follows, pinned by hash (repeatable; boards use the first when no --channel is given)", collect)
    .requiredOption('--orgs <n>', `peer organisations (1-${INIT_MAX_ORGS})`)
    .requiredOption('--boards-per-org <m>', `boards in each organisation (1-${INIT_MAX_BOARDS_PER_ORG})`)
    .option('--mqtt <url>', `orderer MQTT endpoint written into the board configs (default ${DEFAULT_MQTT_URL})`)
    .option('--max-message-count <n>', `envelopes per block at most (default ${defaultBatch.maxMessageCount})`)
    .option('--preferred-max-bytes <n>', `block size the orderer aims for (default ${defaultBatch.preferredMaxBytes})`)
    .option('--absolute-max-bytes <n>', `largest transaction envelope in bytes; a block may be a little larger (default ${defaultBatch.absoluteMaxBytes})`)
    .option('--batch-timeout-ms <n>', `cut a block after this long (default ${defaultBatch.batchTimeoutMs})`)
    .option('--certificate-validity-days <n>', `how long the certificates made are valid (default ${certificateValidityMs / DAY_MS}; peer and orderer warn ${certificateExpiryWarnMs / DAY_MS} days ahead)`)
    .option('--json', 'print the network summary as one JSON object')
    .option('--force', 'replace a network already in --dir')
    .option('--gossip', 'boards gossip: write a gossip section into each board.json (listen 127.0.0.1:<base+index>, bootstrap: all other boards)')
    .option('--gossip-base-port <n>', `first gossip port (default ${DEFAULT_GOSSIP_BASE_PORT})`)
    .option('--gossip-election <kind>', `${GOSSIP_ELECTION_KINDS.join(' or ')} (default dynamic); static: the first board of each org is its leader`)
    .action(async (_opts: unknown, cmd: Command) => {
      const o = cmd.opts<RawInitOptions>();
      let summary: NetworkSummary;
      try {
        summary = await createNetwork({
          dir: o.dir,
          channels: o.channel ?? [],
          fabricChannels: (o.fabricGenesis ?? []).map(readFabricGenesis),
          orgs: parseWholeNumber(o.orgs, '--orgs'),
          boardsPerOrg: parseWholeNumber(o.boardsPerOrg, '--boards-per-org'),
          ...(o.mqtt !== undefined ? { mqttUrl: o.mqtt } : {}),
          batch: batchFrom(o),
          force: o.force === true,
          ...(o.certificateValidityDays !== undefined
            ? { certificateValidityMs: parseWholeNumber(o.certificateValidityDays, '--certificate-validity-days') * DAY_MS }
            : {}),
          ...(o.gossip === true || o.gossipBasePort !== undefined || o.gossipElection !== undefined
            ? {
              gossip: {
                basePort: o.gossipBasePort !== undefined ? parseWholeNumber(o.gossipBasePort, '--gossip-base-port') : DEFAULT_GOSSIP_BASE_PORT,
                ...(o.gossipElection !== undefined ? { election: parseElection(o.gossipElection) } : {}),
              },
            }
            : {}),
        });
      } catch (err) {
        // A usage error goes through commander (exit code 2, like its own argument errors); any other
        // failure (an existing network, the disk) propagates to the caller, which reports it with exit code 1.
        if (err instanceof NetworkOptionsError) cmd.error(`error: ${err.message}`, { exitCode: EXIT_USAGE, code: USAGE_ERROR_CODE });
        throw err;
      }
      // An external broker's access control (docs/protocol.md §11.4), for a site that runs Mosquitto.
      await writeMosquittoConfig(o.dir);
      // Through commander's output, so that whoever embeds the command can capture it.
      const out = cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      out(o.json === true ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    });
}
