// Every timing and default of the demo and the fleet, each with its unit in its name.

/** Boards print a status line this often (passed to `edgepeer peer --status-interval-ms`). */
export const BOARD_STATUS_INTERVAL_MS = 500;
/** A running board with no status line for this long is shown as 'silent'. */
export const BOARD_STATUS_STALE_MS = 3_000;
/** A board asked to stop (SIGTERM) that has not exited after this long is killed (SIGKILL). */
export const BOARD_STOP_TIMEOUT_MS = 5_000;

/**
 * At stop, after the load has ended, the demo waits at most this long for the last block to be cut and
 * reach every board, so the ledgers end at the same height.
 */
export const SETTLE_TIMEOUT_MS = 1_500;
/** How often settling looks at the heights (the orderer's is in memory, the boards' arrive as status lines). */
export const SETTLE_POLL_MS = 50;

/** The live view redraws this often. */
export const LIVE_VIEW_REFRESH_MS = 250;
/** Plain mode prints one line per board this often. */
export const PLAIN_REPORT_INTERVAL_MS = 1_000;
/** Measured rates (tx/s) are averaged over this window. */
export const RATE_WINDOW_MS = 3_000;

/** The load generator decides how many transactions are due this often. */
export const LOAD_TICK_MS = 20;
/** Transactions sent and not answered yet, at most. */
export const LOAD_MAX_IN_FLIGHT = 256;
/** Transactions owed (the orderer fell behind) are carried for at most this long's worth, then skipped. */
export const LOAD_BACKLOG_MAX_MS = 1_000;
/** At stop, answers to transactions in flight are awaited this long. */
export const LOAD_DRAIN_TIMEOUT_MS = 2_000;

/** A process that is still alive this long after the demo finished has a leaked handle: it exits anyway. */
export const DEMO_EXIT_GRACE_MS = 2_000;

export const demoDefaults = {
  boards: 4,
  /** Two orgs, so that the view shows a leader per org (each pulls from the orderer, its followers gossip). */
  orgs: 2,
  txPerSec: 50,
  txSizeBytes: 256,
  /** 0: until Ctrl-C or SIGTERM. */
  durationS: 0,
  /** 0: a free port. */
  mqttPort: 0,
  channel: 'demo',
} as const;
