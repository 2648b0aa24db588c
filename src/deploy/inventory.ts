// The fleet inventory: which board id runs on which Pi, how to reach it over ssh, and its settings.
// JSON (fleet.json) or a simple INI (fleet.ini), one section per board:
//
//   { "defaults": { "user": "pi", "profile": "raspberry-pi-4", "orderers": ["mqtt://10.0.0.2:1883"] },
//     "boards": [ { "board": "org1-board1", "host": "pi-01.local" },
//                 { "board": "org1-board2", "host": "pi-02.local", "profile": "raspberry-pi-zero-2-w" } ] }
//
//   [defaults]                    [org1-board1]
//   user = pi                     host = pi-01.local
//   orderers = mqtt://10.0.0.2:1883
import { readFileSync } from 'node:fs';

export interface InventoryBoard {
  /** Board id from `edgepeer init` (org1-board1). */
  board: string;
  host: string;
  /** ssh user; commands run through `sudo -n` unless it is root. */
  user: string;
  port: number;
  /** Board profile (boards/<profile>.json); default: the one in the board's board.json. */
  profile: string | null;
  /** Orderer endpoints written into the board's board.json; default: the ones already there. */
  orderers: string[] | null;
  /** RAM of the board, for the heap cap; default: known from the profile. */
  memoryMb: number | null;
  /** Node's --max-old-space-size; default: from memoryMb (src/deploy/heapPolicy.ts). */
  heapMb: number | null;
  metricsPort: number;
  /** The serial console: false (none), true (the profile's UART) or a device path[@baud]. */
  console: boolean | string;
  /** More `edgepeer peer` flags, separated by spaces. */
  peerArgs: string;
}

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = 'pi';
export const DEFAULT_BOARD_METRICS_PORT = 9464;

export class InventoryError extends Error {
  override readonly name = 'InventoryError';
}

const BOARD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOST = /^[A-Za-z0-9._:%-]{1,253}$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
/** Flags end up in an EnvironmentFile and are split on spaces by systemd: no quoting games. */
const PEER_ARGS = /^[A-Za-z0-9 =@:/._,+-]*$/;
const KEYS = ['board', 'host', 'user', 'port', 'profile', 'orderers', 'memoryMb', 'heapMb', 'metricsPort', 'console', 'peerArgs'] as const;
type Key = (typeof KEYS)[number];
type RawEntry = Partial<Record<Key, unknown>>;

class Fields {
  constructor(private readonly where: string, private readonly o: RawEntry) {}

  fail(key: string, what: string): never {
    throw new InventoryError(`${this.where}: ${key} ${what}`);
  }

  str(key: Key, pattern: RegExp, what: string): string | undefined {
    const v = this.o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !pattern.test(v)) this.fail(key, `must be ${what} (got ${JSON.stringify(v)})`);
    return v;
  }

  int(key: Key, min: number, max: number): number | undefined {
    let v = this.o[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string' && /^[0-9]+$/.test(v)) v = Number(v);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) this.fail(key, `must be a whole number from ${min} to ${max} (got ${JSON.stringify(v)})`);
    return v;
  }

  endpoints(): string[] | undefined {
    let v = this.o.orderers;
    if (v === undefined) return undefined;
    if (typeof v === 'string') v = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (!Array.isArray(v) || v.length === 0) this.fail('orderers', 'must be a non-empty list of endpoints');
    return v.map((e, i) => {
      if (typeof e !== 'string' || !/^(mqtts?:\/\/|serial:)\S+$/.test(e)) this.fail(`orderers[${i}]`, `must be an mqtt://, mqtts:// or serial: endpoint (got ${JSON.stringify(e)})`);
      return e;
    });
  }

  console(): boolean | string | undefined {
    const v = this.o.console;
    if (v === undefined || typeof v === 'boolean') return v;
    if (v === 'true' || v === 'yes') return true;
    if (v === 'false' || v === 'no' || v === 'none') return false;
    if (typeof v === 'string' && /^\/dev\/[A-Za-z0-9._/-]+(@[0-9]+)?$/.test(v)) return v;
    return this.fail('console', `must be true, false or a device path like /dev/serial0@115200 (got ${JSON.stringify(v)})`);
  }
}

function entry(where: string, raw: unknown): RawEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InventoryError(`${where}: must be an object`);
  for (const k of Object.keys(raw)) {
    if (!(KEYS as readonly string[]).includes(k)) throw new InventoryError(`${where}: unknown setting '${k}' (settings: ${KEYS.join(', ')})`);
  }
  return raw as RawEntry;
}

/** Defaults under each board's own settings, checked field by field. */
function resolveBoard(where: string, defaults: RawEntry, own: RawEntry): InventoryBoard {
  const o: Fields = new Fields(where, { ...defaults, ...own });
  const board = o.str('board', BOARD_ID, 'a board id (letters, digits, . _ -)');
  if (board === undefined) o.fail('board', 'is missing');
  const host = o.str('host', HOST, 'a host name or address');
  if (host === undefined) o.fail('host', 'is missing');
  return {
    board,
    host,
    user: o.str('user', USER, 'a user name') ?? DEFAULT_SSH_USER,
    port: o.int('port', 1, 65535) ?? DEFAULT_SSH_PORT,
    profile: o.str('profile', BOARD_ID, 'a profile name') ?? null,
    orderers: o.endpoints() ?? null,
    memoryMb: o.int('memoryMb', 64, 1024 * 1024) ?? null,
    heapMb: o.int('heapMb', 32, 64 * 1024) ?? null,
    metricsPort: o.int('metricsPort', 1, 65535) ?? DEFAULT_BOARD_METRICS_PORT,
    console: o.console() ?? false,
    peerArgs: o.str('peerArgs', PEER_ARGS, 'flags without quotes (letters, digits, space and = @ : / . _ , + -)') ?? '',
  };
}

function checkUnique(boards: InventoryBoard[], source: string): InventoryBoard[] {
  const seen = new Map<string, string>();
  for (const b of boards) {
    const other = seen.get(b.board);
    if (other !== undefined) throw new InventoryError(`${source}: board ${b.board} is listed twice (${other} and ${b.host})`);
    seen.set(b.board, b.host);
  }
  if (boards.length === 0) throw new InventoryError(`${source}: lists no board`);
  return boards;
}

export function parseInventoryJson(text: string, source: string): InventoryBoard[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InventoryError(`${source}: not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InventoryError(`${source}: must be an object with "boards"`);
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'defaults' && k !== 'boards') throw new InventoryError(`${source}: unknown key '${k}' (expected defaults, boards)`);
  }
  const defaults = o['defaults'] === undefined ? {} : entry(`${source} defaults`, o['defaults']);
  if ('board' in defaults || 'host' in defaults) throw new InventoryError(`${source} defaults: board and host belong to each board`);
  if (!Array.isArray(o['boards'])) throw new InventoryError(`${source}: "boards" must be a list`);
  return checkUnique(o['boards'].map((b, i) => resolveBoard(`${source} boards[${i}]`, defaults, entry(`${source} boards[${i}]`, b))), source);
}

/** `[section]` headers, `key = value` lines, `#` and `;` comments. A section is a board id, or `defaults`. */
export function parseInventoryIni(text: string, source: string): InventoryBoard[] {
  const sections: { name: string; line: number; values: RawEntry }[] = [];
  let current: { name: string; line: number; values: RawEntry } | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const where = `${source}:${i + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = { name: header[1]!.trim(), line: i + 1, values: {} };
      sections.push(current);
      return;
    }
    const kv = /^([A-Za-z]+)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new InventoryError(`${where}: expected [board-id] or key = value, got '${line}'`);
    if (current === null) throw new InventoryError(`${where}: '${kv[1]}' comes before any [section]`);
    const key = kv[1]!;
    if (!(KEYS as readonly string[]).includes(key) || key === 'board') {
      throw new InventoryError(`${where}: unknown setting '${key}' (settings: ${KEYS.filter((k) => k !== 'board').join(', ')})`);
    }
    (current as { values: RawEntry }).values[key as Key] = kv[2]!.trim();
  });
  const defaults = sections.find((s) => s.name === 'defaults')?.values ?? {};
  if ('host' in defaults) throw new InventoryError(`${source} [defaults]: host belongs to each board`);
  return checkUnique(
    sections.filter((s) => s.name !== 'defaults').map((s) => resolveBoard(`${source}:${s.line} [${s.name}]`, defaults, { ...s.values, board: s.name })),
    source,
  );
}

/** Reads an inventory file: `.ini` as INI, anything else as JSON. */
export function readInventory(path: string): InventoryBoard[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InventoryError(`cannot read inventory ${path}: ${(err as Error).message}`);
  }
  return /\.ini$/i.test(path) ? parseInventoryIni(text, path) : parseInventoryJson(text, path);
}
