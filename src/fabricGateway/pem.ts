// PEM files as Fabric's MSP folders and TLS settings hold them: any number of blocks per file, text
// around them ignored (as Go's pem.Decode skips it).
import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;
const PEM_LINE_CHARS = 64;

export interface PemBlock {
  type: string;
  der: Buffer;
}

export function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) out.push({ type: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') });
  return out;
}

/** Every CERTIFICATE block of `text`; `where` names the file in errors. */
export function pemCertificates(text: string, where: string): X509Certificate[] {
  return pemBlocks(text).filter((b) => b.type === 'CERTIFICATE').map((b, i) => {
    try {
      return new X509Certificate(b.der);
    } catch (err) {
      throw new Error(`${where}: certificate ${i + 1} does not parse: ${(err as Error).message}`);
    }
  });
}

/** A certificate as Go's pem.EncodeToMemory writes it: what Fabric puts in a SerializedIdentity. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += PEM_LINE_CHARS) lines.push(b64.slice(i, i + PEM_LINE_CHARS));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
