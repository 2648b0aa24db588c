// The real Fabric blocks under test/fixtures/fabric (see its README), as common.Block bytes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { blockFileBlocks } from '../../../src/fabric/blockFiles.js';

/** dist/test/helpers/fabric -> the repository's test/fixtures/fabric. */
export const FABRIC_FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/fabric/', import.meta.url));
export const SAMPLE_PROD_BLOCKFILE = `${FABRIC_FIXTURES}sample_prod.blockfile`;
export const CLUSTER_MYCHANNEL_BLOCK = `${FABRIC_FIXTURES}cluster_mychannel.block`;
export const CLUSTER_BLOCK3 = `${FABRIC_FIXTURES}cluster_block3.pb`;

/** sample_prod's 8 blocks (mychannel 0-7) as serialized common.Block. */
export function sampleProdBlocks(): Uint8Array[] {
  return [...blockFileBlocks(SAMPLE_PROD_BLOCKFILE)].map((b) => b.block);
}

export function clusterMychannelBlock(): Uint8Array {
  return new Uint8Array(readFileSync(CLUSTER_MYCHANNEL_BLOCK));
}

export function clusterBlock3(): Uint8Array {
  return new Uint8Array(readFileSync(CLUSTER_BLOCK3));
}
