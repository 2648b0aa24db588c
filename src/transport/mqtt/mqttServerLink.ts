// The orderer's MQTT link: takes requests for every channel off the broker and publishes replies to the
// reply topics named inside the signed requests.

import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { maxMessageBytes as defaultMaxMessageBytes } from '../messageLimits.js';
import type { IncomingRequest, LinkState, Requester, ServerLink } from '../link.js';
import { brokerUsername } from './brokerIdentity.js';
import type { MqttEndpoint } from './endpoint.js';
import { ManagedMqttClient, newLinkCounters, type DropReason, type MqttLinkCounters } from './managedClient.js';
import { parseRequestTopic, replyRouteAllowed, requestSubscriptions } from './topics.js';

/** Random bytes in the default MQTT client id, so two orderer processes do not evict each other. */
const defaultClientIdRandomBytes = 4;

export interface MqttServerLinkOptions {
  endpoint: MqttEndpoint;
  /** MQTT client id of the orderer's connection; default `edgepeer-orderer-<random>`. */
  clientId?: string;
  /** Largest message accepted or sent; default `maxMessageBytes` from the constants. */
  maxMessageBytes?: number;
  /** Debug hook: a message that was not handed to the orderer, and why. */
  onDrop?: (reason: DropReason, topic: string) => void;
  /** Debug hook: connection and subscription errors (mqtt.js retries by itself). */
  onError?: (error: Error) => void;
}

export interface MqttServerLinkEvents {
  state: (state: LinkState) => void;
}

export class MqttServerLink implements ServerLink {
  readonly name: string;
  readonly counters: MqttLinkCounters = newLinkCounters();
  private readonly mqtt: ManagedMqttClient;
  private readonly events = new EventEmitter();
  private onRequest: ((req: IncomingRequest) => void) | undefined;

  constructor(private readonly options: MqttServerLinkOptions) {
    this.name = `mqtt:${options.endpoint.url}`;
    const maxMessageBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    this.mqtt = new ManagedMqttClient({
      endpoint: options.endpoint,
      mqttClientId: options.clientId ?? `edgepeer-orderer-${randomBytes(defaultClientIdRandomBytes).toString('hex')}`,
      maxMessageBytes,
      onMessage: (topic, payload, retained) => this.handleMessage(topic, payload, retained, maxMessageBytes),
      onState: (state) => this.events.emit('state', state),
      onError: (error) => options.onError?.(error),
    });
  }

  get state(): LinkState {
    return this.mqtt.state;
  }

  /** Resolves once subscribed to every channel's request topics. */
  async start(onRequest: (req: IncomingRequest) => void): Promise<void> {
    if (this.onRequest !== undefined) throw new Error(`${this.name} is already started`);
    this.onRequest = onRequest;
    await this.mqtt.subscribe(requestSubscriptions);
  }

  reply(replyTo: string, message: Uint8Array): Promise<void> {
    return this.mqtt.publish(replyTo, message);
  }

  /** Only `<root>/<channel>/reply/<the requester's broker username>`: the topic only the requester may read. */
  replyRouteAllowed(channel: string, replyTo: string, requester: Requester): boolean {
    return replyRouteAllowed(channel, replyTo, brokerUsername(requester));
  }

  /** Logs in with `credentials` from the next connection on (the orderer's key was rotated). */
  setCredentials(credentials: { username: string; password: string }): void {
    this.mqtt.setCredentials(credentials.username, credentials.password);
  }

  close(): Promise<void> {
    return this.mqtt.close();
  }

  on<E extends keyof MqttServerLinkEvents>(event: E, listener: MqttServerLinkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof MqttServerLinkEvents>(event: E, listener: MqttServerLinkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  private handleMessage(topic: string, payload: Buffer, retained: boolean, maxMessageBytes: number): void {
    const route = parseRequestTopic(topic);
    if (route === undefined) return this.drop('badTopic', topic);
    // A retained request would be replayed to the orderer at every resubscription.
    if (retained) return this.drop('retained', topic);
    if (payload.byteLength > maxMessageBytes) return this.drop('oversize', topic);
    this.counters.received += 1;
    try {
      this.onRequest?.({ channel: route.channel, service: route.service, message: payload });
    } catch (err) {
      // A throwing handler must not break mqtt.js's packet loop and with it every other request.
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private drop(reason: DropReason, topic: string): void {
    this.counters.dropped[reason] += 1;
    this.options.onDrop?.(reason, topic);
  }
}
