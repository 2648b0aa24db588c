// A small test PKI for the gateway's tests: ECDSA P-256 CAs issuing TLS server, TLS client and MSP
// signing certificates with @peculiar/x509, and Fabric MSP folders written from them. (fabric-verify's
// test CA for signed Fabric chains lives beside this file; this one only needs what TLS and a signing
// identity need.)
// @peculiar/x509's dependency injection (tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC_KEY: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING: webcrypto.EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const DAY_MS = 24 * 3600 * 1000;
/** Certificates made here are valid from a day ago for this long. */
const TEST_CERT_VALIDITY_MS = 30 * DAY_MS;

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Organisational unit (Fabric's NodeOU roles: client, peer, orderer, admin). */
  ou?: string;
  /** DNS names and IP addresses for a TLS server certificate. */
  dns?: string[];
  ips?: string[];
  usage?: 'server' | 'client' | 'signing';
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestCa {
  readonly name: string;
  readonly certPem: string;
  issue(o: IssueOptions): Promise<IssuedCert>;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

export async function makeTestCa(name: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']) as CryptoKeyPair;
  const subject = `CN=${name}, O=${name}`;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subject,
    keys,
    signingAlgorithm: SIGNING,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + TEST_CERT_VALIDITY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    name,
    certPem: caCert.toString('pem'),
    issue: async (o) => {
      const k = await webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']) as CryptoKeyPair;
      const names: x509.JsonGeneralName[] = [
        ...(o.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(o.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
      ];
      const usage = o.usage ?? 'signing';
      const eku = usage === 'server' ? [x509.ExtendedKeyUsage.serverAuth] : usage === 'client' ? [x509.ExtendedKeyUsage.clientAuth] : [];
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
      ];
      if (eku.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(eku));
      if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
      const cert = await x509.X509CertificateGenerator.create({
        subject: `CN=${o.commonName}${o.ou === undefined ? '' : `, OU=${o.ou}`}, O=${name}`,
        issuer: caCert.subject,
        publicKey: k.publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: SIGNING,
        notBefore: o.notBefore ?? new Date(now - DAY_MS),
        notAfter: o.notAfter ?? new Date(now + TEST_CERT_VALIDITY_MS),
        extensions,
      });
      return { certPem: cert.toString('pem'), keyPem: await pkcs8Pem(k.privateKey) };
    },
  };
}

/** Writes a Fabric MSP folder (signcerts, keystore, cacerts, config.yaml with NodeOUs on) and returns it. */
export function writeMspFolder(dir: string, ca: TestCa, signer: IssuedCert): string {
  for (const sub of ['signcerts', 'keystore', 'cacerts']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'signcerts', 'cert.pem'), signer.certPem);
  writeFileSync(join(dir, 'keystore', 'priv_sk'), signer.keyPem, { mode: 0o600 });
  writeFileSync(join(dir, 'cacerts', `${ca.name}.pem`), ca.certPem);
  writeFileSync(join(dir, 'config.yaml'), [
    'NodeOUs:', '  Enable: true',
    ...['Client', 'Peer', 'Admin', 'Orderer'].map((r) => `  ${r}OUIdentifier:\n    Certificate: cacerts/${ca.name}.pem\n    OrganizationalUnitIdentifier: ${r.toLowerCase()}`),
    '',
  ].join('\n'));
  return dir;
}
