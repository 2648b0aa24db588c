// The reply route of a serial link. A serial line has one client at its other end, so the route names
// only the channel; it goes into the signed request like an MQTT reply topic does.
import { isValidChannelName } from '../../protocol/names.js';

const ROUTE_PREFIX = 'serial/';

export function serialReplyRoute(channel: string): string {
  if (!isValidChannelName(channel)) throw new Error(`invalid channel name ${JSON.stringify(channel)}`);
  return `${ROUTE_PREFIX}${channel}`;
}

/** The channel of a `serial/<channel>` route, or undefined for anything else. */
export function parseSerialReplyRoute(route: string): string | undefined {
  if (!route.startsWith(ROUTE_PREFIX)) return undefined;
  const channel = route.slice(ROUTE_PREFIX.length);
  return isValidChannelName(channel) ? channel : undefined;
}
