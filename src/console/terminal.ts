// ANSI escapes for the panel, and colour that obeys NO_COLOR (https://no-color.org).

export const ESC = '\x1b[';
export const ansi = {
  altScreenOn: `${ESC}?1049h`,
  altScreenOff: `${ESC}?1049l`,
  hideCursor: `${ESC}?25l`,
  showCursor: `${ESC}?25h`,
  home: `${ESC}H`,
  clearLineRight: `${ESC}K`,
  clearBelow: `${ESC}J`,
} as const;

export type Colour = 'green' | 'yellow' | 'red' | 'dim' | 'bold' | 'cyan';
const CODES: Record<Colour, [number, number]> = {
  green: [32, 39], yellow: [33, 39], red: [31, 39], cyan: [36, 39], dim: [2, 22], bold: [1, 22],
};

export type Paint = (text: string, colour: Colour) => string;

export const noPaint: Paint = (text) => text;
export const ansiPaint: Paint = (text, colour) => `${ESC}${CODES[colour][0]}m${text}${ESC}${CODES[colour][1]}m`;

/** Colour is off when NO_COLOR is set to anything but the empty string, or when the output is not a terminal. */
export function colourWanted(isTty: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env['NO_COLOR'];
  return isTty && (v === undefined || v === '');
}

/** Cuts or pads `text` to exactly `width` characters. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length > width) return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
  return text.padEnd(width);
}

/** HH:MM:SS.mmm in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
