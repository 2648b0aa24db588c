// `edgepeer orderer`: the orderer with its embedded MQTT broker (or an external one).
import { systemClock } from '../../config/clock.js';
import type { Command } from 'commander';
import { lockDataFolder } from '../../ledger/dataLock.js';
import { loadGenesis, loadNetworkFile, loadOrdererIdentities, loadOrdererKeyring } from '../../network/loadNetwork.js';
import { createLogger } from '../../observability/logger.js';
import { watchCertificateExpiry } from '../../observability/certificateExpiry.js';
import { createMetrics } from '../../observability/metrics.js';
import { Orderer } from '../../orderer/orderer.js';
import { channelBrokerAccess } from '../../transport/mqtt/brokerAccess.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import type { Signer } from '../../protocol/envelope.js';
import { checkDataFolder, collect, untilStopSignal } from '../options.js';
import { type ServingCliOptions, addServingOptions, printReadyLine, startServingLinks } from '../servingLinks.js';

interface OrdererCliOptions extends ServingCliOptions {
  network: string;
  data: string;
  channel?: string[];
}

export function registerOrderer(program: Command): void {
  const cmd = program
    .command('orderer')
    .description('run the orderer: Broadcast, block cutting, Deliver over MQTT (embedded broker by default) and serial ports')
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .requiredOption('--data <dir>', 'where the orderer keeps its ledgers')
    .option('--channel <name>', 'serve only this channel (repeatable; default: every channel of the network)', collect);
  addServingOptions(cmd, 'Deliver and Broadcast').action(async (o: OrdererCliOptions) => runOrderer(o));
}

async function runOrderer(o: OrdererCliOptions): Promise<void> {
  const log = createLogger({ name: 'orderer' });
  const net = loadNetworkFile(o.network);
  // A Fabric channel is followed by `edgepeer gateway`, never cut here.
  const fabric = new Set((net.fabricChannels ?? []).map((f) => f.channel));
  const ordered = net.channels.filter((c) => !fabric.has(c));
  const channels = o.channel ?? ordered;
  for (const c of channels) {
    if (fabric.has(c)) throw new Error(`channel '${c}' is a Fabric channel: serve it with \`edgepeer gateway\`, not the orderer`);
    if (!net.channels.includes(c)) throw new Error(`channel '${c}' is not in the network (${net.channels.join(', ')})`);
  }
  if (channels.length === 0) throw new Error(`the network has no edgepeer channel to order (its channels are Fabric channels: ${[...fabric].join(', ')})`);
  checkDataFolder(o.data, '--data', false);
  const dataLock = await lockDataFolder(o.data, 'edgepeer orderer');
  const metrics = createMetrics('orderer');
  // A channel whose store disagrees with its head cannot go on: stop, and exit non-zero so the service
  // manager restarts the orderer, which then reads its head from the store (never hang refusing).
  let channelFailed: (why: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => { channelFailed = resolve; });
  let configApplied: () => void = () => undefined;
  let identityChanged: (identity: Signer) => void = () => undefined;
  const signer = loadOrdererIdentities(o.network).node;
  const expiry = watchCertificateExpiry({
    certificate: { id: signer.certificate.id, notAfterMs: signer.certificate.notAfter },
    clock: systemClock, log, registry: metrics.registry,
  });
  const orderer = new Orderer({
    onConfigApplied: () => configApplied(),
    onChannelFailed: (channel, err) => channelFailed(`channel ${channel}: ${err.message}`),
    dataDir: o.data,
    channels: channels.map((channel) => ({ channel, genesis: loadGenesis(o.network, channel) })),
    signer,
    // A key rotation's next identity, read when a configuration names a signer the node does not know.
    keyring: () => loadOrdererKeyring(o.network),
    onIdentityChanged: (identity) => identityChanged(identity),
    log,
    metrics,
    limits: { sessionIdleTimeoutMs: o.sessionIdleTimeoutMs, heartbeatMs: o.heartbeatMs },
  });
  const links = await startServingLinks(o, {
    log,
    registry: metrics.registry,
    dropped: (reason) => metrics.linkMessagesDropped.inc({ reason }),
    serve: (link) => orderer.serve(link),
    brokerAccess: channelBrokerAccess(() => [...orderer.chains.values()].map((c) => c.state)),
    // The identity the channels name as block signer now (after a rotation, maybe not network.json's `orderer`).
    credentials: brokerCredentials(orderer.identity),
  });
  identityChanged = (identity) => links.setBrokerCredentials(brokerCredentials(identity));
  configApplied = () => {
    const closed = links.recheckBrokerLogins();
    if (closed > 0) log.warn({ closed }, 'configuration changed: broker connections no longer allowed were closed');
  };
  log.info({
    mqtt: links.mqttUrl, serial: links.serialPaths, embeddedBroker: links.embeddedBroker, metricsPort: links.metricsPort, channels,
  }, 'orderer ready');
  if (o.readyJson) printReadyLine(links);
  const end = await Promise.race([untilStopSignal().then((sig) => ({ sig })), failed.then((why) => ({ why }))]);
  log.info(end, 'stopping');
  expiry.stop();
  await orderer.stop();
  await links.close();
  await dataLock.release();
  log.info({ data: o.data }, 'orderer stopped; ledgers closed');
  if ('why' in end) throw new Error(`the orderer stopped: ${end.why}`);
}
