// Orderer endpoints as operators write them (`--orderer`, a board's `orderers` list) turned into links:
// `mqtt://host:port`, `mqtts://host:port` or `serial:PATH[@BAUD]`.
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { serialDefaults } from './serial/serialDefaults.js';
import type { ClientLink } from './link.js';
import type { BrokerCredentials } from './mqtt/brokerIdentity.js';
import type { MqttEndpoint } from './mqtt/endpoint.js';
import { MqttClientLink } from './mqtt/mqttClientLink.js';
import type { PortFactory } from './serial/managedPort.js';
import { SerialClientLink } from './serial/serialClientLink.js';
import { isSerialEndpoint, parseSerialEndpoint } from './serial/serialEndpoint.js';

export const ENDPOINT_FORMS = 'mqtt://HOST[:PORT], mqtts://HOST[:PORT] or serial:PATH[@BAUD]';

export class EndpointError extends Error {
  override name = 'EndpointError';
}

export interface ClientLinkOptions {
  /** The member's MQTT login; its username names the client's reply topics (a serial line needs neither). */
  credentials: BrokerCredentials;
  /** The whole MQTT endpoint (TLS files, credentials, protocol version) for an mqtt(s):// URL; default the URL alone. */
  mqttEndpoint?: (url: string) => MqttEndpoint;
  /** Connection errors; the links retry by themselves, this is for the log. */
  onError?: (endpoint: string, error: Error) => void;
  /** Tests open serial endpoints on mock ports. */
  serialPortFactory?: PortFactory;
  /**
   * MQTT links hand messages on in buffers they reuse (no ArrayBuffer per message): for a link whose
   * listeners copy what they keep within the message event, as the deliver client does. Default false.
   */
  lendPayloads?: boolean;
}

/** Throws EndpointError for anything that is not one of the three forms (before any port or socket is opened). */
export function createClientLink(endpoint: string, o: ClientLinkOptions): ClientLink {
  if (isSerialEndpoint(endpoint)) {
    let port;
    try {
      port = parseSerialEndpoint(endpoint);
    } catch (err) {
      throw new EndpointError(`orderer endpoint '${endpoint}': ${(err as Error).message}`);
    }
    return new SerialClientLink({
      port,
      portFactory: o.serialPortFactory,
      onError: (error) => o.onError?.(endpoint, error),
    });
  }
  if (/^mqtts?:\/\//.test(endpoint)) {
    return new MqttClientLink({
      endpoint: o.mqttEndpoint?.(endpoint) ?? { url: endpoint }, credentials: o.credentials, onError: (error) => o.onError?.(endpoint, error),
      lendPayloads: o.lendPayloads === true,
    });
  }
  throw new EndpointError(`orderer endpoint '${endpoint}': expected ${ENDPOINT_FORMS}`);
}

/** Block bytes the orderer packs into one Deliver response on this kind of endpoint (what its server link asks for). */
export function responsePackingLimitBytes(endpoint: string): number {
  return isSerialEndpoint(endpoint) ? serialDefaults.maxResponseBytes : deliverDefaults.maxResponseBytes;
}
