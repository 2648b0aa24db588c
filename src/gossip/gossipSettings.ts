// What a board's gossip runs with, from its board.json `gossip` section and its board profile, in one
// place: the node and the CLI take a GossipSettings and need not know where each value came from. The
// checks are here too, so that board.json (src/network/loadNetwork.ts) and the profiles
// (src/board/profile.ts) refuse the same things with the same words.
import { isIPv4 } from 'node:net';
import { z } from 'zod';
import { issueField, mustBe, objectErrors, nonEmptyString, parseConfig, wholeNumber } from '../config/validate.js';
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

/** The lowest and highest value a board.json may give a limit. */
function limitRange(name: GossipLimitName): { min: number; max: number } {
  // Timings end up in setTimeout, which fires at once for anything above its longest delay.
  return { min: GOSSIP_LIMITS_MAY_BE_ZERO.includes(name) ? 0 : 1, max: name.endsWith('Ms') ? maxTimerDelayMs : Number.MAX_SAFE_INTEGER };
}

/** `limits` of a board.json gossip section: known names, whole numbers in range, coherent with each other. */
export const gossipLimitsSchema = z.strictObject(
  Object.fromEntries(gossipLimitNames().map((name) => {
    const { min, max } = limitRange(name);
    return [name, wholeNumber(min, max).optional()];
  })),
  objectErrors('an object of gossip limits by name', `it is not a gossip limit (the limits are ${gossipLimitNames().join(', ')})`),
)
  .superRefine((raw, ctx) => {
    const out = raw as GossipLimitOverrides;
    for (const [above, below] of GOSSIP_LIMITS_ABOVE) {
      const a = out[above] ?? gossipDefaults[above];
      const b = out[below] ?? gossipDefaults[below];
      if (a <= b) ctx.addIssue({ code: 'custom', path: [above], message: `must be greater than ${below} (${a} is not greater than ${b})` });
    }
    for (const [atLeast, other] of GOSSIP_LIMITS_AT_LEAST) {
      const a = out[atLeast] ?? gossipDefaults[atLeast];
      const b = out[other] ?? gossipDefaults[other];
      if (a < b) ctx.addIssue({ code: 'custom', path: [atLeast], message: `must be at least ${other} (${a} is less than ${b})` });
    }
    // An idle stream hears from the orderer once a heartbeat: a leader must not step down between two.
    const yieldMs = out.leaderUplinkYieldMs ?? gossipDefaults.leaderUplinkYieldMs;
    if (yieldMs < 2 * deliverDefaults.heartbeatMs) {
      ctx.addIssue({
        code: 'custom', path: ['leaderUplinkYieldMs'],
        message: `must be at least twice the orderer's heartbeat interval, ${2 * deliverDefaults.heartbeatMs} ms (${yieldMs} given)`,
      });
    }
  }) as unknown as z.ZodType<GossipLimitOverrides>;

/** A schema's outcome as a Checked: the first issue's field and what it must be. */
function checked<T>(schema: z.ZodType<T>, v: unknown): Checked<T> {
  const r = schema.safeParse(v);
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0]!;
  return bad(issueField(issue), issue.message.replace(/^must be /, ''));
}

/** `limits` of a board.json gossip section, checked by gossipLimitsSchema. */
export function checkGossipLimits(v: unknown): Checked<GossipLimitOverrides> {
  return checked(gossipLimitsSchema, v);
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
  // No relayed ALIVE of the largest size relayed could ever be carried.
  ['aliveRelayedBytesPerMessageMax', 'aliveRelayedEntryBytesMax'],
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
export const multicastSchema = z.strictObject({
  group: z.string(mustBe('an IPv4 multicast group in 239.0.0.0/8, administratively scoped'))
    .refine(isAdminScopedGroup, mustBe('an IPv4 multicast group in 239.0.0.0/8, administratively scoped')),
  port: wholeNumber(1, 65_535),
  interface: z.string(mustBe('the IPv4 address of a local interface'))
    .refine((itf) => isIPv4(itf) && itf !== '0.0.0.0' && !isMulticastAddress(itf), mustBe('the IPv4 address of a local interface'))
    .optional(),
}, objectErrors('an object { group, port, interface? } (or false: off)', 'multicast has group, port and interface'));

/** `multicast` as a profile or board.json gives it: the settings, or false (off). */
export const multicastOrOffSchema = z.union([z.literal(false), multicastSchema], { error: 'must be an object { group, port, interface? } (or false: off)' });

export function checkMulticast(v: unknown): Checked<GossipMulticastConfig> {
  return checked(multicastSchema as z.ZodType<GossipMulticastConfig>, v);
}

/** An address other boards can reach (checkReachable). */
const reachableSchema = nonEmptyString().superRefine((s, ctx) => {
  const r = checkReachable(s);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `must be ${r.expected}` });
});

/** Keys of a board.json gossip section. */
const GOSSIP_KEYS = ['listen', 'bootstrap', 'advertise', 'limits', 'election', 'orgLeader', 'multicast'] as const;

/** A board.json `gossip` section: addresses are host:port; everything else as BoardGossipConfig says. */
export const boardGossipSchema = z.strictObject({
  listen: nonEmptyString().refine((s) => parseHostPort(s) !== null, {
    error: (i) => `must be host:port with a port of 0..65535 ('${String(i.input)}' given)`,
  }),
  bootstrap: z.array(reachableSchema, mustBe('an array')),
  advertise: reachableSchema.optional(),
  limits: gossipLimitsSchema.optional(),
  election: z.enum(GOSSIP_ELECTION_KINDS as [GossipElectionKind, ...GossipElectionKind[]], mustBe(`one of ${GOSSIP_ELECTION_KINDS.map((k) => `"${k}"`).join(', ')}`)).optional(),
  orgLeader: z.boolean(mustBe('true or false')).optional(),
  multicast: multicastOrOffSchema.optional(),
}, objectErrors('an object', `the gossip keys are ${GOSSIP_KEYS.join(', ')}`)).superRefine((g, ctx) => {
  const at = parseHostPort(g.listen);
  if (g.advertise === undefined && at !== null && isUnspecifiedHost(at.host)) {
    ctx.addIssue({
      code: 'custom', path: ['advertise'],
      message: `must be given when gossip.listen is ${g.listen}: other boards cannot connect to 0.0.0.0, so name the address they reach this board at`,
    });
  }
  if ((g.election ?? 'dynamic') === 'static') {
    if (g.orgLeader === undefined) {
      ctx.addIssue({ code: 'custom', path: ['orgLeader'], message: 'must be true or false with election "static": whether this board leads its organisation' });
    }
  } else if (g.orgLeader !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['orgLeader'], message: 'must be absent unless gossip.election is "static" (a dynamic election chooses the leader itself)' });
  }
}) as unknown as z.ZodType<BoardGossipConfig>;

function isMulticastAddress(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/**
 * The settings a board's gossip runs with. board.json wins over the profile; its `multicast: false`
 * turns off discovery the profile enables. Throws GossipSettingsError for a section that cannot work
 * (loadNetwork refuses those already, naming the file; this guards sections built in code).
 */
export function gossipSettings(config: BoardGossipConfig, profile: { gossip: ProfileGossip }): GossipSettings {
  const checkedConfig = parseConfig(z.object({ gossip: boardGossipSchema }), { gossip: config }, 'gossip settings', (message) => {
    throw new GossipSettingsError(message);
  }).gossip;
  const election: GossipElectionSetting = (checkedConfig.election ?? 'dynamic') === 'dynamic'
    ? { kind: 'dynamic' }
    : { kind: 'static', orgLeader: checkedConfig.orgLeader === true };
  const multicast = checkedConfig.multicast === false ? null : checkedConfig.multicast ?? profile.gossip.multicast;
  return {
    listen: checkedConfig.listen,
    advertise: checkedConfig.advertise ?? null,
    bootstrap: [...checkedConfig.bootstrap],
    limits: checkedConfig.limits ?? {},
    election,
    multicast,
  };
}
