// The gateway's follow loop (src/fabricGateway/blocksProvider.ts) against a fake connector the test drives: what
// it asks for (always from the ledger height), how it batches blocks into verified runs, how each way an
// attempt ends moves it to the next endpoint after a jittered backoff that a stored run resets, and the
// two failures that stop it for good. The real gRPC connector and server are in
// test/integration/fabricGatewayFollow.test.ts; here the connector is the thing beside the unit.
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { common, orderer } from '@hyperledger/fabric-protos';
import { seededRandom } from '../../../src/config/random.js';
import { BlocksProvider, type BlocksProviderOptions, type FollowLimits } from '../../../src/fabricGateway/blocksProvider.js';
import type { DeliverConnector, DeliverStream, DeliverStreamHandlers, FabricEndpoint, StreamEnd } from '../../../src/fabricGateway/deliverConnector.js';
import type { FabricSigner } from '../../../src/fabricGateway/mspIdentity.js';
import {
  ChainLinkVerifier, FollowEvents, MemoryLedger, WARN_LEVEL, chainHash, recordingLogger, simpleFabricChain,
} from '../../helpers/fabric/followFakes.js';
import { ManualClock } from '../../helpers/fakes.js';

const CHANNEL = 'mychannel';
const ENDPOINTS: FabricEndpoint[] = [{ address: 'orderer0:7050' }, { address: 'orderer1:7050', serverNameOverride: 'orderer1.example.com' }];
const LIMITS: FollowLimits = { baseDelayMs: 100, maxDelayMs: 5_000, runMaxBlocks: 1_000, runMaxBytes: 1 << 20 };
const FORBIDDEN = 403;
const SUCCESS = 200;

interface Opened {
  endpoint: FabricEndpoint;
  /** The seek's start block, read back from the signed envelope. */
  start: number;
  handlers: DeliverStreamHandlers;
  cancelled: boolean;
}

/** Records every stream the loop opens; the test plays the server through each one's handlers. */
class FakeConnector implements DeliverConnector {
  readonly tlsCertHash = undefined;
  readonly opened: Opened[] = [];

  open(endpoint: FabricEndpoint, envelope: Uint8Array, handlers: DeliverStreamHandlers): DeliverStream {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelope).getPayload_asU8());
    const seek = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
    const o: Opened = { endpoint, start: seek.getStart()!.getSpecified()!.getNumber(), handlers, cancelled: false };
    this.opened.push(o);
    return { cancel: () => { o.cancelled = true; } };
  }

  close(): void {}

  get last(): Opened {
    const o = this.opened.at(-1);
    assert.ok(o !== undefined, 'no stream was opened');
    return o;
  }
}

const SIGNER: FabricSigner = { mspId: 'GatewayMSP', serialize: () => Uint8Array.of(1, 2, 3), sign: () => Uint8Array.of(4, 5, 6) };

interface Rig {
  provider: BlocksProvider;
  connector: FakeConnector;
  ledger: MemoryLedger;
  clock: ManualClock;
  events: FollowEvents;
  records: ReturnType<typeof recordingLogger>['records'];
}

function rig(t: TestContext, o: { limits?: Partial<FollowLimits>; ledger?: MemoryLedger; verifier?: ChainLinkVerifier } = {}): Rig {
  const connector = new FakeConnector();
  const ledger = o.ledger ?? new MemoryLedger(CHANNEL);
  const clock = new ManualClock();
  const events = new FollowEvents();
  const { log, records } = recordingLogger();
  const options: BlocksProviderOptions = {
    channel: CHANNEL, endpoints: ENDPOINTS, connector, signer: SIGNER, ledger, verifier: o.verifier ?? new ChainLinkVerifier(), clock,
    random: seededRandom(7), log, limits: { ...LIMITS, ...o.limits }, observer: events.observer,
  };
  const provider = new BlocksProvider(options);
  t.after(() => provider.stop());
  return { provider, connector, ledger, clock, events, records };
}

const block = (b: Uint8Array) => ({ kind: 'block', block: b }) as const;

/** Hands `blocks` to the open stream in one go, as one socket read would. */
function serve(r: Rig, blocks: readonly Uint8Array[]): void {
  for (const b of blocks) r.connector.last.handlers.onAnswer(block(b));
}

test('the loop asks the first endpoint for every block from the ledger height, and stores what arrives together as one run', async (t) => {
  const r = rig(t);
  r.provider.start();
  assert.equal(r.provider.state, 'connecting');
  assert.equal(r.connector.opened.length, 1);
  assert.deepEqual(r.connector.last.endpoint, ENDPOINTS[0]);
  assert.equal(r.connector.last.start, 0);
  r.connector.last.handlers.onOpen();
  assert.equal(r.provider.state, 'streaming');
  const chain = simpleFabricChain(10);
  serve(r, chain);
  assert.equal(r.ledger.height(), 0, 'nothing is stored before the blocks read together are all in');
  await r.events.untilHeight(10);
  assert.equal(r.ledger.appendCalls, 1);
  assert.deepEqual(r.ledger.blocks, chain);
  assert.deepEqual(r.events.of('stored'), [{ kind: 'stored', count: 10, height: 10 }]);
});

test('a run is cut at runMaxBlocks and at runMaxBytes (a run takes at least one block)', async (t) => {
  const byCount = rig(t, { limits: { runMaxBlocks: 4 } });
  byCount.provider.start();
  serve(byCount, simpleFabricChain(10));
  await byCount.events.untilHeight(10);
  assert.deepEqual(byCount.events.of('stored').map((e) => e.count), [4, 4, 2]);

  const chain = simpleFabricChain(5);
  // More than any one block, less than any two.
  const bySize = rig(t, { limits: { runMaxBytes: Math.max(...chain.map((b) => b.length)) + 1 } });
  bySize.provider.start();
  serve(bySize, chain);
  await bySize.events.untilHeight(5);
  assert.deepEqual(bySize.events.of('stored').map((e) => e.count), [2, 2, 1]);

  const tiny = rig(t, { limits: { runMaxBytes: 1 } });
  tiny.provider.start();
  serve(tiny, chain);
  assert.equal(tiny.ledger.height(), 5, 'every block over the limit is a run of its own, stored at once');
});

test('a Deliver status: the blocks before it are kept, then the next endpoint after the backoff, again from the ledger height', async (t) => {
  const r = rig(t);
  r.provider.start();
  const chain = simpleFabricChain(6);
  serve(r, chain.slice(0, 3));
  r.connector.last.handlers.onAnswer({ kind: 'status', status: FORBIDDEN });
  assert.equal(r.ledger.height(), 3, 'the blocks before the status are stored at once');
  assert.equal(r.connector.opened[0]!.cancelled, true);
  assert.equal(r.provider.state, 'backingOff');
  assert.deepEqual(r.events.of('status'), [{ kind: 'status', status: 'FORBIDDEN', endpoint: 'orderer0:7050' }]);
  const [failed] = r.events.of('attemptFailed');
  assert.equal(failed!.failure, 'status');
  assert.ok(failed!.retryInMs >= LIMITS.baseDelayMs && failed!.retryInMs <= LIMITS.baseDelayMs * 3, `first wait ${failed!.retryInMs} ms`);
  const warning = r.records.find((l) => l.level === WARN_LEVEL && l['status'] === 'FORBIDDEN');
  assert.ok(warning !== undefined, 'the refusal is logged');
  assert.match(warning.msg, /refuses this identity on channel 'mychannel'/);
  assert.equal(warning['next'], 'orderer1:7050 (as orderer1.example.com)');

  await r.clock.advance(failed!.retryInMs - 1);
  assert.equal(r.connector.opened.length, 1, 'not before the backoff is over');
  await r.clock.advance(1);
  assert.equal(r.connector.opened.length, 2);
  assert.deepEqual(r.connector.last.endpoint, ENDPOINTS[1]);
  assert.equal(r.connector.last.start, 3);
  serve(r, chain.slice(3));
  await r.events.untilHeight(6);
  assert.deepEqual(r.ledger.blocks, chain);
});

test('a SUCCESS status on a stream without end is a failed attempt too', (t) => {
  const r = rig(t);
  r.provider.start();
  r.connector.last.handlers.onAnswer({ kind: 'status', status: SUCCESS });
  assert.equal(r.provider.state, 'backingOff');
  assert.match(r.records.at(-1)!.msg, /ended a stream that asked for every block without end/);
});

test('a block that does not verify: the good ones before it are stored, nothing of it, and the attempt ends', async (t) => {
  const r = rig(t);
  r.provider.start();
  const chain = simpleFabricChain(5);
  const forged = simpleFabricChain(1, 3, new Uint8Array(32))[0]!;
  serve(r, [...chain.slice(0, 3), forged, chain[4]!]);
  await r.events.next((e) => e.kind === 'rejected');
  assert.equal(r.ledger.height(), 3);
  assert.deepEqual(r.events.of('rejected'), [{ kind: 'rejected', reason: 'previous-hash', block: 3, endpoint: 'orderer0:7050' }]);
  assert.equal(r.events.of('attemptFailed')[0]!.failure, 'rejected');
  assert.equal(r.connector.opened[0]!.cancelled, true);
  await r.clock.advance(LIMITS.maxDelayMs);
  assert.equal(r.connector.opened.length, 2);
  assert.equal(r.connector.last.start, 3);
  // The old stream's late answers are ignored while the new one is open: its attempt is over.
  r.connector.opened[0]!.handlers.onAnswer(block(chain[3]!));
  r.connector.opened[0]!.handlers.onEnd({ kind: 'hung-up', reason: 'late' });
  await r.clock.advance(0);
  assert.equal(r.ledger.height(), 3);
  assert.equal(r.events.of('attemptFailed').length, 1);
  assert.equal(r.provider.state, 'connecting');
});

test('each way a stream ends is a failure of its kind; a cancelled stream is not', (t) => {
  const ends: [StreamEnd | { answer: 'other' | 'malformed' }, string][] = [
    [{ kind: 'transport', reason: 'connect ECONNREFUSED' }, 'transport'],
    [{ kind: 'hung-up', reason: 'server closed' }, 'hung-up'],
    [{ answer: 'other' }, 'unexpected'],
    [{ answer: 'malformed' }, 'unexpected'],
  ];
  for (const [end, failure] of ends) {
    const r = rig(t);
    r.provider.start();
    if ('answer' in end) {
      r.connector.last.handlers.onAnswer(end.answer === 'other' ? { kind: 'other', field: 5 } : { kind: 'malformed', reason: 'truncated' });
    } else {
      r.connector.last.handlers.onEnd(end);
    }
    assert.deepEqual(r.events.of('attemptFailed').map((e) => e.failure), [failure]);
    assert.equal(r.provider.state, 'backingOff');
  }
  const r = rig(t);
  r.provider.start();
  r.connector.last.handlers.onEnd({ kind: 'cancelled' });
  assert.equal(r.provider.state, 'connecting');
  assert.deepEqual(r.events.of('attemptFailed'), []);
});

test('the backoff grows while attempts fail, stays within its bounds, and a stored run resets it', async (t) => {
  const r = rig(t);
  r.provider.start();
  const waits: number[] = [];
  for (let i = 0; i < 8; i++) {
    r.connector.last.handlers.onEnd({ kind: 'transport', reason: 'unreachable' });
    const wait = r.events.of('attemptFailed').at(-1)!.retryInMs;
    waits.push(wait);
    await r.clock.advance(wait);
  }
  assert.equal(r.provider.failuresInARow, 8);
  assert.ok(waits.every((w) => w >= LIMITS.baseDelayMs && w <= LIMITS.maxDelayMs), `waits ${waits.join(', ')}`);
  assert.ok(Math.max(...waits) > LIMITS.baseDelayMs * 3, `the waits grow past the first one's bound: ${waits.join(', ')}`);
  assert.deepEqual(r.connector.opened.map((o) => o.endpoint.address), [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => ENDPOINTS[i % 2]!.address));
  serve(r, simpleFabricChain(1));
  await r.events.untilHeight(1);
  assert.equal(r.provider.failuresInARow, 0);
  r.connector.last.handlers.onEnd({ kind: 'transport', reason: 'unreachable' });
  const after = r.events.of('attemptFailed').at(-1)!.retryInMs;
  assert.ok(after <= LIMITS.baseDelayMs * 3, `after a stored run the wait starts from the base again (${after} ms)`);
  assert.equal(r.provider.attemptCount, 9);
});

test('a ledger that refuses a verified run stops the loop for good: failed, no stream, no timer', async (t) => {
  const ledger = new MemoryLedger(CHANNEL);
  ledger.append = () => { throw new Error('MDB_MAP_FULL'); };
  const r = rig(t, { ledger });
  r.provider.start();
  serve(r, simpleFabricChain(2));
  const failed = await r.events.next((e) => e.kind === 'failed');
  assert.equal(r.provider.state, 'failed');
  assert.match(r.provider.error!.message, /the ledger refused 2 verified blocks: MDB_MAP_FULL/);
  assert.ok(failed.kind === 'failed');
  assert.equal(failed.err, r.provider.error);
  assert.equal(r.connector.last.cancelled, true);
  assert.equal(r.clock.pendingTimers, 0);
  await r.clock.advance(LIMITS.maxDelayMs * 10);
  assert.equal(r.connector.opened.length, 1);
  r.provider.stop();
  assert.equal(r.provider.state, 'failed', 'stop() leaves a failed loop failed');
});

test('a verifier not positioned at the ledger tip: failed before anything is asked', (t) => {
  const ledger = new MemoryLedger(CHANNEL);
  const chain = simpleFabricChain(3);
  ledger.append(chain, null, 0, 3);
  const r = rig(t, { ledger, verifier: new ChainLinkVerifier(1, chainHash(chain[1]!)) });
  r.provider.start();
  assert.equal(r.provider.state, 'failed');
  assert.match(r.provider.error!.message, /the verifier is at block 1 but the ledger height is 3/);
  assert.equal(r.connector.opened.length, 0);
});

test('resumes from a ledger that holds blocks: the seek starts at its height', async (t) => {
  const ledger = new MemoryLedger(CHANNEL);
  const chain = simpleFabricChain(8);
  ledger.append(chain, null, 0, 5);
  const r = rig(t, { ledger, verifier: new ChainLinkVerifier(4, chainHash(chain[4]!)) });
  r.provider.start();
  assert.equal(r.connector.last.start, 5);
  serve(r, chain.slice(5));
  await r.events.untilHeight(8);
  assert.deepEqual(ledger.blocks, chain);
});

test('stop() ends the stream and the backoff timer, drops blocks not yet stored, and ignores the stream after', async (t) => {
  const r = rig(t);
  r.provider.start();
  serve(r, simpleFabricChain(3));
  r.provider.stop();
  assert.equal(r.provider.state, 'stopped');
  assert.equal(r.connector.last.cancelled, true);
  await r.clock.advance(0);
  assert.equal(r.ledger.height(), 0, 'the blocks pending at stop() were dropped');
  r.connector.last.handlers.onEnd({ kind: 'transport', reason: 'after stop' });
  assert.equal(r.events.of('attemptFailed').length, 0);

  const backingOff = rig(t);
  backingOff.provider.start();
  backingOff.connector.last.handlers.onEnd({ kind: 'transport', reason: 'unreachable' });
  assert.equal(backingOff.clock.pendingTimers, 1);
  backingOff.provider.stop();
  assert.equal(backingOff.clock.pendingTimers, 0);
  await backingOff.clock.advance(LIMITS.maxDelayMs);
  assert.equal(backingOff.connector.opened.length, 1);
});

test('refused: no endpoint, runMaxBlocks below 1, and a second start()', (t) => {
  const base = (): BlocksProviderOptions => ({
    channel: CHANNEL, endpoints: ENDPOINTS, connector: new FakeConnector(), signer: SIGNER, ledger: new MemoryLedger(CHANNEL),
    verifier: new ChainLinkVerifier(), clock: new ManualClock(), random: seededRandom(1), log: recordingLogger().log, limits: LIMITS,
  });
  assert.throws(() => new BlocksProvider({ ...base(), endpoints: [] }), /no Fabric endpoint to follow/);
  assert.throws(() => new BlocksProvider({ ...base(), limits: { ...LIMITS, runMaxBlocks: 0 } }), RangeError);
  const r = rig(t);
  r.provider.start();
  assert.throws(() => r.provider.start(), /the follow loop of channel mychannel is connecting, not idle/);
});
