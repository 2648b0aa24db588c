// Who may log in to a broker set up for edgepeer, and what each login may read and write there
// (docs/protocol.md §11.3). The broker asks; the layer that holds the channel configurations (the orderer)
// answers, from the configurations it holds now, so a revocation takes effect at the next login and, once
// the broker is told (recheck), on the connections already open.
import type { ChannelState } from '../../channel/channelState.js';
import { type Certificate, verifyCertificate } from '../../protocol/certificate.js';
import { loginCertificate } from './brokerIdentity.js';
import { parseReplyTopic, parseRequestTopic, topicRoot } from './topics.js';

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

/** Why `principal` may not subscribe to `filter`, or null. Members read their own reply topics only. */
export function subscribeDenial(principal: BrokerPrincipal, filter: string): string | null {
  if (principal.role === 'orderer') {
    // The request topics of one channel or of every channel, nothing else.
    const levels = filter.split('/');
    const channelWildcard = levels.length === 4 && levels[2] === SINGLE_LEVEL_WILDCARD;
    const probe = channelWildcard ? [...levels.slice(0, 2), 'x', levels[3]].join('/') : filter;
    return parseRequestTopic(probe) !== undefined ? null : `the orderer subscribes to request topics only, not '${filter}'`;
  }
  const levels = filter.split('/');
  const channelWildcard = levels.length === 5 && levels[2] === SINGLE_LEVEL_WILDCARD;
  const probe = channelWildcard ? [...levels.slice(0, 2), 'x', ...levels.slice(3)].join('/') : filter;
  const reply = parseReplyTopic(probe);
  if (reply === undefined || levels.slice(0, 2).join('/') !== topicRoot) return `'${filter}' is not a reply topic`;
  return reply.clientId === principal.username ? null : `'${filter}' is the reply topic of another member`;
}

/** Why `principal` may not publish to `topic` (retained or not), or null. */
export function publishDenial(principal: BrokerPrincipal, topic: string, retain: boolean): string | null {
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
    for (const state of states()) {
      try {
        verifyCertificate(cert, state.roots, nowMs, state.revoked);
      } catch (err) {
        reason = (err as Error).message;
        continue;
      }
      return state.config.orderer.signers.some((s) => s.fingerprint === cert.fingerprint) ? 'orderer' : 'member';
    }
    return reason;
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
      const role = judge(principal.certificate, nowMs);
      return role === principal.role ? null : (role === 'orderer' || role === 'member' ? `now logs in as ${role}` : role);
    },
  };
}
