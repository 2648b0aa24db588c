// The seam between the follow loop (blocksProvider.ts) and the network: open one Deliver stream to one
// endpoint, send the signed SeekInfo, hand over each answer, report how the stream ended. The gRPC
// implementation is grpcDeliverConnector.ts; tests of the loop can drive a fake.
import type { DeliverAnswer } from './deliverResponse.js';

/** Which Fabric service the endpoint is: an ordering node's AtomicBroadcast or a peer's Deliver. */
export type FabricDeliverService = 'orderer' | 'peer';

export interface FabricEndpoint {
  /** host:port */
  address: string;
  /** Expect this name in the server's TLS certificate instead of the address's host. */
  serverNameOverride?: string;
}

export function endpointName(e: FabricEndpoint): string {
  return e.serverNameOverride === undefined ? e.address : `${e.address} (as ${e.serverNameOverride})`;
}

/** How a stream ended, as the follow loop sees it. */
export type StreamEnd =
  /** Could not connect, or the transport failed (gRPC status other than OK / CANCELLED by us). */
  | { kind: 'transport'; reason: string }
  /** The server closed the stream without a Deliver status. */
  | { kind: 'hung-up'; reason: string }
  /** The stream was cancelled from this side. */
  | { kind: 'cancelled' };

export interface DeliverStreamHandlers {
  /** The stream is open and the request sent. */
  onOpen(): void;
  onAnswer(answer: DeliverAnswer): void;
  /** Called once, last. Not called after cancel(). */
  onEnd(end: StreamEnd): void;
}

export interface DeliverStream {
  /** Ends the stream from this side; no handler is called afterwards. */
  cancel(): void;
}

export interface DeliverConnector {
  /** The TLS binding Fabric's orderer checks under mutual TLS (SHA-256 of the client certificate), or undefined. */
  readonly tlsCertHash: Uint8Array | undefined;
  open(endpoint: FabricEndpoint, envelope: Uint8Array, handlers: DeliverStreamHandlers): DeliverStream;
  /** Releases what the connector holds (channels, timers). */
  close(): void;
}
