// `edgepeer peer`: one board's peer: pulls blocks from the orderer, verifies, commits to LMDB, and
// reports its status on stdout (its console).
import type { Command } from 'commander';
import { boardProfile, startBoardLeds } from '../../board/boardLeds.js';
import type { LedDriver } from '../../board/ledDriver.js';
import { consoleDefaults } from '../../console/consoleDefaults.js';
import { statusIntervalMs } from '../../observability/statusReport.js';
import { deliverClientDefaults, peerDefaults } from '../../peer/peerDefaults.js';
import { lockDataFolder } from '../../ledger/dataLock.js';
import { checkLedgerTip } from '../../ledger/tipCheck.js';
import { ledgerPath, openLedger } from '../../ledger/lmdbLedger.js';
import { loadBoard, loadChannelAnchor } from '../../network/loadNetwork.js';
import { CertificateWatch } from '../../network/certificateWatch.js';
import { createLogger } from '../../observability/logger.js';
import { createGossipMetrics } from '../../observability/gossipMetrics.js';
import { watchCertificateExpiry } from '../../observability/certificateExpiry.js';
import { createMetrics, startMetricsServer } from '../../observability/metrics.js';
import { createServiceNotifier } from '../../platform/systemd.js';
import { formatLogLine } from '../../observability/consoleLog.js';
import { ConsoleOutput } from '../../console/consoleOutput.js';
import { Peer } from '../../peer/peer.js';
import { ChannelState } from '../../channel/channelState.js';
import { configFromBlock } from '../../channel/blocks.js';
import { systemClock } from '../../config/clock.js';
import { RateLimitedLog } from '../../observability/rateLimitedLog.js';
import { seededRandom } from '../../config/random.js';
import { StaticElection } from '../../gossip/election.js';
import { GossipNode } from '../../gossip/gossipNode.js';
import { gossipSettings } from '../../gossip/gossipSettings.js';
import { multicastDiscovery } from '../../gossip/multicastDiscovery.js';
import { type BlockSources, formatStatusLine, soloBlockSources, type StatusReport } from '../../observability/statusReport.js';
import type { ClientLink } from '../../transport/link.js';
import { ENDPOINT_FORMS, createClientLink, responsePackingLimitBytes } from '../../transport/endpoints.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import { parsePortSpec } from '../../transport/serial/serialEndpoint.js';
import { checkDataFolder, type MqttTlsOptions, addMqttTlsOptions, collect, mqttEndpoint, untilStopSignal, portNumber, wholeNumber } from '../options.js';
import { chainRulesFor } from '../fabricChannel.js';

/** A failing orderer endpoint is warned about at most this often (each warning says how many were held back). */
export const ordererLinkWarnIntervalMs = 30_000;

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
  profile?: string;
  console?: string;
  gossipSeed?: number;
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
    .option('--orderer <endpoint>', `orderer endpoint, in order of preference (repeatable): ${ENDPOINT_FORMS}`, collect)
    .option('--console <port>', `also write status lines, warnings and errors to this serial port: PATH[@BAUD] (default ${consoleDefaults.baudRate} baud)`)
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>', portNumber)
    .option('--status-interval-ms <ms>', 'status line on stdout at this rate (and on every change)', wholeNumber, statusIntervalMs)
    .option('--status-json', 'status as one JSON object per line instead of key=value')
    .option('--payload-buffer-slots <n>', 'blocks held ahead of the ledger', wholeNumber, peerDefaults.payloadBufferSlots)
    .option('--keepalive-ms <ms>', 'ACK the orderer at least this often', wholeNumber, deliverClientDefaults.keepaliveMs)
    .option('--stall-timeout-ms <ms>', 'reconnect when the stream is silent this long', wholeNumber, deliverClientDefaults.streamStallTimeoutMs)
    .option('--max-retry-delay-ms <ms>', 'cap of the reconnect backoff', wholeNumber, deliverClientDefaults.maxRetryDelayMs)
    .option('--gossip-seed <n>', 'seed the random choices of gossip (push targets, pull and catch-up sources), to repeat a fleet run', wholeNumber)
    .option('--profile <name|file>', "board profile for the LEDs: a name from `edgepeer boards`, or a profile file (default: board.json's profile)");
  addMqttTlsOptions(cmd).action(async (o: PeerCliOptions) => runPeer(o));
}

async function runPeer(o: PeerCliOptions): Promise<void> {
  // The board's serial console: status lines, and the log's warnings and errors, for `edgepeer console`.
  let reportNow: () => void = () => undefined;
  const consoleOut = o.console === undefined ? null : new ConsoleOutput({
    port: parsePortSpec(o.console, consoleDefaults.baudRate),
    onOpen: () => reportNow(),
    onError: (err) => log.debug({ console: o.console, err: err.message }, 'console port'),
  });
  const log = createLogger({
    name: `peer:${o.board}`,
    ...(consoleOut && { mirror: { level: 'warn', write: (json: string) => { const l = formatLogLine(json); if (l !== null) consoleOut.writeLine(l); } } }),
  });
  const board = loadBoard(o.network, o.board);
  checkDataFolder(o.data, '--data', false);
  const dataLock = await lockDataFolder(o.data, `edgepeer peer ${o.board}`);
  // Checked before anything starts: a wrong pin name stops the board here, with the file and field named.
  const profile = boardProfile(o.profile ?? board.config.profile, board.config.pins, `board ${o.board}'s board.json`);
  const channel = o.channel ?? board.config.channel;
  // The channel's anchor: an edgepeer genesis, or a Fabric channel's pinned genesis and edge access configuration.
  const anchor = o.channel === undefined ? board.anchor : loadChannelAnchor(o.network, channel);
  const rules = chainRulesFor(anchor);
  const endpoints = o.orderer ?? (o.mqtt !== undefined ? [o.mqtt] : board.config.orderers);
  if (endpoints.length === 0) throw new Error('no orderer endpoint: give --orderer or --mqtt, or list them in board.json');
  // The orderer links' one listener is the peer's deliver client, which copies each response into its
  // ingress ring within the message event: they may lend their buffers.
  // An endpoint that cannot be reached is said at the default level, with the reason, once per interval.
  const linkWarnings = new RateLimitedLog(log, systemClock, ordererLinkWarnIntervalMs);
  const links: ClientLink[] = endpoints.map((endpoint) => createClientLink(endpoint, {
    credentials: brokerCredentials(board.signer), lendPayloads: true, mqttEndpoint: (url) => mqttEndpoint(url, o),
    onError: (e, err) => linkWarnings.warn(e, { endpoint: e, err: err.message }, 'orderer endpoint unreachable; retrying'),
  }));
  const metrics = createMetrics('peer');
  const ledger = openLedger(ledgerPath(o.data, channel), { channel, format: rules.format });
  checkLedgerTip(ledger);
  // With a gossip section the board pulls from the orderer only while it leads its org (src/gossip).
  const gossipConfig = board.config.gossip;
  let gossip: GossipNode | null = null;
  const peer = new Peer({
    boardId: o.board, ledger, rules, signer: board.signer, links, log, metrics, responsePackingLimitBytes,
    ...(gossipConfig !== undefined ? { deliverAtStart: false, role: { role: () => gossip?.role() ?? 'follower', followerSync: () => gossip?.followerSync() ?? 'offline' } } : {}),
    limits: {
      payloadBufferSlots: o.payloadBufferSlots,
      deliver: { keepaliveMs: o.keepaliveMs, streamStallTimeoutMs: o.stallTimeoutMs, maxRetryDelayMs: o.maxRetryDelayMs },
    },
  });
  if (gossipConfig !== undefined) {
    const settings = gossipSettings(gossipConfig, profile);
    const gossipLog = log.child({ component: 'gossip' });
    gossip = new GossipNode({
      peer,
      ledger,
      // Members are judged by the channel's configuration: for a Fabric channel, its edge access configuration.
      channelState: new ChannelState(configFromBlock(anchor.kind === 'fabric' ? anchor.access : ledger.getBlock(ledger.lastConfigNumber())!)),
      format: rules.format,
      signer: board.signer,
      listen: settings.listen,
      ...(settings.advertise !== null ? { advertise: settings.advertise } : {}),
      bootstrap: settings.bootstrap,
      clock: systemClock,
      random: o.gossipSeed === undefined ? Math.random : seededRandom(o.gossipSeed),
      log: gossipLog,
      limits: settings.limits,
      ...(settings.election.kind === 'static' ? { election: new StaticElection(board.signer.certificate.id, settings.election.orgLeader) } : {}),
      ...(settings.multicast !== null ? { discovery: multicastDiscovery({ ...settings.multicast, log: gossipLog }) } : {}),
      metrics: createGossipMetrics(metrics.registry),
    });
  }
  const metricsServer = o.metricsPort !== undefined ? await startMetricsServer(metrics.registry, o.metricsPort) : null;
  const expiry = watchCertificateExpiry({
    certificate: { id: board.signer.certificate.id, notAfterMs: board.signer.certificate.notAfter },
    clock: systemClock, log, registry: metrics.registry,
  });
  // A new cert.cbor (an organisation's root rotation certified the board again) is taken up live, once
  // the channel's newest configuration accepts it: the next SEEK, gossip message and broker login carry it.
  const memberState = (): ChannelState => new ChannelState(configFromBlock(anchor.kind === 'fabric' ? anchor.access : ledger.getBlock(ledger.lastConfigNumber())!));
  const certificateWatch = new CertificateWatch({
    signer: board.signer,
    path: board.certPath,
    judge: (cert) => {
      const state = memberState();
      return state.denyReason(cert, state.config.readers, Date.now());
    },
    adopted: (cert) => {
      const credentials = brokerCredentials(board.signer);
      for (const l of links) l.setCredentials?.(credentials);
      expiry.renew(cert.notAfter);
    },
    log,
  });
  certificateWatch.start();
  let configNumber = ledger.lastConfigNumber();
  peer.on('committed', () => {
    if (ledger.lastConfigNumber() === configNumber) return;
    configNumber = ledger.lastConfigNumber();
    certificateWatch.retry();
  });
  // The LEDs are a view of the peer: when their IO cannot be opened the board still syncs, and says why.
  let leds: LedDriver | null = null;
  try {
    leds = await startBoardLeds({ profile, source: () => peer.status(), log: log.child({ component: 'leds' }) });
  } catch (err) {
    log.error({ profile: profile.name, io: profile.io.plugin, err: (err as Error).message }, 'LEDs not available; the peer runs without them');
  }
  // A board without gossip takes every block it commits from the orderer.
  const blockSources = (committed: number): BlockSources => gossip?.blocksBySource() ?? soloBlockSources(committed);
  const started = Date.now();
  let lastHeight = ledger.height();
  let lastAt = started;
  let lastKey = '';
  const report = (force: boolean): void => {
    const now = Date.now();
    // The LEDs are brought up to date first, so the line's height and height bar agree.
    leds?.refresh();
    const s = peer.status();
    const key = `${s.link}/${s.deliver}/${s.sync}/${s.role}/${s.error ?? ''}/${s.rejected}`;
    if (!force && key === lastKey) return;
    lastKey = key;
    const r: StatusReport = {
      ...s,
      blocksPerSec: now > lastAt ? ((s.height - lastHeight) * 1000) / (now - lastAt) : 0,
      uptimeSec: Math.round((now - started) / 1000),
      leds: leds?.state ?? null,
      from: blockSources(s.committed),
    };
    lastHeight = s.height;
    lastAt = now;
    const line = formatStatusLine(r);
    process.stdout.write(`${o.statusJson ? JSON.stringify(r) : line}\n`);
    consoleOut?.writeLine(line);
  };
  reportNow = () => report(true);
  consoleOut?.start();
  const timer = setInterval(() => report(true), o.statusIntervalMs);
  const onChange = (): void => report(false);
  for (const l of links) l.on('state', onChange);
  peer.on('rejected', onChange);
  peer.on('stopped', onChange);
  peer.start();
  await gossip?.start();
  gossip?.on('role', onChange);
  report(true);
  log.info({ board: o.board, channel: ledger.channel, height: ledger.height(), endpoints }, 'peer started');
  // Under systemd (Type=notify): READY=1 now that the ledger is open, the orderer links are opening and
  // the LEDs are up (startBoardLeds resolved above), then WATCHDOG=1 from the event loop. A no-op elsewhere.
  const service = createServiceNotifier({ log });
  void service.ready(`board ${o.board} channel ${ledger.channel} height ${ledger.height()}`);
  const sig = await untilStopSignal();
  log.info({ signal: sig }, 'stopping');
  void service.stopping(`stopping on ${sig}`);
  clearInterval(timer);
  certificateWatch.stop();
  expiry.stop();
  await gossip?.stop();
  await peer.stop();
  report(true);
  await leds?.stop();
  await Promise.allSettled(links.map((l) => l.close()));
  await consoleOut?.close();
  await ledger.close();
  await dataLock.release();
  await metricsServer?.close();
  service.close();
  log.info({ data: o.data, height: ledger.height() }, 'peer stopped; ledger closed');
}
