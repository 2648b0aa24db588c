// `edgepeer gateway`: follows a Hyperledger Fabric channel from Fabric ordering nodes (or peers) over gRPC,
// verifies and stores its blocks byte for byte, and serves them to boards over MQTT (embedded broker by
// default) and serial ports, as `edgepeer orderer` serves the chains it cuts.
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { systemClock } from '../../config/clock.js';
import type { FollowLimits } from '../../fabricGateway/blocksProvider.js';
import type { FabricDeliverService, FabricEndpoint } from '../../fabricGateway/deliverConnector.js';
import { endpointName } from '../../fabricGateway/deliverConnector.js';
import { fabricGatewayDefaults } from '../../fabricGateway/gatewayDefaults.js';
import { lockDataFolder } from '../../ledger/dataLock.js';
import { Gateway } from '../../fabricGateway/gateway.js';
import { type FabricTlsFiles, GrpcDeliverConnector } from '../../fabricGateway/grpcDeliverConnector.js';
import { loadMspIdentity } from '../../fabricGateway/mspIdentity.js';
import { loadOrdererIdentities } from '../../network/loadNetwork.js';
import { channelBrokerAccess } from '../../transport/mqtt/brokerAccess.js';
import { brokerCredentials } from '../../transport/mqtt/brokerIdentity.js';
import { createLogger } from '../../observability/logger.js';
import { createMetrics } from '../../observability/metrics.js';
import { collect, untilStopSignal, wholeNumber } from '../options.js';
import { type ServingCliOptions, addServingOptions, printReadyLine, startServingLinks } from '../servingLinks.js';
import { fabricChannelAnchor, gatewayRulesFor } from '../fabricChannel.js';

interface GatewayCliOptions extends ServingCliOptions {
  network: string;
  data: string;
  channel?: string;
  fabricEndpoint?: string[];
  fabricService: FabricDeliverService;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  plaintext?: boolean;
  msp?: string;
  mspId?: string;
  connectTimeoutMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  maxBlockBytes: number;
}

/** HOST:PORT, or HOST:PORT=NAME when the node's TLS certificate carries NAME rather than HOST. */
export function parseFabricEndpoint(value: string): FabricEndpoint {
  const [address = '', name, ...rest] = value.split('=');
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$/.exec(address);
  const port = m === null ? Number.NaN : Number(m[2]);
  if (rest.length > 0 || m === null || !(port >= 1 && port <= 65_535) || name === '') {
    throw new InvalidArgumentError(`'${value}' is not HOST:PORT or HOST:PORT=TLS-NAME`);
  }
  return name === undefined ? { address } : { address, serverNameOverride: name };
}

function fabricService(value: string): FabricDeliverService {
  if (value !== 'orderer' && value !== 'peer') throw new InvalidArgumentError(`'${value}' is not 'orderer' or 'peer'`);
  return value;
}

export function registerGateway(program: Command): void {
  const cmd = program
    .command('gateway')
    .description('follow a Hyperledger Fabric channel from Fabric ordering nodes (or peers) over gRPC, verify and store it, and serve it to boards')
    .requiredOption('--network <dir>', 'network directory; the channel must be one of its Fabric channels')
    .requiredOption('--data <dir>', 'where the gateway keeps the channel\'s ledger')
    .option('--channel <name>', 'the Fabric channel to follow (default: the network\'s only Fabric channel)')
    .option('--fabric-endpoint <host:port[=name]>', 'a Fabric ordering node (or peer) to follow; =NAME: the name its TLS certificate carries (repeatable; none: serve only what `edgepeer fabric import` loaded)', (v: string, prev: string[] | undefined) => {
      parseFabricEndpoint(v);
      return collect(v, prev);
    })
    .option('--fabric-service <kind>', 'what the endpoints are: orderer (AtomicBroadcast.Deliver) or peer (Deliver)', fabricService, 'orderer' as FabricDeliverService)
    .option('--tls-ca <file>', 'CA certificates (PEM) the Fabric nodes\' TLS certificates chain to (default: the system\'s roots)')
    .option('--tls-cert <file>', 'the gateway\'s TLS client certificate (PEM), for mutual TLS')
    .option('--tls-key <file>', 'its private key (PEM)')
    .option('--plaintext', 'connect without TLS (a Fabric network with TLS off, on a network you trust)')
    .option('--msp <dir>', 'the gateway\'s Fabric MSP folder (signcerts/, keystore/, cacerts/); needed with --fabric-endpoint')
    .option('--msp-id <id>', 'the MSP id of that identity\'s organisation; needed with --fabric-endpoint')
    .option('--connect-timeout-ms <ms>', 'an endpoint not connected within this long is a failed attempt', wholeNumber, fabricGatewayDefaults.connectTimeoutMs)
    .option('--retry-base-delay-ms <ms>', 'shortest wait after a failed attempt (waits grow, jittered, up to --retry-max-delay-ms)', wholeNumber, fabricGatewayDefaults.retryBaseDelayMs)
    .option('--retry-max-delay-ms <ms>', 'longest wait between attempts', wholeNumber, fabricGatewayDefaults.retryMaxDelayMs)
    .option('--max-block-bytes <n>', 'largest block accepted from Fabric', wholeNumber, fabricGatewayDefaults.maxBlockBytes);
  addServingOptions(cmd).action(async (o: GatewayCliOptions) => runGateway(o));
}

function tlsFiles(o: GatewayCliOptions): FabricTlsFiles | null {
  if (o.plaintext) {
    if (o.tlsCa !== undefined || o.tlsCert !== undefined || o.tlsKey !== undefined) throw new Error('--plaintext cannot be combined with --tls-ca, --tls-cert or --tls-key');
    return null;
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new Error('mutual TLS needs both --tls-cert and --tls-key');
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`${what} ${file}: ${(err as Error).message}`);
    }
  };
  return {
    ...(o.tlsCa !== undefined && { rootCertsPem: read(o.tlsCa, '--tls-ca') }),
    ...(o.tlsCert !== undefined && { clientCertPem: read(o.tlsCert, '--tls-cert') }),
    ...(o.tlsKey !== undefined && { clientKeyPem: read(o.tlsKey, '--tls-key') }),
  };
}

async function runGateway(o: GatewayCliOptions): Promise<void> {
  const log = createLogger({ name: 'gateway' });
  const endpoints = (o.fabricEndpoint ?? []).map(parseFabricEndpoint);
  if (o.retryBaseDelayMs < 1 || o.retryMaxDelayMs < o.retryBaseDelayMs) {
    throw new Error('--retry-base-delay-ms must be at least 1 and --retry-max-delay-ms at least as long');
  }
  const anchor = fabricChannelAnchor(o.network, o.channel);
  const follows = endpoints.length > 0;
  if (follows && (o.msp === undefined || o.mspId === undefined)) throw new Error('--fabric-endpoint needs --msp and --msp-id (the identity the gateway asks Fabric with)');
  const signer = follows ? loadMspIdentity(o.msp!, o.mspId!) : undefined;
  if (signer !== undefined && signer.notAfterMs < Date.now()) {
    log.warn({ msp: o.msp, notAfter: new Date(signer.notAfterMs).toISOString() }, 'the MSP identity\'s certificate has expired: Fabric will answer FORBIDDEN');
  }
  if (!follows) log.info({ channel: anchor.channel }, 'no --fabric-endpoint: serving the ledger as it is (fill it with `edgepeer fabric import`)');
  const connector = !follows ? undefined : new GrpcDeliverConnector({
    service: o.fabricService,
    tls: tlsFiles(o),
    limits: {
      connectTimeoutMs: o.connectTimeoutMs,
      maxReceiveMessageBytes: o.maxBlockBytes,
      keepaliveTimeMs: fabricGatewayDefaults.keepaliveTimeMs,
      keepaliveTimeoutMs: fabricGatewayDefaults.keepaliveTimeoutMs,
    },
  });
  const followLimits: FollowLimits = {
    baseDelayMs: o.retryBaseDelayMs,
    maxDelayMs: o.retryMaxDelayMs,
    runMaxBlocks: fabricGatewayDefaults.runMaxBlocks,
    runMaxBytes: fabricGatewayDefaults.runMaxBytes,
  };
  // One process per data folder: a second gateway (or an import) would append to the same ledger.
  const dataLock = await lockDataFolder(o.data, 'edgepeer gateway');
  const metrics = createMetrics('gateway');
  let failed: ((err: Error) => void) | null = null;
  const failure = new Promise<Error>((resolve) => { failed = resolve; });
  let gateway: Gateway;
  try {
    gateway = new Gateway({
      dataDir: o.data,
      channel: anchor.channel,
      rules: gatewayRulesFor(anchor),
      access: anchor.access,
      endpoints,
      ...(connector !== undefined && { connector }),
      ...(signer !== undefined && { signer }),
      // The edge access configuration's block signer: whom boards take Deliver answers from (docs/protocol.md §4.1).
      replySigner: loadOrdererIdentities(o.network).node,
      clock: systemClock,
      random: Math.random,
      log,
      followLimits,
      deliverLimits: { sessionIdleTimeoutMs: o.sessionIdleTimeoutMs, heartbeatMs: o.heartbeatMs },
      metrics,
      observer: { failed: (err) => failed?.(err) },
    });
  } catch (err) {
    await dataLock.release();
    throw err;
  }
  let links;
  try {
    links = await startServingLinks(o, {
      log,
      registry: metrics.registry,
      dropped: (reason) => metrics.linkMessagesDropped.inc({ reason }),
      serve: (link) => gateway.serve(link),
      // The orderer's access rules (docs/protocol.md §11.3), judged by the edge access configuration: its
      // members log in and read their own replies only, and the gateway's own identity, a block signer of
      // that configuration, logs in as the orderer and alone publishes replies. Without it any client
      // could subscribe to '#' and read every block and every board's SEEK. The configuration is fixed for
      // the life of the process (it is in the network folder, not the ledger), so nothing is rechecked.
      brokerAccess: channelBrokerAccess(() => [gateway.chain.state]),
      credentials: brokerCredentials(loadOrdererIdentities(o.network).node),
    });
  } catch (err) {
    await gateway.stop();
    await dataLock.release();
    throw err;
  }
  gateway.start();
  const where = endpoints.map(endpointName);
  log.info({
    channel: anchor.channel, height: gateway.height, fabric: where, mqtt: links.mqttUrl, serial: links.serialPaths,
    embeddedBroker: links.embeddedBroker, metricsPort: links.metricsPort,
  }, 'gateway ready');
  if (o.readyJson) printReadyLine(links, { channel: anchor.channel, height: gateway.height, fabric: where });
  const outcome = await Promise.race([untilStopSignal().then((signal) => ({ signal })), failure.then((err) => ({ err }))]);
  if ('signal' in outcome) log.info({ signal: outcome.signal }, 'stopping');
  await gateway.stop();
  await links.close();
  await dataLock.release();
  if ('err' in outcome) throw outcome.err;
  log.info({ data: o.data }, 'gateway stopped; ledger closed');
}
