// What `edgepeer orderer` and `edgepeer gateway` share: the links boards reach them on (MQTT through the
// embedded broker or an external one, serial ports), the metrics endpoint, and the readiness line. Each
// role registers its own options besides these and hands every link to its own request handler.
import type { Command } from 'commander';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { mqttDefaults } from '../transport/mqtt/mqttDefaults.js';
import { serialDefaults } from '../transport/serial/serialDefaults.js';
import type { Logger } from '../observability/logger.js';
import { type MetricsServer, type Registry, startMetricsServer } from '../observability/metrics.js';
import type { ServerLink } from '../transport/link.js';
import type { BrokerAccess } from '../transport/mqtt/brokerAccess.js';
import type { BrokerCredentials } from '../transport/mqtt/brokerIdentity.js';
import { type EmbeddedBroker, startEmbeddedBroker } from '../transport/mqtt/embeddedBroker.js';
import { MqttServerLink } from '../transport/mqtt/mqttServerLink.js';
import { parsePortSpec } from '../transport/serial/serialEndpoint.js';
import { SerialServerLink } from '../transport/serial/serialServerLink.js';
import { type MqttTlsOptions, addMqttTlsOptions, collect, mqttEndpoint, portNumber, wholeNumber } from './options.js';

export interface ServingCliOptions extends MqttTlsOptions {
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

/** Adds the options of the links a serving role listens on (MQTT, serial, metrics, Deliver timings, readiness). */
export function addServingOptions(cmd: Command, serialServes = 'Deliver'): Command {
  cmd
    .option('--mqtt <url>', 'use this external broker instead of the embedded one (mqtt:// or mqtts://)')
    .option('--mqtt-port <port>', 'port of the embedded broker', portNumber, mqttDefaults.port)
    .option('--mqtt-host <addr>', 'address the embedded broker listens on (0.0.0.0 to serve boards on the LAN)', mqttDefaults.host)
    .option('--metrics-port <port>', 'serve Prometheus metrics on 127.0.0.1:<port>', portNumber)
    .option('--session-idle-timeout-ms <ms>', 'end a Deliver session silent for this long', wholeNumber, deliverDefaults.sessionIdleTimeoutMs)
    .option('--heartbeat-ms <ms>', 'empty response on an idle Deliver session this often', wholeNumber, deliverDefaults.heartbeatMs)
    .option('--serial <port>', `also serve ${serialServes} on this serial port: PATH[@BAUD] (repeatable; default ${serialDefaults.baudRate} baud)`, collect)
    .option('--serial-response-bytes <n>', 'block bytes per Deliver response on serial links (small: a frame lost to noise costs little)', wholeNumber, serialDefaults.maxResponseBytes)
    .option('--ready-json', 'print one JSON line on stdout once serving (for scripts)');
  return addMqttTlsOptions(cmd);
}

export interface ServingLinks {
  mqttUrl: string;
  embeddedBroker: boolean;
  serialPaths: string[];
  metricsPort: number | undefined;
  /** Judges the embedded broker's logins again after a configuration change (revocation); 0 without one. */
  recheckBrokerLogins(): number;
  /**
   * This role's own broker login from the next connection on (its key was rotated); no change when the
   * command line gave --mqtt-username.
   */
  setBrokerCredentials(credentials: BrokerCredentials): void;
  /** Closes the metrics endpoint and the embedded broker (the role closes its links itself). */
  close(): Promise<void>;
}

export interface ServingLinksContext {
  log: Logger;
  registry: Registry;
  /** Counts a message a link dropped before handling. */
  dropped(reason: string): void;
  /** Starts handling the requests of `link`. */
  serve(link: ServerLink): Promise<void>;
  /**
   * Who may use the embedded broker (docs/protocol.md §11.3). Required: a serving role's broker carries
   * blocks and every board's SEEK, and an open one lets any client read them all (issue 12 §1).
   */
  brokerAccess: BrokerAccess;
  /** This role's own broker login (§11.1), on the embedded broker and an external one alike. */
  credentials?: BrokerCredentials;
}

/**
 * Starts the embedded broker (unless --mqtt names one), the MQTT link, each serial link and the metrics
 * endpoint, handing each link to `serve`. Serial specs are parsed before any port opens, so a typo fails
 * the command instead of starting a retry loop.
 */
export async function startServingLinks(o: ServingCliOptions, ctx: ServingLinksContext): Promise<ServingLinks> {
  const serialSpecs = (o.serial ?? []).map((s) => parsePortSpec(s));
  const broker: EmbeddedBroker | null = o.mqtt === undefined
    ? await startEmbeddedBroker({
      host: o.mqttHost,
      port: o.mqttPort,
      access: ctx.brokerAccess,
      onRefused: (what, clientId, reason) => ctx.log.warn({ what, clientId, reason }, 'broker refused a client'),
    })
    : null;
  let metricsServer: MetricsServer | null = null;
  try {
    const url = o.mqtt ?? broker!.url;
    const endpoint = mqttEndpoint(url, o);
    const c = ctx.credentials;
    const ownLogin = c !== undefined && endpoint.username === undefined;
    const mqttLink = new MqttServerLink({
      endpoint: ownLogin ? { ...endpoint, username: c.username, password: c.password } : endpoint,
      onDrop: (reason) => ctx.dropped(reason),
      onError: (err) => ctx.log.warn({ err: err.message }, 'MQTT link error'),
    });
    await ctx.serve(mqttLink);
    for (const port of serialSpecs) {
      const serial: SerialServerLink = new SerialServerLink({
        port,
        maxResponseBytes: o.serialResponseBytes,
        onDrop: (reason) => ctx.dropped(`serial-${reason}`),
        onError: (err) => ctx.log.warn({ link: serial.name, err: err.message }, 'serial link: port unavailable; retrying'),
      });
      // Up and lost are worth a line; the retries in between are reported once by onError.
      let wasUp = false;
      serial.on('state', (state, detail) => {
        if (state === 'up') ctx.log.info({ link: serial.name }, 'serial link up');
        else if (wasUp) ctx.log.warn({ link: serial.name, detail }, 'serial link lost; reopening');
        wasUp = state === 'up';
      });
      await ctx.serve(serial);
    }
    metricsServer = o.metricsPort !== undefined ? await startMetricsServer(ctx.registry, o.metricsPort) : null;
    const ms = metricsServer;
    return {
      mqttUrl: url,
      embeddedBroker: broker !== null,
      serialPaths: serialSpecs.map((s) => s.path),
      metricsPort: ms?.port,
      recheckBrokerLogins: () => broker?.recheck() ?? 0,
      setBrokerCredentials: (credentials) => {
        if (ownLogin) mqttLink.setCredentials(credentials);
      },
      close: async () => {
        await ms?.close();
        await broker?.close();
      },
    };
  } catch (err) {
    await metricsServer?.close();
    await broker?.close();
    throw err;
  }
}

/** The readiness line of --ready-json: one JSON object on stdout, for scripts and tests. */
export function printReadyLine(links: ServingLinks, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({
    ready: true, mqtt: links.mqttUrl, serial: links.serialPaths, metricsPort: links.metricsPort ?? null, pid: process.pid, ...extra,
  })}\n`);
}
