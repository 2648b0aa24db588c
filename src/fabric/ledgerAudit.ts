// The audit of a whole Fabric ledger (`edgepeer fabric verify`): every block checked the way Fabric's
// `ledgerutil verify` checks it, plus what a peer's block verification adds (docs/fabric.md §4, §9).
// The per-block result is ledgerutil's blocks.json entry: {"blockNum", "valid", "errors"} with its wording.
import { Sha256 } from '../crypto/sha256.js';
import { FABRIC_HASH_BYTES, FabricBlockLayout, locateFabricBlock } from './blockLayout.js';
import { InPlaceBlockHasher } from './blockHashes.js';
import type { SnapshotInfo } from './blockFiles.js';
import { ProtoFieldCursor } from './protoWire.js';
import { WellFormedResult, checkTransactionsWellFormed, wellFormedErrorText } from './wellFormed.js';

/** ledgerutil verify's wording. */
export const ERROR_DATA_HASH_MISMATCH = 'DataHash mismatch';
export const ERROR_PREVIOUS_HASH_MISMATCH = 'PreviousHash mismatch';

/** One entry of ledgerutil's blocks.json. */
export interface BlockCheckResult {
  blockNum: number;
  valid: boolean;
  errors: string[];
}

/** Checks beyond the hashes, run on each block after them (the signature stage plugs in here). */
export interface BlockRulesStage {
  /** Appends the block's further problems to `errors`. `bytes` is the block, located in `layout`. */
  check(bytes: Uint8Array, layout: FabricBlockLayout, errors: string[]): void;
}

export interface AuditOptions {
  snapshot?: SnapshotInfo;
  stage?: BlockRulesStage;
}

export interface AuditSummary {
  blocksChecked: number;
  firstBlock: number;
  lastBlock: number;
  /** The blocks with problems, as ledgerutil's blocks.json lists them. */
  problems: BlockCheckResult[];
}

/** Walks blocks in order, keeping what the next block is checked against. */
export class LedgerAuditor {
  private readonly layout = new FabricBlockLayout();
  private readonly cursor = new ProtoFieldCursor();
  private readonly envelopeCursor = new ProtoFieldCursor();
  private readonly hasher = new InPlaceBlockHasher(new Sha256());
  private readonly wellFormed = new WellFormedResult();
  private readonly dataHash = new Uint8Array(FABRIC_HASH_BYTES);
  /** Header hash of the previous block, or null when unknown (no previous block, or it did not decode). */
  private previousHash: Uint8Array | null = null;
  private expectedNumber: number | null = null;
  readonly summary: AuditSummary = { blocksChecked: 0, firstBlock: -1, lastBlock: -1, problems: [] };

  constructor(private readonly options: AuditOptions = {}) {
    if (options.snapshot !== undefined) {
      this.expectedNumber = options.snapshot.lastBlockNumber + 1;
      if (options.snapshot.lastBlockHash.length > 0) this.previousHash = options.snapshot.lastBlockHash;
    }
  }

  /** Checks the next block; returns its result (also recorded in the summary when it has problems). */
  check(block: Uint8Array): BlockCheckResult {
    const errors: string[] = [];
    const layout = this.layout;
    const locateError = locateFabricBlock(block, layout, this.cursor);
    if (locateError !== '') {
      const blockNum = this.expectedNumber ?? -1;
      errors.push(`block does not decode: ${locateError}`);
      this.previousHash = null;
      if (this.expectedNumber !== null) this.expectedNumber++;
      return this.record(blockNum, errors);
    }
    const n = layout.number;
    if (this.expectedNumber !== null && n !== this.expectedNumber) {
      errors.push(`The next block is expected to be ${this.expectedNumber} but got ${n}`);
    }
    if (!checkTransactionsWellFormed(block, layout, this.cursor, this.envelopeCursor, this.wellFormed)) {
      errors.push(wellFormedErrorText(block, this.wellFormed));
    }
    this.hasher.dataHashInto(block, layout, this.cursor, this.dataHash, 0);
    if (!bytesEqual(block, layout.dataHashStart, layout.dataHashLength, this.dataHash)) errors.push(ERROR_DATA_HASH_MISMATCH);
    const prev = this.previousHash;
    if (prev !== null && prev.length > 0 && !bytesEqual(block, layout.previousHashStart, layout.previousHashLength, prev)) {
      errors.push(ERROR_PREVIOUS_HASH_MISMATCH);
    }
    this.options.stage?.check(block, layout, errors);
    const headerHash = new Uint8Array(FABRIC_HASH_BYTES);
    this.hasher.headerHashInto(block, layout, headerHash, 0);
    this.previousHash = headerHash;
    this.expectedNumber = n + 1;
    return this.record(n, errors);
  }

  private record(blockNum: number, errors: string[]): BlockCheckResult {
    const s = this.summary;
    if (s.blocksChecked === 0) s.firstBlock = blockNum;
    s.lastBlock = blockNum;
    s.blocksChecked++;
    const result = { blockNum, valid: errors.length === 0, errors };
    if (!result.valid) s.problems.push(result);
    return result;
  }
}

function bytesEqual(block: Uint8Array, start: number, length: number, other: Uint8Array): boolean {
  if (length !== other.length) return false;
  for (let i = 0; i < length; i++) if (block[start + i] !== other[i]) return false;
  return true;
}

/** Audits a sequence of blocks (common.Block bytes) in order. */
export function auditBlocks(blocks: Iterable<Uint8Array>, options: AuditOptions = {}): AuditSummary {
  const auditor = new LedgerAuditor(options);
  for (const b of blocks) auditor.check(b);
  return auditor.summary;
}
