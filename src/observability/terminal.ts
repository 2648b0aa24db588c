// The one terminal module: ANSI escapes, colour, display width. Node's built-ins only (util's
// stripVTControlCharacters; code points instead of UTF-16 units). Colour is decided one way everywhere
// (the console panel, the demo's live view, pretty logs): on a terminal, unless NO_COLOR
// (https://no-color.org) is set to anything but the empty string.
import { stripVTControlCharacters } from 'node:util';

export const ESC = '\x1b[';
export const ansi = {
  altScreenOn: `${ESC}?1049h`,
  altScreenOff: `${ESC}?1049l`,
  hideCursor: `${ESC}?25l`,
  showCursor: `${ESC}?25h`,
  home: `${ESC}H`,
  clearScreenHome: `${ESC}2J${ESC}H`,
  clearLineRight: `${ESC}K`,
  clearBelow: `${ESC}J`,
  /** Moves the cursor up `n` lines to the start of the line. */
  up: (n: number): string => `${ESC}${n}A\r`,
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

/**
 * Columns `text` takes on a terminal: escape sequences take none, each code point one. (●, ○ and the
 * other symbols the views use are one column; a surrogate pair is one character, not two.)
 */
export function displayWidth(text: string): number {
  let n = 0;
  for (const _ of stripVTControlCharacters(text)) n++;
  return n;
}

/** The first `width` columns of plain `text` (no escape sequences), whole code points. */
export function cutToWidth(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...text];
  return chars.length <= width ? text : chars.slice(0, width).join('');
}

/** `text` padded with spaces to `width` columns (on the left when `right`); never cut. */
export function padToWidth(text: string, width: number, right = false): string {
  const pad = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return right ? pad + text : text + pad;
}

/** Cuts or pads `text` to exactly `width` columns (… marks a cut). */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (displayWidth(text) > width) return width === 1 ? '…' : `${cutToWidth(text, width - 1)}…`;
  return padToWidth(text, width);
}

/** HH:MM:SS.mmm in local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
