// The gateway's identity on the Fabric network, from a standard Fabric MSP folder (what cryptogen or a
// Fabric CA enrolment writes): signcerts/ (the signing certificate), keystore/ (its private key),
// cacerts/ and intermediatecerts/ (the MSP's CAs, to check the certificate belongs to the MSP before
// the orderer is asked anything). config.yaml is not read: NodeOU classification is the orderer's
// business, done from the certificate's OU fields and the channel's MSP definition, not from this file.
import { type KeyObject, X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { msp } from '@hyperledger/fabric-protos';
import { curveOrder, signLowS } from './ecdsaSigner.js';
import { certificatePem, pemBlocks, pemCertificates } from './pem.js';

/** A file in an MSP folder larger than this is not a certificate or key: refuse instead of reading it. */
export const MSP_FILE_MAX_BYTES = 1024 * 1024;
/** Intermediate CAs between the signing certificate and a root, at most. */
export const MSP_CHAIN_MAX_DEPTH = 8;

export class MspLoadError extends Error {
  override readonly name = 'MspLoadError';
}

/** What signs the gateway's requests to Fabric (Fabric's SignerSerializer). */
export interface FabricSigner {
  readonly mspId: string;
  /** The SerializedIdentity bytes (MSP id and PEM certificate): the `creator` of a signature header. */
  serialize(): Uint8Array;
  /** ECDSA over SHA-256(message), DER, low-S. */
  sign(message: Uint8Array): Uint8Array;
}

export interface MspIdentity extends FabricSigner {
  readonly certificate: X509Certificate;
  /** Milliseconds since the epoch after which the orderer will refuse this identity. */
  readonly notAfterMs: number;
  readonly folder: string;
}

function readFolderFiles(dir: string, required: boolean, what: string): { path: string; text: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return [];
    throw new MspLoadError(`${what} folder ${dir}: ${(err as Error).message}`);
  }
  const files: { path: string; text: string }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = statSync(path);
    if (!st.isFile()) continue;
    if (st.size > MSP_FILE_MAX_BYTES) throw new MspLoadError(`${path}: ${st.size} bytes, larger than any ${what} file (${MSP_FILE_MAX_BYTES})`);
    files.push({ path, text: readFileSync(path, 'utf8') });
  }
  if (required && files.length === 0) throw new MspLoadError(`${what} folder ${dir} holds no file`);
  return files;
}

function certificatesIn(dir: string, required: boolean, what: string): X509Certificate[] {
  const certs = readFolderFiles(dir, required, what).flatMap((f) => pemCertificates(f.text, f.path));
  if (required && certs.length === 0) throw new MspLoadError(`${what} folder ${dir} holds no PEM certificate`);
  return certs;
}

/** PEM block types of unencrypted private keys: PKCS#8 (Fabric CA, cryptogen) and SEC 1 (openssl ecparam). */
const KEY_ENCODINGS: Readonly<Record<string, 'pkcs8' | 'sec1'>> = { 'PRIVATE KEY': 'pkcs8', 'EC PRIVATE KEY': 'sec1' };

function samePublicKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

/** The key in keystore/ whose public half is the certificate's (Fabric finds it by SKI; any file name works here). */
function matchingKey(dir: string, cert: X509Certificate): KeyObject {
  const files = readFolderFiles(dir, true, 'keystore');
  for (const f of files) {
    for (const block of pemBlocks(f.text)) {
      if (block.type === 'ENCRYPTED PRIVATE KEY') throw new MspLoadError(`${f.path}: an encrypted private key (Fabric's keystore keys are not encrypted)`);
      const type = KEY_ENCODINGS[block.type];
      if (type === undefined) continue;
      let key: KeyObject;
      try {
        key = createPrivateKey({ key: block.der, format: 'der', type });
      } catch (err) {
        throw new MspLoadError(`${f.path}: ${block.type} does not parse: ${(err as Error).message}`);
      }
      if (samePublicKey(createPublicKey(key), cert.publicKey)) return key;
    }
  }
  throw new MspLoadError(`keystore ${dir}: no private key matches the signing certificate ${cert.subject.replace(/\n/g, ', ')}`);
}

/** The CA chain from `cert` to one of `roots`, through `intermediates`; throws when there is none. */
function checkChain(cert: X509Certificate, roots: X509Certificate[], intermediates: X509Certificate[], folder: string): void {
  let at = cert;
  for (let depth = 0; depth <= MSP_CHAIN_MAX_DEPTH; depth++) {
    const issuedBy = (ca: X509Certificate): boolean => at.checkIssued(ca) && at.verify(ca.publicKey);
    if (roots.some(issuedBy)) return;
    const next = intermediates.find((ca) => ca !== at && issuedBy(ca));
    if (next === undefined) break;
    at = next;
  }
  throw new MspLoadError(`MSP folder ${folder}: the signing certificate (${cert.subject.replace(/\n/g, ', ')}) does not chain to a certificate in cacerts/`);
}

/**
 * Loads the signing identity of MSP `mspId` from `folder`. The certificate must be the only one in
 * signcerts/, chain to cacerts/ (through intermediatecerts/), and have its private key in keystore/.
 */
export function loadMspIdentity(folder: string, mspId: string): MspIdentity {
  if (mspId.length === 0) throw new MspLoadError('the MSP id is empty');
  const signcerts = certificatesIn(join(folder, 'signcerts'), true, 'signcerts');
  if (signcerts.length !== 1) {
    throw new MspLoadError(`signcerts ${join(folder, 'signcerts')} holds ${signcerts.length} certificates: keep only the one this gateway signs with`);
  }
  const certificate = signcerts[0]!;
  const roots = certificatesIn(join(folder, 'cacerts'), true, 'cacerts');
  const intermediates = certificatesIn(join(folder, 'intermediatecerts'), false, 'intermediatecerts');
  checkChain(certificate, roots, intermediates, folder);
  const key = matchingKey(join(folder, 'keystore'), certificate);
  const order = curveOrder(key);
  const identity = new msp.SerializedIdentity();
  identity.setMspid(mspId);
  identity.setIdBytes(new TextEncoder().encode(certificatePem(certificate.raw)));
  const serialized = identity.serializeBinary();
  return {
    mspId,
    certificate,
    notAfterMs: Date.parse(certificate.validTo),
    folder,
    serialize: () => serialized,
    sign: (message) => signLowS(key, message, order),
  };
}
