// Pin names of the Raspberry Pi 40-pin header. A profile may name a line by its Broadcom number
// (`GPIO17`) or by its position on the header (`P1-11`); both resolve to the same BCM line number, which
// is what every IO backend here drives. The header is the same on the Pi 4, Pi 5 and Pi Zero 2 W, and the
// emulated board uses it too, so a profile's pins mean the same thing everywhere.

/** Header GPIO lines are BCM 0..27 on every 40-pin Raspberry Pi. */
export const HEADER_GPIO_COUNT = 28;
export const HEADER_PIN_COUNT = 40;

/** Physical header pin → BCM line; pins absent here are power or ground. */
const HEADER_TO_BCM: ReadonlyMap<number, number> = new Map([
  [3, 2], [5, 3], [7, 4], [8, 14], [10, 15], [11, 17], [12, 18], [13, 27], [15, 22], [16, 23], [18, 24], [19, 10],
  [21, 9], [22, 25], [23, 11], [24, 8], [26, 7], [27, 0], [28, 1], [29, 5], [31, 6], [32, 12], [33, 13], [35, 19],
  [36, 16], [37, 26], [38, 20], [40, 21],
]);

const POWER_PINS: ReadonlyMap<number, string> = new Map([
  [1, '3.3 V power'], [17, '3.3 V power'], [2, '5 V power'], [4, '5 V power'],
  ...[6, 9, 14, 20, 25, 30, 34, 39].map((p): [number, string] => [p, 'ground']),
]);

const BCM_TO_HEADER: ReadonlyMap<number, number> = new Map([...HEADER_TO_BCM].map(([p, b]) => [b, p]));

/** A pin name that does not name a GPIO line of the header. */
export class PinNameError extends Error {
  override readonly name = 'PinNameError';
}

const FORMS = "write GPIO<n> (BCM numbering, GPIO0..GPIO27) or P1-<n> (header pin 1..40)";

/** The BCM line a pin name stands for: `GPIO17` and `P1-11` both give 17. Case and spaces around are ignored. */
export function resolvePin(name: string): number {
  const t = name.trim().toUpperCase();
  const gpio = /^GPIO(\d{1,2})$/.exec(t);
  if (gpio) {
    const n = Number(gpio[1]);
    if (n >= HEADER_GPIO_COUNT) throw new PinNameError(`pin '${name}': the header has GPIO0..GPIO${HEADER_GPIO_COUNT - 1}; ${FORMS}`);
    return n;
  }
  const header = /^P1-(\d{1,2})$/.exec(t);
  if (header) {
    const p = Number(header[1]);
    if (p < 1 || p > HEADER_PIN_COUNT) throw new PinNameError(`pin '${name}': the header has pins 1..${HEADER_PIN_COUNT}; ${FORMS}`);
    const bcm = HEADER_TO_BCM.get(p);
    if (bcm === undefined) throw new PinNameError(`pin '${name}': header pin ${p} is ${POWER_PINS.get(p) ?? 'not a GPIO'}, not a GPIO line`);
    return bcm;
  }
  throw new PinNameError(`pin '${name}' is not a pin name: ${FORMS}`);
}

/** Both names of a BCM line, for people: `GPIO17 (P1-11)`. */
export function describePin(bcm: number): string {
  const p = BCM_TO_HEADER.get(bcm);
  return p === undefined ? `GPIO${bcm}` : `GPIO${bcm} (P1-${p})`;
}

/** The header pin of a BCM line, or null for a line not on the header. */
export function headerPinOf(bcm: number): number | null {
  return BCM_TO_HEADER.get(bcm) ?? null;
}
