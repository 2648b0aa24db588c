// The channel-name rule: one definition for every place a channel name becomes part of something else
// (an MQTT topic level, a serial frame header, a ledger file name, a network folder), so that a name one
// part accepts is never refused by another (docs/protocol.md §11).

/** A letter or digit, then letters, digits, '.', '_' or '-'; 64 characters at most. No '/', '+', '#', no leading dot. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Longest channel name, in characters (ASCII, so also in bytes). */
export const MAX_CHANNEL_NAME_CHARS = 64;

export function isValidChannelName(name: string): boolean {
  return CHANNEL_NAME_PATTERN.test(name);
}
