// gossipSettings: what a board's gossip runs with, from its board.json section over its profile; and the
// checks board.json and the profiles share.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maxTimerDelayMs } from '../../../src/config/timers.js';
import { gossipDefaults } from '../../../src/gossip/gossipDefaults.js';
import type { BoardGossipConfig } from '../../../src/gossip/gossipSettings.js';
import {
  GOSSIP_LIMITS_MAY_BE_ZERO, GossipSettingsError, checkGossipLimits, checkMulticast, checkReachable, gossipLimitNames, gossipSettings,
  parseHostPort,
} from '../../../src/gossip/gossipSettings.js';

const PI = { gossip: { multicast: { group: '239.255.71.71', port: 7099 } } };
const EMULATED = { gossip: { multicast: null } };
const BASE: BoardGossipConfig = { listen: '127.0.0.1:7100', bootstrap: ['127.0.0.1:7101'] };

test('defaults: dynamic election, the bound address advertised, no overrides, multicast as the profile says', () => {
  assert.deepEqual(gossipSettings(BASE, EMULATED), {
    listen: '127.0.0.1:7100', advertise: null, bootstrap: ['127.0.0.1:7101'], limits: {}, election: { kind: 'dynamic' }, multicast: null,
  });
  assert.deepEqual(gossipSettings(BASE, PI).multicast, { group: '239.255.71.71', port: 7099 });
});

test('board.json wins over the profile: its own group, or false to turn the profile\'s off', () => {
  const own = { group: '239.1.2.3', port: 9000, interface: '10.0.0.5' };
  assert.deepEqual(gossipSettings({ ...BASE, multicast: own }, PI).multicast, own);
  assert.deepEqual(gossipSettings({ ...BASE, multicast: own }, EMULATED).multicast, own);
  assert.equal(gossipSettings({ ...BASE, multicast: false }, PI).multicast, null);
});

test('static election and limits pass through; the result does not share the config\'s arrays', () => {
  const config: BoardGossipConfig = { ...BASE, election: 'static', orgLeader: true, limits: { fanout: 5, aliveIntervalMs: 250 } };
  const s = gossipSettings(config, EMULATED);
  assert.deepEqual(s.election, { kind: 'static', orgLeader: true });
  assert.deepEqual(gossipSettings({ ...config, orgLeader: false }, EMULATED).election, { kind: 'static', orgLeader: false });
  assert.deepEqual(s.limits, { fanout: 5, aliveIntervalMs: 250 });
  s.bootstrap.push('x:1');
  assert.deepEqual(config.bootstrap, ['127.0.0.1:7101']);
});

test('advertise: named when given; required when listening on 0.0.0.0', () => {
  assert.equal(gossipSettings({ ...BASE, listen: '0.0.0.0:7100', advertise: '192.168.1.20:7100' }, EMULATED).advertise, '192.168.1.20:7100');
  assert.throws(() => gossipSettings({ ...BASE, listen: '0.0.0.0:7100' }, EMULATED),
    (err: unknown) => err instanceof GossipSettingsError && /gossip\.advertise .*0\.0\.0\.0/.test(err.message));
  assert.throws(() => gossipSettings({ ...BASE, advertise: '0.0.0.0:7100' }, EMULATED), /gossip\.advertise must be an address others can reach/);
  assert.throws(() => gossipSettings({ ...BASE, advertise: 'pi.local:0' }, EMULATED), /port 0/);
  // Port 0 (any free port) is fine to listen on: the bound port is advertised.
  assert.equal(gossipSettings({ ...BASE, listen: '127.0.0.1:0' }, EMULATED).advertise, null);
});

test('sections built in code are checked as board.json is', () => {
  assert.throws(() => gossipSettings({ ...BASE, election: 'static' }, EMULATED), /gossip\.orgLeader must be true or false/);
  assert.throws(() => gossipSettings({ ...BASE, orgLeader: true }, EMULATED), /gossip\.orgLeader must be absent unless gossip\.election is "static"/);
  assert.throws(() => gossipSettings({ ...BASE, bootstrap: ['a:1', 'b'] }, EMULATED), /gossip\.bootstrap\[1\] must be host:port/);
  assert.throws(() => gossipSettings({ ...BASE, limits: { fanout: -1 } }, EMULATED), /gossip\.limits\.fanout must be a whole number from 0/);
  assert.throws(() => gossipSettings({ ...BASE, multicast: { group: '224.0.0.251', port: 5353 } }, EMULATED), /gossip\.multicast\.group must be .*239\.0\.0\.0\/8/);
});

test('limits: any name gossipDefaults has, whole numbers in range, expiration longer than the ALIVE interval', () => {
  assert.deepEqual(gossipLimitNames(), Object.keys(gossipDefaults));
  const all = Object.fromEntries(gossipLimitNames().map((n) => [n, gossipDefaults[n]]));
  assert.deepEqual(checkGossipLimits(all), { ok: true, value: all });
  assert.deepEqual(checkGossipLimits({ fanout: 0, electionStartupGraceMs: 0 }), { ok: true, value: { fanout: 0, electionStartupGraceMs: 0 } });
  const refused = (v: unknown): { field: string; expected: string } => {
    const r = checkGossipLimits(v);
    assert.ok(!r.ok, JSON.stringify(v));
    return { field: r.field, expected: r.expected };
  };
  assert.equal(refused({ fanuot: 3 }).field, 'fanuot');
  assert.match(refused({ fanuot: 3 }).expected, /not a gossip limit.*fanout/);
  assert.equal(refused({ fanout: 2.5 }).field, 'fanout');
  assert.equal(refused({ fanout: '3' }).field, 'fanout');
  for (const name of gossipLimitNames().filter((n) => !GOSSIP_LIMITS_MAY_BE_ZERO.includes(n))) {
    assert.equal(refused({ [name]: 0 }).field, name, `${name} = 0 would stop gossip`);
  }
  assert.equal(refused({ leaderMinTermMs: maxTimerDelayMs + 1 }).field, 'leaderMinTermMs');
  assert.deepEqual(refused({ aliveIntervalMs: 5_000 }).field, 'aliveExpirationMs');
  assert.deepEqual(checkGossipLimits({ aliveIntervalMs: 5_000, aliveExpirationMs: 15_000 }).ok, true);
  // A live member's connection carries an ALIVE every aliveIntervalMs: an idle timeout below it closes them all.
  assert.match(refused({ aliveIntervalMs: 20_000, aliveExpirationMs: 60_000 }).expected, /greater than aliveIntervalMs/);
  assert.equal(refused({ aliveIntervalMs: 20_000, aliveExpirationMs: 60_000 }).field, 'connectionIdleTimeoutMs');
  assert.equal(checkGossipLimits({ aliveIntervalMs: 20_000, aliveExpirationMs: 60_000, connectionIdleTimeoutMs: 60_000 }).ok, true);
  // A healthy idle stream hears from the orderer once a heartbeat (5 s): a leader does not yield between two.
  assert.equal(refused({ leaderUplinkYieldMs: 9_999 }).field, 'leaderUplinkYieldMs');
  assert.equal(checkGossipLimits({ leaderUplinkYieldMs: 10_000 }).ok, true);
  // The largest frame must fit what all connections together may hold unfinished.
  assert.equal(refused({ maxFrameBytes: 2 * gossipDefaults.inboundBufferedBytesMax }).field, 'inboundBufferedBytesMax');
  assert.equal(refused([]).field, '');
});

test('addresses: host:port with a real port; reachable means no 0.0.0.0 and no port 0', () => {
  assert.deepEqual(parseHostPort('pi-3.local:7100'), { host: 'pi-3.local', port: 7100 });
  assert.equal(parseHostPort('h:65536'), null);
  assert.equal(parseHostPort('h'), null);
  assert.equal(parseHostPort('h :1'), null);
  assert.equal(parseHostPort('[::1]:1'), null);
  assert.ok(checkReachable('10.0.0.1:1').ok);
  assert.ok(!checkReachable('0.0.0.0:7100').ok);
  assert.ok(!checkReachable('10.0.0.1:0').ok);
});

test('multicast: an administratively scoped group, a port, optionally the IPv4 address of an interface', () => {
  assert.deepEqual(checkMulticast({ group: '239.255.0.1', port: 1 }), { ok: true, value: { group: '239.255.0.1', port: 1 } });
  const field = (v: unknown): string => {
    const r = checkMulticast(v);
    assert.ok(!r.ok, JSON.stringify(v));
    return r.field;
  };
  assert.equal(field({ group: '230.1.1.1', port: 1 }), 'group');
  assert.equal(field({ group: '192.168.1.1', port: 1 }), 'group');
  assert.equal(field({ group: '239.256.0.1', port: 1 }), 'group');
  assert.equal(field({ group: '239.1.1.1', port: 0 }), 'port');
  assert.equal(field({ group: '239.1.1.1', port: 65_536 }), 'port');
  assert.equal(field({ group: '239.1.1.1', port: 1, interface: 'eth0' }), 'interface');
  assert.equal(field({ group: '239.1.1.1', port: 1, interface: '0.0.0.0' }), 'interface');
  assert.equal(field({ group: '239.1.1.1', port: 1, ttl: 3 }), 'ttl');
  assert.equal(field(true), '');
});
