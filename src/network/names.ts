// The names `edgepeer init` gives the orderer, orgs, boards and clients (channel names: src/protocol/names.ts).

export const ORDERER_ORG = 'orderer';
export const ORDERER_NODE_ID = 'orderer0';
export const ORDERER_ADMIN_ID = 'orderer-admin';

export const peerOrgName = (i: number): string => `org${i}`;
export const boardId = (org: string, j: number): string => `${org}-board${j}`;
export const clientId = (org: string): string => `${org}-client`;
