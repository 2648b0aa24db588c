// Lines out of a serial byte stream: split on LF, a CR before it dropped, invalid UTF-8 shown as U+FFFD.
// A line longer than the limit is cut and handed on in pieces, so a board that prints without line
// ends (or noise on the line) cannot grow the monitor's memory.

export class LineSplitter {
  private parts: Buffer[] = [];
  private length = 0;

  constructor(private readonly maxLineBytes: number, private readonly onLine: (line: string, cut: boolean) => void) {}

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl;
      let from = pos;
      while (this.length + (end - from) > this.maxLineBytes) {
        const take = this.maxLineBytes - this.length;
        this.add(chunk.subarray(from, from + take));
        from += take;
        this.emit(true);
      }
      this.add(chunk.subarray(from, end));
      if (nl < 0) return;
      this.emit(false);
      pos = nl + 1;
    }
  }

  /** Hands on a partial line (the port closed: nothing more will complete it). */
  flush(): void {
    if (this.length > 0) this.emit(true);
  }

  private add(bytes: Buffer): void {
    if (bytes.length === 0) return;
    // Copied: the chunk is the port's buffer.
    this.parts.push(Buffer.from(bytes));
    this.length += bytes.length;
  }

  private emit(cut: boolean): void {
    let text = Buffer.concat(this.parts, this.length).toString('utf8');
    this.parts = [];
    this.length = 0;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    this.onLine(text, cut);
  }
}
