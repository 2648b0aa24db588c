// The MQTT topic layout: requests on <root>/<channel>/{deliver,broadcast}, each client's replies on
// <root>/<channel>/reply/<clientId>. Names are restricted so that no MQTT wildcard or level separator can
// ever be smuggled in through a channel name or a reply route read out of a request.

import { CHANNEL_NAME_PATTERN, isValidChannelName } from '../../protocol/names.js';
import type { Service } from '../link.js';

/** Topic prefix, versioned: edgepeer/v1/<channel>/{deliver,broadcast,reply/<client>}. */
export const topicRoot = 'edgepeer/v1';

export const clientIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

const services: readonly Service[] = ['deliver', 'broadcast'];
const rootPrefix = `${topicRoot}/`;
const replyLevel = 'reply';

export function isValidClientId(clientId: string): boolean {
  return clientIdPattern.test(clientId);
}

function isService(s: string): s is Service {
  return (services as readonly string[]).includes(s);
}

function assertChannel(channel: string): void {
  if (!isValidChannelName(channel)) {
    throw new Error(`invalid channel name ${JSON.stringify(channel)} (must match ${CHANNEL_NAME_PATTERN})`);
  }
}

function assertClientId(clientId: string): void {
  if (!isValidClientId(clientId)) {
    throw new Error(`invalid client id ${JSON.stringify(clientId)} (must match ${clientIdPattern})`);
  }
}

export function requestTopic(channel: string, service: Service): string {
  assertChannel(channel);
  if (!isService(service)) throw new Error(`unknown service ${JSON.stringify(service)}`);
  return `${rootPrefix}${channel}/${service}`;
}

export function replyTopic(channel: string, clientId: string): string {
  assertChannel(channel);
  assertClientId(clientId);
  return `${rootPrefix}${channel}/${replyLevel}/${clientId}`;
}

/** What the orderer subscribes to: every channel's request topics. */
export const requestSubscriptions: readonly string[] = services.map((s) => `${rootPrefix}+/${s}`);

/** Levels of `topic` below the root, or undefined when it is outside edgepeer's namespace. */
function levelsBelowRoot(topic: string): string[] | undefined {
  if (!topic.startsWith(rootPrefix)) return undefined;
  return topic.slice(rootPrefix.length).split('/');
}

export interface RequestTopic {
  channel: string;
  service: Service;
}

export function parseRequestTopic(topic: string): RequestTopic | undefined {
  const levels = levelsBelowRoot(topic);
  if (levels === undefined || levels.length !== 2) return undefined;
  const [channel, service] = levels as [string, string];
  if (!isValidChannelName(channel) || !isService(service)) return undefined;
  return { channel, service };
}

export interface ReplyTopic {
  channel: string;
  clientId: string;
}

export function parseReplyTopic(topic: string): ReplyTopic | undefined {
  const levels = levelsBelowRoot(topic);
  if (levels === undefined || levels.length !== 3) return undefined;
  const [channel, reply, clientId] = levels as [string, string, string];
  if (reply !== replyLevel || !isValidChannelName(channel) || !isValidClientId(clientId)) return undefined;
  return { channel, clientId };
}

/** True only for `<root>/<channel>/reply/<clientId>` of this very channel and this very client id. */
export function replyRouteAllowed(channel: string, replyTo: string, clientId: string): boolean {
  const parsed = parseReplyTopic(replyTo);
  return parsed !== undefined && parsed.channel === channel && parsed.clientId === clientId;
}
