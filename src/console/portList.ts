// `edgepeer console --list`: the serial ports of this machine, each with its stable /dev/serial/by-id
// name where there is one (a USB adapter keeps it whichever ttyUSBn it gets). SerialPort.list() asks
// udev; where there is none (containers, minimal images) the device directories are read instead.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export const BY_ID_DIR = '/dev/serial/by-id';
/** Device names that are serial ports on Linux: USB adapters, CDC-ACM boards, the Pi's UARTs, PC UARTs. */
const TTY_PATTERN = /^tty(USB|ACM|AMA|S|AML|XRUSB|SC|MFD|THS|mxc)\d+$/;
/** The Pi's aliases for its primary and secondary UART. */
const PI_ALIASES = ['/dev/serial0', '/dev/serial1'];

export interface ListedPort {
  /** The device (/dev/ttyUSB0). */
  path: string;
  /** /dev/serial/by-id/… pointing at it, when present: the name to use in configs. */
  byId: string | null;
  description: string;
  /** Where the entry came from. */
  source: 'udev' | 'dev';
}

export interface ListDeps {
  list: () => Promise<{ path: string; manufacturer?: string; serialNumber?: string; pnpId?: string; vendorId?: string; productId?: string }[]>;
  readdir: (dir: string) => string[];
  realpath: (path: string) => string;
  readFile: (path: string) => string;
}

const realDeps: ListDeps = {
  // Loaded here, not at import: serialport loads its native module, which no other command needs.
  list: () => (createRequire(import.meta.url)('serialport') as typeof import('serialport')).SerialPort.list(),
  readdir: (dir) => readdirSync(dir),
  realpath: (path) => realpathSync(path),
  readFile: (path) => readFileSync(path, 'utf8'),
};

function tryOr<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** device path -> its by-id link, read from the directory (works with or without udevadm). */
function byIdLinks(d: ListDeps): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of tryOr(() => d.readdir(BY_ID_DIR), [])) {
    const link = join(BY_ID_DIR, name);
    const target = tryOr(() => d.realpath(link), null);
    if (target !== null) out.set(target, link);
  }
  return out;
}

/** A PC's ttyS0..31 exist whether or not there is a UART behind them; the kernel says which are real. */
function isRealUart(name: string, d: ListDeps): boolean {
  if (!name.startsWith('ttyS')) return true;
  const type = tryOr(() => d.readFile(`/sys/class/tty/${name}/type`).trim(), '0');
  return type !== '0';
}

export async function listPorts(d: ListDeps = realDeps): Promise<ListedPort[]> {
  const byId = byIdLinks(d);
  const udev = await d.list().catch(() => null);
  if (udev !== null && udev.length > 0) {
    return udev.map((p) => ({
      path: p.path,
      byId: byId.get(p.path) ?? (p.pnpId ? join(BY_ID_DIR, p.pnpId) : null),
      description: [p.manufacturer, p.vendorId && p.productId ? `${p.vendorId}:${p.productId}` : undefined, p.serialNumber && `serial ${p.serialNumber}`]
        .filter((x): x is string => typeof x === 'string' && x !== '').join(', ') || 'serial port',
      source: 'udev' as const,
    }));
  }
  const seen = new Map<string, ListedPort>();
  for (const [device, link] of byId) seen.set(device, { path: device, byId: link, description: 'USB serial (by-id)', source: 'dev' });
  for (const alias of PI_ALIASES) {
    const target = tryOr(() => d.realpath(alias), null);
    if (target !== null && !seen.has(target)) seen.set(target, { path: target, byId: null, description: `Raspberry Pi UART (${alias})`, source: 'dev' });
  }
  for (const name of tryOr(() => d.readdir('/dev'), []).filter((n) => TTY_PATTERN.test(n)).sort()) {
    const path = `/dev/${name}`;
    if (!seen.has(path) && isRealUart(name, d)) seen.set(path, { path, byId: null, description: 'serial device', source: 'dev' });
  }
  return [...seen.values()];
}

export function formatPortList(ports: readonly ListedPort[]): string {
  if (ports.length === 0) return 'no serial ports found\n';
  return ports.map((p) => `${p.byId ?? p.path}${p.byId !== null ? `  -> ${p.path}` : ''}  (${p.description})\n`).join('');
}
