// Aedes has no packet-size limit: its parser buffers whatever remaining length a header announces, so one
// client publishing 200 MB took the orderer to 1.25 GB RSS. This watches a connection's bytes as the
// broker reads them, follows the MQTT framing (fixed header: a type byte, then the remaining length in
// one to four 7-bit groups), and names the first packet whose announced size is over the limit, from its
// header, before its payload arrives. It allocates nothing per chunk or per packet.
import { FixedHeaderReader, HEADER_INCOMPLETE, HEADER_MALFORMED, REMAINING_LENGTH_MAX_BYTES } from './fixedHeader.js';

export type PacketSizeVerdict =
  | { kind: 'ok' }
  | { kind: 'too-large'; packetBytes: number }
  | { kind: 'malformed'; reason: string };

const OK: PacketSizeVerdict = { kind: 'ok' };

export class PacketSizeGuard {
  /** Bytes of the current packet's body still to come; 0: the next byte is a header's. */
  private bodyLeft = 0;
  private readonly header = new FixedHeaderReader();
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
      const headerBytes = this.header.bytes + 1;
      const packetBytes = this.header.push(chunk[i++]!);
      if (packetBytes === HEADER_INCOMPLETE) continue;
      if (packetBytes === HEADER_MALFORMED) {
        this.failed = { kind: 'malformed', reason: `remaining length longer than ${REMAINING_LENGTH_MAX_BYTES} bytes` };
        return this.failed;
      }
      if (packetBytes > this.maxPacketBytes) {
        this.failed = { kind: 'too-large', packetBytes };
        return this.failed;
      }
      this.bodyLeft = packetBytes - headerBytes;
    }
    return OK;
  }
}
