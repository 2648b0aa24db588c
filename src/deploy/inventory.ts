// The fleet inventory: which board id runs on which Pi, how to reach it over ssh, and its settings.
// JSON (fleet.json) or a simple INI (fleet.ini), one section per board:
//
//   { "defaults": { "user": "pi", "profile": "raspberry-pi-4", "orderers": ["mqtt://10.0.0.2:1883"] },
//     "boards": [ { "board": "org1-board1", "host": "pi-01.local" },
//                 { "board": "org1-board2", "host": "pi-02.local", "profile": "raspberry-pi-zero-2-w" } ] }
//
//   [defaults]                    [org1-board1]
//   user = pi                     host = pi-01.local
//   orderers = mqtt://10.0.0.2:1883   gossipListen = 10.0.0.11:7051
//
// The gossip keys replace the addresses `edgepeer init --gossip` wrote into board.json, which are
// loopback ports for one machine: on real Pis each board needs the address the others reach it at.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { got, matching, parseConfig, wholeNumberIn } from '../config/validate.js';

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
  /** Replacements of board.json's gossip addresses; null: keep what is there. */
  gossip: InventoryGossip;
}

export interface InventoryGossip {
  /** host:port the board listens on for gossip. */
  listen: string | null;
  /** host:port the other boards reach it at, when not `listen` (0.0.0.0, NAT). */
  advertise: string | null;
  /** host:port of boards it announces itself to (its own address among them is skipped). */
  bootstrap: string[] | null;
}

/** Keep board.json's gossip addresses as they are. */
export const KEEP_GOSSIP_ADDRESSES: InventoryGossip = { listen: null, advertise: null, bootstrap: null };

export const DEFAULT_SSH_PORT = 22;
export const DEFAULT_SSH_USER = 'pi';
export const DEFAULT_BOARD_METRICS_PORT = 9464;

export class InventoryError extends Error {
  override readonly name = 'InventoryError';
}

const BOARD_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HOST = /^[A-Za-z0-9._:%-]{1,253}$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
/** Flags end up in an EnvironmentFile and are split on spaces by systemd: no quoting games. */
const PEER_ARGS = /^[A-Za-z0-9 =@:/._,+-]*$/;
const KEYS = [
  'board', 'host', 'user', 'port', 'profile', 'orderers', 'memoryMb', 'heapMb', 'metricsPort', 'console', 'peerArgs',
  'gossipListen', 'gossipAdvertise', 'gossipBootstrap',
] as const;
type Key = (typeof KEYS)[number];
type RawEntry = Partial<Record<Key, unknown>>;

/** A non-empty list: a JSON list, or in INI a comma-separated line. */
function listOf(item: z.ZodType<string>, what: string) {
  const error = `must be a non-empty list of ${what}`;
  return z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((e) => e.trim()).filter((e) => e !== '') : v),
    z.array(item, { error }).min(1, { error }),
  );
}

/** The endpoints of `orderers`. */
const endpointsSchema = listOf(matching(/^(mqtts?:\/\/|serial:)\S+$/, 'an mqtt://, mqtts:// or serial: endpoint'), 'endpoints');

/** host:port as gossip's listen, advertise and bootstrap take it (an IPv6 host in brackets). */
const GOSSIP_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]{1,253}):[0-9]{1,5}$/;
const gossipAddressSchema = matching(GOSSIP_ADDRESS, 'a host:port');

const gossipAddressesSchema = listOf(gossipAddressSchema, 'host:port');

const CONSOLE_WORDS: Record<string, boolean> = { true: true, yes: true, false: false, no: false, none: false };

/** false (none), true (the profile's UART) or a device path[@baud]; INI says true/yes/false/no/none. */
const consoleSchema = z.preprocess(
  (v) => (typeof v === 'string' && v in CONSOLE_WORDS ? CONSOLE_WORDS[v] : v),
  z.union([z.boolean(), z.string().regex(/^\/dev\/[A-Za-z0-9._/-]+(@[0-9]+)?$/)], {
    error: (i) => `must be true, false or a device path like /dev/serial0@115200 ${got(i.input)}`,
  }),
);

/** One board's settings, or the defaults under them (every key optional here; board and host are checked after the merge). */
export const inventoryEntrySchema = z.strictObject({
  board: matching(BOARD_ID, 'a board id (letters, digits, . _ -)').optional(),
  host: matching(HOST, 'a host name or address').optional(),
  user: matching(USER, 'a user name').optional(),
  port: wholeNumberIn(1, 65535).optional(),
  profile: matching(BOARD_ID, 'a profile name').optional(),
  orderers: endpointsSchema.optional(),
  memoryMb: wholeNumberIn(64, 1024 * 1024).optional(),
  heapMb: wholeNumberIn(32, 64 * 1024).optional(),
  metricsPort: wholeNumberIn(1, 65535).optional(),
  console: consoleSchema.optional(),
  peerArgs: matching(PEER_ARGS, 'flags without quotes (letters, digits, space and = @ : / . _ , + -)').optional(),
  gossipListen: gossipAddressSchema.optional(),
  gossipAdvertise: gossipAddressSchema.optional(),
  gossipBootstrap: gossipAddressesSchema.optional(),
});

/** fleet.json as a whole (its JSON Schema: schemas/inventory.schema.json). */
export const inventoryFileSchema = z.strictObject({
  // The key an editor reads to check the file against schemas/inventory.schema.json.
  $schema: z.string().optional(),
  defaults: inventoryEntrySchema.optional(),
  boards: z.array(inventoryEntrySchema, { error: 'must be a list' }),
});

const fail = (message: string): never => { throw new InventoryError(message); };

function entry(where: string, raw: unknown): RawEntry {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InventoryError(`${where}: must be an object`);
  return raw as RawEntry;
}

/** Defaults under each board's own settings, checked field by field. */
function resolveBoard(where: string, defaults: RawEntry, own: RawEntry): InventoryBoard {
  const o = parseConfig(inventoryEntrySchema, { ...defaults, ...own }, where, fail, KEYS);
  if (o.board === undefined) fail(`${where}: board is missing`);
  if (o.host === undefined) fail(`${where}: host is missing`);
  return {
    board: o.board!,
    host: o.host!,
    user: o.user ?? DEFAULT_SSH_USER,
    port: o.port ?? DEFAULT_SSH_PORT,
    profile: o.profile ?? null,
    orderers: o.orderers ?? null,
    memoryMb: o.memoryMb ?? null,
    heapMb: o.heapMb ?? null,
    metricsPort: o.metricsPort ?? DEFAULT_BOARD_METRICS_PORT,
    console: o.console ?? false,
    peerArgs: o.peerArgs ?? '',
    gossip: { listen: o.gossipListen ?? null, advertise: o.gossipAdvertise ?? null, bootstrap: o.gossipBootstrap ?? null },
  };
}

/** A board's own gossip address cannot be a default: every board would claim the same one. */
function checkOwnAddresses(defaults: RawEntry, where: string): void {
  for (const k of ['gossipListen', 'gossipAdvertise'] as const) {
    if (k in defaults) throw new InventoryError(`${where}: ${k} belongs to each board (gossipBootstrap may be a default)`);
  }
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
    // $schema: where an editor finds schemas/inventory.schema.json to check the file.
    if (k !== 'defaults' && k !== 'boards' && k !== '$schema') throw new InventoryError(`${source}: unknown key '${k}' (expected defaults, boards)`);
  }
  const defaults = o['defaults'] === undefined ? {} : entry(`${source} defaults`, o['defaults']);
  if ('board' in defaults || 'host' in defaults) throw new InventoryError(`${source} defaults: board and host belong to each board`);
  checkOwnAddresses(defaults, `${source} defaults`);
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
  checkOwnAddresses(defaults, `${source} [defaults]`);
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
