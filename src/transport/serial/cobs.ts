// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): rewrites a frame so that it holds no
// 0x00 byte, for at most one byte of overhead per 254, which leaves 0x00 free to delimit frames on a
// byte stream. A receiver that lands in the middle of a frame (noise, a dropped byte) resynchronises at
// the next 0x00.

/** A code byte covers at most this many data bytes (code 0xff: 254 bytes, no zero after them). */
const MAX_RUN = 254;

/** Upper bound of the encoded length of `n` bytes (without delimiters). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / MAX_RUN) + 1;
}

/**
 * Encodes the concatenation of `parts` into `out` at `offset`; returns the offset after the last byte
 * written. `out` needs cobsMaxEncodedLength(total) bytes of room.
 */
export function cobsEncodeInto(parts: readonly Uint8Array[], out: Uint8Array, offset: number): number {
  let codeAt = offset;
  let w = offset + 1;
  let run = 0;
  for (const part of parts) {
    let i = 0;
    while (i < part.length) {
      // Copy up to the next zero or the end of the run, whichever comes first.
      const room = MAX_RUN - run;
      let end = part.indexOf(0, i);
      if (end < 0) end = part.length;
      const n = Math.min(end - i, room);
      out.set(part.subarray(i, i + n), w);
      w += n;
      run += n;
      i += n;
      if (run === MAX_RUN) {
        out[codeAt] = 0xff;
        codeAt = w++;
        run = 0;
      } else if (i < part.length && part[i] === 0) {
        out[codeAt] = run + 1;
        codeAt = w++;
        run = 0;
        i++;
      }
    }
  }
  out[codeAt] = run + 1;
  return w;
}

/** Encodes `data` (no delimiters) into a new buffer of exactly the encoded length. */
export function cobsEncode(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(data.length));
  return out.subarray(0, cobsEncodeInto([data], out, 0));
}

/**
 * Decodes buf[0..length) in place (the decoded form is always shorter); returns the decoded length, or
 * -1 when the bytes are not a COBS encoding (a zero byte inside, or a code running past the end).
 */
export function cobsDecodeInPlace(buf: Uint8Array, length: number): number {
  let r = 0;
  let w = 0;
  while (r < length) {
    const code = buf[r]!;
    if (code === 0) return -1;
    const end = r + code;
    if (end > length) return -1;
    const n = code - 1;
    if (n > 0) {
      const src = r + 1;
      if (buf.subarray(src, end).indexOf(0) >= 0) return -1;
      if (w !== src) buf.copyWithin(w, src, end);
      w += n;
    }
    r = end;
    // A zero follows every block except a full one (0xff) and the last one.
    if (code !== 0xff && r < length) buf[w++] = 0;
  }
  return w;
}
