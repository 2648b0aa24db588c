// `--hex`: the bytes as they come, 16 to a line: offset, hex, and the printable ASCII.

const BYTES_PER_LINE = 16;

export class HexDumper {
  private offset = 0;
  private pending: number[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    for (const b of chunk) {
      this.pending.push(b);
      if (this.pending.length === BYTES_PER_LINE) this.flush();
    }
  }

  /** Prints a partial line now (the line went quiet, or the port closed). */
  flush(): void {
    if (this.pending.length === 0) return;
    this.onLine(formatHexLine(this.offset, this.pending));
    this.offset += this.pending.length;
    this.pending = [];
  }
}

export function formatHexLine(offset: number, bytes: readonly number[]): string {
  const hex = bytes.map((b) => b.toString(16).padStart(2, '0'));
  const left = hex.slice(0, 8).join(' ');
  const right = hex.slice(8).join(' ');
  const ascii = bytes.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
  return `${offset.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`;
}
