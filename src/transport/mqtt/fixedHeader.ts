// The MQTT fixed header read a byte at a time: a type byte, then the remaining length in one to four 7-bit
// groups, low group first (MQTT 3.1.1 §2.2.3, 5.0 §1.5.5). Both ends that must judge a packet's size from
// its header before its body arrives use it: the board's packet assembler (framedSocket.ts) and the
// embedded broker's size guard (packetSizeGuard.ts).

/** The remaining length takes at most four bytes. */
export const REMAINING_LENGTH_MAX_BYTES = 4;
/** The type byte and the longest remaining length. */
export const FIXED_HEADER_MAX_BYTES = 1 + REMAINING_LENGTH_MAX_BYTES;
/** push() needs more header bytes. */
export const HEADER_INCOMPLETE = 0;
/** push() found a fifth remaining-length byte: no MQTT packet. */
export const HEADER_MALFORMED = -1;

const CONTINUATION_BIT = 0x80;
const SEVEN_BITS = 0x7f;
const GROUP_SCALE = 128;

export class FixedHeaderReader {
  /** Header bytes taken so far (the type byte included); 0 between packets. */
  bytes = 0;
  private remaining = 0;
  private scale = 1;

  /**
   * Takes the next byte of a header: the whole packet's size (header and body) once the header is
   * complete, and the reader is ready for the next packet; HEADER_INCOMPLETE or HEADER_MALFORMED otherwise.
   */
  push(byte: number): number {
    if (this.bytes++ === 0) {
      this.remaining = 0;
      this.scale = 1;
      return HEADER_INCOMPLETE;
    }
    this.remaining += (byte & SEVEN_BITS) * this.scale;
    this.scale *= GROUP_SCALE;
    if ((byte & CONTINUATION_BIT) !== 0) return this.bytes > REMAINING_LENGTH_MAX_BYTES ? HEADER_MALFORMED : HEADER_INCOMPLETE;
    const total = this.bytes + this.remaining;
    this.bytes = 0;
    return total;
  }
}
