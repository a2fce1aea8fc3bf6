/** Media certificates (types.ts MediaCertificate, rules 101–102). STUB: the media-core engineer implements. */
import type { SiteKey } from '../content/signing.js';
import type { MediaCertificate, MediaCertificateBody } from './types.js';

export function issueMediaCertificate(body: MediaCertificateBody, key: SiteKey): MediaCertificate {
  void body; void key;
  throw new Error('not implemented');
}

export type CertificateCheck =
  | { ok: true }
  | { ok: false; reason: 'bad-signature' | 'wrong-key' | 'not-yet-valid' | 'expired'; message: string };

/** Signature (with the site's public key) and dates (against `now`). */
export function checkMediaCertificate(cert: MediaCertificate, sitePublicKey: string, now: Date): CertificateCheck {
  void cert; void sitePublicKey; void now;
  throw new Error('not implemented');
}
