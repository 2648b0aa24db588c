// The orderer's end of one serial line: requests for any channel arrive as DELIVER and BROADCAST
// frames, replies go out as REPLY frames to the one client at the other end.
import { EventEmitter } from 'node:events';
import { serialDefaults } from './serialDefaults.js';
import type { IncomingRequest, LinkState, ServerLink } from '../link.js';
import { SerialFrameKind, type SerialFrame } from './frame.js';
import { FramedSerialPort, type FramedSerialPortOptions, type SerialDropReason, type SerialLinkCounters } from './framedPort.js';
import { parseSerialReplyRoute } from './routes.js';
import { type SerialPortSpec, serialEndpointName } from './serialEndpoint.js';

export interface SerialServerLinkOptions extends Omit<FramedSerialPortOptions, 'onFrame' | 'onState' | 'port'> {
  port: SerialPortSpec;
  /** Block bytes per Deliver response on this line; default serialDefaults.maxResponseBytes. */
  maxResponseBytes?: number;
}

export interface SerialServerLinkEvents {
  state: (state: LinkState, detail: string) => void;
}

export class SerialServerLink implements ServerLink {
  readonly name: string;
  readonly maxResponseBytes: number;
  private readonly framed: FramedSerialPort;
  private readonly events = new EventEmitter();
  private onRequest: ((req: IncomingRequest) => void) | undefined;

  constructor(options: SerialServerLinkOptions) {
    this.name = serialEndpointName(options.port);
    this.maxResponseBytes = options.maxResponseBytes ?? serialDefaults.maxResponseBytes;
    this.framed = new FramedSerialPort({
      ...options,
      onFrame: (frame) => this.handleFrame(frame),
      onState: (state, detail) => this.events.emit('state', state, detail),
    });
  }

  get state(): LinkState {
    return this.framed.state;
  }

  get counters(): SerialLinkCounters {
    return this.framed.counters;
  }

  /**
   * Starts opening the port and resolves after the first attempt, open or not: a missing device is
   * reported through onError and retried with backoff, while the orderer serves its other links.
   */
  async start(onRequest: (req: IncomingRequest) => void): Promise<void> {
    if (this.onRequest !== undefined) throw new Error(`${this.name} is already started`);
    this.onRequest = onRequest;
    const settled = new Promise<void>((resolve) => {
      const onState = (s: LinkState): void => {
        if (s === 'connecting') return;
        this.events.off('state', onState);
        resolve();
      };
      this.events.on('state', onState);
    });
    this.framed.start();
    await settled;
  }

  reply(replyTo: string, message: Uint8Array): Promise<void> {
    const channel = parseSerialReplyRoute(replyTo);
    if (channel === undefined) return Promise.reject(new Error(`'${replyTo}' is not a serial reply route`));
    return this.framed.send(SerialFrameKind.REPLY, channel, message);
  }

  replyRouteAllowed(channel: string, replyTo: string): boolean {
    return parseSerialReplyRoute(replyTo) === channel;
  }

  close(): Promise<void> {
    return this.framed.close();
  }

  on<E extends keyof SerialServerLinkEvents>(event: E, listener: SerialServerLinkEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends keyof SerialServerLinkEvents>(event: E, listener: SerialServerLinkEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  private handleFrame(frame: SerialFrame): void {
    if (frame.kind === SerialFrameKind.REPLY) return this.framed.countDrop('badRoute');
    const service = frame.kind === SerialFrameKind.DELIVER ? 'deliver' : 'broadcast';
    this.onRequest?.({ channel: frame.channel, service, message: frame.message });
  }
}

export type { SerialDropReason, SerialLinkCounters };
