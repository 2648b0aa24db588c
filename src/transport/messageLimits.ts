// The size bound every link (MQTT, serial) applies to one message.

/** Largest single message accepted on any link (a Deliver response, a Broadcast request). */
export const maxMessageBytes = 4 * 1024 * 1024;
