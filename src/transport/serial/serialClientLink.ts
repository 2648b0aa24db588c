// A board's serial line to an orderer: requests go out as DELIVER and BROADCAST frames, replies come
// back as REPLY frames naming their channel. 'up' means the port is open.
import { EventEmitter } from 'node:events';
import type { ClientLink, ClientLinkEvents, LinkState, Service } from '../link.js';
import { SerialFrameKind, type SerialFrame, serviceFrameKind } from './frame.js';
import { FramedSerialPort, type FramedSerialPortOptions, type SerialLinkCounters } from './framedPort.js';
import { serialReplyRoute } from './routes.js';
import { type SerialPortSpec, serialEndpointName } from './serialEndpoint.js';

export type SerialClientLinkOptions = Omit<FramedSerialPortOptions, 'onFrame' | 'onState' | 'port'> & { port: SerialPortSpec };

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SerialClientLink implements ClientLink {
  readonly endpoint: string;
  private readonly framed: FramedSerialPort;
  private readonly events = new EventEmitter();
  /** Channels whose replies are handed on; a reply for another channel is dropped. */
  private readonly channels = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(options: SerialClientLinkOptions) {
    this.endpoint = serialEndpointName(options.port);
    this.framed = new FramedSerialPort({
      ...options,
      onFrame: (frame) => this.handleFrame(frame),
      onState: (state) => {
        if (state === 'up') {
          for (const w of this.waiters) w.resolve();
          this.waiters.clear();
        }
        this.events.emit('state', state);
      },
    });
  }

  get state(): LinkState {
    return this.framed.state;
  }

  get counters(): SerialLinkCounters {
    return this.framed.counters;
  }

  replyRoute(channel: string): string {
    return serialReplyRoute(channel);
  }

  /** May be called again with more channels; resolves once the port is open. */
  open(channels: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`serial link ${this.endpoint} is closed`));
    for (const c of channels) serialReplyRoute(c);
    for (const c of channels) this.channels.add(c);
    this.framed.start();
    if (this.state === 'up') return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.add({ resolve, reject }));
  }

  /** Resolves once the OS has taken the frame; rejects at once when the port is not open. */
  send(channel: string, service: Service, message: Uint8Array): Promise<void> {
    return this.framed.send(serviceFrameKind(service), channel, message);
  }

  on<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof ClientLinkEvents>(event: E, listener: ClientLinkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new Error(`serial link ${this.endpoint} was closed`);
    for (const w of this.waiters) w.reject(error);
    this.waiters.clear();
    await this.framed.close();
  }

  private handleFrame(frame: SerialFrame): void {
    if (frame.kind !== SerialFrameKind.REPLY || !this.channels.has(frame.channel)) return this.framed.countDrop('badRoute');
    this.events.emit('message', frame.channel, frame.message);
  }
}
