// MQTT links: where the broker is by default, and the timings and buffers of a connection.

export const mqttDefaults = {
  port: 1883,
  host: '127.0.0.1',
  keepaliveSeconds: 30,
  /** Shortest wait before reconnecting to the broker; waits grow, jittered, up to reconnectMaxDelayMs (src/config/backoff.ts). */
  reconnectPeriodMs: 1_000,
  reconnectMaxDelayMs: 10_000,
  connectTimeoutMs: 10_000,
  /** A link that lends its payloads (src/transport/mqtt/framedSocket.ts) reads the socket into one buffer of this size. */
  lentReadBufferBytes: 64 * 1024,
  /**
   * ... and assembles packets in a ring of this size: a few Deliver responses, as mqtt.js is done with
   * each within a turn or two; a packet that does not fit gets a buffer of its own.
   */
  lentPacketRingBytes: 1024 * 1024,
} as const;
