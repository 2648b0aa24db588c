// Who may log in to a broker set up for edgepeer, and what each login may read and write there
// (docs/protocol.md §11.3). The broker asks; the layer that holds the channel configurations (the orderer)
// answers, from the configurations it holds now, so a revocation takes effect at the next login and, once
// the broker is told (recheck), on the connections already open.
import type { ChannelState } from '../../channel/channelState.js';
import { type Certificate, verifyCertificate } from '../../protocol/certificate.js';
import { loginCertificate } from './brokerIdentity.js';
import { parseReplyTopic, parseRequestTopic } from './topics.js';

export type BrokerRole = 'orderer' | 'member';

export interface BrokerPrincipal {
  username: string;
  role: BrokerRole;
  /** Fingerprint of the certificate the login carried: what revocation names. */
  fingerprint: string;
  /** The certificate the login carried, judged again when the configuration changes. */
  certificate: Certificate;
}

export interface BrokerAccess {
  /** The principal of a login, or why it is refused. */
  login(username: string, password: Buffer | undefined, nowMs: number): BrokerPrincipal | string;
  /** Why a principal that logged in earlier may no longer stay connected, or null. */
  stillAllowed(principal: BrokerPrincipal, nowMs: number): string | null;
}

const SINGLE_LEVEL_WILDCARD = '+';
/** The level of a topic that names the channel: `edgepeer/v1/<channel>/...`. */
const CHANNEL_LEVEL = 2;
/** A valid channel name put in place of a channel wildcard, so that the topic parsers judge the rest. */
const ANY_CHANNEL = 'x';

/**
 * `filter` with a single-level wildcard in the channel level read as one channel: a subscription to one
 * service (or reply topic) on every channel is as allowed as on one. Any other wildcard stays and makes
 * the filter parse as no topic (the parsers refuse '+' and '#' as names).
 */
function anyChannelAsOne(filter: string): string {
  const levels = filter.split('/');
  if (levels[CHANNEL_LEVEL] !== SINGLE_LEVEL_WILDCARD) return filter;
  levels[CHANNEL_LEVEL] = ANY_CHANNEL;
  return levels.join('/');
}

/** Why `principal` may not subscribe to `filter`, or null. Members read their own reply topics only. */
export function subscribeDenial(principal: Pick<BrokerPrincipal, 'role' | 'username'>, filter: string): string | null {
  const probe = anyChannelAsOne(filter);
  if (principal.role === 'orderer') {
    // The request topics of one channel or of every channel, nothing else.
    return parseRequestTopic(probe) !== undefined ? null : `the orderer subscribes to request topics only, not '${filter}'`;
  }
  const reply = parseReplyTopic(probe);
  if (reply === undefined) return `'${filter}' is not a reply topic`;
  return reply.clientId === principal.username ? null : `'${filter}' is the reply topic of another member`;
}

/** Why `principal` may not publish to `topic` (retained or not), or null. */
export function publishDenial(principal: Pick<BrokerPrincipal, 'role'>, topic: string, retain: boolean): string | null {
  if (retain) return 'retained messages are refused';
  if (principal.role === 'orderer') return parseReplyTopic(topic) !== undefined ? null : `the orderer publishes replies only, not to '${topic}'`;
  return parseRequestTopic(topic) !== undefined ? null : `members publish to request topics only, not to '${topic}'`;
}

/**
 * The access of an orderer: a login is a member's certificate valid now (signed by its organisation's
 * root, in its validity period, not revoked) under at least one of the channel configurations `states()`
 * returns; a certificate that is a block signer of such a configuration logs in as the orderer.
 */
export function channelBrokerAccess(states: () => Iterable<ChannelState>): BrokerAccess {
  const judge = (cert: Certificate, nowMs: number): BrokerRole | string => {
    let reason = 'no channel is served';
    let role: BrokerRole | null = null;
    // Every configuration is asked: a signer of one channel is the orderer, whatever the others say
    // (while its key is rotated channel by channel, the old certificate still signs some of them).
    for (const state of states()) {
      try {
        verifyCertificate(cert, state.roots, nowMs, state.revoked);
      } catch (err) {
        reason = (err as Error).message;
        continue;
      }
      if (state.config.orderer.signers.some((s) => s.fingerprint === cert.fingerprint)) return 'orderer';
      role = 'member';
    }
    return role ?? reason;
  };
  return {
    login(username, password, nowMs) {
      const cert = loginCertificate(username, password);
      if (typeof cert === 'string') return cert;
      const role = judge(cert, nowMs);
      if (role !== 'orderer' && role !== 'member') return role;
      return { username, role, fingerprint: cert.fingerprint, certificate: cert };
    },
    stillAllowed(principal, nowMs) {
      // A connection keeps the role it logged in with while its certificate stays valid: the orderer's
      // own connection outlives the configuration block that retires its certificate as a block signer
      // (a key rotation; it logs in with the new one at its next connection). A retired certificate logs
      // in as a member from then on, and revoking it closes the connection.
      const role = judge(principal.certificate, nowMs);
      return role === 'orderer' || role === 'member' ? null : role;
    },
  };
}
