// SeekInfo, the body of a Deliver request (payload.data of a DELIVER_SEEK envelope).
//
//   SeekInfo     = { start: SeekPosition, stop: SeekPosition, behavior: uint, window?: uint }
//   SeekPosition = { type: uint, number?: uint }   type: 0 NEWEST, 1 OLDEST, 2 SPECIFIED, 3 NEXT_COMMIT
//   behavior     = 0 BLOCK_UNTIL_READY, 1 FAIL_IF_NOT_READY
//   window       = how many DeliverResponse messages may be unacknowledged at once (flow control)
import { type CborMap, WireError, asMap, u64, uintField } from './cbor.js';

export const SeekType = { NEWEST: 0, OLDEST: 1, SPECIFIED: 2, NEXT_COMMIT: 3 } as const;
export type SeekTypeCode = (typeof SeekType)[keyof typeof SeekType];

export const SeekBehavior = { BLOCK_UNTIL_READY: 0, FAIL_IF_NOT_READY: 1 } as const;
export type SeekBehaviorCode = (typeof SeekBehavior)[keyof typeof SeekBehavior];

export type SeekPosition =
  | { type: typeof SeekType.NEWEST }
  | { type: typeof SeekType.OLDEST }
  | { type: typeof SeekType.NEXT_COMMIT }
  | { type: typeof SeekType.SPECIFIED; number: number };

export interface SeekInfo {
  start: SeekPosition;
  stop: SeekPosition;
  behavior: SeekBehaviorCode;
  /** Flow-control window in messages; absent means the orderer's default. */
  window?: number;
}

/** Fabric's MaxUint64 stop: "every future block". */
export const MAX_BLOCK_NUMBER = Number.MAX_SAFE_INTEGER;

export const seekNewest = (): SeekPosition => ({ type: SeekType.NEWEST });
export const seekOldest = (): SeekPosition => ({ type: SeekType.OLDEST });
export const seekNextCommit = (): SeekPosition => ({ type: SeekType.NEXT_COMMIT });
export const seekSpecified = (number: number): SeekPosition => ({ type: SeekType.SPECIFIED, number });

function positionToWire(p: SeekPosition): CborMap {
  if (p.type === SeekType.SPECIFIED) {
    // MaxUint64 goes out as the real 2^64-1 so that other implementations read Fabric's value.
    return { type: p.type, number: p.number >= MAX_BLOCK_NUMBER ? 0xffff_ffff_ffff_ffffn : u64(p.number) };
  }
  return { type: p.type };
}

function positionFromWire(v: unknown, what: string): SeekPosition {
  const m = asMap(v, what);
  const type = uintField(m, 'type', what);
  // A number with any other type would be silently ignored: the request is not what its sender meant.
  if (type !== SeekType.SPECIFIED && m['number'] !== undefined) throw new WireError(`${what}.number: only a SPECIFIED position has a number`);
  switch (type) {
    case SeekType.NEWEST: return { type };
    case SeekType.OLDEST: return { type };
    case SeekType.NEXT_COMMIT: return { type };
    case SeekType.SPECIFIED: return { type, number: uintField(m, 'number', what) };
    default: throw new WireError(`${what}.type: unknown seek position type ${type}`);
  }
}

export function seekInfoToWire(s: SeekInfo): CborMap {
  const m: CborMap = { start: positionToWire(s.start), stop: positionToWire(s.stop), behavior: s.behavior };
  if (s.window !== undefined) m['window'] = s.window;
  return m;
}

export function seekInfoFromWire(v: unknown): SeekInfo {
  const m = asMap(v, 'seekInfo');
  const behavior = uintField(m, 'behavior', 'seekInfo');
  if (behavior !== SeekBehavior.BLOCK_UNTIL_READY && behavior !== SeekBehavior.FAIL_IF_NOT_READY) {
    throw new WireError(`seekInfo.behavior: unknown behavior ${behavior}`);
  }
  const s: SeekInfo = {
    start: positionFromWire(m['start'], 'seekInfo.start'),
    stop: positionFromWire(m['stop'], 'seekInfo.stop'),
    behavior,
  };
  if (m['window'] !== undefined) {
    const w = uintField(m, 'window', 'seekInfo');
    if (w === 0) throw new WireError('seekInfo.window: must be at least 1');
    s.window = w;
  }
  return s;
}
