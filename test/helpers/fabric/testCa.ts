// A test certificate authority for Fabric MSPs, made with @peculiar/x509 (ECDSA P-256): roots,
// intermediates, and identity certificates with Fabric's NodeOU OUs (client, peer, admin, orderer),
// plus CRLs. Certificates carry SKI/AKI as Fabric's cryptogen and fabric-ca write them; validity windows
// are chosen by the caller (an orderer certificate that expired today, one not yet valid, ...).
import { KeyObject, webcrypto } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsageFlags, KeyUsagesExtension,
  SubjectKeyIdentifierExtension, X509CertificateGenerator, X509CrlGenerator, cryptoProvider, type Extension,
  type X509Certificate,
} from '../../../src/fabric/x509Library.js';

// @peculiar/x509 signs with WebCrypto: node's implementation.
cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Default validity: from a year ago to ten years ahead. */
const DEFAULT_BACKDATE_MS = 365 * DAY_MS;
const DEFAULT_LIFETIME_MS = 11 * 365 * DAY_MS;

let serialCounter = 1;
function nextSerial(): string {
  return (serialCounter++).toString(16).padStart(4, '0');
}

export interface Validity {
  notBefore?: Date;
  notAfter?: Date;
}

function window(v: Validity | undefined): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  const notBefore = v?.notBefore ?? new Date(now - DEFAULT_BACKDATE_MS);
  return { notBefore, notAfter: v?.notAfter ?? new Date(notBefore.getTime() + DEFAULT_LIFETIME_MS) };
}

export function toPem(der: Uint8Array): Uint8Array {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return new Uint8Array(Buffer.from(`-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`));
}

/** A certificate with its private key (as node:crypto KeyObject for fast signing). */
export interface IssuedCertificate {
  cert: X509Certificate;
  der: Uint8Array;
  pem: Uint8Array;
  privateKey: KeyObject;
  serialHex: string;
}

export interface IssueOptions extends Validity {
  cn: string;
  /** Subject OUs, e.g. ['orderer'] for a NodeOU orderer. */
  ous?: string[];
  isCA?: boolean;
  /** Extended key usages (OIDs); none by default, as cryptogen's signing certificates. */
  extKeyUsages?: string[];
  /** Sign with this key instead of the CA's (a certificate the CA did not issue). */
  forgedSigner?: CryptoKey;
  /** A CA's basic-constraints path length (none by default: no limit). */
  pathLength?: number;
  /** Key usage flags (KeyUsageFlags) instead of the defaults (certSign | cRLSign for a CA, digitalSignature otherwise). */
  keyUsages?: number;
  /** Extensions added after the usual ones (an unknown critical one, name constraints, ...). */
  extensions?: Extension[];
  /** The hash the CA signs with (SHA-256 by default; SHA-1 for a certificate Go refuses as insecure). */
  signingHash?: 'SHA-1' | 'SHA-256';
}

/** What a root may carry beyond its validity. */
export interface RootOptions extends Validity {
  pathLength?: number;
}

export class TestCa {
  private constructor(
    readonly name: string,
    readonly certificate: IssuedCertificate,
    private readonly keys: CryptoKeyPair,
  ) {}

  get pem(): Uint8Array {
    return this.certificate.pem;
  }

  get der(): Uint8Array {
    return this.certificate.der;
  }

  static async root(name: string, validity?: RootOptions): Promise<TestCa> {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
    const w = window(validity);
    const serialHex = nextSerial();
    const cert = await X509CertificateGenerator.createSelfSigned({
      serialNumber: serialHex,
      name: `CN=${name}, O=${name}`,
      notBefore: w.notBefore,
      notAfter: w.notAfter,
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new BasicConstraintsExtension(true, validity?.pathLength, true),
        new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature, true),
        await SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new TestCa(name, issued(cert, keys.privateKey, serialHex), keys);
  }

  /** An intermediate CA issued by this CA (`opts` as for issue, e.g. a path length or name constraints). */
  async intermediate(name: string, opts?: Omit<IssueOptions, 'cn' | 'isCA'>): Promise<TestCa> {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
    const c = await this.sign({ ...opts, cn: name, isCA: true }, keys.publicKey);
    return new TestCa(name, issued(c.cert, keys.privateKey, c.serialHex), keys);
  }

  /**
   * A CA certificate of this CA for `other`'s name and key (a cross-certification): what `other` issued
   * then chains to this CA as well as to its own issuer.
   */
  async crossCertify(other: TestCa): Promise<IssuedCertificate> {
    const c = await this.sign({ cn: other.name, isCA: true }, other.keys.publicKey);
    return issued(c.cert, other.keys.privateKey, c.serialHex);
  }

  /** An end-entity (or CA, with isCA) certificate and its key. */
  async issue(opts: IssueOptions): Promise<IssuedCertificate> {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
    const c = await this.sign(opts, keys.publicKey);
    return issued(c.cert, keys.privateKey, c.serialHex);
  }

  private async sign(opts: IssueOptions, publicKey: CryptoKey): Promise<{ cert: X509Certificate; serialHex: string }> {
    const w = window(opts);
    const serialHex = nextSerial();
    const ous = (opts.ous ?? []).map((ou) => `, OU=${ou}`).join('');
    const extensions: Extension[] = [
      new BasicConstraintsExtension(opts.isCA ?? false, opts.pathLength, true),
      new KeyUsagesExtension(opts.keyUsages ?? (opts.isCA ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature), true),
      await SubjectKeyIdentifierExtension.create(publicKey),
      await AuthorityKeyIdentifierExtension.create(this.keys.publicKey),
      ...(opts.extensions ?? []),
    ];
    if (opts.extKeyUsages !== undefined) extensions.push(new ExtendedKeyUsageExtension(opts.extKeyUsages));
    const cert = await X509CertificateGenerator.create({
      serialNumber: serialHex,
      subject: `CN=${opts.cn}${ous}`,
      issuer: this.certificate.cert.subject,
      notBefore: w.notBefore,
      notAfter: w.notAfter,
      publicKey,
      signingKey: opts.forgedSigner ?? this.keys.privateKey,
      signingAlgorithm: opts.signingHash === undefined ? SIGNING : { ...SIGNING, hash: opts.signingHash },
      extensions,
    });
    return { cert, serialHex };
  }

  /** A CRL of this CA revoking the given certificates (DER), with its AKI as Fabric requires. */
  async crl(revoked: IssuedCertificate[]): Promise<Uint8Array> {
    const crl = await X509CrlGenerator.create({
      issuer: this.certificate.cert.subject,
      thisUpdate: new Date(Date.now() - DAY_MS),
      nextUpdate: new Date(Date.now() + 30 * DAY_MS),
      signingAlgorithm: SIGNING,
      signingKey: this.keys.privateKey,
      extensions: [await AuthorityKeyIdentifierExtension.create(this.keys.publicKey)],
      entries: revoked.map((r) => ({ serialNumber: r.serialHex, revocationDate: new Date(Date.now() - DAY_MS) })),
    });
    return new Uint8Array(crl.rawData);
  }
}

function issued(cert: X509Certificate, key: CryptoKey, serialHex: string): IssuedCertificate {
  const der = new Uint8Array(cert.rawData);
  return { cert, der, pem: toPem(der), privateKey: KeyObject.from(key), serialHex };
}
