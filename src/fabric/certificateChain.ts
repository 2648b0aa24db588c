// Go's x509 Certificate.Verify as Fabric's MSP calls it (Roots and Intermediates pools, CurrentTime set,
// no KeyUsages, so the default ServerAuth extended key usage applies), re-implemented: every chain from
// the leaf to a root is built (a parent is a pool certificate whose raw subject equals the child's raw
// issuer, that may sign and whose key verifies the child's signature); every certificate in a chain
// must be valid at the given time, intermediates must be CAs, path-length limits hold; a chain whose
// certificates' extended key usages exclude ServerAuth is dropped. Name constraints are not
// implemented: a CA that carries them is refused with that reason rather than accepted unchecked.
import { CertificateError, EKU, type ParsedCertificate } from './certificate.js';

/** Go's maxChainSignatureChecks. */
const MAX_CHAIN_SIGNATURE_CHECKS = 100;

type CertRole = 'leaf' | 'intermediate' | 'root';

export interface ChainPools {
  roots: readonly ParsedCertificate[];
  intermediates: readonly ParsedCertificate[];
}

function describe(c: ParsedCertificate): string {
  return c.subjectText;
}

function isValidAt(c: ParsedCertificate, role: CertRole, chain: readonly ParsedCertificate[], atMs: number): void {
  if (c.unhandledCriticalExtensions.length > 0) {
    throw new CertificateError(`x509: unhandled critical extension (${c.unhandledCriticalExtensions.join(', ')}) in ${describe(c)}`);
  }
  if (atMs < c.notBeforeMs || atMs > c.notAfterMs) {
    throw new CertificateError(`x509: certificate has expired or is not yet valid: ${describe(c)} is valid from `
      + `${new Date(c.notBeforeMs).toISOString()} to ${new Date(c.notAfterMs).toISOString()}, not at ${new Date(atMs).toISOString()}`);
  }
  if (role !== 'leaf' && c.hasNameConstraints) {
    throw new CertificateError(`name constraints are not supported (CA ${describe(c)} carries them)`);
  }
  if (role === 'intermediate' && (!c.basicConstraintsValid || !c.isCA)) {
    throw new CertificateError(`x509: certificate is not authorized to sign other certificates (${describe(c)})`);
  }
  if (role !== 'leaf' && c.basicConstraintsValid && c.maxPathLen >= 0 && chain.length - 1 > c.maxPathLen) {
    throw new CertificateError(`x509: too many intermediates for path length constraint (${describe(c)})`);
  }
}

function alreadyInChain(candidate: ParsedCertificate, chain: readonly ParsedCertificate[]): boolean {
  for (const c of chain) {
    if (Buffer.compare(Buffer.from(candidate.rawSubject), Buffer.from(c.rawSubject)) !== 0) continue;
    if (candidate.spkiHex !== c.spkiHex) continue;
    if (candidate.subjectAltNameHex === null && c.subjectAltNameHex === null) return true;
    if (candidate.subjectAltNameHex === null || c.subjectAltNameHex === null) return false;
    if (candidate.subjectAltNameHex === c.subjectAltNameHex) return true;
  }
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** Go's checkChainForKeyUsage with the requested usage ServerAuth. */
function chainAllowsServerAuth(chain: readonly ParsedCertificate[]): boolean {
  for (let i = chain.length - 1; i >= 0; i--) {
    const ekus = chain[i]!.extKeyUsage;
    if (ekus.length === 0 || ekus.includes(EKU.any)) continue;
    if (!ekus.some((u) => u === EKU.serverAuth || u === EKU.netscapeServerGatedCrypto || u === EKU.microsoftServerGatedCrypto)) return false;
  }
  return true;
}

class ChainBuilder {
  private sigChecks = 0;
  private hint: Error | null = null;

  constructor(private readonly pools: ChainPools, private readonly atMs: number) {}

  build(chain: ParsedCertificate[]): ParsedCertificate[][] {
    const c = chain[chain.length - 1]!;
    const out: ParsedCertificate[][] = [];
    const consider = (role: CertRole, candidate: ParsedCertificate): void => {
      if (alreadyInChain(candidate, chain)) return;
      if (++this.sigChecks > MAX_CHAIN_SIGNATURE_CHECKS) {
        throw new CertificateError('x509: signature check attempts limit reached while verifying certificate chain');
      }
      try {
        c.checkSignatureFrom(candidate);
        isValidAt(candidate, role, chain, this.atMs);
      } catch (err) {
        this.hint ??= err as Error;
        return;
      }
      if (role === 'root') out.push([...chain, candidate]);
      else out.push(...this.build([...chain, candidate]));
    };
    for (const r of this.pools.roots) if (sameBytes(r.rawSubject, c.rawIssuer)) consider('root', r);
    for (const i of this.pools.intermediates) if (sameBytes(i.rawSubject, c.rawIssuer)) consider('intermediate', i);
    return out;
  }

  unknownAuthority(leaf: ParsedCertificate): CertificateError {
    const because = this.hint === null ? '' : ` (possibly because of "${this.hint.message}" while trying to verify candidate authority certificate)`;
    return new CertificateError(`x509: certificate signed by unknown authority${because}: ${describe(leaf)}`);
  }
}

/**
 * Every verified chain from `leaf` (chain[0]) to a root, judged at `atMs`. Throws like Go's Verify when
 * there is none.
 */
export function verifyChains(leaf: ParsedCertificate, pools: ChainPools, atMs: number): ParsedCertificate[][] {
  isValidAt(leaf, 'leaf', [], atMs);
  let chains: ParsedCertificate[][];
  if (pools.roots.some((r) => sameBytes(r.der, leaf.der))) {
    chains = [[leaf]];
  } else {
    const builder = new ChainBuilder(pools, atMs);
    chains = builder.build([leaf]);
    if (chains.length === 0) throw builder.unknownAuthority(leaf);
  }
  const usable = chains.filter(chainAllowsServerAuth);
  if (usable.length === 0) throw new CertificateError('x509: certificate specifies an incompatible key usage');
  return usable;
}
