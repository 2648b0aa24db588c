// How an operator names an MQTT broker, and its translation into mqtt.js options. Kept apart from the
// links so that configuration errors are reported the same way by the orderer, the peers and the CLI.

import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { IClientOptions } from 'mqtt';
import { mqttDefaults } from './mqttDefaults.js';

/** IANA port of MQTT over TLS, used when an mqtts:// URL names none. */
const mqttsDefaultPort = 8883;

export interface MqttEndpoint {
  /** `mqtt://host[:port]` or `mqtts://host[:port]`; credentials go in `username`/`password`, not here. */
  url: string;
  /** PEM files, read when the link opens; only with mqtts://. */
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** 4 = MQTT 3.1.1 (the default: Aedes speaks nothing else), 5 = MQTT 5. */
  protocolVersion?: 4 | 5;
  keepaliveSeconds?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
}

export type MqttScheme = 'mqtt' | 'mqtts';

export interface ParsedMqttUrl {
  scheme: MqttScheme;
  host: string;
  port: number;
}

export class MqttEndpointError extends Error {
  override name = 'MqttEndpointError';
}

export function parseMqttUrl(url: string): ParsedMqttUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MqttEndpointError(`not a URL: ${JSON.stringify(url)} (expected mqtt://host:port or mqtts://host:port)`);
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  if (scheme !== 'mqtt' && scheme !== 'mqtts') {
    throw new MqttEndpointError(
      `unsupported scheme "${scheme}:" in ${url}: edgepeer speaks mqtt:// (plain TCP) and mqtts:// (TLS) only`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    // A URL ends up in logs and status lines; a password inside it would leak there.
    throw new MqttEndpointError(`credentials in the URL ${scheme}://…@${parsed.host}: use the username/password options`);
  }
  if ((parsed.pathname !== '' && parsed.pathname !== '/') || parsed.search !== '' || parsed.hash !== '') {
    throw new MqttEndpointError(`unexpected path, query or fragment in ${url}: expected ${scheme}://host:port`);
  }
  // WHATWG URL keeps the brackets of an IPv6 literal; net.connect wants the bare address.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new MqttEndpointError(`no host in ${url}`);
  const port = parsed.port === '' ? (scheme === 'mqtt' ? mqttDefaults.port : mqttsDefaultPort) : Number(parsed.port);
  return { scheme, host, port };
}

/** Checks everything that can be checked without touching the file system; throws MqttEndpointError. */
export function validateEndpoint(endpoint: MqttEndpoint): ParsedMqttUrl {
  const parsed = parseMqttUrl(endpoint.url);
  const tlsFiles = (['caFile', 'certFile', 'keyFile'] as const).filter((k) => endpoint[k] !== undefined);
  if (parsed.scheme === 'mqtt' && tlsFiles.length > 0) {
    throw new MqttEndpointError(`${tlsFiles.join(', ')} given for the plain-TCP endpoint ${endpoint.url}: use mqtts://`);
  }
  if ((endpoint.certFile === undefined) !== (endpoint.keyFile === undefined)) {
    throw new MqttEndpointError(`certFile and keyFile go together (endpoint ${endpoint.url})`);
  }
  if (endpoint.password !== undefined && endpoint.username === undefined) {
    throw new MqttEndpointError(`password without username (endpoint ${endpoint.url})`);
  }
  const version = endpoint.protocolVersion ?? 4;
  if (version !== 4 && version !== 5) {
    throw new MqttEndpointError(`protocolVersion must be 4 (MQTT 3.1.1) or 5, not ${String(version)}`);
  }
  return parsed;
}

async function readPem(what: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new MqttEndpointError(`cannot read ${what} ${path}: ${reason}`);
  }
}

/**
 * mqtt.js options for `endpoint`. Clean sessions, and no mqtt.js resubscription: the links subscribe
 * again themselves after every (re)connect so that they know when the subscription is really in place.
 */
export async function toClientOptions(endpoint: MqttEndpoint, mqttClientId: string): Promise<IClientOptions> {
  const { scheme, host, port } = validateEndpoint(endpoint);
  const options: IClientOptions = {
    protocol: scheme,
    host,
    port,
    clientId: mqttClientId,
    protocolVersion: endpoint.protocolVersion ?? 4,
    clean: true,
    resubscribe: false,
    keepalive: endpoint.keepaliveSeconds ?? mqttDefaults.keepaliveSeconds,
    reconnectPeriod: endpoint.reconnectPeriodMs ?? mqttDefaults.reconnectPeriodMs,
    connectTimeout: endpoint.connectTimeoutMs ?? mqttDefaults.connectTimeoutMs,
    // A broker that refuses us once the link has worked may be restarting with new settings: keep trying.
    reconnectOnConnackError: true,
    // Otherwise mqtt-packet builds a table of 65,536 two-byte Buffers (~6 MiB of JS heap, a tenth of a
    // board's memory budget) to save one tiny allocation per packet.
    writeCache: false,
  };
  if (endpoint.username !== undefined) options.username = endpoint.username;
  if (endpoint.password !== undefined) options.password = endpoint.password;
  if (scheme === 'mqtts') {
    options.rejectUnauthorized = true;
    // SNI carries host names only (RFC 6066); Node warns when given an IP address.
    if (isIP(host) === 0) options.servername = host;
    if (endpoint.caFile !== undefined) options.ca = await readPem('caFile', endpoint.caFile);
    if (endpoint.certFile !== undefined) options.cert = await readPem('certFile', endpoint.certFile);
    if (endpoint.keyFile !== undefined) options.key = await readPem('keyFile', endpoint.keyFile);
  }
  return options;
}
