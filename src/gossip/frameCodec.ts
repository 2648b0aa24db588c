// Gossip frames on TCP: u32 big-endian length, then that many bytes (one CBOR gossip message).
export const FRAME_HEADER_BYTES = 4;

export function encodeFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  out.writeUInt32BE(message.length, 0);
  out.set(message, FRAME_HEADER_BYTES);
  return out;
}

/**
 * Splits a byte stream into frames; a length above maxFrameBytes is an error (the connection is dropped).
 * Chunks are only joined once a whole frame is in, so a frame that trickles in as many small chunks costs
 * time linear in its size (joining on every chunk was quadratic: 5 s for 4 MiB in 1 KiB pieces).
 */
export class GossipFrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of the frame being received, header included; -1 while its header is incomplete. */
  private need = -1;

  constructor(private readonly maxFrameBytes: number) {}

  /** Bytes received and not yet handed over as whole frames (the frame being received). */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Returns the whole frames now available. An oversized length throws, after handing over (through
   * `onFrame`, when given) the frames that came before it in the stream.
   */
  push(chunk: Buffer, onFrame?: (frame: Buffer) => void): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        if (this.chunks[0]!.length < FRAME_HEADER_BYTES) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
        const len = this.chunks[0]!.readUInt32BE(0);
        if (len > this.maxFrameBytes) {
          if (onFrame !== undefined) for (const f of frames) onFrame(f);
          throw new Error(`frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`);
        }
        this.need = FRAME_HEADER_BYTES + len;
      }
      if (this.buffered < this.need) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      frames.push(all.subarray(FRAME_HEADER_BYTES, this.need));
      const rest = all.subarray(this.need);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.need = -1;
    }
    if (onFrame !== undefined) for (const f of frames) onFrame(f);
    return frames;
  }
}
