/** Media certificates: rules 101 (start and expiry dates), 102 (expired certificates refused). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSiteKey, signManifest, type SiteKey } from '../../src/content/signing.js';
import { isPxeError } from '../../src/errors.js';
import { checkMediaCertificate, issueMediaCertificate } from '../../src/media/certificate.js';
import { MEDIA_ERRORS, type MediaCertificate, type MediaCertificateBody } from '../../src/media/types.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function siteKey(): SiteKey {
  const d = mkdtempSync(join(tmpdir(), 'pxp-cert-'));
  dirs.push(d);
  return loadOrCreateSiteKey(d);
}
const key = siteKey();
const other = siteKey();
const body: MediaCertificateBody = { mediaId: 'PXM00001', type: 'bootable', notBefore: '2026-11-01T00:00:00Z', notAfter: '2027-11-01T00:00:00Z' };
const cert = issueMediaCertificate(body, key);
const at = (iso: string): Date => new Date(iso);
const clone = (c: MediaCertificate): MediaCertificate => JSON.parse(JSON.stringify(c)) as MediaCertificate;

describe('media certificate (rules 101, 102)', () => {
  it('rule 101: issued with the site key id, an Ed25519 signature and exactly the body given', () => {
    expect(cert.alg).toBe('ed25519');
    expect(cert.keyId).toBe(key.keyId);
    expect(Buffer.from(cert.signature, 'base64')).toHaveLength(64);
    expect(cert.body).toEqual(body);
    const extra = issueMediaCertificate({ ...body, extra: 'x' } as MediaCertificateBody, key);
    expect(Object.keys(extra.body).sort()).toEqual(['mediaId', 'notAfter', 'notBefore', 'type']);
  });

  const cases: [string, MediaCertificate, string, Date, string][] = [
    ['rule 101: inside its dates', cert, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'ok'],
    ['rule 101: on its first instant', cert, key.publicKeyPem, at('2026-11-01T00:00:00Z'), 'ok'],
    ['rule 101: on its last instant', cert, key.publicKeyPem, at('2027-11-01T00:00:00Z'), 'ok'],
    ['rule 102: expired a millisecond ago', cert, key.publicKeyPem, at('2027-11-01T00:00:00.001Z'), 'expired'],
    ['rule 102: expired long ago', cert, key.publicKeyPem, at('2030-01-01T00:00:00Z'), 'expired'],
    ['rule 101: not yet valid', cert, key.publicKeyPem, at('2026-10-31T23:59:59Z'), 'not-yet-valid'],
    ['rule 101: another site key', cert, other.publicKeyPem, at('2027-01-01T00:00:00Z'), 'wrong-key'],
    ['rule 101: keyId changed to the checker key', { ...clone(cert), keyId: other.keyId }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'wrong-key'],
    ['rule 101: re-issued by another site', issueMediaCertificate(body, other), key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'wrong-key'],
    ['rule 101: garbage public key', cert, 'not a key', at('2027-01-01T00:00:00Z'), 'wrong-key'],
    ['rule 102: notAfter pushed out (tampered)', { ...clone(cert), body: { ...body, notAfter: '2099-01-01T00:00:00Z' } }, key.publicKeyPem, at('2030-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: mediaId changed (tampered)', { ...clone(cert), body: { ...body, mediaId: 'PXM00002' } }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: type changed (tampered)', { ...clone(cert), body: { ...body, type: 'standalone' } }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: member added to the body', { ...clone(cert), body: { ...body, extra: 1 } as MediaCertificateBody }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: signature flipped', { ...clone(cert), signature: Buffer.from(Buffer.from(cert.signature, 'base64').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64') }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: signature not base64', { ...clone(cert), signature: '!!' }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: alg changed', { ...clone(cert), alg: 'rsa' as 'ed25519' }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: body missing', { ...clone(cert), body: null as unknown as MediaCertificateBody }, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
    ['rule 101: not an object', null as unknown as MediaCertificate, key.publicKeyPem, at('2027-01-01T00:00:00Z'), 'bad-signature'],
  ];
  it.each(cases)('%s', (_name, c, pem, now, expected) => {
    const r = checkMediaCertificate(c, pem, now);
    expect(r.ok ? 'ok' : r.reason).toBe(expected);
    if (!r.ok) expect(r.message.length).toBeGreaterThan(20);
  });

  it('rule 101: a manifest signature is not a certificate signature (domain separation)', () => {
    const m = signManifest({ packageId: 'PXP00001', version: 1, createdAt: body.notBefore, chunkSize: 1, files: [] } as never, key);
    const forged: MediaCertificate = { ...clone(cert), signature: m.signature.value };
    const r = checkMediaCertificate(forged, key.publicKeyPem, at('2027-01-01T00:00:00Z'));
    expect(r.ok ? 'ok' : r.reason).toBe('bad-signature');
  });

  it.each([
    ['notAfter before notBefore', { notAfter: '2026-01-01T00:00:00Z' }, 'notAfter'],
    ['notBefore not a date', { notBefore: 'yesterday' }, 'notBefore'],
    ['notAfter without a zone', { notAfter: '2027-11-01T00:00:00' }, 'notAfter'],
    ['unknown type', { type: 'capture' }, 'type'],
    ['empty mediaId', { mediaId: '' }, 'mediaId'],
  ])('issuing refuses %s (MEDIA_ERRORS.build)', (_n, o, field) => {
    try {
      issueMediaCertificate({ ...body, ...o } as MediaCertificateBody, key);
      expect.unreachable();
    } catch (e) {
      expect(isPxeError(e) && e.code).toBe(MEDIA_ERRORS.build);
      expect(isPxeError(e) && e.details.field).toBe(field);
    }
  });
});
