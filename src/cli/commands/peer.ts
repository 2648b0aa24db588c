// `edgepeer peer`: one board's peer: pulls blocks from the orderer, verifies, commits to LMDB, and
// reports its status on stdout (its console).
import type { Command } from 'commander';
import { deliverClientDefaults, peerDefaults, statusIntervalMs } from '../../config/constants.js';
import { ledgerPath, openLedger } from '../../ledger/lmdbLedger.js';
import { loadBoard, loadGenesis } from '../../network/loadNetwork.js';
import { createLogger } from '../../observability/logger.js';
import { createMetrics, startMetricsServer } from '../../observability/metrics.js';
import { Peer } from '../../peer/peer.js';
import { formatStatusLine, type StatusReport } from '../../peer/statusReport.js';
import type { ClientLink } from '../../transport/link.js';
import { MqttClientLink } from '../../transport/mqtt/mqttClientLink.js';
import { type MqttTlsOptions, addMqttTlsOptions, collect, mqttEndpoint, untilStopSignal, wholeNumber } from '../options.js';

interface PeerCliOptions extends MqttTlsOptions {
  network: string;
  board: string;
  channel?: string;
  data: string;
  mqtt?: string;
  orderer?: string[];
  metricsPort?: number;
  statusIntervalMs: number;
  statusJson?: boolean;
  payloadBufferSlots: number;
  keepaliveMs: number;
  stallTimeoutMs: number;
  maxRetryDelayMs: number;
}

export function registerPeer(program: Command): void {
  const cmd = program
    .command('peer')
    .description("run one board's peer: Deliver from the orderer, verify, commit to LMDB, report status")
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .requiredOption('--board <id>', 'board id (see `edgepeer init --json`)')
    .requiredOption('--data <dir>', "where the board keeps its ledger")
    .option('--channel <name>', "channel to sync (default: the one in the board's board.json)")
    .option('--mqtt <url>', "the orderer's MQTT broker (shorthand for one --orderer)")
    .option('--orderer <endpoint>', 'orderer endpoint, in order of preference (repeatable): mqtt://… or mqtts://…', collect)
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>', wholeNumber)
    .option('--status-interval-ms <ms>', 'status line on stdout at this rate (and on every change)', wholeNumber, statusIntervalMs)
    .option('--status-json', 'status as one JSON object per line instead of key=value')
    .option('--payload-buffer-slots <n>', 'blocks held ahead of the ledger', wholeNumber, peerDefaults.payloadBufferSlots)
    .option('--keepalive-ms <ms>', 'ACK the orderer at least this often', wholeNumber, deliverClientDefaults.keepaliveMs)
    .option('--stall-timeout-ms <ms>', 'reconnect when the stream is silent this long', wholeNumber, deliverClientDefaults.streamStallTimeoutMs)
    .option('--max-retry-delay-ms <ms>', 'cap of the reconnect backoff', wholeNumber, deliverClientDefaults.maxRetryDelayMs);
  addMqttTlsOptions(cmd).action(async (o: PeerCliOptions) => runPeer(o));
}

async function runPeer(o: PeerCliOptions): Promise<void> {
  const log = createLogger({ name: `peer:${o.board}` });
  const board = loadBoard(o.network, o.board);
  const channel = o.channel ?? board.config.channel;
  const genesis = o.channel === undefined ? board.genesis : loadGenesis(o.network, channel);
  const endpoints = o.orderer ?? (o.mqtt !== undefined ? [o.mqtt] : board.config.orderers);
  if (endpoints.length === 0) throw new Error('no orderer endpoint: give --orderer or --mqtt, or list them in board.json');
  const links: ClientLink[] = endpoints.map((url) => {
    if (!/^mqtts?:\/\//.test(url)) throw new Error(`orderer endpoint '${url}': only mqtt:// and mqtts:// are supported`);
    return new MqttClientLink({ endpoint: mqttEndpoint(url, o), clientId: o.board, onError: (err) => log.debug({ err: err.message }, 'MQTT') });
  });
  const metrics = createMetrics('peer');
  const ledger = openLedger(ledgerPath(o.data, channel), { channel });
  const peer = new Peer({
    boardId: o.board, ledger, genesis, signer: board.signer, links, log, metrics,
    limits: {
      payloadBufferSlots: o.payloadBufferSlots,
      deliver: { keepaliveMs: o.keepaliveMs, streamStallTimeoutMs: o.stallTimeoutMs, maxRetryDelayMs: o.maxRetryDelayMs },
    },
  });
  const metricsServer = o.metricsPort !== undefined ? await startMetricsServer(metrics.registry, o.metricsPort) : null;
  const started = Date.now();
  let lastHeight = ledger.height();
  let lastAt = started;
  let lastKey = '';
  const report = (force: boolean): void => {
    const now = Date.now();
    const s = peer.status();
    const key = `${s.link}/${s.deliver}/${s.error ?? ''}/${s.rejected}`;
    if (!force && key === lastKey) return;
    lastKey = key;
    const r: StatusReport = {
      ...s,
      blocksPerSec: now > lastAt ? ((s.height - lastHeight) * 1000) / (now - lastAt) : 0,
      uptimeSec: Math.round((now - started) / 1000),
    };
    lastHeight = s.height;
    lastAt = now;
    process.stdout.write(`${o.statusJson ? JSON.stringify(r) : formatStatusLine(r)}\n`);
  };
  const timer = setInterval(() => report(true), o.statusIntervalMs);
  const onChange = (): void => report(false);
  for (const l of links) l.on('state', onChange);
  peer.on('rejected', onChange);
  peer.on('stopped', onChange);
  peer.start();
  report(true);
  log.info({ board: o.board, channel: ledger.channel, height: ledger.height(), endpoints }, 'peer started');
  const sig = await untilStopSignal();
  log.info({ signal: sig }, 'stopping');
  clearInterval(timer);
  await peer.stop();
  report(true);
  await Promise.allSettled(links.map((l) => l.close()));
  await ledger.close();
  await metricsServer?.close();
  log.info({ data: o.data, height: ledger.height() }, 'peer stopped; ledger closed');
}
