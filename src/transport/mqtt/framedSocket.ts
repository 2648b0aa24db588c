// A plain-TCP stream for mqtt.js that makes no ArrayBuffer per message. Left to itself, every socket read
// is a fresh 64 KiB ArrayBuffer and mqtt.js concatenates the reads of a large PUBLISH into yet another
// one: about twice the payload in external memory per Deliver response, which V8 frees only at its next
// GC. At catch-up rates that is tens of MiB of dead buffers between two GCs, the largest part of a
// board's private memory. Here the socket reads into one reused buffer (net's `onread`), whole MQTT
// packets are assembled in a preallocated ring, and each packet is handed to mqtt.js's parser on its
// own, so that its payload is a view into the ring. A ring region is reused once mqtt.js has finished
// with its packet (its write callback), so a payload is only valid during the 'message' event: a
// listener that keeps one must copy it (the deliver client does).
import net from 'node:net';
import { Duplex, type Writable } from 'node:stream';
import { ByteRing } from '../byteRing.js';
import { FIXED_HEADER_MAX_BYTES, FixedHeaderReader, HEADER_INCOMPLETE, HEADER_MALFORMED, REMAINING_LENGTH_MAX_BYTES } from './fixedHeader.js';

/**
 * What a PUBLISH carries besides its payload, at most: fixed header, topic (≤ 65,535 bytes and its length),
 * packet id, MQTT 5 properties. A packet longer than the payload limit plus this is refused from its header,
 * before anything is allocated for it.
 */
export const MQTT_PACKET_OVERHEAD_MAX_BYTES = 128 * 1024;

export interface FramedSocketOptions {
  host: string;
  port: number;
  /** The one buffer every socket read goes into. */
  readBufferBytes: number;
  /** Ring in which packets are assembled; a packet that does not fit its free space gets a buffer of its own. */
  ringBytes: number;
  /**
   * Largest packet accepted. The length comes from the broker's header: without a bound, five bytes would
   * make the board allocate 256 MiB for a packet that never comes.
   */
  maxPacketBytes: number;
}

/**
 * Packets must reach mqtt.js one at a time through `pipe()` (which mqtt.js calls once, right after
 * building the stream): the readable side itself never pushes.
 */
export class FramedMqttSocket extends Duplex {
  private readonly tcp: net.Socket;
  private readonly maxPacketBytes: number;
  private readonly ring: ByteRing;
  private sink: Writable | null = null;
  private readonly header = Buffer.alloc(FIXED_HEADER_MAX_BYTES);
  private headerFill = 0;
  private readonly headerReader = new FixedHeaderReader();
  private packet: Buffer | null = null;
  private packetFill = 0;
  /** Per packet handed to mqtt.js and not yet done with, oldest first: whether it holds a ring region. */
  private readonly packetInRing: boolean[] = [];
  private readonly written = (): void => this.releaseOldest();
  private readonly resumeReading = (): void => { this.tcp.resume(); };

  constructor(o: FramedSocketOptions) {
    super({ allowHalfOpen: false });
    this.ring = new ByteRing(o.ringBytes);
    this.maxPacketBytes = o.maxPacketBytes;
    this.tcp = net.createConnection({
      host: o.host,
      port: o.port,
      // Nagle off from the first byte: mqtt.js would leave it on, and every request/reply pays ~40 ms.
      noDelay: true,
      onread: { buffer: Buffer.allocUnsafe(o.readBufferBytes), callback: (n, buf) => this.onBytes(n, buf as Buffer) },
    });
    this.tcp.on('connect', () => this.emit('connect'));
    this.tcp.on('error', (err) => this.destroy(err));
    this.tcp.on('close', () => this.destroy());
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.sink = destination as unknown as Writable;
    this.sink.on('drain', this.resumeReading);
    return destination;
  }

  override _read(): void {
    // Nothing to do: packets go to the piped writable directly.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.tcp.write(chunk, done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.tcp.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.tcp.write(chunks[i]!.chunk);
    this.tcp.write(chunks[chunks.length - 1]!.chunk, done);
    this.tcp.uncork();
  }

  override _final(done: (err?: Error | null) => void): void {
    this.tcp.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.sink?.off('drain', this.resumeReading);
    this.tcp.destroy();
    done(err);
  }

  /** `onread` callback: buf[0..n) is valid only until it returns. Returning false would pause reading. */
  private onBytes(n: number, buf: Buffer): boolean {
    let i = 0;
    while (i < n && !this.destroyed) {
      if (this.packet === null) {
        const b = buf[i++]!;
        this.header[this.headerFill++] = b;
        const total = this.headerReader.push(b);
        if (total === HEADER_INCOMPLETE) continue;
        if (total === HEADER_MALFORMED) {
          this.destroy(new Error(`malformed MQTT packet: remaining length longer than ${REMAINING_LENGTH_MAX_BYTES} bytes`));
          return false;
        }
        if (total > this.maxPacketBytes) {
          this.destroy(new Error(`MQTT packet of ${total} bytes exceeds the limit of ${this.maxPacketBytes} bytes`));
          return false;
        }
        this.packet = this.allocate(total);
        this.header.copy(this.packet, 0, 0, this.headerFill);
        this.packetFill = this.headerFill;
        this.headerFill = 0;
      } else {
        const take = Math.min(n - i, this.packet.length - this.packetFill);
        buf.copy(this.packet, this.packetFill, i, i + take);
        this.packetFill += take;
        i += take;
      }
      if (this.packetFill === this.packet.length) this.deliver();
    }
    return true;
  }

  private deliver(): void {
    const p = this.packet!;
    this.packet = null;
    if (this.sink === null) {
      this.destroy(new Error('MQTT stream read before it was piped'));
      return;
    }
    // The callback comes once mqtt.js has parsed and handled the packet, in write order. mqtt.js's
    // parser reports "full" for every packet above its 16 KiB high-water mark, so pausing on that alone
    // would stop and restart the socket for every Deliver response; what bounds memory is the ring, so
    // reading pauses only when half of it is taken or a packet had to go outside it.
    const full = !this.sink.write(p, this.written);
    if (full && (this.packetInRing[this.packetInRing.length - 1] === false || this.ring.usedBytes > this.ring.buffer.length / 2)) {
      this.tcp.pause();
    }
  }

  /** A region of `size` bytes for the next packet: in the ring when it fits its free space. */
  private allocate(size: number): Buffer {
    const at = this.ring.reserve(size);
    this.packetInRing.push(at >= 0);
    return at < 0 ? Buffer.allocUnsafe(size) : this.ring.buffer.subarray(at, at + size);
  }

  /** mqtt.js is done with the oldest packet (write callbacks come in write order). */
  private releaseOldest(): void {
    if (this.packetInRing.shift() === true) this.ring.releaseOldest();
  }
}
