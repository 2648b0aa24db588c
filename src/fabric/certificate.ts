// An X.509 certificate with what Fabric's MSP and Go's x509 chain building read from it, parsed once:
// node:crypto for the key and signature checks, @peculiar/x509 for extensions and names, src/fabric/der.ts
// for the raw spans Go compares byte for byte (issuer, subject, TBS, signature).
import { X509Certificate as NodeCertificate, type KeyObject, createHash } from 'node:crypto';
import {
  AuthorityKeyIdentifierExtension, BasicConstraintsExtension, ExtendedKeyUsageExtension, KeyUsagesExtension,
  X509Certificate as PeculiarCertificate, SubjectKeyIdentifierExtension,
} from './x509Library.js';
import { type CertificateSpans, DerError, algorithmOid, bitStringBytes, certificateSpans, integerValue } from './der.js';

export class CertificateError extends Error {}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  organizationalUnit: '2.5.4.11',
} as const;

/** Critical extensions Go's x509 parser understands; any other critical one fails verification. */
const HANDLED_CRITICAL = new Set<string>([
  OID.subjectKeyIdentifier, OID.keyUsage, OID.subjectAltName, OID.basicConstraints, OID.nameConstraints,
  OID.crlDistributionPoints, OID.certificatePolicies, OID.authorityKeyIdentifier, OID.extKeyUsage, OID.authorityInfoAccess,
]);

/** Certificate signature algorithms Go's x509 verifies, with the hash node:crypto needs (null: Ed25519). */
export const SIGNATURE_ALGORITHMS = new Map<string, { kind: 'ecdsa' | 'rsa' | 'ed25519'; hash: string | null }>([
  ['1.2.840.10045.4.3.2', { kind: 'ecdsa', hash: 'sha256' }],
  ['1.2.840.10045.4.3.3', { kind: 'ecdsa', hash: 'sha384' }],
  ['1.2.840.10045.4.3.4', { kind: 'ecdsa', hash: 'sha512' }],
  ['1.2.840.113549.1.1.11', { kind: 'rsa', hash: 'sha256' }],
  ['1.2.840.113549.1.1.12', { kind: 'rsa', hash: 'sha384' }],
  ['1.2.840.113549.1.1.13', { kind: 'rsa', hash: 'sha512' }],
  ['1.3.101.112', { kind: 'ed25519', hash: null }],
]);

/** SHA-1 and MD5 signatures: Go (1.18+) refuses them, as Fabric built with it does. */
const INSECURE_SIGNATURE_ALGORITHMS = new Set(['1.2.840.10045.4.1', '1.2.840.113549.1.1.5', '1.2.840.113549.1.1.4', '1.2.840.113549.1.1.2']);

/** KeyUsage bits as Go numbers them (KeyUsageCertSign = 1 << 5). */
export const KEY_USAGE_CERT_SIGN = 1 << 5;

export const EKU = {
  any: '2.5.29.37.0',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  netscapeServerGatedCrypto: '2.16.840.1.113730.4.1',
  microsoftServerGatedCrypto: '1.3.6.1.4.1.311.10.3.3',
} as const;

export class ParsedCertificate {
  readonly der: Uint8Array;
  readonly spans: CertificateSpans;
  readonly node: NodeCertificate;
  readonly publicKey: KeyObject;
  /** 'ec' (with namedCurve), 'rsa', 'ed25519', ... as node:crypto names it. */
  readonly keyType: string;
  readonly namedCurve: string | undefined;
  readonly rawSubject: Uint8Array;
  readonly rawIssuer: Uint8Array;
  /** SubjectPublicKeyInfo DER in hex: equal keys have equal SPKI. */
  readonly spkiHex: string;
  readonly serial: bigint;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  readonly version: number;
  readonly signatureAlgorithmOid: string;
  readonly signature: Uint8Array;
  readonly basicConstraintsValid: boolean;
  readonly isCA: boolean;
  /** -1: no limit. */
  readonly maxPathLen: number;
  /** Go's KeyUsage bit set; 0 when the extension is absent. */
  readonly keyUsage: number;
  /** Extended key usage OIDs; empty when the extension is absent. */
  readonly extKeyUsage: readonly string[];
  readonly subjectKeyId: string | null;
  readonly authorityKeyId: string | null;
  readonly organizationalUnits: readonly string[];
  readonly hasNameConstraints: boolean;
  /** The SAN extension's value in hex, or null (Go's alreadyInChain compares it). */
  readonly subjectAltNameHex: string | null;
  readonly unhandledCriticalExtensions: readonly string[];
  readonly commonName: string;
  readonly subjectText: string;

  constructor(der: Uint8Array) {
    try {
      this.der = der;
      this.spans = certificateSpans(der);
      this.node = new NodeCertificate(der);
    } catch (err) {
      throw new CertificateError(`x509: malformed certificate: ${(err as Error).message}`);
    }
    const p = new PeculiarCertificate(der);
    const s = this.spans;
    this.publicKey = this.node.publicKey;
    this.keyType = this.publicKey.asymmetricKeyType ?? 'unknown';
    this.namedCurve = this.publicKey.asymmetricKeyDetails?.namedCurve;
    this.rawSubject = der.subarray(s.subject.start, s.subject.end);
    this.rawIssuer = der.subarray(s.issuer.start, s.issuer.end);
    this.spkiHex = Buffer.from(der.subarray(s.spki.start, s.spki.end)).toString('hex');
    this.serial = integerValue(der.subarray(s.serial.contentStart, s.serial.end));
    this.notBeforeMs = p.notBefore.getTime();
    this.notAfterMs = p.notAfter.getTime();
    this.version = der[s.tbs.contentStart] === 0xa0 ? der[s.tbs.contentStart + 4]! + 1 : 1;
    this.signatureAlgorithmOid = algorithmOid(der, s.signatureAlgorithm);
    this.signature = bitStringBytes(der, s.signatureValue);

    const bc = p.getExtension(BasicConstraintsExtension);
    this.basicConstraintsValid = bc !== null;
    this.isCA = bc?.ca ?? false;
    this.maxPathLen = bc?.pathLength ?? -1;
    this.keyUsage = p.getExtension(KeyUsagesExtension)?.usages ?? 0;
    this.extKeyUsage = (p.getExtension(ExtendedKeyUsageExtension)?.usages ?? []).map(String);
    this.subjectKeyId = p.getExtension(SubjectKeyIdentifierExtension)?.keyId ?? null;
    this.authorityKeyId = p.getExtension(AuthorityKeyIdentifierExtension)?.keyId ?? null;
    this.organizationalUnits = p.subjectName.getField(OID.organizationalUnit);
    this.commonName = p.subjectName.getField('CN')[0] ?? '';
    this.subjectText = p.subject;
    const exts = p.extensions;
    this.hasNameConstraints = exts.some((e) => e.type === OID.nameConstraints);
    const san = exts.find((e) => e.type === OID.subjectAltName);
    this.subjectAltNameHex = san === undefined ? null : Buffer.from(san.value).toString('hex');
    this.unhandledCriticalExtensions = exts.filter((e) => e.critical && !HANDLED_CRITICAL.has(e.type)).map((e) => e.type);
  }

  /** Whether this certificate's signature algorithm is ECDSA (Fabric sanitizes those to low-S). */
  get isEcdsaSigned(): boolean {
    return SIGNATURE_ALGORITHMS.get(this.signatureAlgorithmOid)?.kind === 'ecdsa' || this.signatureAlgorithmOid === '1.2.840.10045.4.1';
  }

  /** SHA-256 of the DER (hex), a cache key. */
  get fingerprint(): string {
    return createHash('sha256').update(this.der).digest('hex');
  }

  equals(other: ParsedCertificate): boolean {
    return Buffer.compare(Buffer.from(this.der), Buffer.from(other.der)) === 0;
  }

  /**
   * Go's CheckSignatureFrom: the parent may sign certificates (a v3 parent needs CA basic constraints;
   * a key usage, when present, must include certSign) and its key verifies this certificate's signature
   * with an algorithm Go accepts. Throws with Go's wording.
   */
  checkSignatureFrom(parent: ParsedCertificate): void {
    if ((parent.version === 3 && !parent.basicConstraintsValid) || (parent.basicConstraintsValid && !parent.isCA)) {
      throw new CertificateError('x509: invalid signature: parent certificate cannot sign this kind of certificate');
    }
    if (parent.keyUsage !== 0 && (parent.keyUsage & KEY_USAGE_CERT_SIGN) === 0) {
      throw new CertificateError('x509: invalid signature: parent certificate cannot sign this kind of certificate');
    }
    if (INSECURE_SIGNATURE_ALGORITHMS.has(this.signatureAlgorithmOid)) {
      throw new CertificateError(`x509: cannot verify signature: insecure algorithm ${this.signatureAlgorithmOid}`);
    }
    if (!SIGNATURE_ALGORITHMS.has(this.signatureAlgorithmOid)) {
      throw new CertificateError(`x509: cannot verify signature: algorithm unimplemented (${this.signatureAlgorithmOid})`);
    }
    let ok: boolean;
    try {
      ok = this.node.verify(parent.publicKey);
    } catch {
      ok = false;
    }
    if (!ok) throw new CertificateError('x509: ECDSA verification failure');
  }
}

/** Parses a DER certificate, turning any parser failure into a CertificateError. */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  try {
    return new ParsedCertificate(der);
  } catch (err) {
    if (err instanceof CertificateError) throw err;
    throw new CertificateError(`x509: malformed certificate: ${err instanceof DerError ? err.message : (err as Error).message}`);
  }
}

/**
 * Go's pem.Decode: the first PEM block anywhere in the input (any type), its base64 body decoded.
 * Returns null when there is none (Fabric: "could not decode the PEM structure").
 */
export function pemDecodeFirst(input: Uint8Array): { type: string; der: Uint8Array } | null {
  const text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  const m = /-----BEGIN ([^\r\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (m === null) return null;
  const body = m[2]!;
  // PEM headers ("Key: value" lines before a blank line) are allowed and skipped, as in Go.
  const lines = body.split(/\r?\n/);
  let i = 0;
  if (lines.some((l) => l.includes(':'))) {
    while (i < lines.length && lines[i]!.includes(':')) i++;
    if (i < lines.length && lines[i]!.trim() === '') i++;
  }
  const b64 = lines.slice(i).join('').replace(/[ \t]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return null;
  return { type: m[1]!, der: new Uint8Array(Buffer.from(b64, 'base64')) };
}

/** A certificate from a Fabric identity or MSP config field (PEM). */
export function certificateFromPem(pem: Uint8Array): ParsedCertificate {
  const block = pemDecodeFirst(pem);
  if (block === null) throw new CertificateError('could not decode the PEM structure');
  return parseCertificate(block.der);
}
