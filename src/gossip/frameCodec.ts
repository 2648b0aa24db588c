// Gossip frames on TCP: u32 big-endian length, then that many bytes (one CBOR gossip message).
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  out.writeUInt32BE(message.length, 0);
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

/** Splits a byte stream into frames; a length above maxFrameBytes is an error (the connection is dropped). */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** Returns the whole frames now available; throws on an oversized frame. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
      const buf = this.chunks[0]!;
      const len = buf.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new Error(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`);
      if (buf.length < FRAME_HEADER_BYTES + len) break;
      frames.push(buf.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + len));
      const rest = buf.subarray(FRAME_HEADER_BYTES + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }
}
