// Stand-ins beside the gateway's follow loop while the parts it plugs into are elsewhere: simple Fabric
// common.Block bytes chained by SHA-256 of the previous block's bytes, a RunVerifier checking only
// that chain and the numbers (NOT Fabric's verification: src/fabric/ does that), an in-memory ledger,
// a logger that keeps its records, and an observer that turns the loop's reports into awaitable events.
import { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';
import { RunResult, type RunVerifier } from '../../../src/protocol/blockFormat.js';
import type { FollowLedger, FollowObserver, FollowState } from '../../../src/fabricGateway/blocksProvider.js';
import { type Logger, createLogger } from '../../../src/observability/logger.js';

const HASH_BYTES = 32;

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** A common.Block: header (number, previous hash), one data entry, four empty metadata entries. */
export function simpleFabricBlock(number: number, previousHash: Uint8Array, data: Uint8Array): Uint8Array {
  const header = new common.BlockHeader();
  header.setNumber(number);
  header.setPreviousHash(previousHash);
  header.setDataHash(sha256(data));
  const d = new common.BlockData();
  d.setDataList([data]);
  const m = new common.BlockMetadata();
  m.setMetadataList([new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)]);
  const b = new common.Block();
  b.setHeader(header);
  b.setData(d);
  b.setMetadata(m);
  return b.serializeBinary();
}

/** `count` blocks from `first`, each pointing at SHA-256 of the bytes before it. */
export function simpleFabricChain(count: number, first = 0, previous: Uint8Array = new Uint8Array(HASH_BYTES), bytes = 200): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = previous;
  for (let n = first; n < first + count; n++) {
    const data = Buffer.alloc(bytes, n % 251);
    data.writeUInt32BE(n, 0);
    const b = simpleFabricBlock(n, prev, data);
    out.push(b);
    prev = sha256(b);
  }
  return out;
}

export function chainHash(block: Uint8Array): Uint8Array {
  return sha256(block);
}

/** Checks numbers and the SHA-256 link of simpleFabricChain; nothing Fabric-specific. */
export class ChainLinkVerifier implements RunVerifier {
  readonly tipHash = new Uint8Array(HASH_BYTES);
  tipNumber: number;

  constructor(tipNumber = -1, tipHash?: Uint8Array) {
    this.tipNumber = tipNumber;
    if (tipHash) this.tipHash.set(tipHash);
  }

  verifyRun(blocks: ArrayLike<Uint8Array>, from: number, count: number, hashOut: Uint8Array, r: RunResult): void {
    r.reset();
    for (let i = from; i < from + count; i++) {
      const b = blocks[i]!;
      let number: number;
      let prev: Uint8Array;
      try {
        const h = common.Block.deserializeBinary(b).getHeader();
        number = h?.getNumber() ?? -1;
        prev = h?.getPreviousHash_asU8() ?? new Uint8Array(0);
      } catch {
        r.badIndex = i; r.reason = 'layout'; r.detail = 'not a block'; r.badNumber = -1;
        return;
      }
      if (r.good === 0 && number <= this.tipNumber) { r.duplicates++; continue; }
      if (number !== this.tipNumber + 1) { r.badIndex = i; r.reason = 'number'; r.detail = `expected ${this.tipNumber + 1}`; r.badNumber = number; return; }
      if (!Buffer.from(prev).equals(Buffer.from(this.tipHash))) {
        r.badIndex = i; r.reason = 'previous-hash'; r.detail = 'does not chain'; r.badNumber = number;
        return;
      }
      const h = sha256(b);
      hashOut.set(h, (i - from) * HASH_BYTES);
      this.tipHash.set(h);
      this.tipNumber = number;
      r.good++;
    }
  }
}

/** The follow loop's ledger in memory, checking what a ledger checks on append (number = height). */
export class MemoryLedger implements FollowLedger {
  readonly blocks: Uint8Array[] = [];
  appendCalls = 0;
  constructor(readonly channel: string) {}
  height(): number {
    return this.blocks.length;
  }
  append(blocks: ArrayLike<Uint8Array>, _hashes: ArrayLike<Uint8Array> | null, start: number, count: number): void {
    this.appendCalls++;
    for (let i = start; i < start + count; i++) {
      const n = common.Block.deserializeBinary(blocks[i]!).getHeader()!.getNumber();
      if (n !== this.blocks.length) throw new Error(`append: block ${n} at height ${this.blocks.length}`);
      this.blocks.push(Uint8Array.prototype.slice.call(blocks[i]!));
    }
  }
}

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger whose JSON records are kept in `records`. */
export function recordingLogger(): { log: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') records.push(JSON.parse(line) as LogRecord);
      cb();
    },
  });
  return { log: createLogger({ name: 'gateway-test', level: 'debug', pretty: false, destination: sink }), records };
}

export const WARN_LEVEL = 40;

export type FollowEvent =
  | { kind: 'state'; state: FollowState; endpoint: string }
  | { kind: 'stored'; count: number; height: number }
  | { kind: 'rejected'; reason: string; block: number; endpoint: string }
  | { kind: 'status'; status: string; endpoint: string }
  | { kind: 'attemptFailed'; failure: string; endpoint: string; retryInMs: number }
  | { kind: 'failed'; err: Error };

/** Every report of the loop, in order, and a way to await one. */
export class FollowEvents {
  readonly events: FollowEvent[] = [];
  private waiters: { pred: (e: FollowEvent) => boolean; from: number; resolve: (e: FollowEvent) => void }[] = [];

  readonly observer: FollowObserver = {
    state: (state, endpoint) => this.push({ kind: 'state', state, endpoint }),
    stored: (count, height) => this.push({ kind: 'stored', count, height }),
    rejected: (reason, block, endpoint) => this.push({ kind: 'rejected', reason, block, endpoint }),
    deliverStatus: (status, endpoint) => this.push({ kind: 'status', status, endpoint }),
    attemptFailed: (failure, endpoint, retryInMs) => this.push({ kind: 'attemptFailed', failure, endpoint, retryInMs }),
    failed: (err) => this.push({ kind: 'failed', err }),
  };

  private push(e: FollowEvent): void {
    this.events.push(e);
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred(e)) w.resolve(e);
      else still.push(w);
    }
    this.waiters = still;
  }

  of<K extends FollowEvent['kind']>(kind: K): Extract<FollowEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<FollowEvent, { kind: K }> => e.kind === kind);
  }

  /** The first event from index `from` (default: any so far) satisfying `pred`. */
  next(pred: (e: FollowEvent) => boolean, from = 0): Promise<FollowEvent> {
    for (let i = from; i < this.events.length; i++) if (pred(this.events[i]!)) return Promise.resolve(this.events[i]!);
    return new Promise((resolve) => this.waiters.push({ pred, from, resolve }));
  }

  /** Resolves once a stored event reports `height` or more. */
  untilHeight(height: number): Promise<FollowEvent> {
    return this.next((e) => e.kind === 'stored' && e.height >= height);
  }
}
