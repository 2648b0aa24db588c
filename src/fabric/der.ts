// The few DER structures Fabric's Go code compares or rewrites byte for byte, read in place: a
// certificate's TBS, raw issuer and subject names and signature (Go's x509 matches issuer to subject by
// raw bytes, and Fabric rewrites high-S certificate signatures into low-S form), a CRL's TBS and
// signature, and an ECDSA signature's (r, s) under Go's encoding/asn1 rules. Everything else in a
// certificate is read with @peculiar/x509.

export class DerError extends Error {}

export const DerTag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
} as const;

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** The content, [contentStart, end). */
  contentStart: number;
  end: number;
}

/** Reads one DER TLV at buf[pos] within `limit`: single-byte tags, minimal definite lengths. */
export function readTlv(buf: Uint8Array, pos: number, limit = buf.length): Tlv {
  if (pos + 2 > limit) throw new DerError('truncated DER element');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let len = buf[pos + 1]!;
  let contentStart = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (contentStart + n > limit) throw new DerError('truncated DER length');
    if (buf[contentStart] === 0) throw new DerError('non-minimal DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[contentStart + i]!;
    if (len < 0x80) throw new DerError('non-minimal DER length');
    contentStart += n;
  }
  if (contentStart + len > limit) throw new DerError('truncated DER content');
  return { tag, start: pos, contentStart, end: contentStart + len };
}

function expect(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${t.tag.toString(16)}`);
  return t;
}

/** The raw parts of a certificate Go's x509 compares byte for byte. */
export interface CertificateSpans {
  /** TBSCertificate, whole TLV (what the issuer signed). */
  tbs: Tlv;
  serial: Tlv;
  issuer: Tlv;
  subject: Tlv;
  /** SubjectPublicKeyInfo, whole TLV. */
  spki: Tlv;
  /** Outer signatureAlgorithm, whole TLV. */
  signatureAlgorithm: Tlv;
  /** Signature BIT STRING, whole TLV. */
  signatureValue: Tlv;
}

export function certificateSpans(der: Uint8Array): CertificateSpans {
  const outer = expect(readTlv(der, 0), DerTag.sequence, 'certificate');
  if (outer.end !== der.length) throw new DerError('trailing bytes after the certificate');
  const tbs = expect(readTlv(der, outer.contentStart, outer.end), DerTag.sequence, 'tbsCertificate');
  const signatureAlgorithm = expect(readTlv(der, tbs.end, outer.end), DerTag.sequence, 'signatureAlgorithm');
  const signatureValue = expect(readTlv(der, signatureAlgorithm.end, outer.end), DerTag.bitString, 'signatureValue');
  if (signatureValue.end !== outer.end) throw new DerError('trailing data in the certificate');
  let p = tbs.contentStart;
  let t = readTlv(der, p, tbs.end);
  if (t.tag === 0xa0) { p = t.end; t = readTlv(der, p, tbs.end); } // [0] version
  const serial = expect(t, DerTag.integer, 'serialNumber');
  const sigAlg = expect(readTlv(der, serial.end, tbs.end), DerTag.sequence, 'tbs signature');
  const issuer = expect(readTlv(der, sigAlg.end, tbs.end), DerTag.sequence, 'issuer');
  const validity = expect(readTlv(der, issuer.end, tbs.end), DerTag.sequence, 'validity');
  const subject = expect(readTlv(der, validity.end, tbs.end), DerTag.sequence, 'subject');
  const spki = expect(readTlv(der, subject.end, tbs.end), DerTag.sequence, 'subjectPublicKeyInfo');
  return { tbs, serial, issuer, subject, spki, signatureAlgorithm, signatureValue };
}

/** Content of a BIT STRING without its unused-bits byte (which must be 0 for a signature). */
export function bitStringBytes(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.end - t.contentStart < 1 || buf[t.contentStart] !== 0) throw new DerError('signature BIT STRING has unused bits');
  return buf.subarray(t.contentStart + 1, t.end);
}

/** The OID (dotted) at the start of an AlgorithmIdentifier SEQUENCE. */
export function algorithmOid(buf: Uint8Array, alg: Tlv): string {
  const oid = expect(readTlv(buf, alg.contentStart, alg.end), DerTag.oid, 'algorithm');
  return oidText(buf.subarray(oid.contentStart, oid.end));
}

export function oidText(b: Uint8Array): string {
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) { parts.push(v); v = 0; }
  }
  const first = parts.shift()!;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

/** A DER INTEGER's value (two's complement content) as a bigint. */
export function integerValue(content: Uint8Array): bigint {
  if (content.length === 0) throw new DerError('empty INTEGER');
  let v = 0n;
  for (const b of content) v = (v << 8n) | BigInt(b);
  if (content[0]! & 0x80) v -= 1n << BigInt(content.length * 8);
  return v;
}

/** Go's asn1 rule: an INTEGER is minimally encoded (no redundant leading 0x00 or 0xff byte). */
function integerMinimal(content: Uint8Array): boolean {
  if (content.length === 0) return false;
  if (content.length === 1) return true;
  return !((content[0] === 0 && (content[1]! & 0x80) === 0) || (content[0] === 0xff && (content[1]! & 0x80) !== 0));
}

/**
 * (r, s) of an ECDSA signature as Fabric's utils.UnmarshalECDSASignature reads it with Go's asn1:
 * SEQUENCE { INTEGER r, INTEGER s } with minimal INTEGERs; bytes after the SEQUENCE are ignored (as Go's
 * asn1.Unmarshal returns them as "rest", which Fabric drops); r and s must be positive.
 */
export function ecdsaSignatureValues(sig: Uint8Array): { r: bigint; s: bigint } {
  const seq = expect(readTlv(sig, 0), DerTag.sequence, 'ECDSA signature');
  const rt = expect(readTlv(sig, seq.contentStart, seq.end), DerTag.integer, 'ECDSA r');
  const st = expect(readTlv(sig, rt.end, seq.end), DerTag.integer, 'ECDSA s');
  if (st.end !== seq.end) throw new DerError('ECDSA signature has extra elements');
  const rc = sig.subarray(rt.contentStart, rt.end);
  const sc = sig.subarray(st.contentStart, st.end);
  if (!integerMinimal(rc) || !integerMinimal(sc)) throw new DerError('integer not minimally-encoded');
  const r = integerValue(rc);
  const s = integerValue(sc);
  if (r <= 0n) throw new DerError('invalid signature, R must be larger than zero');
  if (s <= 0n) throw new DerError('invalid signature, S must be larger than zero');
  return { r, s };
}

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return [0x80 | bytes.length, ...bytes];
}

function derInteger(v: bigint): number[] {
  const bytes: number[] = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
  if (bytes.length === 0) bytes.push(0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return [DerTag.integer, ...derLength(bytes.length), ...bytes];
}

/** DER of an ECDSA signature (r, s), as Go's MarshalECDSASignature writes it. */
export function encodeEcdsaSignature(r: bigint, s: bigint): Uint8Array {
  const body = [...derInteger(r), ...derInteger(s)];
  return Uint8Array.from([DerTag.sequence, ...derLength(body.length), ...body]);
}

/** A certificate with its signature value replaced (tbs and algorithm kept byte for byte). */
export function withCertificateSignature(der: Uint8Array, spans: CertificateSpans, signature: Uint8Array): Uint8Array {
  const bit = [DerTag.bitString, ...derLength(signature.length + 1), 0];
  const tbs = der.subarray(spans.tbs.start, spans.tbs.end);
  const alg = der.subarray(spans.signatureAlgorithm.start, spans.signatureAlgorithm.end);
  const bodyLength = tbs.length + alg.length + bit.length + signature.length;
  const head = [DerTag.sequence, ...derLength(bodyLength)];
  const out = new Uint8Array(head.length + bodyLength);
  let o = 0;
  out.set(head, o); o += head.length;
  out.set(tbs, o); o += tbs.length;
  out.set(alg, o); o += alg.length;
  out.set(bit, o); o += bit.length;
  out.set(signature, o);
  return out;
}

/** The parts of a CRL (CertificateList) whose signature is checked. */
export function crlSpans(der: Uint8Array): { tbs: Tlv; signatureAlgorithm: Tlv; signatureValue: Tlv } {
  const outer = expect(readTlv(der, 0), DerTag.sequence, 'CRL');
  const tbs = expect(readTlv(der, outer.contentStart, outer.end), DerTag.sequence, 'tbsCertList');
  const signatureAlgorithm = expect(readTlv(der, tbs.end, outer.end), DerTag.sequence, 'CRL signatureAlgorithm');
  const signatureValue = expect(readTlv(der, signatureAlgorithm.end, outer.end), DerTag.bitString, 'CRL signature');
  return { tbs, signatureAlgorithm, signatureValue };
}
