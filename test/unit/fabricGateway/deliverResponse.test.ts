// A Fabric Deliver answer read at the wire level (src/fabricGateway/deliverResponse.ts): the block kept as the
// very bytes the server sent (a block the JS bindings would re-encode differently included), the status,
// another kind of response told apart, the last of several type fields winning as in protobuf's oneof,
// and bytes that are not a DeliverResponse, or carry status or block in the wrong wire type, malformed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { peer } from '@hyperledger/fabric-protos';
import {
  blockResponseBytes, fabricStatusName, readDeliverAnswer, statusResponseBytes,
} from '../../../src/fabricGateway/deliverResponse.js';
import { clusterMychannelBlock } from '../../helpers/fabric/realData.js';

const BLOCK = clusterMychannelBlock();
/** A block's bytes with an unknown field appended (field 15, varint 1): re-encoding through the bindings would drop it. */
const WITH_UNKNOWN_FIELD = Uint8Array.from([...BLOCK, 0x78, 0x01]);

test('a block answer keeps the server\'s bytes exactly, unknown fields included', () => {
  for (const block of [BLOCK, WITH_UNKNOWN_FIELD]) {
    const a = readDeliverAnswer(blockResponseBytes(block));
    assert.equal(a.kind, 'block');
    assert.deepEqual(Buffer.from((a as { block: Uint8Array }).block), Buffer.from(block));
  }
});

test('status answers, with their names; an unknown status has a name of its own', () => {
  assert.deepEqual(readDeliverAnswer(statusResponseBytes(200)), { kind: 'status', status: 200 });
  assert.deepEqual(readDeliverAnswer(statusResponseBytes(404)), { kind: 'status', status: 404 });
  assert.equal(fabricStatusName(503), 'SERVICE_UNAVAILABLE');
  assert.equal(fabricStatusName(418), 'STATUS_418');
});

test('another kind of response (a peer\'s filtered block) is told apart, not taken as a block', () => {
  const r = new peer.DeliverResponse();
  r.setFilteredBlock(new peer.FilteredBlock());
  assert.deepEqual(readDeliverAnswer(r.serializeBinary()), { kind: 'other', field: 3 });
});

test('as in a oneof, the last type field wins', () => {
  const both = Uint8Array.from([...statusResponseBytes(503), ...blockResponseBytes(BLOCK)]);
  assert.equal(readDeliverAnswer(both).kind, 'block');
  const thenStatus = Uint8Array.from([...blockResponseBytes(BLOCK), ...statusResponseBytes(404)]);
  assert.deepEqual(readDeliverAnswer(thenStatus), { kind: 'status', status: 404 });
});

test('empty bytes, bytes that are no protobuf message, and status or block in the wrong wire type are malformed', () => {
  assert.deepEqual(readDeliverAnswer(new Uint8Array(0)), { kind: 'malformed', reason: 'empty response' });
  // Field 1 as length-delimited bytes; field 2 as a varint.
  assert.deepEqual(readDeliverAnswer(Uint8Array.from([0x0a, 0x01, 0x00])), { kind: 'malformed', reason: 'field 1 has wire type 2' });
  assert.deepEqual(readDeliverAnswer(Uint8Array.from([0x10, 0x01])), { kind: 'malformed', reason: 'field 2 has wire type 0' });
  // A block whose length runs past the end.
  const cut = readDeliverAnswer(blockResponseBytes(BLOCK).subarray(0, 100));
  assert.equal(cut.kind, 'malformed');
  assert.match((cut as { reason: string }).reason, /^not a DeliverResponse: /);
});
