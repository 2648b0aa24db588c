// What a board knows of a fork (docs/operations.md, "Forks"): the orderer signed a block that conflicts
// with the board's chain, so the two cannot both be the channel's. The verifier finds it (RunResult
// reason 'fork'); the peer keeps this record, stops taking blocks, and reports it everywhere it reports
// anything (status line, `edgepeer health` through the metrics, the LEDs).
import { toHex } from '../crypto/hash.js';
import type { RunResult } from '../protocol/blockFormat.js';

/** Where the conflicting block came from: the orderer's Deliver stream, or another board's gossip. */
export type ForkSource = 'orderer' | 'gossip';

export interface ForkReport {
  /** The block the chains disagree on: the board holds (or has verified) one, the orderer signed another. */
  block: number;
  /** The board's hash of that block (hex). */
  heldHash: string;
  /** The orderer-signed chain's hash of it (hex): the offered block's own, or its previous hash. */
  conflictingHash: string;
  /** The number of the offered block that revealed it (`block` + 1, or `block` itself at a held height). */
  offeredBlock: number;
  source: ForkSource;
  /** The orderer endpoint the block came from; null for gossip. */
  endpoint: string | null;
}

/** The report of the fork `r` names (r.reason === 'fork'). */
export function forkReportOf(r: RunResult, source: ForkSource, endpoint: string | null): ForkReport {
  return {
    block: r.forkNumber, heldHash: toHex(r.heldHash), conflictingHash: toHex(r.conflictingHash),
    offeredBlock: r.badNumber, source, endpoint,
  };
}

/** One line for the status line's `error=` and the logs. */
export function forkErrorText(f: ForkReport): string {
  const from = f.source === 'orderer' ? `the orderer at ${f.endpoint ?? '?'}` : 'a gossip neighbour';
  return `fork detected at block ${f.block}: this board holds ${f.heldHash}, ${from} sent an orderer-signed block ${f.offeredBlock} ` +
    `${f.offeredBlock === f.block ? 'hashing to' : 'that follows'} ${f.conflictingHash}; no more blocks are taken (see docs/operations.md, Forks)`;
}
