// A real gRPC AtomicBroadcast (or peer Deliver) server for the gateway's tests: @grpc/grpc-js with TLS
// (mutual TLS when a client CA is given), the Fabric protos, and the checks a Fabric ordering node makes
// before it streams (common/deliver/deliver.go): envelope and header well formed, timestamp within the
// window, the TLS binding under mutual TLS, the channel served, the creator's certificate issued by a
// reader MSP's CA and its ECDSA signature over the payload (low-S). It serves a chain of blocks given as
// bytes (byte for byte), waits for new ones under BLOCK_UNTIL_READY, and can be told to misbehave:
// answer a status, drop the stream after some blocks, serve other bytes for a block; stop and restart.
import { X509Certificate, createHash, verify } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { common, msp, orderer } from '@hyperledger/fabric-protos';
import { blockResponseBytes, fabricStatusName, statusResponseBytes } from '../../../src/fabricGateway/deliverResponse.js';
import type { FabricDeliverService } from '../../../src/fabricGateway/deliverConnector.js';
import { curveOrder, isLowS, parseDerSignature } from '../../../src/fabricGateway/ecdsaSigner.js';
import { computeTxId } from '../../../src/fabricGateway/seekEnvelope.js';
import { type IssuedCert, type TestCa, makeTestCa, writeMspFolder } from './gatewayPki.js';

/**
 * The method paths Fabric serves (orderer/ab.proto service AtomicBroadcast, peer/events.proto service
 * Deliver), written out here rather than taken from the gateway's code, so a gateway that called the
 * wrong one would be answered UNIMPLEMENTED, as by a Fabric node.
 */
const FABRIC_DELIVER_PATHS: Readonly<Record<FabricDeliverService, string>> = {
  orderer: '/orderer.AtomicBroadcast/Deliver',
  peer: '/protos.Deliver/Deliver',
};

/** Fabric's orderer default (General.Authentication.TimeWindow). */
export const FABRIC_TIME_WINDOW_MS = 15 * 60 * 1000;
const HOST = '127.0.0.1';
/** The largest uint64 a JS number rounds to: a stop at or above it is "without end". */
const STOP_WITHOUT_END = 2 ** 63;

export const FabricStatus = {
  SUCCESS: 200, BAD_REQUEST: 400, FORBIDDEN: 403, NOT_FOUND: 404, INTERNAL_SERVER_ERROR: 500, SERVICE_UNAVAILABLE: 503,
} as const;

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** Clients must present a certificate issued by this CA (mutual TLS), and bind requests to it. */
  clientCaPem?: string;
}

export interface ReaderMsp {
  mspId: string;
  caPem: string;
}

export interface AtomicBroadcastServerOptions {
  channel: string;
  blocks: Uint8Array[];
  tls: ServerTls | null;
  readers: ReaderMsp[];
  port?: number;
  service?: FabricDeliverService;
  timeWindowMs?: number;
}

export interface SeekRecord {
  channel: string;
  start: number | 'oldest' | 'newest';
  /** A stop at or beyond 2^63 (Fabric's MaxUint64): null. */
  stop: number | 'newest' | 'oldest' | null;
  behavior: 'block-until-ready' | 'fail-if-not-ready';
  creatorMspId: string;
  txId: string;
  /** The tx id was Fabric's sha256(nonce ‖ creator). */
  txIdValid: boolean;
  /** The status the server ended the request with (null: dropped, or still streaming). */
  status: string | null;
  /** Why the request was refused, when it was. */
  reason: string;
  blocksSent: number;
}

/** What the server does instead of behaving; changed by the test between requests. */
export interface Misbehaviour {
  /** Answer every request with this status (after the envelope checks). */
  answer?: number;
  /** After this many blocks on a stream: 'hang-up' ends it with gRPC OK and no Deliver status, 'abort' with UNAVAILABLE. */
  dropAfterBlocks?: number;
  dropMode?: 'hang-up' | 'abort';
  /** Serve these bytes instead of block n. */
  replaceBlock?: (n: number) => Uint8Array | undefined;
}

type Waiter = () => void;

function certIssuedBy(cert: X509Certificate, caPem: string): boolean {
  try {
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

export class AtomicBroadcastServer {
  readonly requests: SeekRecord[] = [];
  misbehave: Misbehaviour = {};
  private server: grpc.Server | null = null;
  private portValue = 0;
  private waiters: Waiter[] = [];
  private readonly calls = new Set<grpc.ServerDuplexStream<Buffer, Buffer>>();
  private requestWaiters: { count: number; resolve: () => void }[] = [];

  private constructor(private readonly o: AtomicBroadcastServerOptions) {}

  static async start(o: AtomicBroadcastServerOptions): Promise<AtomicBroadcastServer> {
    const s = new AtomicBroadcastServer(o);
    await s.listen(o.port ?? 0);
    return s;
  }

  get port(): number {
    return this.portValue;
  }

  get address(): string {
    return `${HOST}:${this.portValue}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  get openStreams(): number {
    return this.calls.size;
  }

  get height(): number {
    return this.o.blocks.length;
  }

  /** Adds blocks to the served chain; streams waiting for them go on. */
  append(...blocks: Uint8Array[]): void {
    this.o.blocks.push(...blocks);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves once `count` requests have been received in total. */
  untilRequests(count: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.requestWaiters.push({ count, resolve }));
  }

  private async listen(port: number): Promise<void> {
    const server = new grpc.Server();
    const pass = (b: Buffer): Buffer => b;
    const method = FABRIC_DELIVER_PATHS[this.o.service ?? 'orderer'];
    server.addService({
      Deliver: {
        path: method, requestStream: true, responseStream: true,
        requestSerialize: pass, requestDeserialize: pass, responseSerialize: pass, responseDeserialize: pass,
      },
    }, { Deliver: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => this.onCall(call) });
    const t = this.o.tls;
    const creds = t === null
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
        t.clientCaPem === undefined ? null : Buffer.from(t.clientCaPem),
        [{ private_key: Buffer.from(t.keyPem), cert_chain: Buffer.from(t.certPem) }],
        t.clientCaPem !== undefined,
      );
    this.portValue = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${HOST}:${port}`, creds, (err, p) => (err ? reject(err) : resolve(p)));
    });
    this.server = server;
  }

  /** Stops at once: open streams end with UNAVAILABLE, as when an ordering node dies. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    s.forceShutdown();
    this.calls.clear();
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Listens again on the same port with the same chain. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen(this.portValue);
  }

  private onCall(call: grpc.ServerDuplexStream<Buffer, Buffer>): void {
    this.calls.add(call);
    let busy = false;
    call.on('data', (envelope: Buffer) => {
      // One request at a time per stream, as Fabric's handler reads the next only after a SUCCESS.
      if (busy) return;
      busy = true;
      void this.serveRequest(call, envelope).then((more) => {
        busy = false;
        if (!more) call.end();
      });
    });
    call.on('end', () => call.end());
    call.on('cancelled', () => this.calls.delete(call));
    call.on('close', () => this.calls.delete(call));
    call.on('error', () => this.calls.delete(call));
  }

  private record(r: SeekRecord): void {
    this.requests.push(r);
    const still: typeof this.requestWaiters = [];
    for (const w of this.requestWaiters) {
      if (this.requests.length >= w.count) w.resolve();
      else still.push(w);
    }
    this.requestWaiters = still;
  }

  /** Checks and serves one request; false when the stream must end. */
  private async serveRequest(call: grpc.ServerDuplexStream<Buffer, Buffer>, bytes: Buffer): Promise<boolean> {
    const rec: SeekRecord = {
      channel: '', start: 'oldest', stop: null, behavior: 'block-until-ready', creatorMspId: '', txId: '', txIdValid: false,
      status: null, reason: '', blocksSent: 0,
    };
    this.record(rec);
    const refuse = (status: number, reason: string): boolean => {
      rec.status = fabricStatusName(status);
      rec.reason = reason;
      call.write(Buffer.from(statusResponseBytes(status)));
      return false;
    };
    let payload: common.Payload;
    let ch: common.ChannelHeader;
    let sh: common.SignatureHeader;
    let env: common.Envelope;
    try {
      env = common.Envelope.deserializeBinary(bytes);
      payload = common.Payload.deserializeBinary(env.getPayload_asU8());
      const header = payload.getHeader();
      if (header === undefined) return refuse(FabricStatus.BAD_REQUEST, 'payload without header');
      ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
      sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
    } catch (err) {
      return refuse(FabricStatus.BAD_REQUEST, `malformed envelope: ${(err as Error).message}`);
    }
    rec.channel = ch.getChannelId();
    rec.txId = ch.getTxId();
    rec.txIdValid = rec.txId === computeTxId(sh.getNonce_asU8(), sh.getCreator_asU8());
    const ts = ch.getTimestamp();
    if (ts === undefined) return refuse(FabricStatus.BAD_REQUEST, 'channel header without timestamp');
    const skew = Math.abs(Date.now() - (ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6)));
    if (skew > (this.o.timeWindowMs ?? FABRIC_TIME_WINDOW_MS)) return refuse(FabricStatus.BAD_REQUEST, `timestamp ${skew} ms from the server's clock`);
    if (ch.getType() !== common.HeaderType.DELIVER_SEEK_INFO) return refuse(FabricStatus.BAD_REQUEST, `header type ${ch.getType()}`);
    if (this.o.tls?.clientCaPem !== undefined) {
      const peerCert = call.getAuthContext().sslPeerCertificate;
      if (peerCert === undefined) return refuse(FabricStatus.BAD_REQUEST, 'no client TLS certificate');
      const actual = createHash('sha256').update(peerCert.raw).digest();
      if (!actual.equals(Buffer.from(ch.getTlsCertHash_asU8()))) return refuse(FabricStatus.BAD_REQUEST, 'TLS binding: tls_cert_hash is not the client certificate\'s');
    }
    if (rec.channel !== this.o.channel) return refuse(FabricStatus.NOT_FOUND, `channel '${rec.channel}' not served`);
    const denied = this.accessDenied(env, sh, rec);
    if (denied !== null) return refuse(FabricStatus.FORBIDDEN, denied);
    if (this.misbehave.answer !== undefined) return refuse(this.misbehave.answer, 'told to');
    let seek: orderer.SeekInfo;
    try {
      seek = orderer.SeekInfo.deserializeBinary(payload.getData_asU8());
    } catch (err) {
      return refuse(FabricStatus.BAD_REQUEST, `malformed SeekInfo: ${(err as Error).message}`);
    }
    const start = seek.getStart();
    const stop = seek.getStop();
    if (start === undefined || stop === undefined) return refuse(FabricStatus.BAD_REQUEST, 'SeekInfo without start or stop');
    const position = (p: orderer.SeekPosition): number | 'oldest' | 'newest' | null => {
      if (p.hasOldest()) return 'oldest';
      if (p.hasNewest()) return 'newest';
      const n = p.getSpecified()?.getNumber() ?? 0;
      return n >= STOP_WITHOUT_END ? null : n;
    };
    const startPos = position(start);
    rec.start = startPos ?? Number.MAX_SAFE_INTEGER;
    rec.stop = position(stop) as SeekRecord['stop'];
    rec.behavior = seek.getBehavior() === orderer.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY ? 'fail-if-not-ready' : 'block-until-ready';
    const height = this.o.blocks.length;
    let next = startPos === 'oldest' ? 0 : startPos === 'newest' ? Math.max(height - 1, 0) : (startPos ?? Number.MAX_SAFE_INTEGER);
    const stopNum = rec.stop === null ? Number.POSITIVE_INFINITY : rec.stop === 'oldest' ? next : rec.stop === 'newest' ? height - 1 : rec.stop;
    if (stopNum < next) return refuse(FabricStatus.BAD_REQUEST, `stop ${stopNum} before start ${next}`);
    const open = (): boolean => this.calls.has(call) && !call.cancelled && this.server !== null;
    for (;;) {
      if (!open()) return false;
      if (next >= this.o.blocks.length) {
        if (rec.behavior === 'fail-if-not-ready') return refuse(FabricStatus.NOT_FOUND, `block ${next} not there yet`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      const m = this.misbehave;
      if (m.dropAfterBlocks !== undefined && rec.blocksSent >= m.dropAfterBlocks) {
        rec.reason = `dropped after ${rec.blocksSent} blocks`;
        if (m.dropMode === 'abort') call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'dropped by the test' });
        else call.end();
        this.calls.delete(call);
        return true;
      }
      const block = m.replaceBlock?.(next) ?? this.o.blocks[next]!;
      const ok = call.write(Buffer.from(blockResponseBytes(block)));
      rec.blocksSent++;
      if (next === stopNum) {
        rec.status = 'SUCCESS';
        call.write(Buffer.from(statusResponseBytes(FabricStatus.SUCCESS)));
        return true;
      }
      next++;
      if (!ok) await new Promise<void>((resolve) => call.once('drain', resolve));
    }
  }

  /** The session access check: the creator is a reader MSP's member and signed the payload. */
  private accessDenied(env: common.Envelope, sh: common.SignatureHeader, rec: SeekRecord): string | null {
    let id: msp.SerializedIdentity;
    try {
      id = msp.SerializedIdentity.deserializeBinary(sh.getCreator_asU8());
    } catch {
      return 'creator is not a SerializedIdentity';
    }
    rec.creatorMspId = id.getMspid();
    const reader = this.o.readers.find((r) => r.mspId === id.getMspid());
    if (reader === undefined) return `MSP '${id.getMspid()}' is not a reader of the channel`;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(Buffer.from(id.getIdBytes_asU8()));
    } catch {
      return 'creator certificate does not parse';
    }
    if (!certIssuedBy(cert, reader.caPem)) return `creator certificate not issued by ${reader.mspId}'s CA`;
    const now = Date.now();
    if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) return 'creator certificate expired or not yet valid';
    const sig = env.getSignature_asU8();
    const parsed = parseDerSignature(sig);
    if (parsed === null) return 'signature is not DER';
    if (!isLowS(parsed.s, curveOrder(cert.publicKey))) return 'signature has a high S';
    if (!verify('sha256', env.getPayload_asU8(), cert.publicKey, sig)) return 'signature does not verify';
    return null;
  }
}

// ---- A test ordering node with its PKI and the files a gateway is started with ----

export const TEST_ORDERER_MSP_ID = 'OrdererMSP';
export const TEST_GATEWAY_MSP_ID = 'EdgeMSP';

export interface TestOrderingNodeFiles {
  /** The TLS CA the gateway trusts for the ordering node's certificate. */
  tlsCaFile: string;
  /** The gateway's TLS client certificate and key (mutual TLS). */
  clientCertFile: string;
  clientKeyFile: string;
  /** The gateway's MSP folder and id. */
  mspDir: string;
  mspId: string;
}

export interface TestOrderingNode {
  server: AtomicBroadcastServer;
  files: TestOrderingNodeFiles;
}

export interface TestOrderingNodeOptions {
  channel: string;
  blocks: Uint8Array[];
  mutualTls?: boolean;
  port?: number;
  service?: FabricDeliverService;
  /** Shared PKI (several nodes of one network); made fresh when absent. */
  pki?: TestNetworkPki;
}

export interface TestNetworkPki {
  tlsCa: TestCa;
  orgCa: TestCa;
  serverTls: IssuedCert;
  clientTls: IssuedCert;
  signer: IssuedCert;
}

export async function makeTestNetworkPki(): Promise<TestNetworkPki> {
  const tlsCa = await makeTestCa('tlsca.example.com');
  const orgCa = await makeTestCa('ca.edge.example.com');
  return {
    tlsCa,
    orgCa,
    serverTls: await tlsCa.issue({ commonName: 'orderer0.example.com', dns: ['orderer0.example.com', 'localhost'], ips: [HOST], usage: 'server' }),
    clientTls: await tlsCa.issue({ commonName: 'gateway.edge.example.com', usage: 'client' }),
    signer: await orgCa.issue({ commonName: 'gateway@edge.example.com', ou: 'client' }),
  };
}

/** Writes the gateway's files under `dir` (tls/, msp/) and starts an ordering node serving `blocks`. */
export async function startTestOrderingNode(dir: string, o: TestOrderingNodeOptions): Promise<TestOrderingNode> {
  const pki = o.pki ?? await makeTestNetworkPki();
  const tlsDir = join(dir, 'tls');
  mkdirSync(tlsDir, { recursive: true });
  const files: TestOrderingNodeFiles = {
    tlsCaFile: join(tlsDir, 'ca.crt'),
    clientCertFile: join(tlsDir, 'client.crt'),
    clientKeyFile: join(tlsDir, 'client.key'),
    mspDir: writeMspFolder(join(dir, 'msp'), pki.orgCa, pki.signer),
    mspId: TEST_GATEWAY_MSP_ID,
  };
  writeFileSync(files.tlsCaFile, pki.tlsCa.certPem);
  writeFileSync(files.clientCertFile, pki.clientTls.certPem);
  writeFileSync(files.clientKeyFile, pki.clientTls.keyPem, { mode: 0o600 });
  const server = await AtomicBroadcastServer.start({
    channel: o.channel,
    blocks: o.blocks,
    tls: { certPem: pki.serverTls.certPem, keyPem: pki.serverTls.keyPem, ...(o.mutualTls && { clientCaPem: pki.tlsCa.certPem }) },
    readers: [{ mspId: TEST_GATEWAY_MSP_ID, caPem: pki.orgCa.certPem }],
    ...(o.port !== undefined && { port: o.port }),
    ...(o.service !== undefined && { service: o.service }),
  });
  return { server, files };
}
