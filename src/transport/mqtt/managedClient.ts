// One mqtt.js connection with the behaviour both edgepeer links need: Nagle off on every (re)connect,
// its own resubscription after every reconnect (so 'up' means "subscribed", not just "connected"),
// QoS 1 publishes whose promise settles on PUBACK, and a hard size limit in both directions.

import { connect, ErrorWithReasonCode, MqttClient, type ISubscriptionGrant } from 'mqtt';
import { Backoff } from '../../config/backoff.js';
import { mqttDefaults } from './mqttDefaults.js';
import type { LinkState } from '../link.js';
import { toClientOptions, validateEndpoint, type MqttEndpoint } from './endpoint.js';
import { FramedMqttSocket, MQTT_PACKET_OVERHEAD_MAX_BYTES } from './framedSocket.js';

/** Granted QoS value a broker uses in SUBACK to refuse a subscription (MQTT 5's refusal reason codes are all above it). */
const subscriptionRefusedQos = 128;

export type DropReason = 'oversize' | 'badTopic' | 'retained';

/** What a link did with the messages the broker handed it. */
export interface MqttLinkCounters {
  received: number;
  dropped: Record<DropReason, number>;
}

export function newLinkCounters(): MqttLinkCounters {
  return { received: 0, dropped: { oversize: 0, badTopic: 0, retained: 0 } };
}

export interface ManagedMqttClientOptions {
  endpoint: MqttEndpoint;
  mqttClientId: string;
  maxMessageBytes: number;
  onMessage: (topic: string, payload: Buffer, retained: boolean) => void;
  onState: (state: LinkState) => void;
  onError: (error: Error) => void;
  /**
   * Plain-TCP endpoints only: read into reused buffers (src/transport/mqtt/framedSocket.ts), so that a
   * payload is valid only during `onMessage` and must be copied to be kept. Saves an ArrayBuffer or
   * two per message. Off by default.
   */
  lendPayloads?: boolean;
  /** Ring a lending client assembles packets in; default mqttDefaults.lentPacketRingBytes. */
  lentPacketRingBytes?: number;
  /** The reconnect backoff's jitter, [0, 1); default Math.random. */
  random?: () => number;
}

interface Waiter {
  topics: readonly string[];
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ManagedMqttClient {
  private client: MqttClient | undefined;
  private starting: Promise<void> | undefined;
  private currentState: LinkState = 'down';
  private everUp = false;
  private closed = false;
  /** Bumped on every connect and close, so a late SUBACK of a dead connection changes nothing. */
  private connection = 0;
  private readonly wanted = new Set<string>();
  private readonly subscribed = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly pendingPublishes = new Set<(error: Error) => void>();

  constructor(private readonly options: ManagedMqttClientOptions) {
    validateEndpoint(options.endpoint);
  }

  /**
   * The username and password of every later (re)connection; the open connection stays as it is. For a
   * login whose certificate was replaced (the orderer's rotated key).
   */
  setCredentials(username: string, password: string): void {
    this.options.endpoint = { ...this.options.endpoint, username, password };
    // mqtt.js builds each CONNECT from its options.
    if (this.client !== undefined) Object.assign(this.client.options, { username, password });
  }

  get state(): LinkState {
    return this.currentState;
  }

  get url(): string {
    return this.options.endpoint.url;
  }

  /**
   * Adds `topics` to the subscriptions kept across reconnects, starts connecting if not yet started, and
   * resolves once the link is up with all of `topics` subscribed on the current connection.
   */
  async subscribe(topics: readonly string[]): Promise<void> {
    if (this.closed) throw new Error(`MQTT link to ${this.url} is closed`);
    const fresh = topics.filter((t) => !this.wanted.has(t));
    for (const t of fresh) this.wanted.add(t);
    const ready = new Promise<void>((resolve, reject) => {
      this.waiters.add({ topics: [...topics], resolve, reject });
    });
    if (this.client === undefined) {
      this.starting ??= this.start();
      this.starting.catch((err: unknown) => {
        // Files unreadable and the like: nothing to retry, tell every waiter.
        const error = err instanceof Error ? err : new Error(String(err));
        for (const w of this.waiters) w.reject(error);
        this.waiters.clear();
      });
    } else if (this.client.connected && fresh.length > 0) {
      this.subscribeNow(this.client, fresh, false);
    }
    this.settleWaiters();
    return ready;
  }

  /** Publishes at QoS 1; resolves on the broker's PUBACK. `payload` must stay unchanged until then. */
  publish(topic: string, payload: Uint8Array): Promise<void> {
    if (payload.byteLength > this.options.maxMessageBytes) {
      return Promise.reject(
        new Error(`message of ${payload.byteLength} bytes exceeds the limit of ${this.options.maxMessageBytes} bytes`),
      );
    }
    const client = this.client;
    if (client === undefined || this.currentState !== 'up' || !client.connected) {
      return Promise.reject(new Error(`MQTT link to ${this.url} is ${this.closed ? 'closed' : this.currentState}: not sent`));
    }
    const buffer = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (error: Error): void => {
        if (settled) return;
        settled = true;
        this.pendingPublishes.delete(fail);
        reject(error);
      };
      this.pendingPublishes.add(fail);
      client.publish(topic, buffer, { qos: 1, retain: false }, (err) => {
        if (err) {
          fail(new Error(`publish to ${topic} failed: ${err.message}`));
          return;
        }
        if (settled) return;
        settled = true;
        this.pendingPublishes.delete(fail);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closedError = new Error(`MQTT link to ${this.url} was closed`);
    this.failPending(closedError);
    for (const w of this.waiters) w.reject(closedError);
    this.waiters.clear();
    await this.starting?.catch(() => undefined);
    const client = this.client;
    if (client !== undefined) {
      // With nothing left awaiting an acknowledgement, a graceful end cannot hang on a dead broker.
      for (const id of Object.keys(client.outgoing)) client.removeOutgoingMessage(Number(id));
      await client.endAsync(!client.connected);
      client.removeAllListeners();
      // mqtt.js reports late socket errors after end(); keep them from becoming uncaught exceptions.
      client.on('error', () => undefined);
    }
    this.setState('down');
  }

  private async start(): Promise<void> {
    const clientOptions = await toClientOptions(this.options.endpoint, this.options.mqttClientId);
    if (this.closed) return;
    this.setState('connecting');
    const client = this.options.lendPayloads === true && clientOptions.protocol === 'mqtt'
      ? new MqttClient(() => new FramedMqttSocket({
        host: clientOptions.host!, port: clientOptions.port!,
        readBufferBytes: mqttDefaults.lentReadBufferBytes, ringBytes: this.options.lentPacketRingBytes ?? mqttDefaults.lentPacketRingBytes,
        maxPacketBytes: this.options.maxMessageBytes + MQTT_PACKET_OVERHEAD_MAX_BYTES,
      }), clientOptions)
      : connect(clientOptions);
    this.client = client;
    this.jitterReconnects(client, clientOptions.reconnectPeriod ?? mqttDefaults.reconnectPeriodMs);
    client.on('connect', () => this.onConnect(client));
    client.on('close', () => this.onClose());
    client.on('reconnect', () => this.setState('connecting'));
    client.on('error', (err) => this.onClientError(err));
    client.on('message', (topic, payload, packet) => {
      this.options.onMessage(topic, payload, packet.retain);
    });
  }

  /**
   * mqtt.js waits a fixed options.reconnectPeriod before each reconnect, which brings a fleet back in
   * lock-step after a broker restart. It reads that option when it schedules the reconnect, in its own
   * 'close' listener: this one runs first (prepended) and sets the next wait of the shared jittered policy
   * (src/config/backoff.ts), from the endpoint's period up to mqttDefaults.reconnectMaxDelayMs.
   */
  private jitterReconnects(client: MqttClient, baseDelayMs: number): void {
    if (baseDelayMs <= 0) return; // reconnecting is off
    const retry = new Backoff({ baseDelayMs, maxDelayMs: Math.max(baseDelayMs, mqttDefaults.reconnectMaxDelayMs) }, this.options.random);
    client.prependListener('close', () => { client.options.reconnectPeriod = retry.next(); });
    client.on('connect', () => retry.reset());
  }

  private onConnect(client: MqttClient): void {
    this.connection += 1;
    this.subscribed.clear();
    // mqtt.js leaves Nagle's algorithm on: without this a request/reply round trip takes ~40 ms.
    const stream: unknown = client.stream;
    if (typeof (stream as { setNoDelay?: unknown })?.setNoDelay === 'function') {
      (stream as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    }
    if (this.wanted.size === 0) {
      this.markUp();
      return;
    }
    this.subscribeNow(client, [...this.wanted], true);
  }

  private subscribeNow(client: MqttClient, topics: string[], bringsUp: boolean): void {
    const connection = this.connection;
    const request = Object.fromEntries(topics.map((t) => [t, { qos: 1 as const }]));
    client.subscribe(request, (err, requested, suback) => {
      if (connection !== this.connection || this.closed) return;
      // mqtt.js 5 reports a SUBACK that refuses any topic as an error, with the SUBACK and the topics as
      // requested (not as granted): the refusal is judged from the SUBACK's codes, in request order.
      const codes = err ? suback?.granted : undefined;
      if (err && (codes === undefined || requested === undefined || codes.length !== requested.length)) {
        // The connection is going away; the next connect subscribes again.
        this.options.onError(new Error(`subscribing to ${topics.join(', ')} failed: ${err.message}`));
        return;
      }
      const granted: ISubscriptionGrant[] = codes === undefined
        ? requested ?? []
        : requested!.map((g, i) => ({ ...g, qos: codes[i] as ISubscriptionGrant['qos'] }));
      const refused = granted.filter((g) => g.qos >= subscriptionRefusedQos);
      for (const g of granted) if (g.qos < subscriptionRefusedQos) this.subscribed.add(g.topic);
      if (refused.length > 0) {
        const names = refused.map((g) => g.topic);
        const error = new Error(`broker ${this.url} refused the subscription to ${names.join(', ')}`);
        for (const t of names) this.wanted.delete(t);
        for (const w of this.waiters) {
          if (w.topics.some((t) => names.includes(t))) {
            this.waiters.delete(w);
            w.reject(error);
          }
        }
        this.options.onError(error);
      }
      if (bringsUp) this.markUp();
      else this.settleWaiters();
    });
  }

  private markUp(): void {
    this.everUp = true;
    this.setState('up');
    this.settleWaiters();
  }

  private settleWaiters(): void {
    if (this.currentState !== 'up') return;
    for (const w of this.waiters) {
      if (w.topics.every((t) => this.subscribed.has(t))) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private onClose(): void {
    this.connection += 1;
    this.subscribed.clear();
    // With a clean session the broker forgets unacknowledged messages; mqtt.js would send them again on
    // the next connection, long after the caller gave up. Fail them now and drop them from its store.
    this.failPending(new Error(`MQTT connection to ${this.url} closed before the broker acknowledged the message`));
    const client = this.client;
    if (client !== undefined) {
      for (const [id, entry] of Object.entries(client.outgoing)) {
        if (entry.cmd === 'publish') client.removeOutgoingMessage(Number(id));
      }
    }
    if (!this.closed) this.setState('down');
  }

  private onClientError(err: Error): void {
    if (!this.everUp && err instanceof ErrorWithReasonCode && /^Connection refused/.test(err.message)) {
      // Refused before ever working: a configuration mistake (credentials, protocol version) that retrying
      // will not fix. Report it to whoever is waiting in open()/start().
      const reason = err.message.replace(/^Connection refused:\s*/, '');
      const hint =
        /protocol version/i.test(reason) && this.options.endpoint.protocolVersion === 5
          ? ' (this broker does not speak MQTT 5: use protocolVersion 4)'
          : '';
      const error = new Error(`MQTT broker ${this.url} refused the connection: ${reason}${hint}`);
      this.setState('down');
      for (const w of this.waiters) w.reject(error);
      this.waiters.clear();
      this.options.onError(error);
      void this.close();
      return;
    }
    this.options.onError(err);
  }

  private failPending(error: Error): void {
    for (const fail of [...this.pendingPublishes]) fail(error);
  }

  private setState(state: LinkState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    try {
      this.options.onState(state);
    } catch (err) {
      // Called from inside mqtt.js's event handlers, where a throw would break its connection handling.
      this.options.onError(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
