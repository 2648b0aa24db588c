// Aedes has no packet-size limit: its parser buffers whatever remaining length a header announces, so one
// client publishing 200 MB took the orderer to 1.25 GB RSS. This watches a connection's bytes as the
// broker reads them, follows the MQTT framing (fixed header: a type byte, then the remaining length in
// one to four 7-bit groups), and names the first packet whose announced size is over the limit, from its
// header, before its payload arrives. It allocates nothing per chunk or per packet.

export type PacketSizeVerdict =
  | { kind: 'ok' }
  | { kind: 'too-large'; packetBytes: number }
  | { kind: 'malformed'; reason: string };

const OK: PacketSizeVerdict = { kind: 'ok' };
/** The remaining length takes at most four bytes (MQTT 3.1.1 §2.2.3, 5.0 §1.5.5). */
const REMAINING_LENGTH_MAX_BYTES = 4;
const CONTINUATION_BIT = 0x80;
const SEVEN_BITS = 0x7f;

export class PacketSizeGuard {
  /** Bytes of the current packet's body still to come; 0: the next byte starts a packet. */
  private bodyLeft = 0;
  /** Inside a fixed header: bytes of it read (type byte included), and the remaining length so far. */
  private headerBytes = 0;
  private remaining = 0;
  private multiplier = 1;
  private failed: PacketSizeVerdict | null = null;

  constructor(readonly maxPacketBytes: number) {}

  /** Follows one chunk of the stream; after a verdict other than ok, every later call repeats it. */
  feed(chunk: Uint8Array): PacketSizeVerdict {
    if (this.failed !== null) return this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.bodyLeft > 0) {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= take;
        i += take;
        continue;
      }
      const byte = chunk[i++]!;
      if (this.headerBytes === 0) {
        // The type byte.
        this.headerBytes = 1;
        this.remaining = 0;
        this.multiplier = 1;
        continue;
      }
      this.headerBytes++;
      this.remaining += (byte & SEVEN_BITS) * this.multiplier;
      this.multiplier *= 128;
      if ((byte & CONTINUATION_BIT) !== 0) {
        if (this.headerBytes > REMAINING_LENGTH_MAX_BYTES) {
          this.failed = { kind: 'malformed', reason: 'remaining length longer than 4 bytes' };
          return this.failed;
        }
        continue;
      }
      const packetBytes = this.headerBytes + this.remaining;
      if (packetBytes > this.maxPacketBytes) {
        this.failed = { kind: 'too-large', packetBytes };
        return this.failed;
      }
      this.bodyLeft = this.remaining;
      this.headerBytes = 0;
    }
    return OK;
  }
}
