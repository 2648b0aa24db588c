// The SeekInfo the gateway asks a Fabric orderer for (src/fabricGateway/seekEnvelope.ts, seekInfoBytes): byte
// for byte what Fabric's generated SeekInfo writes wherever a JS number can carry the values, and exact
// where it cannot (the never-arriving stop, 2^64-1); proto3's omissions (a zero number, the default
// behaviour) as Go's marshaller makes them. The signed envelope around it: fabricGatewayIdentity.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderer } from '@hyperledger/fabric-protos';
import { SEEK_MAX_NUMBER, type SeekRequest, seekInfoBytes } from '../../../src/fabricGateway/seekEnvelope.js';

type Position = 'oldest' | 'newest' | number;

/** The same SeekInfo through Fabric's generated classes (numbers only, so below 2^53). */
function generated(start: Position, stop: Position, behavior: orderer.SeekInfo.SeekBehaviorMap[keyof orderer.SeekInfo.SeekBehaviorMap]): Uint8Array {
  const position = (p: Position): orderer.SeekPosition => {
    const out = new orderer.SeekPosition();
    if (p === 'oldest') out.setOldest(new orderer.SeekOldest());
    else if (p === 'newest') out.setNewest(new orderer.SeekNewest());
    else {
      const specified = new orderer.SeekSpecified();
      specified.setNumber(p);
      out.setSpecified(specified);
    }
    return out;
  };
  const info = new orderer.SeekInfo();
  info.setStart(position(start));
  info.setStop(position(stop));
  info.setBehavior(behavior);
  return info.serializeBinary();
}

const request = (start: SeekRequest['start'], stop: SeekRequest['stop'], behavior?: SeekRequest['behavior']): SeekRequest => ({
  channel: 'mychannel', start, ...(stop === undefined ? {} : { stop }), ...(behavior === undefined ? {} : { behavior }),
});

test('every start, stop and behaviour is written as Fabric\'s generated SeekInfo writes it', () => {
  const { BLOCK_UNTIL_READY, FAIL_IF_NOT_READY } = orderer.SeekInfo.SeekBehavior;
  const cases: [SeekRequest, Uint8Array][] = [
    [request('oldest', 'newest'), generated('oldest', 'newest', BLOCK_UNTIL_READY)],
    [request('newest', 'newest', 'fail-if-not-ready'), generated('newest', 'newest', FAIL_IF_NOT_READY)],
    [request({ specified: 42 }, { specified: 100n }), generated(42, 100, BLOCK_UNTIL_READY)],
    [request({ specified: 0 }, { specified: 0n }, 'block-until-ready'), generated(0, 0, BLOCK_UNTIL_READY)],
    [request({ specified: 2 ** 40 }, { specified: 2n ** 40n + 5n }, 'fail-if-not-ready'), generated(2 ** 40, 2 ** 40 + 5, FAIL_IF_NOT_READY)],
  ];
  for (const [req, want] of cases) assert.deepEqual(Buffer.from(seekInfoBytes(req)), Buffer.from(want), JSON.stringify(req, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)));
});

test('proto3 omissions as Go makes them: Specified{0} is an empty message, the default behaviour is left out', () => {
  // start = SeekPosition{specified (3) = {}}; stop = SeekPosition{newest (1) = {}}; no behavior field.
  assert.deepEqual([...seekInfoBytes(request({ specified: 0 }, 'newest'))], [0x0a, 0x02, 0x1a, 0x00, 0x12, 0x02, 0x0a, 0x00]);
  // FAIL_IF_NOT_READY is 1: field 3, varint.
  assert.deepEqual([...seekInfoBytes(request('oldest', 'newest', 'fail-if-not-ready'))], [0x0a, 0x02, 0x12, 0x00, 0x12, 0x02, 0x0a, 0x00, 0x18, 0x01]);
});

test('the default stop is Specified{2^64-1}, written exactly (ten varint bytes), which a JS number could not carry', () => {
  const bytes = seekInfoBytes(request({ specified: 42 }, undefined));
  const maxVarint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
  assert.deepEqual([...bytes], [
    0x0a, 0x04, 0x1a, 0x02, 0x08, 42, // start: specified { number: 42 }
    0x12, 0x0d, 0x1a, 0x0b, 0x08, ...maxVarint, // stop: specified { number: 2^64-1 }
  ]);
  assert.deepEqual(Buffer.from(seekInfoBytes(request({ specified: 42 }, { specified: SEEK_MAX_NUMBER }))), Buffer.from(bytes));
});
