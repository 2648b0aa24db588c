// `edgepeer submit`: a load generator that broadcasts signed transactions and reports the answers.
import type { Command } from 'commander';
import { BroadcastClient, submitLoad } from '../../client/broadcastClient.js';
import { genesisTrust } from '../../channel/responderTrust.js';
import { loadClient, loadGenesis, loadNetworkFile } from '../../network/loadNetwork.js';
import { statusName } from '../../protocol/status.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../../transport/mqtt/mqttClientLink.js';
import { withDeadline } from '../deadline.js';
import { type MqttTlsOptions, addMqttTlsOptions, mqttEndpoint, wholeNumber } from '../options.js';

/** Transactions sent without waiting for their answer, at most. */
export const defaultSubmitInFlight = 64;
/** `submit` gives up when the broker has not accepted its connection and subscription within this long. */
export const defaultSubmitConnectTimeoutMs = 10_000;

interface SubmitCliOptions extends MqttTlsOptions {
  network: string;
  channel?: string;
  count: number;
  size: number;
  mqtt?: string;
  org?: string;
  inFlight: number;
  connectTimeoutMs: number;
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
    const client = new BroadcastClient(link, channel, signer, genesisTrust(loadGenesis(o.network, channel)));
    const started = Date.now();
    const counts = await submitLoad(client, o.count, o.size, o.inFlight);
    const seconds = (Date.now() - started) / 1000;
    client.close();
    const byStatus = Object.fromEntries([...counts].map(([k, v]) => [statusName(k), v]));
    const accepted = byStatus['SUCCESS'] ?? 0;
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ channel, count: o.count, accepted, byStatus, seconds, txPerSec: o.count / seconds })}\n`);
    } else {
      process.stdout.write(`${accepted}/${o.count} accepted on '${channel}' in ${seconds.toFixed(2)} s (${(o.count / seconds).toFixed(0)} tx/s) ${JSON.stringify(byStatus)}\n`);
    }
    if (accepted !== o.count) process.exitCode = 1;
  } finally {
    await link.close();
  }
}
