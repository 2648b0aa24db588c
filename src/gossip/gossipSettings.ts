// What a board's gossip runs with, from its board.json `gossip` section and its board profile, in one
// place: the node and the CLI take a GossipSettings and need not know where each value came from. The
// checks are here too, so that board.json (src/network/loadNetwork.ts) and the profiles
// (src/board/profile.ts) refuse the same things with the same words.
import { isIPv4 } from 'node:net';
import { maxTimerDelayMs } from '../config/timers.js';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { gossipDefaults } from './gossipDefaults.js';
import type { GossipLimits } from './gossipNode.js';
import { type HostPort, parseHostPort } from './tcpTransport.js';

export { type HostPort, parseHostPort } from './tcpTransport.js';

/** A board.json `gossip` section (src/network/networkFiles.ts BoardConfig). */
export interface BoardGossipConfig {
  /** host:port the board listens on for gossip (0.0.0.0: every interface, then `advertise` is needed). */
  listen: string;
  /** host:port of other boards it announces itself to. */
  bootstrap: string[];
  /** host:port the others reach this board at, when that is not `listen` (0.0.0.0, NAT, a proxy). */
  advertise?: string;
  /** Overrides of gossipDefaults (src/gossip/gossipDefaults.ts), by the same names; whole numbers. */
  limits?: GossipLimitOverrides;
  /** dynamic (default): height-aware election among the org's live members; static: `orgLeader` says. */
  election?: GossipElectionKind;
  /** With election static: whether this board is its org's leader (Fabric's orgLeader). */
  orgLeader?: boolean;
  /** LAN discovery by UDP multicast; absent: as the board profile says; false: off. */
  multicast?: GossipMulticastConfig | false;
}

export type GossipLimitName = keyof typeof gossipDefaults;

export type GossipLimitOverrides = Partial<Record<GossipLimitName, number>>;

export type GossipElectionKind = 'dynamic' | 'static';

export const GOSSIP_ELECTION_KINDS: readonly GossipElectionKind[] = ['dynamic', 'static'];

export function isGossipElectionKind(v: unknown): v is GossipElectionKind {
  return (GOSSIP_ELECTION_KINDS as readonly unknown[]).includes(v);
}

/** Where boards announce themselves on the LAN (board profile or board.json). */
export interface GossipMulticastConfig {
  /** An administratively scoped IPv4 group, 239.0.0.0/8 (RFC 2365). */
  group: string;
  /** UDP port, the same on every board of the LAN. */
  port: number;
  /** IPv4 address of the local interface to join and send on; absent: the one the routing table picks. */
  interface?: string;
}

/** What the board model brings to gossip (its profile, src/board/profile.ts): on a Pi on a LAN, neighbours are found by multicast. */
export interface ProfileGossip {
  /** null: no LAN discovery (a board.json may still turn it on). */
  multicast: GossipMulticastConfig | null;
}

export type GossipElectionSetting = { kind: 'dynamic' } | { kind: 'static'; orgLeader: boolean };

export interface GossipSettings {
  /** host:port to listen on. */
  listen: string;
  /** host:port put into this board's ALIVEs; null: the address the listener is bound to. */
  advertise: string | null;
  bootstrap: string[];
  /** Overrides of gossipDefaults. */
  limits: Partial<GossipLimits>;
  election: GossipElectionSetting;
  /** LAN discovery; null: off. */
  multicast: GossipMulticastConfig | null;
}

export class GossipSettingsError extends Error {
  override readonly name = 'GossipSettingsError';
}

/** A check's outcome: the value, or which field (relative to what was checked) must be what instead. */
export type Checked<T> = { ok: true; value: T } | Refused;

export interface Refused {
  ok: false;
  /** '' for the checked value itself. */
  field: string;
  /** What it must be instead, to follow "must be". */
  expected: string;
}

function bad(field: string, expected: string): Refused {
  return { ok: false, field, expected };
}

/**
 * Limits at which gossip still works when set to 0 (no push, no grace, log every drop...). Every other
 * limit must be at least 1: a zero interval spins, a zero size or window refuses everything. A limit the
 * node gains later is in the safe group until it is named here.
 */
export const GOSSIP_LIMITS_MAY_BE_ZERO: readonly GossipLimitName[] = [
  'fanout', 'reconnectDelayMs', 'leaderHandoverMinBlocks', 'leaderMinTermMs', 'leaderClaimSettleMs', 'electionStartupGraceMs',
  'dropLogIntervalMs', 'catchUpSourceCooldownMs', 'followerInSyncSlackBlocks',
];

/** Names a board.json may set: whatever gossipDefaults has now, so that new limits need no change here. */
export function gossipLimitNames(): GossipLimitName[] {
  return Object.keys(gossipDefaults) as GossipLimitName[];
}

/** `limits` of a board.json gossip section: known names, whole numbers in range, coherent with each other. */
export function checkGossipLimits(v: unknown): Checked<GossipLimitOverrides> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad('', 'an object of gossip limits by name');
  const names = gossipLimitNames();
  const out: GossipLimitOverrides = {};
  for (const [key, value] of Object.entries(v)) {
    if (!(names as string[]).includes(key)) return bad(key, `absent: it is not a gossip limit (the limits are ${names.join(', ')})`);
    const name = key as GossipLimitName;
    const min = GOSSIP_LIMITS_MAY_BE_ZERO.includes(name) ? 0 : 1;
    // Timings end up in setTimeout, which fires at once for anything above its longest delay.
    const max = name.endsWith('Ms') ? maxTimerDelayMs : Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return bad(key, `a whole number from ${min} to ${max} (${JSON.stringify(value)} given)`);
    }
    out[name] = value;
  }
  for (const [above, below] of GOSSIP_LIMITS_ABOVE) {
    const a = out[above] ?? gossipDefaults[above];
    const b = out[below] ?? gossipDefaults[below];
    if (a <= b) return bad(above, `greater than ${below} (${a} is not greater than ${b})`);
  }
  for (const [atLeast, other] of GOSSIP_LIMITS_AT_LEAST) {
    const a = out[atLeast] ?? gossipDefaults[atLeast];
    const b = out[other] ?? gossipDefaults[other];
    if (a < b) return bad(atLeast, `at least ${other} (${a} is less than ${b})`);
  }
  // An idle stream hears from the orderer once a heartbeat: a leader must not step down between two.
  const yieldMs = out.leaderUplinkYieldMs ?? gossipDefaults.leaderUplinkYieldMs;
  if (yieldMs < 2 * deliverDefaults.heartbeatMs) {
    return bad('leaderUplinkYieldMs', `at least twice the orderer's heartbeat interval, ${2 * deliverDefaults.heartbeatMs} ms (${yieldMs} given)`);
  }
  return { ok: true, value: out };
}

/** Pairs [a, b] where a must be greater than b, and why. */
const GOSSIP_LIMITS_ABOVE: readonly (readonly [GossipLimitName, GossipLimitName])[] = [
  // Every member would be declared dead between two of its ALIVEs.
  ['aliveExpirationMs', 'aliveIntervalMs'],
  // Every live member's connection would be closed between two of its ALIVEs.
  ['connectionIdleTimeoutMs', 'aliveIntervalMs'],
];

/** Pairs [a, b] where a must be at least b. */
const GOSSIP_LIMITS_AT_LEAST: readonly (readonly [GossipLimitName, GossipLimitName])[] = [
  // A frame of the largest size accepted could never be received whole.
  ['inboundBufferedBytesMax', 'maxFrameBytes'],
  // A pushed message of the largest size could never be held whole.
  ['pendingPushedBytesMax', 'maxFrameBytes'],
];

/** An address that names no particular interface: fine to listen on, useless to be reached at. */
export function isUnspecifiedHost(host: string): boolean {
  return host === '0.0.0.0';
}

/** An address other boards can reach: a concrete host and a port of 1..65535. */
export function checkReachable(s: string): Checked<HostPort> {
  const hp = parseHostPort(s);
  if (hp === null) return bad('', `host:port (a port of 1..65535; '${s}' given)`);
  if (isUnspecifiedHost(hp.host)) return bad('', `an address others can reach ('${s}' names no interface)`);
  if (hp.port === 0) return bad('', `an address with a port of 1..65535 ('${s}' has port 0)`);
  return { ok: true, value: hp };
}

/** RFC 2365's administratively scoped block: never routed beyond the site, free for local use. */
function isAdminScopedGroup(address: string): boolean {
  return isIPv4(address) && address.split('.')[0] === '239';
}

/** `multicast` of a profile or board.json: { group: "239.x.y.z", port, interface? }. */
export function checkMulticast(v: unknown): Checked<GossipMulticastConfig> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad('', 'an object { group, port, interface? } (or false: off)');
  const o = v as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'group' && key !== 'port' && key !== 'interface') return bad(key, 'absent: multicast has group, port and interface');
  }
  const { group, port } = o;
  if (typeof group !== 'string' || !isAdminScopedGroup(group)) {
    return bad('group', `an IPv4 multicast group in 239.0.0.0/8, administratively scoped (${JSON.stringify(group)} given)`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    return bad('port', `a whole number from 1 to 65535 (${JSON.stringify(port)} given)`);
  }
  const out: GossipMulticastConfig = { group, port };
  if (o['interface'] !== undefined) {
    const itf = o['interface'];
    if (typeof itf !== 'string' || !isIPv4(itf) || itf === '0.0.0.0' || isMulticastAddress(itf)) {
      return bad('interface', `the IPv4 address of a local interface (${JSON.stringify(itf)} given)`);
    }
    out.interface = itf;
  }
  return { ok: true, value: out };
}

function isMulticastAddress(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

function fail(what: Refused, field: string): never {
  throw new GossipSettingsError(`gossip.${field}${what.field === '' ? '' : `.${what.field}`} must be ${what.expected}`);
}

/**
 * The settings a board's gossip runs with. board.json wins over the profile; its `multicast: false`
 * turns off discovery the profile enables. Throws GossipSettingsError for a section that cannot work
 * (loadNetwork refuses those already, naming the file; this guards sections built in code).
 */
export function gossipSettings(config: BoardGossipConfig, profile: { gossip: ProfileGossip }): GossipSettings {
  const listen = parseHostPort(config.listen);
  if (listen === null) fail(bad('', `host:port ('${config.listen}' given)`), 'listen');
  let advertise: string | null = null;
  if (config.advertise !== undefined) {
    const a = checkReachable(config.advertise);
    if (!a.ok) fail(a, 'advertise');
    advertise = config.advertise;
  } else if (isUnspecifiedHost(listen.host)) {
    fail(bad('', `given when listen is ${config.listen}: other boards cannot connect to 0.0.0.0`), 'advertise');
  }
  for (const [i, b] of config.bootstrap.entries()) {
    const r = checkReachable(b);
    if (!r.ok) fail(r, `bootstrap[${i}]`);
  }
  const limits = checkGossipLimits(config.limits ?? {});
  if (!limits.ok) fail(limits, 'limits');
  let election: GossipElectionSetting;
  if ((config.election ?? 'dynamic') === 'dynamic') {
    if (config.orgLeader !== undefined) fail(bad('', "absent unless election is 'static'"), 'orgLeader');
    election = { kind: 'dynamic' };
  } else {
    if (config.orgLeader === undefined) fail(bad('', "true or false when election is 'static'"), 'orgLeader');
    election = { kind: 'static', orgLeader: config.orgLeader };
  }
  let multicast: GossipMulticastConfig | null;
  if (config.multicast === false) multicast = null;
  else if (config.multicast !== undefined) {
    const m = checkMulticast(config.multicast);
    if (!m.ok) fail(m, 'multicast');
    multicast = m.value;
  } else multicast = profile.gossip.multicast;
  return { listen: config.listen, advertise, bootstrap: [...config.bootstrap], limits: limits.value, election, multicast };
}
