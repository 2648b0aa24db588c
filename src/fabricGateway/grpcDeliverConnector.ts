// Fabric's Deliver over gRPC (@grpc/grpc-js): orderer.AtomicBroadcast/Deliver on an ordering node, or
// protos.Deliver/Deliver on a peer. The service is called by its method path on a plain grpc.Client
// rather than through @hyperledger/fabric-protos' generated client: that client decodes every response
// into objects, and a block re-encoded from them is not guaranteed to be the bytes the orderer sent;
// here the response deserializer keeps the block's bytes (deliverResponse.ts), and one code path serves
// both services. Each attempt gets its own channel, closed when the attempt ends (as Fabric dials a new
// connection per attempt), so a failed endpoint leaves nothing behind.
import { X509Certificate, createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { type DeliverAnswer, readDeliverAnswer } from './deliverResponse.js';
import type {
  DeliverConnector, DeliverStream, DeliverStreamHandlers, FabricDeliverService, FabricEndpoint,
} from './deliverConnector.js';
import { pemCertificates } from './pem.js';

export const DELIVER_METHOD_PATHS: Readonly<Record<FabricDeliverService, string>> = {
  orderer: '/orderer.AtomicBroadcast/Deliver',
  peer: '/protos.Deliver/Deliver',
};

export interface FabricTlsFiles {
  /** CA certificates (PEM) the server's TLS certificate must chain to; undefined: the system's roots. */
  rootCertsPem?: Buffer;
  /** Client certificate and key (PEM) for mutual TLS. */
  clientCertPem?: Buffer;
  clientKeyPem?: Buffer;
}

export interface GrpcConnectorLimits {
  /** An endpoint not connected this long after asking is a failed attempt. */
  connectTimeoutMs: number;
  /** Largest response accepted (one block): a larger one ends the stream with RESOURCE_EXHAUSTED. */
  maxReceiveMessageBytes: number;
  /** HTTP/2 keepalive ping interval; Fabric's orderer refuses pings more often than every 60 s. */
  keepaliveTimeMs: number;
  /** A ping not answered within this long closes the connection. */
  keepaliveTimeoutMs: number;
}

export interface GrpcConnectorOptions {
  service: FabricDeliverService;
  /** null: plaintext (Fabric networks with TLS off; never across an untrusted network). */
  tls: FabricTlsFiles | null;
  limits: GrpcConnectorLimits;
}

/** SHA-256 of the DER of the first certificate in `pem`: Fabric's TLS binding value. */
export function tlsCertificateHash(pem: Buffer): Uint8Array {
  const cert: X509Certificate | undefined = pemCertificates(pem.toString('utf8'), 'the client TLS certificate')[0];
  if (cert === undefined) throw new Error('the client TLS certificate file holds no PEM certificate');
  return new Uint8Array(createHash('sha256').update(cert.raw).digest());
}

const passThrough = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export class GrpcDeliverConnector implements DeliverConnector {
  readonly tlsCertHash: Uint8Array | undefined;
  private readonly credentials: grpc.ChannelCredentials;
  private readonly open_ = new Set<grpc.Client>();

  constructor(private readonly o: GrpcConnectorOptions) {
    const t = o.tls;
    if (t === null) {
      this.credentials = grpc.credentials.createInsecure();
      this.tlsCertHash = undefined;
    } else {
      if ((t.clientCertPem === undefined) !== (t.clientKeyPem === undefined)) {
        throw new Error('mutual TLS needs both the client certificate and its key');
      }
      this.credentials = grpc.credentials.createSsl(t.rootCertsPem ?? null, t.clientKeyPem ?? null, t.clientCertPem ?? null);
      this.tlsCertHash = t.clientCertPem === undefined ? undefined : tlsCertificateHash(t.clientCertPem);
    }
  }

  open(endpoint: FabricEndpoint, envelope: Uint8Array, h: DeliverStreamHandlers): DeliverStream {
    const l = this.o.limits;
    const options: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': l.maxReceiveMessageBytes,
      'grpc.keepalive_time_ms': l.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': l.keepaliveTimeoutMs,
    };
    if (endpoint.serverNameOverride !== undefined) {
      options['grpc.ssl_target_name_override'] = endpoint.serverNameOverride;
      options['grpc.default_authority'] = endpoint.serverNameOverride;
    }
    const client = new grpc.Client(endpoint.address, this.credentials, options);
    this.open_.add(client);
    let done = false;
    let call: grpc.ClientDuplexStream<Uint8Array, DeliverAnswer> | null = null;
    const finish = (end: Parameters<DeliverStreamHandlers['onEnd']>[0] | null): void => {
      if (done) return;
      done = true;
      call?.cancel();
      client.close();
      this.open_.delete(client);
      if (end !== null) h.onEnd(end);
    };
    client.waitForReady(Date.now() + l.connectTimeoutMs, (err) => {
      if (done) return;
      if (err !== undefined) {
        finish({ kind: 'transport', reason: `not connected within ${l.connectTimeoutMs} ms: ${err.message}` });
        return;
      }
      const c = client.makeBidiStreamRequest<Uint8Array, DeliverAnswer>(DELIVER_METHOD_PATHS[this.o.service], passThrough, readDeliverAnswer);
      call = c;
      c.on('data', (a: DeliverAnswer) => { if (!done) h.onAnswer(a); });
      c.on('error', (e: grpc.ServiceError) => finish({ kind: 'transport', reason: `${grpc.status[e.code] ?? e.code}: ${e.details || e.message}` }));
      // 'status' OK without a Deliver status before it: the server ended the stream on its own.
      c.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) finish({ kind: 'hung-up', reason: 'the server ended the stream without a Deliver status' });
      });
      c.write(envelope);
      h.onOpen();
    });
    return { cancel: () => finish(null) };
  }

  close(): void {
    for (const c of this.open_) c.close();
    this.open_.clear();
  }
}
