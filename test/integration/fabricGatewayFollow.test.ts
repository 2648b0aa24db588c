// The gateway's follow loop against a real gRPC AtomicBroadcast server (or a peer's Deliver service) over
// real TLS: it streams every block into its ledger byte for byte, resumes from the ledger height, fails
// over between endpoints, and reports a Deliver refusal clearly without spinning. (The verifier and the
// ledger here are the stand-ins of test/helpers/fabric/followFakes.ts; Fabric verification and LMDB are
// tested with the gateway process in fabricGatewayProcess.test.ts.)
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, systemClock } from '../../src/config/clock.js';
import { fabricGatewayDefaults } from '../../src/fabricGateway/gatewayDefaults.js';
import { BlocksProvider, type FollowLimits } from '../../src/fabricGateway/blocksProvider.js';
import type { FabricDeliverService, FabricEndpoint } from '../../src/fabricGateway/deliverConnector.js';
import { GrpcDeliverConnector, type FabricTlsFiles } from '../../src/fabricGateway/grpcDeliverConnector.js';
import { loadMspIdentity } from '../../src/fabricGateway/mspIdentity.js';
import { seededRandom } from '../../src/config/random.js';
import {
  type TestOrderingNode, type TestNetworkPki, TEST_GATEWAY_MSP_ID, makeTestNetworkPki, startTestOrderingNode,
} from '../helpers/fabric/atomicBroadcastServer.js';
import {
  ChainLinkVerifier, FollowEvents, MemoryLedger, WARN_LEVEL, chainHash, recordingLogger, simpleFabricChain,
} from '../helpers/fabric/followFakes.js';
import { ManualClock } from '../helpers/fakes.js';
import { withTimeout } from '../helpers/wait.js';

const CHANNEL = 'mychannel';
/** Every wait for the loop: generous for a shared 2-core machine, far below the runner's timeout. */
const WAIT_MS = 15_000;
const LIMITS: FollowLimits = {
  baseDelayMs: fabricGatewayDefaults.retryBaseDelayMs,
  maxDelayMs: fabricGatewayDefaults.retryMaxDelayMs,
  runMaxBlocks: fabricGatewayDefaults.runMaxBlocks,
  runMaxBytes: fabricGatewayDefaults.runMaxBytes,
};
/** Fast retries for the tests that wait for reconnections in real time. */
const QUICK_RETRY: FollowLimits = { ...LIMITS, baseDelayMs: 20, maxDelayMs: 200 };

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'edgepeer-fabric-gw-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tlsFor(node: TestOrderingNode, mutual: boolean): FabricTlsFiles {
  const f = node.files;
  return {
    rootCertsPem: readFileSync(f.tlsCaFile),
    ...(mutual && { clientCertPem: readFileSync(f.clientCertFile), clientKeyPem: readFileSync(f.clientKeyFile) }),
  };
}

function connector(tls: FabricTlsFiles | null, service: FabricDeliverService): GrpcDeliverConnector {
  return new GrpcDeliverConnector({
    service,
    tls,
    limits: {
      connectTimeoutMs: fabricGatewayDefaults.connectTimeoutMs,
      maxReceiveMessageBytes: fabricGatewayDefaults.maxBlockBytes,
      keepaliveTimeMs: fabricGatewayDefaults.keepaliveTimeMs,
      keepaliveTimeoutMs: fabricGatewayDefaults.keepaliveTimeoutMs,
    },
  });
}

interface Follower {
  provider: BlocksProvider;
  ledger: MemoryLedger;
  events: FollowEvents;
  records: ReturnType<typeof recordingLogger>['records'];
}

function follow(t: TestContext, o: {
  node: TestOrderingNode; endpoints: FabricEndpoint[]; tls: FabricTlsFiles | null; ledger?: MemoryLedger; clock?: Clock; limits?: FollowLimits;
  channel?: string; mspDir?: string; mspId?: string; service?: FabricDeliverService;
}): Follower {
  const ledger = o.ledger ?? new MemoryLedger(CHANNEL);
  const last = ledger.blocks.at(-1);
  const verifier = new ChainLinkVerifier(ledger.height() - 1, last && chainHash(last));
  const events = new FollowEvents();
  const { log, records } = recordingLogger();
  const conn = connector(o.tls, o.service ?? 'orderer');
  const provider = new BlocksProvider({
    channel: o.channel ?? CHANNEL,
    endpoints: o.endpoints,
    connector: conn,
    signer: loadMspIdentity(o.mspDir ?? o.node.files.mspDir, o.mspId ?? o.node.files.mspId),
    ledger,
    verifier,
    clock: o.clock ?? systemClock,
    random: seededRandom(7),
    log,
    limits: o.limits ?? QUICK_RETRY,
    observer: events.observer,
  });
  t.after(() => { provider.stop(); conn.close(); });
  provider.start();
  return { provider, ledger, events, records };
}

function assertSameBytes(ledger: MemoryLedger, chain: Uint8Array[]): void {
  assert.equal(ledger.height(), chain.length, 'height');
  for (let i = 0; i < chain.length; i++) assert.ok(Buffer.from(ledger.blocks[i]!).equals(Buffer.from(chain[i]!)), `block ${i} byte for byte`);
}

async function node(
  t: TestContext, blocks: Uint8Array[], o: { mutualTls?: boolean; pki?: TestNetworkPki; port?: number; service?: FabricDeliverService } = {},
): Promise<TestOrderingNode> {
  const n = await startTestOrderingNode(tempDir(t), { channel: CHANNEL, blocks, ...o });
  t.after(() => n.server.stop());
  return n;
}

const at = (n: TestOrderingNode): FabricEndpoint => ({ address: n.server.address, serverNameOverride: 'orderer0.example.com' });

test('follows over TLS: every block stored byte for byte, then new blocks as the orderer makes them (BLOCK_UNTIL_READY)', async (t) => {
  const chain = simpleFabricChain(40);
  const n = await node(t, chain.slice(0, 30));
  const f = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false) });
  await withTimeout(f.events.untilHeight(30), 'the first 30 blocks', WAIT_MS);
  n.server.append(...chain.slice(30));
  await withTimeout(f.events.untilHeight(40), 'the 10 blocks appended later', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  assert.equal(n.server.requests.length, 1, 'one request served the whole chain');
  const r = n.server.requests[0]!;
  assert.deepEqual([r.start, r.stop, r.behavior, r.creatorMspId, r.txIdValid], [0, null, 'block-until-ready', TEST_GATEWAY_MSP_ID, true]);
  assert.equal(f.provider.state, 'streaming');
  assert.equal(f.events.of('attemptFailed').length, 0);
});

test('follows over mutual TLS with the request bound to the client certificate; without a client certificate the handshake fails and nothing is stored', async (t) => {
  const chain = simpleFabricChain(12);
  const n = await node(t, chain, { mutualTls: true });
  const f = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, true) });
  await withTimeout(f.events.untilHeight(12), 'all blocks over mutual TLS', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  assert.equal(n.server.requests[0]!.status, null, 'served (the binding check passed), still streaming');

  const without = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false) });
  const failed = await withTimeout(without.events.next((e) => e.kind === 'attemptFailed'), 'a failed attempt', WAIT_MS);
  assert.equal(failed.kind === 'attemptFailed' && failed.failure, 'transport');
  assert.equal(without.ledger.height(), 0);
  assert.equal(n.server.requests.length, 1, 'no request reached the server without a client certificate');
});

test('follows a Fabric peer\'s Deliver service (/protos.Deliver/Deliver) over mutual TLS; asked as an ordering node, the peer answers UNIMPLEMENTED and nothing is stored', async (t) => {
  const chain = simpleFabricChain(12);
  const peer = await node(t, chain, { mutualTls: true, service: 'peer' });
  const f = follow(t, { node: peer, endpoints: [at(peer)], tls: tlsFor(peer, true), service: 'peer' });
  await withTimeout(f.events.untilHeight(12), 'all blocks from the peer', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  const r = peer.server.requests[0]!;
  assert.deepEqual([r.start, r.stop, r.creatorMspId, r.txIdValid, r.status], [0, null, TEST_GATEWAY_MSP_ID, true, null]);

  const wrong = follow(t, { node: peer, endpoints: [at(peer)], tls: tlsFor(peer, true), service: 'orderer' });
  const failed = await withTimeout(wrong.events.next((e) => e.kind === 'attemptFailed'), 'a failed attempt', WAIT_MS);
  assert.equal(failed.kind === 'attemptFailed' && failed.failure, 'transport');
  assert.ok(wrong.records.some((l) => l.level === WARN_LEVEL && /UNIMPLEMENTED/.test(l.msg)), 'the warning says the service is not there');
  assert.equal(wrong.ledger.height(), 0);
  assert.equal(peer.server.requests.length, 1, 'no request reached the peer\'s Deliver handler');
});

test('a server whose certificate does not carry the name asked for is refused (no override: the address 127.0.0.1 is in it; a wrong override: not)', async (t) => {
  const chain = simpleFabricChain(3);
  const n = await node(t, chain);
  const f = follow(t, { node: n, endpoints: [{ address: n.server.address, serverNameOverride: 'impostor.example.com' }], tls: tlsFor(n, false) });
  const failed = await withTimeout(f.events.next((e) => e.kind === 'attemptFailed'), 'a failed attempt', WAIT_MS);
  assert.equal(failed.kind === 'attemptFailed' && failed.failure, 'transport');
  assert.equal(f.ledger.height(), 0);
  const ok = follow(t, { node: n, endpoints: [{ address: n.server.address }], tls: tlsFor(n, false) });
  await withTimeout(ok.events.untilHeight(3), 'the blocks, by IP address', WAIT_MS);
});

test('resumes from the ledger height after a restart of the loop: the second request starts at the height, no block twice, none missing', async (t) => {
  const chain = simpleFabricChain(25);
  const n = await node(t, chain.slice(0, 10));
  const ledger = new MemoryLedger(CHANNEL);
  const first = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false), ledger });
  await withTimeout(first.events.untilHeight(10), 'the first 10 blocks', WAIT_MS);
  first.provider.stop();
  assert.equal(first.provider.state, 'stopped');
  n.server.append(...chain.slice(10));
  const second = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false), ledger });
  await withTimeout(second.events.untilHeight(25), 'the rest', WAIT_MS);
  assertSameBytes(ledger, chain);
  assert.deepEqual(n.server.requests.map((r) => r.start), [0, 10]);
});

test('a stream dropped mid-way (hung up, then aborted) is resumed from the height: every block once', async (t) => {
  const chain = simpleFabricChain(20);
  const n = await node(t, chain);
  n.server.misbehave = { dropAfterBlocks: 4, dropMode: 'hang-up' };
  const f = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false), limits: { ...QUICK_RETRY, runMaxBlocks: 1 } });
  await withTimeout(f.events.untilHeight(8), 'two dropped streams worth', WAIT_MS);
  n.server.misbehave = { dropAfterBlocks: 4, dropMode: 'abort' };
  await withTimeout(f.events.untilHeight(16), 'two aborted streams worth', WAIT_MS);
  n.server.misbehave = {};
  await withTimeout(f.events.untilHeight(20), 'the rest', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  const starts = n.server.requests.map((r) => r.start as number);
  assert.ok(starts.every((s, i) => i === 0 || s > starts[i - 1]!), `each request starts past the last: ${starts.join(',')}`);
  const failures = new Set(f.events.of('attemptFailed').map((e) => e.failure));
  assert.ok(failures.has('hung-up') && failures.has('transport'), `hung-up and transport failures seen: ${[...failures].join(',')}`);
});

test('fails over to the second endpoint when the first dies, and back when the second does', async (t) => {
  const chain = simpleFabricChain(30);
  const pki = await makeTestNetworkPki();
  const a = await node(t, chain.slice(0, 10), { pki });
  const b = await node(t, chain.slice(0, 20), { pki });
  const f = follow(t, { node: a, endpoints: [at(a), at(b)], tls: tlsFor(a, false) });
  await withTimeout(f.events.untilHeight(10), 'the blocks of the first endpoint', WAIT_MS);
  await a.server.stop();
  await withTimeout(f.events.untilHeight(20), 'the second endpoint\'s blocks', WAIT_MS);
  assert.equal(b.server.requests[0]!.start, 10, 'the second endpoint was asked from the height');
  await a.server.restart();
  a.server.append(...chain.slice(10));
  await b.server.stop();
  await withTimeout(f.events.untilHeight(30), 'the rest from the first endpoint again', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  assert.equal(a.server.requests.at(-1)!.start, 20);
  const warned = f.records.filter((r) => r.level === WARN_LEVEL);
  assert.ok(warned.some((r) => r['endpoint'] === `${a.server.address} (as orderer0.example.com)`), 'the failure is logged with the endpoint');
});

async function refusalCase(t: TestContext, o: { forbidden: boolean }): Promise<void> {
  const chain = simpleFabricChain(5);
  const n = await node(t, chain);
  // FORBIDDEN from the server's real access check (an MSP id that is not a reader), NOT_FOUND from its
  // real channel lookup (a channel it does not serve).
  const clock = new ManualClock();
  const f = follow(t, {
    node: n, endpoints: [at(n)], tls: tlsFor(n, false), clock, limits: LIMITS,
    ...(o.forbidden ? { mspId: 'StrangerMSP' } : { channel: 'otherchannel' }),
  });
  const expected = o.forbidden ? 'FORBIDDEN' : 'NOT_FOUND';
  const attempts = 6;
  for (let i = 1; i <= attempts; i++) {
    await withTimeout(f.events.next(() => f.events.of('attemptFailed').length >= i), `failed attempt ${i}`, WAIT_MS);
    assert.equal(f.provider.attemptCount, i, 'no further attempt before the backoff timer fires');
    assert.equal(n.server.requests.length, i);
    assert.equal(clock.pendingTimers, 1, 'one retry timer, nothing else scheduled');
    if (i < attempts) await clock.advance(clock.delays.at(-1)!);
  }
  const statuses = f.events.of('status').map((e) => e.status);
  assert.deepEqual(statuses, Array(attempts).fill(expected));
  // Backoff (src/config/backoff.ts): never below the base, never above the cap, growing on the whole.
  const delays = clock.delays.slice(0, attempts);
  for (const [i, d] of delays.entries()) {
    assert.ok(d >= LIMITS.baseDelayMs && d <= LIMITS.maxDelayMs, `wait ${i + 1}: ${d} ms within [${LIMITS.baseDelayMs}, ${LIMITS.maxDelayMs}]`);
  }
  assert.ok(delays.at(-1)! > delays[0]!, `the waits grew: ${delays.join(', ')}`);
  const warns = f.records.filter((r) => r.level === WARN_LEVEL && r['status'] === expected);
  assert.equal(warns.length, attempts, 'one warning per refusal');
  const w = warns[0]!;
  assert.equal(w['endpoint'], `${n.server.address} (as orderer0.example.com)`);
  assert.match(w.msg, o.forbidden ? /FORBIDDEN: the server refuses this identity/ : /NOT_FOUND: the server does not serve channel 'otherchannel'/);
  assert.equal(f.ledger.height(), 0);
}

test('FORBIDDEN (identity not a reader) is a clear warning with the endpoint, retried with growing waits, never in a busy loop', (t) => refusalCase(t, { forbidden: true }));

test('NOT_FOUND (channel not served) is a clear warning with the endpoint, retried with growing waits, never in a busy loop', (t) => refusalCase(t, { forbidden: false }));

test('a block that does not chain is refused: nothing of it stored, the stream dropped, the block asked again from the height', async (t) => {
  const chain = simpleFabricChain(12);
  const forged = simpleFabricChain(12, 0, new Uint8Array(32).fill(9));
  const n = await node(t, chain);
  let served = 0;
  n.server.misbehave = { replaceBlock: (k) => (k === 7 && served++ === 0 ? forged[7] : undefined) };
  const f = follow(t, { node: n, endpoints: [at(n)], tls: tlsFor(n, false), limits: { ...QUICK_RETRY, runMaxBlocks: 1 } });
  await withTimeout(f.events.untilHeight(12), 'the chain after the forged block', WAIT_MS);
  assertSameBytes(f.ledger, chain);
  const rejected = f.events.of('rejected');
  assert.deepEqual(rejected.map((e) => [e.block, e.reason]), [[7, 'previous-hash']]);
  assert.equal(n.server.requests[1]!.start, 7, 'asked again from block 7');
});
