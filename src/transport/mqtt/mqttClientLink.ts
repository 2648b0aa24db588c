// A board's or client's MQTT link to an orderer: publishes requests on the channel's request topics and
// listens on its own reply topic per channel.

import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { maxMessageBytes as defaultMaxMessageBytes } from '../messageLimits.js';
import type { ClientLink, ClientLinkEvents, LinkState, Service } from '../link.js';
import type { BrokerCredentials } from './brokerIdentity.js';
import type { MqttEndpoint } from './endpoint.js';
import { ManagedMqttClient, newLinkCounters, type DropReason, type MqttLinkCounters } from './managedClient.js';
import { isValidClientId, parseReplyTopic, replyTopic, requestTopic } from './topics.js';

/**
 * Random bytes appended to the MQTT client id: two processes configured with the same edgepeer client id
 * would otherwise evict each other from the broker in a reconnect loop, and another member that could
 * guess the id could evict this one (a broker closes the older connection of a client id).
 */
const connectionIdRandomBytes = 8;

export interface MqttClientLinkOptions {
  endpoint: MqttEndpoint;
  /**
   * The member's broker login (src/transport/mqtt/brokerIdentity.ts): its username names the reply
   * topics, and both go to the broker unless the endpoint names a username of its own.
   */
  credentials?: BrokerCredentials;
  /** Names this client's reply topics when no credentials are given; must match /^[A-Za-z0-9._-]{1,64}$/. */
  clientId?: string;
  /** Largest message accepted or sent; default `maxMessageBytes` from the constants. */
  maxMessageBytes?: number;
  /**
   * On a plain-TCP endpoint, hand messages on in buffers the link reuses (no ArrayBuffer per message):
   * a 'message' listener may use the bytes only during the call, and copies what it keeps. For links
   * whose only listener is a deliver client (it copies each response into its ingress ring).
   */
  lendPayloads?: boolean;
  /** Ring a lending link assembles packets in; default mqttDefaults.lentPacketRingBytes. */
  lentPacketRingBytes?: number;
  /** Debug hook: a message that was not handed on, and why. */
  onDrop?: (reason: DropReason, topic: string) => void;
  /** Debug hook: connection and subscription errors (mqtt.js retries by itself). */
  onError?: (error: Error) => void;
}

export class MqttClientLink implements ClientLink {
  readonly endpoint: string;
  readonly clientId: string;
  readonly counters: MqttLinkCounters = newLinkCounters();
  private readonly mqtt: ManagedMqttClient;
  private readonly events = new EventEmitter();
  private readonly maxMessageBytes: number;
  /** Channels whose replies are handed on; replies for others (an old subscription) are dropped. */
  private readonly channels = new Set<string>();

  constructor(private readonly options: MqttClientLinkOptions) {
    const clientId = options.credentials?.username ?? options.clientId;
    if (clientId === undefined || !isValidClientId(clientId)) {
      throw new Error(`invalid client id ${JSON.stringify(clientId)} (must match /^[A-Za-z0-9._-]{1,64}$/)`);
    }
    if (options.credentials !== undefined && options.clientId !== undefined && options.clientId !== clientId) {
      throw new Error(`client id ${options.clientId} differs from the broker username ${clientId}: a member reads only its own replies`);
    }
    this.endpoint = options.endpoint.url;
    this.clientId = clientId;
    this.maxMessageBytes = options.maxMessageBytes ?? defaultMaxMessageBytes;
    const c = options.credentials;
    const endpoint = c === undefined || options.endpoint.username !== undefined
      ? options.endpoint
      : { ...options.endpoint, username: c.username, password: c.password };
    this.mqtt = new ManagedMqttClient({
      endpoint,
      mqttClientId: `edgepeer-${clientId}-${randomBytes(connectionIdRandomBytes).toString('hex')}`,
      maxMessageBytes: this.maxMessageBytes,
      onMessage: (topic, payload, retained) => this.handleMessage(topic, payload, retained),
      onState: (state) => this.events.emit('state', state),
      onError: (error) => options.onError?.(error),
      lendPayloads: options.lendPayloads === true,
      lentPacketRingBytes: options.lentPacketRingBytes,
    });
  }

  get state(): LinkState {
    return this.mqtt.state;
  }

  replyRoute(channel: string): string {
    return replyTopic(channel, this.clientId);
  }

  /** May be called again with more channels; resolves once all of `channels` are subscribed. */
  async open(channels: readonly string[]): Promise<void> {
    const topics = channels.map((c) => this.replyRoute(c));
    for (const c of channels) this.channels.add(c);
    await this.mqtt.subscribe(topics);
  }

  setCredentials(credentials: BrokerCredentials): void {
    // A username given with the endpoint (--mqtt-username) is the operator's choice and stays.
    if (this.options.endpoint.username !== undefined || credentials.username !== this.clientId) return;
    this.mqtt.setCredentials(credentials.username, credentials.password);
  }

  /** Resolves on the broker's PUBACK; rejects at once when the link is not up. */
  send(channel: string, service: Service, message: Uint8Array): Promise<void> {
    let topic: string;
    try {
      topic = requestTopic(channel, service);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.mqtt.publish(topic, message);
  }

  on<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  close(): Promise<void> {
    return this.mqtt.close();
  }

  private handleMessage(topic: string, payload: Buffer, retained: boolean): void {
    const route = parseReplyTopic(topic);
    if (route === undefined || route.clientId !== this.clientId || !this.channels.has(route.channel)) {
      return this.drop('badTopic', topic);
    }
    // A retained reply is a stale one left on the broker by someone else.
    if (retained) return this.drop('retained', topic);
    if (payload.byteLength > this.maxMessageBytes) return this.drop('oversize', topic);
    this.counters.received += 1;
    try {
      this.events.emit('message', route.channel, payload);
    } catch (err) {
      // A throwing listener must not break mqtt.js's packet loop and with it every later reply.
      this.options.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  private drop(reason: DropReason, topic: string): void {
    this.counters.dropped[reason] += 1;
    this.options.onDrop?.(reason, topic);
  }
}
