// `edgepeer submit`: a load generator that broadcasts signed transactions and reports the answers.
import type { Command } from 'commander';
import { BroadcastClient, submitLoad } from '../../client/broadcastClient.js';
import { ChainReader } from '../../client/chainReader.js';
import { blockEnvelopes } from '../../protocol/block.js';
import { decodeEnvelope } from '../../protocol/envelope.js';
import { genesisTrust } from '../../channel/responderTrust.js';
import { loadClient, loadGenesis, loadNetworkFile } from '../../network/loadNetwork.js';
import { Status, statusName } from '../../protocol/status.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../transport/mqtt/mqttClientLink.js';
import { withDeadline } from '../deadline.js';
import { type MqttTlsOptions, addMqttTlsOptions, mqttEndpoint, wholeNumber } from '../options.js';

/** Transactions sent without waiting for their answer, at most. */
export const defaultSubmitInFlight = 64;
/** `submit` gives up when the broker has not accepted its connection and subscription within this long. */
export const defaultSubmitConnectTimeoutMs = 10_000;
/** `submit --wait`: how long the accepted transactions may take to be in blocks (the chain read first included). */
export const defaultSubmitWaitTimeoutMs = 60_000;
/** `submit --wait` reads the chain's new blocks again this often until every accepted transaction is in one. */
export const submitWaitPollMs = 100;

interface SubmitCliOptions extends MqttTlsOptions {
  network: string;
  channel?: string;
  count: number;
  size: number;
  mqtt?: string;
  org?: string;
  inFlight: number;
  connectTimeoutMs: number;
  wait?: boolean;
  waitTimeoutMs: number;
  json?: boolean;
}

export function registerSubmit(program: Command): void {
  const cmd = program
    .command('submit')
    .description('broadcast signed transactions to the orderer and report what was accepted')
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .option('--channel <name>', 'channel (default: the first of the network)')
    .requiredOption('--count <n>', 'how many transactions', wholeNumber)
    .requiredOption('--size <bytes>', 'random payload bytes per transaction', wholeNumber)
    .option('--mqtt <url>', "the orderer's MQTT broker (default: the network's)")
    .option('--org <name>', 'submit as the client of this organisation')
    .option('--in-flight <n>', 'unanswered transactions at most', wholeNumber, defaultSubmitInFlight)
    .option('--connect-timeout-ms <ms>', 'give up when the broker has not answered within this long (0: wait for ever)', wholeNumber, defaultSubmitConnectTimeoutMs)
    .option('--wait', 'wait until every accepted transaction is in a block of the chain (read and verified from the genesis block); exit 1 if one is not (a SUCCESS means ordered, not in a block yet: docs/protocol.md §10)')
    .option('--wait-timeout-ms <ms>', 'how long --wait waits, the chain read included', wholeNumber, defaultSubmitWaitTimeoutMs)
    .option('--json', 'print the result as one JSON object');
  addMqttTlsOptions(cmd).action(async (o: SubmitCliOptions) => runSubmit(o));
}

async function runSubmit(o: SubmitCliOptions): Promise<void> {
  const net = loadNetworkFile(o.network);
  const channel = o.channel ?? net.channels[0]!;
  const signer = loadClient(o.network, o.org);
  const url = o.mqtt ?? net.mqtt.url;
  let lastError: string | null = null;
  // Replies come on the topic named after the signer: the only one its broker login may read.
  const link = new MqttClientLink({
    endpoint: mqttEndpoint(url, o), credentials: brokerCredentials(signer), onError: (err) => { lastError = err.message; },
  });
  try {
    await withDeadline(link.open([channel]), o.connectTimeoutMs, () =>
      `no MQTT broker answered at ${url} within ${o.connectTimeoutMs} ms${lastError !== null ? ` (${lastError})` : ''}: is the orderer running, and is that its broker?`);
    const genesis = loadGenesis(o.network, channel);
    const waitUntil = Date.now() + o.waitTimeoutMs;
    // --wait: the chain as it is before the load, so that only the blocks cut after it are read for it.
    const reader = o.wait === true ? new ChainReader(link, channel, signer, genesis) : null;
    if (reader !== null) await reader.readToTip(o.waitTimeoutMs);
    const client = new BroadcastClient(link, channel, signer, genesisTrust(genesis));
    const started = Date.now();
    const acceptedIds = new Set<string>();
    const counts = await submitLoad(client, o.count, o.size, o.inFlight, (r) => { if (r.status === Status.SUCCESS) acceptedIds.add(r.txId); });
    const seconds = (Date.now() - started) / 1000;
    client.close();
    const inBlocks = reader === null ? undefined : await waitForBlocks(reader, acceptedIds, waitUntil);
    const byStatus = Object.fromEntries([...counts].map(([k, v]) => [statusName(k), v]));
    const accepted = byStatus['SUCCESS'] ?? 0;
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ channel, count: o.count, accepted, ...(inBlocks !== undefined ? { inBlocks } : {}), byStatus, seconds, txPerSec: o.count / seconds })}\n`);
    } else {
      const waited = inBlocks === undefined ? '' : `; ${inBlocks} of them in blocks${inBlocks < accepted ? ` (the rest not within --wait-timeout-ms ${o.waitTimeoutMs}: submit them again)` : ''}`;
      process.stdout.write(`${accepted}/${o.count} accepted on '${channel}' in ${seconds.toFixed(2)} s (${(o.count / seconds).toFixed(0)} tx/s) ${JSON.stringify(byStatus)}${waited}\n`);
    }
    if (accepted !== o.count || (inBlocks !== undefined && inBlocks !== accepted)) process.exitCode = 1;
  } finally {
    await link.close();
  }
}

/**
 * Reads the chain's new blocks until every transaction of `ids` is in one or `until` passes; returns how
 * many are. A SUCCESS means ordered: the block comes within the batch timeout, unless the orderer dies first.
 */
async function waitForBlocks(reader: ChainReader, ids: ReadonlySet<string>, until: number): Promise<number> {
  const seen = new Set<string>();
  const onBlock = (block: Uint8Array): void => {
    for (const env of blockEnvelopes(block)) {
      const txId = decodeEnvelope(env).payload.txId;
      if (ids.has(txId)) seen.add(txId);
    }
  };
  for (;;) {
    const left = until - Date.now();
    if (left <= 0) return seen.size;
    try {
      await reader.readToTip(left, onBlock);
    } catch (err) {
      process.stderr.write(`submit --wait: ${(err as Error).message}\n`);
      return seen.size;
    }
    if (seen.size === ids.size || Date.now() + submitWaitPollMs >= until) return seen.size;
    await new Promise((resolve) => setTimeout(resolve, submitWaitPollMs));
  }
}
