// Fabric's X.509 MSP (msp/mspimpl.go, mspimplsetup.go, mspimplvalidate.go, identities.go, cert.go),
// re-implemented for verification only (no signing identity): set up from a channel's FabricMSPConfig,
// deserialize identities, validate them and test them against principals, with the behaviour of the
// MSP version the channel's capabilities select (1.0, 1.1, 1.3, 1.4.3; 3.0 is 1.4.3's rules here, its
// Ed25519 identities are refused). The rules that matter most:
// - An identity is valid when its certificate (not a CA) has exactly one chain to a root of the MSP,
//   built at the certificate's own NotBefore (+1 s): an expired certificate stays valid, as in Fabric;
//   the chain's first CA must be a leaf of the MSP's CA tree (a root that has intermediates may not
//   sign identities directly); no CRL from that CA lists its serial; and its OUs pass the OU rules.
// - Certificates signed with a high-S ECDSA signature are rewritten to low-S before anything compares
//   or hashes them (sanitizeCert), so identity ids and certifier ids match Fabric's.
// Validation results are cached per identity, so a block costs one ECDSA verify once its signer is known.
import { createHash, verify as cryptoVerify } from 'node:crypto';
import { AuthorityKeyIdentifierExtension, X509Crl } from './x509Library.js';
import { msp as mspProto } from '@hyperledger/fabric-protos';
import { CertificateError, ParsedCertificate, SIGNATURE_ALGORITHMS, certificateFromPem, pemDecodeFirst, parseCertificate } from './certificate.js';
import { verifyChains } from './certificateChain.js';
import { bitStringBytes, crlSpans, ecdsaSignatureValues, encodeEcdsaSignature, withCertificateSignature, algorithmOid } from './der.js';
import { type SignatureHashFamily, SignatureError, curveOrder, toLowS, verifyFabricSignature } from './ecdsaVerify.js';

export class MspError extends Error {}

/** MSP behaviour levels, in order (Fabric's MSPVersion). */
export const MSP_VERSIONS = ['1.0', '1.1', '1.3', '1.4.3', '3.0'] as const;
export type MspVersion = (typeof MSP_VERSIONS)[number];

function atLeast(v: MspVersion, min: MspVersion): boolean {
  return MSP_VERSIONS.indexOf(v) >= MSP_VERSIONS.indexOf(min);
}

/** Go's NotBefore + 1 s: the instant certificates are judged at (FAB-3678). */
const VALIDITY_OFFSET_MS = 1000;

const IDENTIFIER_HASHES: Record<string, string> = { SHA256: 'sha256', SHA384: 'sha384', SHA3_256: 'sha3-256', SHA3_384: 'sha3-384' };

const Role = mspProto.MSPRole.MSPRoleType;
const Classification = mspProto.MSPPrincipal.Classification;
const ROLE_NAMES = ['MEMBER', 'ADMIN', 'CLIENT', 'PEER', 'ORDERER'];

interface OUIdentifier {
  ou: string;
  /** Empty: any certification path. */
  certifiers: Uint8Array;
}

interface Crl {
  aki: string | null;
  revokedSerials: Set<bigint>;
  tbs: Uint8Array;
  signature: Uint8Array;
  signatureAlgorithmOid: string;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Decodes a principal's (or config's) message, turning a failure into Fabric's "could not unmarshal" error. */
function decodeAs<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new MspError(`could not unmarshal ${what}: ${(err as Error).message}`);
  }
}

function ouText(ous: readonly { ou: string }[]): string {
  return `[${ous.map((o) => o.ou).join(' ')}]`;
}

/** An identity of one MSP, with its validation cached. */
export class MspIdentity {
  private validation: Error | null | undefined;
  private ousCache: OUIdentifier[] | undefined;
  private readonly principalResults = new Map<string, Error | null>();

  constructor(
    readonly msp: FabricMsp,
    /** The sanitized (low-S) certificate. */
    readonly cert: ParsedCertificate,
    /** Hex of the identifier hash of the sanitized certificate (Fabric's IdentityIdentifier.Id). */
    readonly id: string,
  ) {}

  get mspId(): string {
    return this.msp.name;
  }

  /** Dedup key of Fabric's SignatureSetToValidIdentities. */
  get key(): string {
    return this.msp.name + this.id;
  }

  /** Throws why the identity is not valid for its MSP (cached). */
  validate(): void {
    if (this.validation === undefined) {
      try {
        this.msp.validateIdentity(this);
        this.validation = null;
      } catch (err) {
        this.validation = err as Error;
      }
    }
    if (this.validation !== null) throw this.validation;
  }

  organizationalUnits(): OUIdentifier[] {
    if (this.ousCache === undefined) {
      let certifiers: Uint8Array | null = null;
      try {
        certifiers = this.msp.certificationChainIdentifier(this);
      } catch {
        certifiers = null;
      }
      this.ousCache = certifiers === null ? [] : this.cert.organizationalUnits.map((ou) => ({ ou, certifiers: certifiers! }));
    }
    return this.ousCache;
  }

  /** Fabric's identity.Verify: false when the signature does not verify; throws SignatureError when refused outright. */
  verify(message: Uint8Array, signature: Uint8Array): boolean {
    return verifyFabricSignature(this.cert.publicKey, message, signature, this.msp.signatureHashFamily);
  }

  /** Throws when the identity does not satisfy `principal` (cached per principal bytes). */
  satisfiesPrincipal(principal: mspProto.MSPPrincipal): void {
    const k = `${principal.getPrincipalClassification()}:${hex(principal.getPrincipal_asU8())}`;
    let r = this.principalResults.get(k);
    if (r === undefined) {
      try {
        this.msp.satisfiesPrincipal(this, principal);
        r = null;
      } catch (err) {
        r = err as Error;
      }
      this.principalResults.set(k, r);
    }
    if (r !== null) throw r;
  }

  describe(): string {
    return `${this.msp.name} ${this.cert.subjectText}`;
  }
}

export class FabricMsp {
  readonly name: string;
  readonly version: MspVersion;
  signatureHashFamily: SignatureHashFamily = 'SHA2';
  private identifierHash = 'sha256';
  private roots: ParsedCertificate[] = [];
  private intermediates: ParsedCertificate[] = [];
  /** Raw DER (hex) of CAs that issued another CA of this MSP: they may not sign identities. */
  private internalNodes = new Set<string>();
  private admins: MspIdentity[] = [];
  private crls: Crl[] = [];
  private ouIdentifiers = new Map<string, Uint8Array[]>();
  private ouEnforcement = false;
  private clientOU: OUIdentifier | null = null;
  private peerOU: OUIdentifier | null = null;
  private adminOU: OUIdentifier | null = null;
  private ordererOU: OUIdentifier | null = null;

  /** Sets up an MSP of type FABRIC from its FabricMSPConfig bytes; throws MspError with Fabric's reason. */
  constructor(fabricConfig: Uint8Array, version: MspVersion) {
    let conf: mspProto.FabricMSPConfig;
    try {
      conf = mspProto.FabricMSPConfig.deserializeBinary(fabricConfig);
    } catch (err) {
      throw new MspError(`failed unmarshalling fabric msp config: ${(err as Error).message}`);
    }
    this.name = conf.getName();
    this.version = version;
    try {
      this.setup(conf);
    } catch (err) {
      if (err instanceof MspError) throw err;
      throw new MspError(`MSP ${this.name}: ${(err as Error).message}`);
    }
  }

  private setup(conf: mspProto.FabricMSPConfig): void {
    this.setupCrypto(conf);
    this.setupCAs(conf);
    const v142 = atLeast(this.version, '1.4.3');
    if (!v142) this.setupAdmins(conf);
    this.setupCRLs(conf);
    this.finalizeSetupCAs();
    this.setupTLSCAs(conf);
    this.setupOUs(conf);
    if (v142) {
      this.setupNodeOUsV142(conf);
      this.setupAdmins(conf);
      this.postSetupV142();
    } else if (atLeast(this.version, '1.1')) {
      this.setupNodeOUsV11(conf);
      this.postSetupV11();
    } else {
      this.postSetupV1();
    }
  }

  private setupCrypto(conf: mspProto.FabricMSPConfig): void {
    const cc = conf.getCryptoConfig();
    const family = cc?.getSignatureHashFamily() || 'SHA2';
    if (family !== 'SHA2' && family !== 'SHA3') throw new MspError(`MSP ${this.name}: hash family not recognized [${family}]`);
    this.signatureHashFamily = family;
    const idHash = cc?.getIdentityIdentifierHashFunction() || 'SHA256';
    const node = IDENTIFIER_HASHES[idHash];
    if (node === undefined) throw new MspError(`MSP ${this.name}: identity identifier hash function not recognized [${idHash}]`);
    this.identifierHash = node;
  }

  private certFromConf(pem: Uint8Array): ParsedCertificate {
    if (pem.length === 0) throw new MspError('getCertFromPem error: nil idBytes');
    try {
      return certificateFromPem(pem);
    } catch (err) {
      throw new MspError(`getCertFromPem error: ${(err as Error).message}`);
    }
  }

  private setupCAs(conf: mspProto.FabricMSPConfig): void {
    const rootPems = conf.getRootCertsList_asU8();
    if (rootPems.length === 0) throw new MspError(`MSP ${this.name}: expected at least one CA certificate`);
    // Sanitizing needs the pools; it runs against the certificates as given, then the pools are rebuilt
    // from the sanitized ones.
    this.roots = rootPems.map((p) => this.certFromConf(p));
    this.intermediates = conf.getIntermediateCertsList_asU8().map((p) => this.certFromConf(p));
    const roots = this.roots.map((c) => this.sanitize(c));
    const intermediates = this.intermediates.map((c) => this.sanitize(c));
    this.roots = roots;
    this.intermediates = intermediates;
  }

  private setupAdmins(conf: mspProto.FabricMSPConfig): void {
    this.admins = conf.getAdminsList_asU8().map((p) => this.identityFromCert(this.certFromConf(p)));
  }

  private setupCRLs(conf: mspProto.FabricMSPConfig): void {
    this.crls = conf.getRevocationListList_asU8().map((raw) => {
      let der = raw;
      if (Buffer.from(raw.subarray(0, 19)).toString('latin1') === '-----BEGIN X509 CRL') {
        const block = pemDecodeFirst(raw);
        if (block === null) throw new MspError(`MSP ${this.name}: could not parse RevocationList`);
        der = block.der;
      }
      try {
        const crl = new X509Crl(der);
        const spans = crlSpans(der);
        return {
          aki: crl.getExtension(AuthorityKeyIdentifierExtension)?.keyId ?? null,
          revokedSerials: new Set(crl.entries.map((e) => BigInt(`0x${e.serialNumber || '0'}`))),
          tbs: der.subarray(spans.tbs.start, spans.tbs.end),
          signature: bitStringBytes(der, spans.signatureValue),
          signatureAlgorithmOid: algorithmOid(der, spans.signatureAlgorithm),
        };
      } catch (err) {
        throw new MspError(`MSP ${this.name}: could not parse RevocationList: ${(err as Error).message}`);
      }
    });
  }

  private finalizeSetupCAs(): void {
    for (const ca of [...this.roots, ...this.intermediates]) {
      this.checkCaShape(ca);
      try {
        const chain = this.uniqueChain(ca);
        if (chain.length > 1) this.checkRevocation(ca, chain);
      } catch (err) {
        throw new MspError(`MSP ${this.name}: CA Certificate is not valid, (SN: ${ca.serial}): ${(err as Error).message}`);
      }
    }
    this.internalNodes = new Set();
    for (const ca of this.intermediates) {
      const chain = this.uniqueChain(ca);
      for (let i = 1; i < chain.length; i++) this.internalNodes.add(hex(chain[i]!.der));
    }
  }

  /** A CA of the MSP (or of its TLS CAs) must be a CA and carry a subject key identifier. */
  private checkCaShape(ca: ParsedCertificate): void {
    const sn = ca.serial.toString(16);
    if (!ca.isCA) throw new MspError(`MSP ${this.name}: CA Certificate did not have the CA attribute, (SN: ${sn})`);
    if (ca.subjectKeyId === null) {
      throw new MspError(`MSP ${this.name}: CA Certificate problem with Subject Key Identifier extension, (SN: ${sn}): subjectKeyIdentifier not found in certificate`);
    }
  }

  private setupTLSCAs(conf: mspProto.FabricMSPConfig): void {
    const roots = conf.getTlsRootCertsList_asU8().map((p) => this.certFromConf(p));
    const intermediates = conf.getTlsIntermediateCertsList_asU8().map((p) => this.certFromConf(p));
    for (const ca of [...roots, ...intermediates]) {
      this.checkCaShape(ca);
      try {
        const chains = verifyChains(ca, { roots, intermediates }, ca.notBeforeMs + VALIDITY_OFFSET_MS);
        if (chains.length !== 1) throw new MspError(`this MSP only supports a single validation chain, got ${chains.length}`);
        if (chains[0]!.length > 1) this.checkRevocation(ca, chains[0]!);
      } catch (err) {
        throw new MspError(`MSP ${this.name}: CA Certificate is not valid, (SN: ${ca.serial}): ${(err as Error).message}`);
      }
    }
  }

  private setupOUs(conf: mspProto.FabricMSPConfig): void {
    this.ouIdentifiers = new Map();
    for (const ou of conf.getOrganizationalUnitIdentifiersList()) {
      let certifiers: Uint8Array;
      try {
        certifiers = this.certifiersIdentifier(ou.getCertificate_asU8());
      } catch (err) {
        throw new MspError(`MSP ${this.name}: failed getting certificate for [${ou.getOrganizationalUnitIdentifier()}]: ${(err as Error).message}`);
      }
      const list = this.ouIdentifiers.get(ou.getOrganizationalUnitIdentifier()) ?? [];
      if (!list.some((c) => bytesEqual(c, certifiers))) list.push(certifiers);
      this.ouIdentifiers.set(ou.getOrganizationalUnitIdentifier(), list);
    }
  }

  private nodeOU(id: mspProto.FabricOUIdentifier | undefined): OUIdentifier | null {
    if (id === undefined) return null;
    const cert = id.getCertificate_asU8();
    return { ou: id.getOrganizationalUnitIdentifier(), certifiers: cert.length === 0 ? new Uint8Array(0) : this.certifiersIdentifier(cert) };
  }

  private setupNodeOUsV11(conf: mspProto.FabricMSPConfig): void {
    const n = conf.getFabricNodeOus();
    if (n === undefined) { this.ouEnforcement = false; return; }
    this.ouEnforcement = n.getEnable();
    if (n.getClientOuIdentifier() === undefined) throw new MspError(`MSP ${this.name}: Failed setting up NodeOUs. ClientOU must be different from nil.`);
    if (n.getPeerOuIdentifier() === undefined) throw new MspError(`MSP ${this.name}: Failed setting up NodeOUs. PeerOU must be different from nil.`);
    this.clientOU = this.nodeOU(n.getClientOuIdentifier());
    this.peerOU = this.nodeOU(n.getPeerOuIdentifier());
  }

  private setupNodeOUsV142(conf: mspProto.FabricMSPConfig): void {
    const n = conf.getFabricNodeOus();
    if (n === undefined) { this.ouEnforcement = false; return; }
    this.ouEnforcement = n.getEnable();
    this.clientOU = this.nodeOU(n.getClientOuIdentifier());
    this.peerOU = this.nodeOU(n.getPeerOuIdentifier());
    this.adminOU = this.nodeOU(n.getAdminOuIdentifier());
    this.ordererOU = this.nodeOU(n.getOrdererOuIdentifier());
    if (this.clientOU === null && this.peerOU === null && this.adminOU === null && this.ordererOU === null) this.ouEnforcement = false;
  }

  private postSetupV1(): void {
    this.admins.forEach((admin, i) => {
      try {
        admin.validate();
      } catch (err) {
        throw new MspError(`MSP ${this.name}: admin ${i} is invalid: ${(err as Error).message}`);
      }
    });
  }

  private postSetupV11(): void {
    if (!this.ouEnforcement) { this.postSetupV1(); return; }
    this.admins.forEach((admin, i) => {
      try {
        admin.validate();
        this.hasOURole(admin, Role.CLIENT);
      } catch (err) {
        throw new MspError(`MSP ${this.name}: admin ${i} is invalid: ${(err as Error).message}`);
      }
    });
  }

  private postSetupV142(): void {
    if (!this.ouEnforcement) { this.postSetupV1(); return; }
    this.admins.forEach((admin, i) => {
      const e1 = this.roleError(admin, Role.CLIENT);
      const e2 = this.roleError(admin, Role.ADMIN);
      if (e1 !== null && e2 !== null) throw new MspError(`MSP ${this.name}: admin ${i} is invalid [${e1.message},${e2.message}]`);
    });
  }

  private roleError(id: MspIdentity, role: number): Error | null {
    try {
      this.hasOURole(id, role);
      return null;
    } catch (err) {
      return err as Error;
    }
  }

  // ---- certificates and chains ----

  private hashChain(chain: readonly ParsedCertificate[]): Uint8Array {
    const h = createHash(this.identifierHash);
    for (const c of chain) h.update(c.der);
    return h.digest();
  }

  /** The unique chain from `cert` in this MSP's pools, judged at its NotBefore + 1 s. */
  private uniqueChain(cert: ParsedCertificate): ParsedCertificate[] {
    const chains = verifyChains(cert, { roots: this.roots, intermediates: this.intermediates }, cert.notBeforeMs + VALIDITY_OFFSET_MS);
    if (chains.length !== 1) throw new MspError(`this MSP only supports a single validation chain, got ${chains.length}`);
    return chains[0]!;
  }

  /** getValidationChain: at least [cert, parent], the parent (or, for an intermediate's chain, the cert) a leaf CA. */
  private validationChain(cert: ParsedCertificate, intermediateChain: boolean): ParsedCertificate[] {
    let chain: ParsedCertificate[];
    try {
      chain = this.uniqueChain(cert);
    } catch (err) {
      throw new MspError(`failed getting validation chain: the supplied identity is not valid: ${(err as Error).message}`);
    }
    if (chain.length < 2) throw new MspError(`expected a chain of length at least 2, got ${chain.length}`);
    const parent = chain[intermediateChain ? 0 : 1]!;
    if (this.internalNodes.has(hex(parent.der))) {
      throw new MspError('invalid validation chain. Parent certificate should be a leaf of the certification tree');
    }
    return chain;
  }

  private identityChain(id: MspIdentity): ParsedCertificate[] {
    if (id.cert.isCA) {
      throw new MspError('An X509 certificate with Basic Constraint: Certificate Authority equals true cannot be used as an identity');
    }
    return this.validationChain(id.cert, false);
  }

  /** Hash of the identity's chain without itself (OUIdentifier.CertifiersIdentifier). */
  certificationChainIdentifier(id: MspIdentity): Uint8Array {
    return this.hashChain(this.identityChain(id).slice(1));
  }

  /** getCertifiersIdentifier: the certificate must be one of this MSP's CAs; hash of its chain. */
  private certifiersIdentifier(pem: Uint8Array): Uint8Array {
    const cert = this.sanitize(this.certFromConf(pem));
    const isRoot = this.roots.some((r) => r.equals(cert));
    if (!isRoot && !this.intermediates.some((r) => r.equals(cert))) {
      throw new MspError(`Failed adding OU. Certificate [${cert.subjectText}] not in root or intermediate certs.`);
    }
    return this.hashChain(isRoot ? [cert] : this.validationChain(cert, true));
  }

  /** Fabric's sanitizeCert: an ECDSA-signed certificate is re-encoded with a low-S signature. */
  private sanitize(cert: ParsedCertificate): ParsedCertificate {
    if (!cert.isEcdsaSigned) return cert;
    let selfSigned = false;
    if (cert.isCA) {
      try {
        cert.checkSignatureFrom(cert);
        selfSigned = true;
      } catch {
        selfSigned = false;
      }
    }
    if (selfSigned) {
      const sanitized = lowSCertificate(cert, cert);
      const chains = verifyChains(sanitized, { roots: [sanitized], intermediates: this.intermediates }, sanitized.notBeforeMs + VALIDITY_OFFSET_MS);
      if (chains.length !== 1) throw new MspError(`this MSP only supports a single validation chain, got ${chains.length}`);
      return sanitized;
    }
    const chain = this.uniqueChain(cert);
    if (chain.length < 2) throw new MspError(`expected a chain of length at least 2, got ${chain.length}`);
    return lowSCertificate(cert, chain[1]!);
  }

  private checkRevocation(cert: ParsedCertificate, chain: readonly ParsedCertificate[]): void {
    const signer = chain[1]!;
    const ski = signer.subjectKeyId;
    if (ski === null) throw new MspError('could not obtain Subject Key Identifier for signer cert: subjectKeyIdentifier not found in certificate');
    for (const crl of this.crls) {
      if (crl.aki === null) throw new MspError('could not obtain Authority Key Identifier for crl: authorityKeyIdentifier not found in certificate');
      if (crl.aki !== ski || !crl.revokedSerials.has(cert.serial)) continue;
      // Fabric counts the revocation only when the certificate's issuer signed the CRL.
      if (crlSignedBy(crl, signer)) throw new MspError('The certificate has been revoked');
    }
  }

  /** An identity for a certificate of this MSP (newIdentity: sanitized, id from the identifier hash). */
  identityFromCert(cert: ParsedCertificate): MspIdentity {
    const sanitized = this.sanitize(cert);
    return new MspIdentity(this, sanitized, createHash(this.identifierHash).update(sanitized.der).digest('hex'));
  }

  /** deserializeIdentityInternal: the PEM certificate of a SerializedIdentity of this MSP. */
  deserializeIdBytes(idBytes: Uint8Array): MspIdentity {
    const block = pemDecodeFirst(idBytes);
    if (block === null) throw new MspError('could not decode the PEM structure');
    let cert: ParsedCertificate;
    try {
      cert = parseCertificate(block.der);
    } catch (err) {
      throw new MspError(`parseCertificate failed: ${(err as Error).message}`);
    }
    if (cert.keyType === 'ed25519') throw new MspError('failed to import certificate\'s public key: Ed25519 identities (MSP 3.0) are not supported');
    if (cert.keyType !== 'ec') {
      throw new MspError(`failed to import certificate's public key: certificate's public key type ${cert.keyType} not recognized (ECDSA only)`);
    }
    if (curveOrder(cert.namedCurve) === undefined) throw new MspError(`failed to import certificate's public key: unsupported curve ${cert.namedCurve ?? '?'}`);
    try {
      return this.identityFromCert(cert);
    } catch (err) {
      throw new MspError(`the supplied identity is not valid: ${(err as Error).message}`);
    }
  }

  // ---- validation ----

  validateIdentity(id: MspIdentity): void {
    let chain: ParsedCertificate[];
    try {
      chain = this.identityChain(id);
    } catch (err) {
      throw new MspError(`could not obtain certification chain: ${(err as Error).message}`);
    }
    try {
      this.checkRevocation(id.cert, chain);
    } catch (err) {
      throw new MspError(`could not validate identity against certification chain: ${(err as Error).message}`);
    }
    try {
      if (atLeast(this.version, '1.4.3')) this.validateOUsV142(id);
      else if (atLeast(this.version, '1.1')) this.validateOUsV11(id);
      else this.validateOUsV1(id);
    } catch (err) {
      throw new MspError(`could not validate identity's OUs: ${(err as Error).message}`);
    }
  }

  private validateOUsV1(id: MspIdentity): void {
    if (this.ouIdentifiers.size === 0) return;
    const ous = id.organizationalUnits();
    const found = ous.some((ou) => (this.ouIdentifiers.get(ou.ou) ?? []).some((c) => bytesEqual(c, ou.certifiers)));
    if (found) return;
    if (ous.length === 0) throw new MspError('the identity certificate does not contain an Organizational Unit (OU)');
    throw new MspError(`none of the identity's organizational units ${ouText(ous)} are in MSP ${this.name}`);
  }

  private countNodeOUs(id: MspIdentity, valid: Map<string, OUIdentifier>): number {
    let counter = 0;
    for (const ou of id.organizationalUnits()) {
      const node = valid.get(ou.ou);
      if (node === undefined) continue;
      if (node.certifiers.length !== 0 && !bytesEqual(node.certifiers, ou.certifiers)) {
        throw new MspError(`certifiersIdentifier does not match: ${ouText(id.organizationalUnits())}, MSP: [${this.name}]`);
      }
      if (++counter > 1) break;
    }
    return counter;
  }

  private validateOUsV11(id: MspIdentity): void {
    if (!this.ouEnforcement) { this.validateOUsV1(id); return; }
    const valid = new Map<string, OUIdentifier>();
    for (const n of [this.clientOU, this.peerOU]) if (n !== null) valid.set(n.ou, n);
    if (this.countNodeOUs(id, valid) !== 1) {
      throw new MspError(`the identity must be a client or a peer identity to be valid, not a combination of them. OUs: ${ouText(id.organizationalUnits())}, MSP: [${this.name}]`);
    }
  }

  private validateOUsV142(id: MspIdentity): void {
    if (!this.ouEnforcement) { this.validateOUsV1(id); return; }
    const valid = new Map<string, OUIdentifier>();
    for (const n of [this.clientOU, this.peerOU, this.adminOU, this.ordererOU]) if (n !== null) valid.set(n.ou, n);
    if (this.countNodeOUs(id, valid) !== 1) {
      throw new MspError(`the identity must be a client, a peer, an orderer or an admin identity to be valid, not a combination of them. OUs: ${ouText(id.organizationalUnits())}, MSP: [${this.name}]`);
    }
  }

  private hasOURole(id: MspIdentity, role: number): void {
    if (!this.ouEnforcement) throw new MspError('NodeOUs not activated. Cannot tell apart identities.');
    let node: OUIdentifier | null;
    switch (role) {
      case Role.CLIENT: node = this.clientOU; break;
      case Role.PEER: node = this.peerOU; break;
      case Role.ADMIN: node = this.adminOU; break;
      case Role.ORDERER: node = this.ordererOU; break;
      default: throw new MspError('Invalid MSPRoleType. It must be CLIENT, PEER, ADMIN or ORDERER');
    }
    const name = ROLE_NAMES[role] ?? String(role);
    if (node === null) throw new MspError(`cannot test for classification, node ou for type [${name}], not defined, msp: [${this.name}]`);
    if (id.organizationalUnits().some((ou) => ou.ou === node.ou)) return;
    throw new MspError(`The identity does not contain OU [${name}], MSP: [${this.name}]`);
  }

  private isInAdmins(id: MspIdentity): boolean {
    return this.admins.some((a) => bytesEqual(a.cert.der, id.cert.der));
  }

  // ---- principals ----

  satisfiesPrincipal(id: MspIdentity, principal: mspProto.MSPPrincipal): void {
    for (const p of this.collectPrincipals(principal, 0)) {
      if (atLeast(this.version, '1.4.3')) this.satisfiesV142(id, p);
      else if (atLeast(this.version, '1.3')) this.satisfiesV13(id, p);
      else this.satisfiesPreV13(id, p);
    }
  }

  private collectPrincipals(principal: mspProto.MSPPrincipal, depth: number): mspProto.MSPPrincipal[] {
    if (principal.getPrincipalClassification() !== Classification.COMBINED) return [principal];
    if (!atLeast(this.version, '1.3')) throw new MspError(`invalid principal type ${Classification.COMBINED}`);
    if (depth > MAX_COMBINED_PRINCIPAL_DEPTH) throw new MspError('combined principals nested too deep');
    const combined = decodeAs('CombinedPrincipal from principal', () => mspProto.CombinedPrincipal.deserializeBinary(principal.getPrincipal_asU8()));
    const list = combined.getPrincipalsList();
    if (list.length === 0) throw new MspError('No principals in CombinedPrincipal');
    return list.flatMap((p) => this.collectPrincipals(p, depth + 1));
  }

  private role(principal: mspProto.MSPPrincipal, id: MspIdentity): mspProto.MSPRole {
    const role = decodeAs('MSPRole from principal', () => mspProto.MSPRole.deserializeBinary(principal.getPrincipal_asU8()));
    if (role.getMspIdentifier() !== this.name) {
      throw new MspError(`the identity is a member of a different MSP (expected ${role.getMspIdentifier()}, got ${id.mspId})`);
    }
    return role;
  }

  private satisfiesV142(id: MspIdentity, principal: mspProto.MSPPrincipal): void {
    if (principal.getPrincipalClassification() === Classification.ROLE && this.ouEnforcement) {
      const role = this.role(principal, id).getRole();
      if (role === Role.ADMIN) {
        if (this.isInAdmins(id)) return;
        this.validateWrapped(id);
        try {
          this.hasOURole(id, Role.ADMIN);
        } catch (err) {
          throw new MspError(`The identity is not an admin under this MSP [${this.name}]: ${(err as Error).message}`);
        }
        return;
      }
      if (role === Role.ORDERER) {
        this.validateWrapped(id);
        this.roleWrapped(id, role);
        return;
      }
    }
    this.satisfiesV13(id, principal);
  }

  private satisfiesV13(id: MspIdentity, principal: mspProto.MSPPrincipal): void {
    if (principal.getPrincipalClassification() === Classification.ANONYMITY) {
      const anon = decodeAs('MSPIdentityAnonymity from principal', () => mspProto.MSPIdentityAnonymity.deserializeBinary(principal.getPrincipal_asU8()));
      const t = anon.getAnonymityType();
      if (t === mspProto.MSPIdentityAnonymity.MSPIdentityAnonymityType.ANONYMOUS) {
        throw new MspError('Principal is anonymous, but X.509 MSP does not support anonymous identities');
      }
      if (t === mspProto.MSPIdentityAnonymity.MSPIdentityAnonymityType.NOMINAL) return;
      throw new MspError(`Unknown principal anonymity type: ${t}`);
    }
    this.satisfiesPreV13(id, principal);
  }

  private validateWrapped(id: MspIdentity): void {
    try {
      id.validate();
    } catch (err) {
      throw new MspError(`The identity is not valid under this MSP [${this.name}]: ${(err as Error).message}`);
    }
  }

  private roleWrapped(id: MspIdentity, role: number): void {
    try {
      this.hasOURole(id, role);
    } catch (err) {
      throw new MspError(`The identity is not a [${ROLE_NAMES[role]}] under this MSP [${this.name}]: ${(err as Error).message}`);
    }
  }

  private satisfiesPreV13(id: MspIdentity, principal: mspProto.MSPPrincipal): void {
    switch (principal.getPrincipalClassification()) {
      case Classification.ROLE: {
        const role = this.role(principal, id).getRole();
        switch (role) {
          case Role.MEMBER:
            id.validate();
            return;
          case Role.ADMIN:
            if (this.isInAdmins(id)) return;
            throw new MspError('This identity is not an admin');
          case Role.CLIENT:
          case Role.PEER:
            if (!atLeast(this.version, '1.1')) throw new MspError(`invalid MSP role type ${role}`);
            this.validateWrapped(id);
            this.roleWrapped(id, role);
            return;
          default:
            throw new MspError(`invalid MSP role type ${role}`);
        }
      }
      case Classification.IDENTITY: {
        let other: MspIdentity;
        try {
          const sid = mspProto.SerializedIdentity.deserializeBinary(principal.getPrincipal_asU8());
          if (sid.getMspid() !== this.name) throw new MspError(`expected MSP ID ${this.name}, received ${sid.getMspid()}`);
          other = this.deserializeIdBytes(sid.getIdBytes_asU8());
        } catch (err) {
          throw new MspError(`invalid identity principal, not a certificate: ${(err as Error).message}`);
        }
        if (bytesEqual(id.cert.der, other.cert.der)) { other.validate(); return; }
        throw new MspError('The identities do not match');
      }
      case Classification.ORGANIZATION_UNIT: {
        const ou = decodeAs('OrganizationUnit from principal', () => mspProto.OrganizationUnit.deserializeBinary(principal.getPrincipal_asU8()));
        if (ou.getMspIdentifier() !== this.name) {
          throw new MspError(`the identity is a member of a different MSP (expected ${ou.getMspIdentifier()}, got ${id.mspId})`);
        }
        id.validate();
        const want = ou.getCertifiersIdentifier_asU8();
        if (id.organizationalUnits().some((o) => o.ou === ou.getOrganizationalUnitIdentifier() && bytesEqual(o.certifiers, want))) return;
        throw new MspError('The identities do not match');
      }
      default:
        throw new MspError(`invalid principal type ${principal.getPrincipalClassification()}`);
    }
  }
}

/** Combined principals may nest without limit in Fabric; a bound keeps a hostile config from recursing deep. */
const MAX_COMBINED_PRINCIPAL_DEPTH = 32;

/** Whether `signer`'s key verifies the CRL's signature. */
function crlSignedBy(crl: Crl, signer: ParsedCertificate): boolean {
  const alg = SIGNATURE_ALGORITHMS.get(crl.signatureAlgorithmOid);
  if (alg === undefined) return false;
  try {
    return cryptoVerify(alg.hash, crl.tbs, signer.publicKey, crl.signature);
  } catch {
    return false;
  }
}

/** Fabric's sanitizeECDSASignedCert: the certificate re-encoded with a low-S signature (itself when already low-S and canonical). */
function lowSCertificate(cert: ParsedCertificate, parent: ParsedCertificate): ParsedCertificate {
  const curve = curveOrder(parent.namedCurve);
  if (parent.keyType !== 'ec' || curve === undefined) {
    throw new CertificateError(`cannot sanitize certificate ${cert.subjectText}: its issuer's key is not a supported ECDSA key`);
  }
  let rs: { r: bigint; s: bigint };
  try {
    rs = ecdsaSignatureValues(cert.signature);
  } catch (err) {
    throw new SignatureError(`failed unmarshalling certificate signature: ${(err as Error).message}`);
  }
  const expected = encodeEcdsaSignature(rs.r, toLowS(rs.s, curve.n));
  if (bytesEqual(expected, cert.signature)) return cert;
  return parseCertificate(withCertificateSignature(cert.der, cert.spans, expected));
}
