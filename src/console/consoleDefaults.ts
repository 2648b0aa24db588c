/** The board's serial console (status and log lines). */
export const consoleDefaults = {
  baudRate: 115_200,
  /** Lines waiting for a slow or absent console at most; older ones are dropped. */
  maxQueuedBytes: 64 * 1024,
  /** A longer line from a board is cut here by the monitor (a line without an end is noise). */
  maxLineBytes: 4096,
  /** Lines the monitor's panel keeps for its raw log. */
  logLines: 500,
  /** The panel is redrawn at most this often. */
  redrawIntervalMs: 100,
  /** A board's console waits this long at most, when it stops, for its last lines to be written. */
  closeFlushTimeoutMs: 500,
} as const;
