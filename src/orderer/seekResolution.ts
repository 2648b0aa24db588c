// Where a Deliver session starts and stops, as Fabric's deliverBlocks resolves it (docs/design.md,
// "Deliver, step by step", step 5).
import { type SeekInfo, SeekType } from '../protocol/seek.js';
import { Status, type StatusCode } from '../protocol/status.js';

export type SeekResolution =
  | { ok: true; start: number; stop: number }
  | { ok: false; status: StatusCode; reason: string };

/** Resolves start and stop against the chain height at the time of the request. */
export function resolveSeek(seek: SeekInfo, height: number): SeekResolution {
  let start: number;
  switch (seek.start.type) {
    case SeekType.OLDEST: start = 0; break;
    case SeekType.NEWEST: start = Math.max(0, height - 1); break;
    case SeekType.NEXT_COMMIT: start = height; break;
    case SeekType.SPECIFIED: start = seek.start.number; break;
  }
  let stop: number;
  switch (seek.stop.type) {
    case SeekType.OLDEST: stop = start; break;
    // Newest..Newest is one block, even if another is cut meanwhile (as Fabric special-cases it).
    case SeekType.NEWEST: stop = seek.start.type === SeekType.NEWEST ? start : height - 1; break;
    case SeekType.NEXT_COMMIT: stop = height; break;
    case SeekType.SPECIFIED: stop = seek.stop.number; break;
  }
  if (stop < start) return { ok: false, status: Status.BAD_REQUEST, reason: `stop ${stop} is before start ${start}` };
  return { ok: true, start, stop };
}
