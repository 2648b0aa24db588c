// `edgepeer orderer`: the orderer with its embedded MQTT broker (or an external one).
import type { Command } from 'commander';
import { deliverDefaults } from '../../protocol/deliverDefaults.js';
import { mqttDefaults } from '../../transport/mqtt/mqttDefaults.js';
import { serialDefaults } from '../../transport/serial/serialDefaults.js';
import { loadGenesis, loadNetworkFile, loadOrdererIdentities } from '../../network/loadNetwork.js';
import { createLogger } from '../../observability/logger.js';
import { createMetrics, startMetricsServer } from '../../observability/metrics.js';
import { Orderer } from '../../orderer/orderer.js';
import { startEmbeddedBroker } from '../../transport/mqtt/embeddedBroker.js';
import { MqttServerLink } from '../../transport/mqtt/mqttServerLink.js';
import { parsePortSpec } from '../../transport/serial/serialEndpoint.js';
import { SerialServerLink } from '../../transport/serial/serialServerLink.js';
import { type MqttTlsOptions, addMqttTlsOptions, collect, mqttEndpoint, untilStopSignal, wholeNumber } from '../options.js';

interface OrdererCliOptions extends MqttTlsOptions {
  network: string;
  data: string;
  channel?: string[];
  mqtt?: string;
  mqttPort: number;
  mqttHost: string;
  metricsPort?: number;
  sessionIdleTimeoutMs: number;
  heartbeatMs: number;
  readyJson?: boolean;
  serial?: string[];
  serialResponseBytes: number;
}

export function registerOrderer(program: Command): void {
  const cmd = program
    .command('orderer')
    .description('run the orderer: Broadcast, block cutting, Deliver over MQTT (embedded broker by default) and serial ports')
    .requiredOption('--network <dir>', 'network directory written by `edgepeer init`')
    .requiredOption('--data <dir>', 'where the orderer keeps its ledgers')
    .option('--channel <name>', 'serve only this channel (repeatable; default: every channel of the network)', collect)
    .option('--mqtt <url>', 'use this external broker instead of the embedded one (mqtt:// or mqtts://)')
    .option('--mqtt-port <port>', 'port of the embedded broker', wholeNumber, mqttDefaults.port)
    .option('--mqtt-host <addr>', 'address the embedded broker listens on (0.0.0.0 to serve boards on the LAN)', mqttDefaults.host)
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>', wholeNumber)
    .option('--session-idle-timeout-ms <ms>', 'end a Deliver session silent for this long', wholeNumber, deliverDefaults.sessionIdleTimeoutMs)
    .option('--heartbeat-ms <ms>', 'empty response on an idle Deliver session this often', wholeNumber, deliverDefaults.heartbeatMs)
    .option('--serial <port>', `also serve Deliver and Broadcast on this serial port: PATH[@BAUD] (repeatable; default ${serialDefaults.baudRate} baud)`, collect)
    .option('--serial-response-bytes <n>', 'block bytes per Deliver response on serial links (small: a frame lost to noise costs little)', wholeNumber, serialDefaults.maxResponseBytes)
    .option('--ready-json', 'print one JSON line on stdout once serving (for scripts)');
  addMqttTlsOptions(cmd).action(async (o: OrdererCliOptions) => runOrderer(o));
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
  const metrics = createMetrics('orderer');
  const orderer = new Orderer({
    dataDir: o.data,
    channels: channels.map((channel) => ({ channel, genesis: loadGenesis(o.network, channel) })),
    signer: loadOrdererIdentities(o.network).node,
    log,
    metrics,
    limits: { sessionIdleTimeoutMs: o.sessionIdleTimeoutMs, heartbeatMs: o.heartbeatMs },
  });
  const broker = o.mqtt === undefined ? await startEmbeddedBroker({ host: o.mqttHost, port: o.mqttPort }) : null;
  const url = o.mqtt ?? broker!.url;
  const link = new MqttServerLink({
    endpoint: mqttEndpoint(url, o),
    onDrop: (reason) => metrics.linkMessagesDropped.inc({ reason }),
    onError: (err) => log.warn({ err: err.message }, 'MQTT link error'),
  });
  await orderer.serve(link);
  // Parsed before any port is opened, so a typo fails the command instead of a retry loop.
  const serialSpecs = (o.serial ?? []).map((s) => parsePortSpec(s));
  for (const port of serialSpecs) {
    const serial: SerialServerLink = new SerialServerLink({
      port,
      maxResponseBytes: o.serialResponseBytes,
      onDrop: (reason) => metrics.linkMessagesDropped.inc({ reason: `serial-${reason}` }),
      onError: (err) => log.warn({ link: serial.name, err: err.message }, 'serial link: port unavailable; retrying'),
    });
    // Up and lost are worth a line; the retries in between are reported once by onError.
    let wasUp = false;
    serial.on('state', (state, detail) => {
      if (state === 'up') log.info({ link: serial.name }, 'serial link up');
      else if (wasUp) log.warn({ link: serial.name, detail }, 'serial link lost; reopening');
      wasUp = state === 'up';
    });
    await orderer.serve(serial);
  }
  const metricsServer = o.metricsPort !== undefined ? await startMetricsServer(metrics.registry, o.metricsPort) : null;
  const serialPaths = serialSpecs.map((s) => s.path);
  log.info({ mqtt: url, serial: serialPaths, embeddedBroker: broker !== null, metricsPort: metricsServer?.port, channels }, 'orderer ready');
  if (o.readyJson) {
    process.stdout.write(`${JSON.stringify({ ready: true, mqtt: url, serial: serialPaths, metricsPort: metricsServer?.port ?? null, pid: process.pid })}\n`);
  }
  const sig = await untilStopSignal();
  log.info({ signal: sig }, 'stopping');
  await orderer.stop();
  await metricsServer?.close();
  await broker?.close();
  log.info({ data: o.data }, 'orderer stopped; ledgers closed');
}
