// Serial links: line speed, response size and write queue of a port, and how a lost port is retried.
import { maxMessageBytes } from '../messageLimits.js';

export const serialDefaults = {
  /** Line speed when an endpoint names none (8N1, no flow control). PTYs ignore it. */
  baudRate: 115_200,
  /** Block bytes per Deliver response on a serial link: a frame lost to noise costs at most this much. */
  maxResponseBytes: 8 * 1024,
  /** Bytes accepted for writing but not yet handed to the OS, per port; a send beyond this is refused. */
  maxQueuedWriteBytes: 2 * maxMessageBytes,
  /** serialport's stream buffer: write() reports "wait for drain" above this. */
  writeHighWaterMarkBytes: 16 * 1024,
  /** A port that will not open, or went away, is retried after jittered waits from base up to max (src/config/backoff.ts). */
  reopenBaseDelayMs: 100,
  reopenMaxDelayMs: 5_000,
} as const;
