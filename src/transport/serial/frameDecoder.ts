// Turns the bytes read from a serial port into checked frames. Noise, dropped bytes and torn frames
// cost the frames they touch and nothing more: bytes are gathered up to the next 0x00, and whatever is
// between two delimiters is either a frame with a good CRC or counted and dropped. Memory is bounded:
// a run longer than the largest frame allowed is skipped up to the next delimiter, never buffered.
//
// The delimiter parser of @serialport/parser-delimiter was the obvious candidate; it has no size limit
// (a line of noise without a 0x00 grows its buffer without end) and concatenates its whole buffer on
// every chunk (quadratic for frames spanning many reads), hence this one.
import { cobsDecodeInPlace, cobsMaxEncodedLength } from './cobs.js';
import { FRAME_DELIMITER, type FrameRejection, type SerialFrame, maxFrameBytes, parseSerialFrame } from './frame.js';

export type FrameDropReason = FrameRejection | 'cobs' | 'oversize';

export interface SerialFrameDecoderCounters {
  /** Good frames handed on. */
  frames: number;
  /** Bytes read, delimiters and noise included. */
  bytes: number;
  dropped: Record<FrameDropReason, number>;
}

export function newDecoderCounters(): SerialFrameDecoderCounters {
  return { frames: 0, bytes: 0, dropped: { crc: 0, cobs: 0, oversize: 0, malformed: 0, version: 0 } };
}

/** The decoder's buffer starts this small and doubles up to the largest encoded frame. */
const INITIAL_BUFFER_BYTES = 16 * 1024;

export class SerialFrameDecoder {
  readonly counters: SerialFrameDecoderCounters = newDecoderCounters();
  private buf: Buffer;
  private length = 0;
  /** Inside a run that outgrew the limit: skip to the next delimiter. */
  private skipping = false;
  private readonly maxEncodedBytes: number;

  /**
   * @param maxMessageBytes largest message a frame may carry; longer runs are dropped as 'oversize'.
   * @param onFrame gets each good frame; its message is the frame's own copy.
   */
  constructor(
    maxMessageBytes: number,
    private readonly onFrame: (frame: SerialFrame) => void,
    private readonly onDrop?: (reason: FrameDropReason) => void,
  ) {
    this.maxEncodedBytes = cobsMaxEncodedLength(maxFrameBytes(maxMessageBytes));
    this.buf = Buffer.allocUnsafe(Math.min(INITIAL_BUFFER_BYTES, this.maxEncodedBytes));
  }

  /** Bytes of an unfinished frame held (a partial frame waits for more bytes, or for the next delimiter). */
  get pendingBytes(): number {
    return this.length;
  }

  push(chunk: Uint8Array): void {
    this.counters.bytes += chunk.length;
    let pos = 0;
    while (pos < chunk.length) {
      const z = chunk.indexOf(FRAME_DELIMITER, pos);
      const end = z < 0 ? chunk.length : z;
      if (!this.skipping && end > pos) {
        if (this.length + (end - pos) <= this.maxEncodedBytes) {
          this.append(chunk, pos, end);
        } else {
          this.skipping = true;
          this.length = 0;
        }
      }
      if (z < 0) return;
      // A delimiter ends the run, whatever it was.
      if (this.skipping) {
        this.skipping = false;
        this.drop('oversize');
      } else if (this.length > 0) {
        this.finishFrame();
      }
      pos = z + 1;
    }
  }

  /** Forgets a partial frame (the port was closed: what follows is not its continuation). */
  reset(): void {
    this.length = 0;
    this.skipping = false;
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const need = this.length + (to - from);
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const bigger = Buffer.allocUnsafe(Math.min(size, this.maxEncodedBytes));
      this.buf.copy(bigger, 0, 0, this.length);
      this.buf = bigger;
    }
    this.buf.set(chunk.subarray(from, to), this.length);
    this.length = need;
  }

  private finishFrame(): void {
    const n = cobsDecodeInPlace(this.buf, this.length);
    this.length = 0;
    if (n < 0) return this.drop('cobs');
    const parsed = parseSerialFrame(this.buf, n);
    if (typeof parsed === 'string') return this.drop(parsed);
    this.counters.frames += 1;
    this.onFrame(parsed);
  }

  private drop(reason: FrameDropReason): void {
    this.counters.dropped[reason] += 1;
    this.onDrop?.(reason);
  }
}
