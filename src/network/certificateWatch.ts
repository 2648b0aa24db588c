// A running member's certificate, reloaded when its file changes (docs/operations.md, "rotate-org-key"):
// an organisation's root rotation certifies every member again, and a board must take up its new
// certificate without a restart, or it would be cut off when the old root is retired. Only a certificate
// for the same id, organisation and key is taken (the key file never changes here), and only once the
// channel's configuration accepts it: one written before the board has the configuration block that names
// the new root waits, and is judged again at the next configuration block.
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { type Certificate, decodeCertificate } from '../protocol/certificate.js';
import type { Signer } from '../protocol/envelope.js';

/**
 * How long the cert file must be quiet before it is read: a copy by hand (scp, an editor) writes it in
 * several steps, where the rotation's own rename is one.
 */
export const certificateReloadSettleMs = 200;

export interface CertificateWatchOptions {
  /** The identity in use: its `certificate` is replaced in place, so every holder of the object signs with the new one. */
  signer: Signer;
  /** The cert file (absolute). */
  path: string;
  /** Why the channel would refuse `cert` now, or null when it accepts it. */
  judge: (cert: Certificate) => string | null;
  /** After the signer holds the new certificate (for the broker login, the expiry watch). */
  adopted: (cert: Certificate, previous: Certificate) => void;
  log: Logger;
  settleMs?: number;
}

/**
 * The same certificate: the same body and the same signature. The fingerprint alone names the body, and a
 * member certified again by a new root with the same fields has the body it had (only the signature differs).
 */
function sameCertificate(a: Certificate, b: Certificate): boolean {
  return a.fingerprint === b.fingerprint && Buffer.compare(Buffer.from(a.signature), Buffer.from(b.signature)) === 0;
}

export class CertificateWatch {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Read from the file, not accepted by the channel yet. */
  private pending: Certificate | null = null;

  constructor(private readonly o: CertificateWatchOptions) {}

  start(): void {
    const name = basename(this.o.path);
    // The directory is watched, not the file: a rename puts a new file (inode) in its place.
    this.watcher = watch(dirname(this.o.path), { persistent: false }, (_event, file) => {
      if (file === null || file === name) this.schedule();
    });
    this.watcher.on('error', (err) => this.o.log.warn({ path: this.o.path, err: err.message }, 'cannot watch the certificate file; a new certificate needs a restart'));
  }

  /** Judges a waiting certificate again (a configuration block was committed). */
  retry(): void {
    if (this.pending !== null) this.offer(this.pending);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload();
    }, this.o.settleMs ?? certificateReloadSettleMs);
    this.timer.unref();
  }

  /** Reads the file; anything but a certificate for this member's key is refused and the current one kept. */
  reload(): void {
    const current = this.o.signer.certificate;
    let cert: Certificate;
    try {
      cert = decodeCertificate(new Uint8Array(readFileSync(this.o.path)));
    } catch (err) {
      // Gone (a rename in progress) or not a certificate: the current one stays; a later write is read again.
      this.o.log.warn({ path: this.o.path, err: (err as Error).message }, 'certificate file unreadable; keeping the current certificate');
      return;
    }
    if (sameCertificate(cert, current)) return;
    if (cert.id !== current.id || cert.org !== current.org || Buffer.compare(Buffer.from(cert.publicKey), Buffer.from(current.publicKey)) !== 0) {
      this.o.log.error({ path: this.o.path, id: cert.id, org: cert.org },
        `the new certificate is not for this member's key (${current.org}/${current.id}); keeping the current certificate`);
      return;
    }
    this.offer(cert);
  }

  private offer(cert: Certificate): void {
    const why = this.o.judge(cert);
    if (why !== null) {
      if (this.pending === null || !sameCertificate(this.pending, cert)) {
        this.o.log.warn({ path: this.o.path, fingerprint: cert.fingerprint, reason: why },
          'new certificate not accepted by the channel yet; keeping the current one until a configuration block accepts it');
      }
      this.pending = cert;
      return;
    }
    this.pending = null;
    const previous = this.o.signer.certificate;
    this.o.signer.certificate = cert;
    this.o.adopted(cert, previous);
    this.o.log.info({ fingerprint: cert.fingerprint, previous: previous.fingerprint, notAfter: new Date(cert.notAfter).toISOString() }, 'certificate reloaded');
  }
}
