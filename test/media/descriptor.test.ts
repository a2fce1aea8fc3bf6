/** media.json (rules 97, 98, 101, 103): strict parsing, errors naming the field. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadOrCreateSiteKey } from '../../src/content/signing.js';
import { isPxeError } from '../../src/errors.js';
import { issueMediaCertificate } from '../../src/media/certificate.js';
import { MAX_DESCRIPTOR_BYTES, formatMediaDescriptor, parseMediaDescriptor } from '../../src/media/descriptor.js';
import { MEDIA_ERRORS, type MediaDescriptor } from '../../src/media/types.js';

const dir = mkdtempSync(join(tmpdir(), 'pxp-desc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const key = loadOrCreateSiteKey(dir);

const good: MediaDescriptor = {
  format: 'pxepoint-media/1',
  mediaId: 'PXM00001',
  type: 'bootable',
  label: 'Configuration Manager',
  architecture: 'x64',
  bootImageId: 'PXB00001',
  siteUrls: ['http://10.0.2.2:8080', 'https://site.example'],
  createdAt: '2026-11-26T06:00:00.000Z',
  createdBy: 'admin',
  unattended: true,
  passwordRequired: false,
  validFrom: null,
  validUntil: null,
  certificate: issueMediaCertificate({ mediaId: 'PXM00001', type: 'bootable', notBefore: '2026-11-26T00:00:00Z', notAfter: '2027-11-26T00:00:00Z' }, key),
  sitePublicKey: key.publicKeyPem,
};
const standalone: MediaDescriptor = {
  ...good, type: 'standalone', siteUrls: [], validFrom: '2026-11-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z',
  certificate: issueMediaCertificate({ mediaId: 'PXM00001', type: 'standalone', notBefore: '2026-11-26T00:00:00Z', notAfter: '2027-11-26T00:00:00Z', validFrom: '2026-11-01T00:00:00Z', validUntil: '2026-12-31T23:59:59Z' }, key),
};
const text = (o: unknown): string => JSON.stringify(o);
const without = (k: string): Record<string, unknown> => {
  const o: Record<string, unknown> = { ...good };
  delete o[k];
  return o;
};

describe('parseMediaDescriptor', () => {
  it('round trips what formatMediaDescriptor writes (bootable and stand-alone)', () => {
    expect(parseMediaDescriptor(formatMediaDescriptor(good))).toEqual(good);
    expect(parseMediaDescriptor(formatMediaDescriptor(standalone))).toEqual(standalone);
    expect(parseMediaDescriptor('\ufeff' + formatMediaDescriptor(good))).toEqual(good);
  });

  const cases: [string, string, string | undefined][] = [
    ['not JSON', 'label=Configuration Manager', undefined],
    ['a JSON array', '[]', undefined],
    ['over the size bound', ' '.repeat(MAX_DESCRIPTOR_BYTES + 1), undefined],
    ['format of another version', text({ ...good, format: 'pxepoint-media/2' }), 'format'],
    ['an unknown member', text({ ...good, extra: 1 }), 'extra'],
    ...(['mediaId', 'type', 'label', 'architecture', 'bootImageId', 'siteUrls', 'createdAt', 'createdBy', 'unattended', 'passwordRequired', 'validFrom', 'validUntil', 'certificate', 'sitePublicKey'] as const)
      .map((k): [string, string, string] => [`${k} missing`, text(without(k)), k]),
    ['mediaId empty', text({ ...good, mediaId: '' }), 'mediaId'],
    ['mediaId with a slash', text({ ...good, mediaId: 'PXM/1' }), 'mediaId'],
    ['mediaId a number', text({ ...good, mediaId: 1 }), 'mediaId'],
    ['rule 91: type capture', text({ ...good, type: 'capture' }), 'type'],
    ['rule 94: label with a line break', text({ ...good, label: 'a\nlabel=b' }), 'label'],
    ['rule 94: label too long', text({ ...good, label: 'x'.repeat(257) }), 'label'],
    ['label blank', text({ ...good, label: '  ' }), 'label'],
    ['architecture ia64', text({ ...good, architecture: 'ia64' }), 'architecture'],
    ['bootImageId null', text({ ...good, bootImageId: null }), 'bootImageId'],
    ['siteUrls a string', text({ ...good, siteUrls: 'http://a' }), 'siteUrls'],
    ['siteUrls empty on bootable media', text({ ...good, siteUrls: [] }), 'siteUrls'],
    ['siteUrls ftp', text({ ...good, siteUrls: ['http://a', 'ftp://b'] }), 'siteUrls[1]'],
    ['siteUrls not a URL', text({ ...good, siteUrls: ['site'] }), 'siteUrls[0]'],
    ['siteUrls with credentials', text({ ...good, siteUrls: ['http://u:p@site'] }), 'siteUrls[0]'],
    ['siteUrls too many', text({ ...good, siteUrls: Array.from({ length: 17 }, (_, i) => `http://h${i}`) }), 'siteUrls'],
    ['createdAt not a date', text({ ...good, createdAt: 'today' }), 'createdAt'],
    ['createdBy empty', text({ ...good, createdBy: '' }), 'createdBy'],
    ['rule 97: unattended a string', text({ ...good, unattended: 'true' }), 'unattended'],
    ['rule 98: passwordRequired 1', text({ ...good, passwordRequired: 1 }), 'passwordRequired'],
    ['rule 103: validFrom on bootable media', text({ ...good, validFrom: '2026-11-01T00:00:00Z' }), 'validFrom'],
    ['rule 103: validUntil on bootable media', text({ ...good, validUntil: '2026-11-01T00:00:00Z' }), 'validUntil'],
    ['rule 103: validUntil before validFrom', text({ ...standalone, validUntil: '2026-10-01T00:00:00Z' }), 'validUntil'],
    ['rule 103: validFrom not a date', text({ ...standalone, validFrom: '1/11/2026' }), 'validFrom'],
    ['rule 101: certificate null', text({ ...good, certificate: null }), 'certificate'],
    ['rule 101: certificate alg', text({ ...good, certificate: { ...good.certificate, alg: 'rsa' } }), 'certificate.alg'],
    ['rule 101: certificate keyId', text({ ...good, certificate: { ...good.certificate, keyId: 'XYZ' } }), 'certificate.keyId'],
    ['rule 101: certificate signature short', text({ ...good, certificate: { ...good.certificate, signature: 'AAAA' } }), 'certificate.signature'],
    ['rule 101: certificate extra member', text({ ...good, certificate: { ...good.certificate, x: 1 } }), 'certificate.x'],
    ['rule 101: certificate for another medium', text({ ...good, certificate: { ...good.certificate, body: { ...good.certificate.body, mediaId: 'PXM00002' } } }), 'certificate.body.mediaId'],
    ['rule 101: certificate of another type', text({ ...good, certificate: { ...good.certificate, body: { ...good.certificate.body, type: 'standalone' } } }), 'certificate.body.type'],
    ['rule 101: certificate notAfter not a date', text({ ...good, certificate: { ...good.certificate, body: { ...good.certificate.body, notAfter: 'never' } } }), 'certificate.body.notAfter'],
    ['sitePublicKey not PEM', text({ ...good, sitePublicKey: 'ssh-ed25519 AAAA' }), 'sitePublicKey'],
  ];
  it.each(cases)('refuses %s (MEDIA_ERRORS.format, naming the field)', (_name, input, field) => {
    try {
      parseMediaDescriptor(input);
      expect.unreachable();
    } catch (e) {
      expect(isPxeError(e)).toBe(true);
      if (!isPxeError(e)) return;
      expect(e.code).toBe(MEDIA_ERRORS.format);
      if (field !== undefined) {
        expect(e.details.field).toBe(field);
        expect(e.message).toContain(field);
      }
      expect(e.message).toMatch(/rebuild/);
    }
  });
});
