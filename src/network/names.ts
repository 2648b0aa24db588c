// Names that become folder names and MQTT topic levels, so they are checked before they touch the disk.

/** A channel name: a letter or digit, then letters, digits, '.', '_' or '-'; 64 characters at most. */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidChannelName(name: string): boolean {
  return CHANNEL_NAME_PATTERN.test(name);
}

export const ORDERER_ORG = 'orderer';
export const ORDERER_NODE_ID = 'orderer0';
export const ORDERER_ADMIN_ID = 'orderer-admin';

export const peerOrgName = (i: number): string => `org${i}`;
export const boardId = (org: string, j: number): string => `${org}-board${j}`;
export const clientId = (org: string): string => `${org}-client`;
