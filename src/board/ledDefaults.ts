/** The board's GPIO LEDs (src/board). */
export const ledDefaults = {
  /** LEDs are recomputed from the peer's status and written at most this often; a profile may slow it. */
  refreshMs: 100,
  /** Bounds of a profile's refreshMs: faster is invisible, slower makes the blinking useless. */
  minRefreshMs: 20,
  maxRefreshMs: 1_000,
  /** A blinking LED is lit for the first half of this period. */
  blinkPeriodMs: 1_000,
  /** The error LED blinks this long after the peer rejected a block. */
  rejectionFlashMs: 5_000,
  /** Height-bar LEDs a profile may have (the bar shows the height modulo 2^count). */
  maxHeightLeds: 16,
  /** IO failures (a GPIO tool that fails) are logged at most this often; the peer runs on regardless. */
  errorLogIntervalMs: 10_000,
} as const;
