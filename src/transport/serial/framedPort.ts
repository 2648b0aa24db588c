// Frames over a managed serial port: encodes outgoing messages into frames, decodes incoming bytes into
// checked frames, and counts what went through and what was dropped. Both serial links sit on this.
import { maxMessageBytes as defaultMaxMessageBytes } from '../messageLimits.js';
import type { LinkState } from '../link.js';
import { type SerialFrame, type SerialFrameKindCode, encodeSerialFrame } from './frame.js';
import { SerialFrameDecoder, type FrameDropReason } from './frameDecoder.js';
import { ManagedSerialPort, type ManagedSerialPortOptions, SerialWriteRefused, linkStateOf } from './managedPort.js';

/** Why a frame (or a message about to become one) went nowhere. */
export type SerialDropReason = FrameDropReason | 'badRoute' | 'queueFull';

export interface SerialLinkCounters {
  framesIn: number;
  framesOut: number;
  /** Bytes read and written on the wire: delimiters, COBS, header, CRC and noise included. */
  wireBytesIn: number;
  wireBytesOut: number;
  /** Bytes of the CBOR messages carried, for framing efficiency. */
  messageBytesIn: number;
  messageBytesOut: number;
  dropped: Record<SerialDropReason, number>;
}

export interface FramedSerialPortOptions extends Omit<ManagedSerialPortOptions, 'onData' | 'onState'> {
  /** Largest message sent or accepted; default `maxMessageBytes`. */
  maxMessageBytes?: number;
  onFrame: (frame: SerialFrame) => void;
  onState: (state: LinkState, detail: string) => void;
  onDrop?: (reason: SerialDropReason) => void;
}

export class FramedSerialPort {
  readonly port: ManagedSerialPort;
  readonly maxMessageBytes: number;
  private readonly decoder: SerialFrameDecoder;
  private readonly out = { framesOut: 0, wireBytesOut: 0, messageBytesOut: 0, messageBytesIn: 0, badRoute: 0, queueFull: 0 };
  private linkState: LinkState = 'down';

  constructor(private readonly o: FramedSerialPortOptions) {
    this.maxMessageBytes = o.maxMessageBytes ?? defaultMaxMessageBytes;
    this.decoder = new SerialFrameDecoder(this.maxMessageBytes, (frame) => this.handleFrame(frame), (reason) => o.onDrop?.(reason));
    this.port = new ManagedSerialPort({
      ...o,
      onData: (chunk) => this.decoder.push(chunk),
      onState: (state, detail) => {
        // Bytes after a reopen do not continue the frame that was torn by the loss.
        if (state !== 'open') this.decoder.reset();
        const next = linkStateOf(state);
        if (next === this.linkState) return;
        this.linkState = next;
        o.onState(next, detail);
      },
    });
  }

  get state(): LinkState {
    return this.linkState;
  }

  get counters(): SerialLinkCounters {
    const d = this.decoder.counters;
    return {
      framesIn: d.frames,
      framesOut: this.out.framesOut,
      wireBytesIn: d.bytes,
      wireBytesOut: this.out.wireBytesOut,
      messageBytesIn: this.out.messageBytesIn,
      messageBytesOut: this.out.messageBytesOut,
      dropped: { ...d.dropped, badRoute: this.out.badRoute, queueFull: this.out.queueFull },
    };
  }

  start(): void {
    this.port.start();
  }

  /** Resolves once the OS has taken the frame; rejects when the port is not open, the queue is full or the message too large. */
  async send(kind: SerialFrameKindCode, channel: string, message: Uint8Array): Promise<void> {
    if (message.byteLength > this.maxMessageBytes) {
      throw new Error(`message of ${message.byteLength} bytes exceeds the limit of ${this.maxMessageBytes} bytes`);
    }
    const wire = encodeSerialFrame(kind, channel, message);
    try {
      await this.port.write(wire);
    } catch (err) {
      if (err instanceof SerialWriteRefused && err.reason === 'queue-full') this.countDrop('queueFull');
      throw err;
    }
    this.out.framesOut += 1;
    this.out.wireBytesOut += wire.length;
    this.out.messageBytesOut += message.byteLength;
  }

  /** A frame that decoded but has no business on this side of the link. */
  countDrop(reason: 'badRoute' | 'queueFull'): void {
    this.out[reason] += 1;
    this.o.onDrop?.(reason);
  }

  close(): Promise<void> {
    return this.port.close();
  }

  private handleFrame(frame: SerialFrame): void {
    this.out.messageBytesIn += frame.message.byteLength;
    try {
      this.o.onFrame(frame);
    } catch (err) {
      // A throwing handler must not lose the rest of the bytes read with this frame.
      this.o.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
