/**
 * Media certificates (types.ts MediaCertificate, rules 101–102): the site's Ed25519
 * signature over a domain-separated canonical JSON of the certificate's body, its
 * algorithm and the signing key's id — so a certificate signature can never be
 * replayed as a manifest or sealed-file signature, nor the other way round.
 */
import { createPublicKey, sign, verify } from 'node:crypto';
import { canonicalJson } from '../content/manifest.js';
import { keyIdOf, type SiteKey } from '../content/signing.js';
import { PxeError } from '../errors.js';
import { MEDIA_ERRORS, MEDIA_TYPES, type MediaCertificate, type MediaCertificateBody } from './types.js';

const CERT_DOMAIN = 'pxepoint-media-certificate/1\n';

/** The bytes a media certificate's signature covers. */
export function certificateMessage(body: unknown, keyId: string): Buffer {
  return Buffer.from(CERT_DOMAIN + canonicalJson({ alg: 'ed25519', keyId, body }), 'utf8');
}

const buildError = (message: string, field: string): PxeError => new PxeError(MEDIA_ERRORS.build, message, 400, { field });

/** Milliseconds of an ISO 8601 date-time with a zone (Z or ±hh:mm), or NaN. */
export function isoTime(text: unknown): number {
  if (typeof text !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return NaN;
  return Date.parse(text);
}

export function issueMediaCertificate(body: MediaCertificateBody, key: SiteKey): MediaCertificate {
  if (typeof body.mediaId !== 'string' || body.mediaId === '') throw buildError('the media certificate needs the id of its medium', 'mediaId');
  if (!MEDIA_TYPES.includes(body.type)) throw buildError(`media type must be ${MEDIA_TYPES.join(' or ')}, not "${String(body.type)}"`, 'type');
  const from = isoTime(body.notBefore);
  const until = isoTime(body.notAfter);
  if (Number.isNaN(from)) throw buildError(`certificate start date "${String(body.notBefore)}" is not an ISO 8601 date-time with a zone (e.g. 2026-11-26T00:00:00Z)`, 'notBefore');
  if (Number.isNaN(until)) throw buildError(`certificate expiry date "${String(body.notAfter)}" is not an ISO 8601 date-time with a zone (e.g. 2027-11-26T00:00:00Z)`, 'notAfter');
  if (until <= from) throw buildError(`the certificate expires (${body.notAfter}) before it starts (${body.notBefore}); give an expiry date after the start date`, 'notAfter');
  const clean: MediaCertificateBody = { mediaId: body.mediaId, type: body.type, notBefore: body.notBefore, notAfter: body.notAfter };
  if (body.type === 'standalone') {
    // Rule 103: the stand-alone range is signed with the certificate (descriptor.ts checks media.json repeats it).
    for (const k of ['validFrom', 'validUntil'] as const) {
      const v = body[k] ?? null;
      if (v !== null && Number.isNaN(isoTime(v))) throw buildError(`stand-alone ${k} "${String(v)}" is not an ISO 8601 date-time with a zone`, k);
      clean[k] = v;
    }
  } else if ((body.validFrom ?? null) !== null || (body.validUntil ?? null) !== null) {
    throw buildError('only stand-alone media have a validity range (rule 103)', body.validFrom != null ? 'validFrom' : 'validUntil');
  }
  const signature = sign(null, certificateMessage(clean, key.keyId), key.privateKey).toString('base64');
  return { body: clean, alg: 'ed25519', keyId: key.keyId, signature };
}

export type CertificateCheck =
  | { ok: true }
  | { ok: false; reason: 'bad-signature' | 'wrong-key' | 'not-yet-valid' | 'expired'; message: string };

/** Signature (with the site's public key) and dates (against `now`). */
export function checkMediaCertificate(cert: MediaCertificate, sitePublicKey: string, now: Date): CertificateCheck {
  const c = cert as unknown;
  if (typeof c !== 'object' || c === null) return { ok: false, reason: 'bad-signature', message: 'the media certificate is missing or not an object; rebuild the medium' };
  const { body, alg, keyId, signature } = c as Record<string, unknown>;
  if (alg !== 'ed25519' || typeof keyId !== 'string' || typeof signature !== 'string' || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, reason: 'bad-signature', message: 'the media certificate is malformed (alg, keyId, signature or body); rebuild the medium' };
  }
  let expectedKeyId: string;
  let publicKey;
  try {
    publicKey = createPublicKey(sitePublicKey);
    if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    expectedKeyId = keyIdOf(sitePublicKey);
  } catch {
    return { ok: false, reason: 'wrong-key', message: 'the site public key given is not an Ed25519 public key (SPKI PEM)' };
  }
  if (keyId !== expectedKeyId) {
    return { ok: false, reason: 'wrong-key', message: `the media certificate was issued by key ${keyId}, not this site's key ${expectedKeyId}: the medium belongs to another site (or the site key was replaced); rebuild the medium with this site` };
  }
  let good = false;
  try {
    const sig = Buffer.from(signature, 'base64');
    good = sig.length === 64 && sig.toString('base64') === signature && verify(null, certificateMessage(body, keyId), publicKey, sig);
  } catch {
    good = false;
  }
  if (!good) return { ok: false, reason: 'bad-signature', message: 'the media certificate does not match its signature: it was changed after the medium was built; rebuild the medium (rule 101)' };
  const b = body as Record<string, unknown>;
  const from = isoTime(b.notBefore);
  const until = isoTime(b.notAfter);
  if (Number.isNaN(from) || Number.isNaN(until)) return { ok: false, reason: 'bad-signature', message: 'the media certificate dates are not ISO 8601 date-times; rebuild the medium' };
  const t = now.getTime();
  if (t < from) return { ok: false, reason: 'not-yet-valid', message: `the media certificate is valid from ${String(b.notBefore)}; it is ${now.toISOString()} now — check the machine's clock, or wait (rule 101)` };
  if (t > until) return { ok: false, reason: 'expired', message: `the media certificate expired at ${String(b.notAfter)}; create new media (rule 102)` };
  return { ok: true };
}
