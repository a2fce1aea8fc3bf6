/**
 * media.json (types.ts MediaDescriptor): parse with clear errors. Every member is
 * checked, unknown members are refused (the format has a version for that), and
 * each error names the member, so "rebuild the medium" comes with a reason.
 * Validation is structural: the certificate's signature and dates are checked
 * with certificate.ts checkMediaCertificate.
 */
import { createPublicKey } from 'node:crypto';
import { PxeError } from '../errors.js';
import { ARCHITECTURES } from '../site/model.js';
import { isoTime } from './certificate.js';
import { MEDIA_ERRORS, MEDIA_FORMAT, MEDIA_TYPES, type MediaDescriptor } from './types.js';

/** media.json larger than this is refused unread (a real one is about 2 KiB). */
export const MAX_DESCRIPTOR_BYTES = 64 * 1024;
/** At most this many site URLs. */
export const MAX_SITE_URLS = 16;

const fieldError = (field: string, message: string): PxeError =>
  new PxeError(MEDIA_ERRORS.format, `media.json: ${field} ${message}; the medium is damaged or was built by another tool, rebuild it`, 400, { field });

const KEYS: readonly (keyof MediaDescriptor)[] = [
  'format', 'mediaId', 'type', 'label', 'architecture', 'bootImageId', 'siteUrls', 'createdAt', 'createdBy',
  'unattended', 'passwordRequired', 'validFrom', 'validUntil', 'certificate', 'sitePublicKey',
];
const CERT_KEYS = ['body', 'alg', 'keyId', 'signature'];
const CERT_BODY_KEYS = ['mediaId', 'type', 'notBefore', 'notAfter'];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const MEDIA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/; // as app/media-service.ts MEDIA_ID_PATTERN
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function exactKeys(o: Record<string, unknown>, keys: readonly string[], prefix: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw fieldError(`${prefix}${k}`, 'is not a member of a pxepoint media descriptor');
  for (const k of keys) if (!(k in o)) throw fieldError(`${prefix}${k}`, 'is missing');
}

function text(o: Record<string, unknown>, key: string, max: number, prefix = ''): string {
  const v = o[key];
  if (typeof v !== 'string') throw fieldError(prefix + key, `must be a string, not ${v === null ? 'null' : typeof v}`);
  if (v.trim() === '') throw fieldError(prefix + key, 'is empty');
  if (v.length > max) throw fieldError(prefix + key, `is longer than ${max} characters`);
  if (CONTROL.test(v)) throw fieldError(prefix + key, 'holds control characters (line breaks, tabs…)');
  return v;
}

function mediaIdOf(o: Record<string, unknown>, key: string, prefix = ''): string {
  const v = text(o, key, 64, prefix);
  if (!MEDIA_ID.test(v)) throw fieldError(prefix + key, `"${v}" is not a media id (a letter or digit, then letters, digits, '.', '_', '-'; up to 64)`);
  return v;
}

function date(o: Record<string, unknown>, key: string, prefix = ''): string {
  const v = o[key];
  if (Number.isNaN(isoTime(v))) throw fieldError(prefix + key, `must be an ISO 8601 date-time with a zone (e.g. 2026-11-26T00:00:00Z), not ${JSON.stringify(v) ?? 'undefined'}`);
  return v as string;
}

function nullableDate(o: Record<string, unknown>, key: string): string | null {
  return o[key] === null ? null : date(o, key);
}

function bool(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw fieldError(key, `must be true or false, not ${JSON.stringify(v) ?? 'undefined'}`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], prefix = ''): T {
  const v = o[key];
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw fieldError(prefix + key, `must be one of ${values.join(', ')}, not ${JSON.stringify(v) ?? 'undefined'}`);
  return v as T;
}

function siteUrl(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length > 2048) throw fieldError(field, 'must be a URL string');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw fieldError(field, `"${v}" is not a URL (write it like http://site.example:8080)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fieldError(field, `"${v}" must be an http:// or https:// URL`);
  if (u.username !== '' || u.password !== '') throw fieldError(field, 'must not hold a user name or password');
  if (u.search !== '' || u.hash !== '') throw fieldError(field, 'must not hold a query or fragment');
  return v;
}

/** Parses and validates media.json text; throws PxeError MEDIA_ERRORS.format naming the bad field. */
export function parseMediaDescriptor(text_: string): MediaDescriptor {
  if (typeof text_ !== 'string') throw new PxeError(MEDIA_ERRORS.format, 'media.json: expected text', 400);
  if (text_.length > MAX_DESCRIPTOR_BYTES || Buffer.byteLength(text_, 'utf8') > MAX_DESCRIPTOR_BYTES) {
    throw new PxeError(MEDIA_ERRORS.format, `media.json is larger than ${MAX_DESCRIPTOR_BYTES / 1024} KiB; this is not a descriptor pxepoint writes, rebuild the medium`, 400);
  }
  let v: unknown;
  try {
    v = JSON.parse(text_.charCodeAt(0) === 0xfeff ? text_.slice(1) : text_);
  } catch (e) {
    throw new PxeError(MEDIA_ERRORS.format, `media.json is not JSON (${(e as Error).message}); the medium is damaged, rebuild it`, 400);
  }
  if (!isRecord(v)) throw new PxeError(MEDIA_ERRORS.format, 'media.json must be a JSON object; the medium is damaged, rebuild it', 400);
  if (v.format !== MEDIA_FORMAT) throw fieldError('format', `is ${JSON.stringify(v.format) ?? 'missing'}, not "${MEDIA_FORMAT}" (another tool or version built this medium)`);
  exactKeys(v, KEYS, '');

  const mediaId = mediaIdOf(v, 'mediaId');
  const type = oneOf(v, 'type', MEDIA_TYPES);
  const label = text(v, 'label', 256);
  const architecture = oneOf(v, 'architecture', ARCHITECTURES);
  const bootImageId = text(v, 'bootImageId', 64);

  if (!Array.isArray(v.siteUrls)) throw fieldError('siteUrls', 'must be a list of URLs');
  if (v.siteUrls.length > MAX_SITE_URLS) throw fieldError('siteUrls', `holds more than ${MAX_SITE_URLS} URLs`);
  const siteUrls = (v.siteUrls as unknown[]).map((u, i) => siteUrl(u, `siteUrls[${i}]`));
  if (siteUrls.length === 0 && type !== 'standalone') throw fieldError('siteUrls', 'is empty; bootable media need the address of the site');

  const createdAt = date(v, 'createdAt');
  const createdBy = text(v, 'createdBy', 256);
  const unattended = bool(v, 'unattended');
  const passwordRequired = bool(v, 'passwordRequired');
  const validFrom = nullableDate(v, 'validFrom');
  const validUntil = nullableDate(v, 'validUntil');
  if (type !== 'standalone' && (validFrom !== null || validUntil !== null)) {
    throw fieldError(validFrom !== null ? 'validFrom' : 'validUntil', 'is set, but only stand-alone media have a validity range (rule 103)');
  }
  if (validFrom !== null && validUntil !== null && isoTime(validUntil) < isoTime(validFrom)) throw fieldError('validUntil', `(${validUntil}) is before validFrom (${validFrom})`);

  const c = v.certificate;
  if (!isRecord(c)) throw fieldError('certificate', 'must be an object');
  exactKeys(c, CERT_KEYS, 'certificate.');
  if (c.alg !== 'ed25519') throw fieldError('certificate.alg', `must be "ed25519", not ${JSON.stringify(c.alg)}`);
  if (typeof c.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(c.keyId)) throw fieldError('certificate.keyId', 'must be 16 lower-case hex digits');
  if (typeof c.signature !== 'string' || !BASE64.test(c.signature) || Buffer.from(c.signature, 'base64').length !== 64) throw fieldError('certificate.signature', 'must be a base64 Ed25519 signature (64 bytes)');
  const b = c.body;
  if (!isRecord(b)) throw fieldError('certificate.body', 'must be an object');
  exactKeys(b, type === 'standalone' ? [...CERT_BODY_KEYS, 'validFrom', 'validUntil'] : CERT_BODY_KEYS, 'certificate.body.');
  const certMediaId = mediaIdOf(b, 'mediaId', 'certificate.body.');
  if (certMediaId !== mediaId) throw fieldError('certificate.body.mediaId', `("${certMediaId}") is not the medium's id ("${mediaId}")`);
  const certType = oneOf(b, 'type', MEDIA_TYPES, 'certificate.body.');
  if (certType !== type) throw fieldError('certificate.body.type', `("${certType}") is not the medium's type ("${type}")`);
  const notBefore = date(b, 'notBefore', 'certificate.body.');
  const notAfter = date(b, 'notAfter', 'certificate.body.');
  // Rule 103: the stand-alone range is signed in the certificate; media.json must repeat it exactly,
  // so an edited media.json cannot extend a medium's life (the signature check catches an edited certificate).
  const signedRange = type === 'standalone' ? { validFrom: nullableDate(b, 'validFrom'), validUntil: nullableDate(b, 'validUntil') } : {};
  if (type === 'standalone' && (signedRange.validFrom !== validFrom || signedRange.validUntil !== validUntil)) {
    throw fieldError('validFrom', `/validUntil (${validFrom} … ${validUntil}) are not the range signed in the media certificate (${signedRange.validFrom} … ${signedRange.validUntil}): media.json was edited`);
  }

  if (typeof v.sitePublicKey !== 'string' || v.sitePublicKey.length > 4096) throw fieldError('sitePublicKey', 'must be a PEM public key');
  try {
    const k = createPublicKey(v.sitePublicKey);
    if (k.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
  } catch {
    throw fieldError('sitePublicKey', 'is not an Ed25519 public key in SPKI PEM');
  }

  return {
    format: MEDIA_FORMAT, mediaId, type, label, architecture, bootImageId, siteUrls, createdAt, createdBy, unattended, passwordRequired, validFrom, validUntil,
    certificate: { body: { mediaId: certMediaId, type: certType, notBefore, notAfter, ...signedRange }, alg: 'ed25519', keyId: c.keyId, signature: c.signature },
    sitePublicKey: v.sitePublicKey,
  };
}

/** The descriptor as written on media (stable key order, 2-space JSON, trailing newline). */
export function formatMediaDescriptor(d: MediaDescriptor): string {
  return JSON.stringify(d, null, 2) + '\n';
}
