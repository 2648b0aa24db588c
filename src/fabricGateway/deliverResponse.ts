// A Deliver answer read at the wire level: orderer.DeliverResponse and the peer's protos.DeliverResponse
// share their first fields (status = 1, block = 2). The block is kept as the bytes the server sent, a
// view into the received message, never decoded and re-encoded: re-serialising a common.Block through
// the JS bindings is not guaranteed to give the orderer's bytes back (unknown fields, encoding choices),
// and the gateway stores and serves Fabric blocks byte for byte.
import jspb from 'google-protobuf';

export type DeliverAnswer =
  | { kind: 'status'; status: number }
  | { kind: 'block'; block: Uint8Array }
  /** A well-formed response of another kind (a peer's filtered block, private data): not asked for. */
  | { kind: 'other'; field: number }
  | { kind: 'malformed'; reason: string };

const FIELD_STATUS = 1;
const FIELD_BLOCK = 2;
const WIRE_VARINT = 0;
const WIRE_DELIMITED = 2;

/** Fabric's common.Status names, for logs and metric labels. */
export const FABRIC_STATUS_NAMES: Readonly<Record<number, string>> = {
  0: 'UNKNOWN', 200: 'SUCCESS', 400: 'BAD_REQUEST', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 413: 'REQUEST_ENTITY_TOO_LARGE',
  500: 'INTERNAL_SERVER_ERROR', 501: 'NOT_IMPLEMENTED', 503: 'SERVICE_UNAVAILABLE',
};

export function fabricStatusName(status: number): string {
  return FABRIC_STATUS_NAMES[status] ?? `STATUS_${status}`;
}

/** Reads one DeliverResponse. Like protobuf's oneof, the last of several type fields wins. */
export function readDeliverAnswer(bytes: Uint8Array): DeliverAnswer {
  let answer: DeliverAnswer = { kind: 'malformed', reason: 'empty response' };
  try {
    const r = new jspb.BinaryReader(bytes);
    while (r.nextField()) {
      const field = r.getFieldNumber();
      const wire = r.getWireType();
      if (field === FIELD_STATUS && wire === WIRE_VARINT) answer = { kind: 'status', status: r.readEnum() };
      else if (field === FIELD_BLOCK && wire === WIRE_DELIMITED) answer = { kind: 'block', block: r.readBytes() };
      else if (field === FIELD_STATUS || field === FIELD_BLOCK) return { kind: 'malformed', reason: `field ${field} has wire type ${wire}` };
      else {
        r.skipField();
        answer = { kind: 'other', field };
      }
    }
  } catch (err) {
    return { kind: 'malformed', reason: `not a DeliverResponse: ${(err as Error).message}` };
  }
  return answer;
}

/** The DeliverResponse bytes carrying `block` as it is (what a server sends). */
export function blockResponseBytes(block: Uint8Array): Uint8Array {
  const w = new jspb.BinaryWriter();
  w.writeBytes(FIELD_BLOCK, block);
  return w.getResultBuffer();
}

export function statusResponseBytes(status: number): Uint8Array {
  const w = new jspb.BinaryWriter();
  w.writeEnum(FIELD_STATUS, status);
  return w.getResultBuffer();
}
