/** Sealed files (variables.dat, policy.dat): rules 99, 100, 104; docs/media.md. */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyIdOf, loadOrCreateSiteKey, type SiteKey } from '../../src/content/signing.js';
import { pxeErrorCode } from '../support/pxe-error-code.js';
import { DEFAULT_SCRYPT, MAX_SEALED_BYTES, isPasswordSealed, openPayload, sealPayload, type OpenOptions } from '../../src/media/seal.js';
import { MEDIA_ERRORS, type MediaSecrets } from '../../src/media/types.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function siteKey(): SiteKey {
  const d = mkdtempSync(join(tmpdir(), 'pxp-seal-'));
  dirs.push(d);
  return loadOrCreateSiteKey(d);
}
const key = siteKey();
const otherKey = siteKey();
/** Cheap scrypt for the many cases; one case uses DEFAULT_SCRYPT. */
const FAST = { N: 1 << 10, r: 8, p: 1 };

const secrets: MediaSecrets = {
  mediaId: 'PXM00001',
  secret: 's3cret-token',
  variables: [{ name: 'SMSTSPreferredAdvertID', value: 'PXP20001' }, { name: 'OSDComputerName', value: 'Ünïcødé ✓' }],
  prestart: { commandLine: 'cmd /c echo hi' },
};
const base = { purpose: 'variables' as const, mediaId: 'PXM00001' };
const openOpts = (o: Partial<OpenOptions> = {}): OpenOptions => ({ ...base, sitePublicKey: key.publicKeyPem, ...o });

const edit = (bytes: Buffer, f: (o: Record<string, any>) => void): Buffer => {
  const o = JSON.parse(bytes.toString('utf8')) as Record<string, any>;
  f(o);
  return Buffer.from(JSON.stringify(o));
};
/** Flip one bit of a base64 member's decoded bytes. */
const flip = (b64: string, at = 0): string => {
  const buf = Buffer.from(b64, 'base64');
  buf[at % buf.length] = buf[at % buf.length]! ^ 0x01;
  return buf.toString('base64');
};

describe('sealed files round trip (rules 99, 100)', () => {
  it('without a password: signed, readable by anyone, opens with the site public key', () => {
    const bytes = sealPayload(secrets, { ...base, siteKey: key });
    const file = JSON.parse(bytes.toString('utf8'));
    expect(file).toMatchObject({ format: 'pxepoint-sealed/1', purpose: 'variables', mediaId: 'PXM00001', protection: 'signed', keyId: key.keyId });
    // Not secret: the payload is plain base64 of the JSON (docs/media.md says so).
    expect(JSON.parse(Buffer.from(file.payload, 'base64').toString('utf8'))).toEqual(secrets);
    expect(isPasswordSealed(bytes)).toBe(false);
    expect(openPayload<MediaSecrets>(bytes, openOpts())).toEqual(secrets);
    // A password given for a signed file is ignored.
    expect(openPayload<MediaSecrets>(bytes, openOpts({ password: 'whatever' }))).toEqual(secrets);
  });

  it('with a password: encrypted (the secret is nowhere in the file), opens with the password', () => {
    const bytes = sealPayload(secrets, { ...base, siteKey: key, password: 'correct horse', scrypt: FAST });
    const text = bytes.toString('utf8');
    expect(text).not.toContain('s3cret');
    expect(text).not.toContain(Buffer.from('s3cret-token').toString('base64').slice(0, 8));
    const file = JSON.parse(text);
    expect(file).toMatchObject({ protection: 'password', cipher: 'aes-256-gcm', kdf: { name: 'scrypt', ...FAST } });
    expect(Buffer.from(file.nonce, 'base64')).toHaveLength(12);
    expect(Buffer.from(file.tag, 'base64')).toHaveLength(16);
    expect(isPasswordSealed(bytes)).toBe(true);
    expect(openPayload<MediaSecrets>(bytes, openOpts({ password: 'correct horse' }))).toEqual(secrets);
  });

  it('with DEFAULT_SCRYPT (N=2^16, r=8): the parameters are stored and used', () => {
    const bytes = sealPayload({ a: 1 }, { ...base, siteKey: key, password: 'pw' });
    expect(JSON.parse(bytes.toString('utf8')).kdf).toMatchObject(DEFAULT_SCRYPT);
    expect(openPayload(bytes, openOpts({ password: 'pw' }))).toEqual({ a: 1 });
  });

  it('two seals of the same payload differ (random salt and nonce)', () => {
    const a = sealPayload(secrets, { ...base, siteKey: key, password: 'pw', scrypt: FAST });
    const b = sealPayload(secrets, { ...base, siteKey: key, password: 'pw', scrypt: FAST });
    expect(a.equals(b)).toBe(false);
  });

  it('passwords are NFC-normalised: composed and decomposed é open the same file', () => {
    const bytes = sealPayload(secrets, { ...base, siteKey: key, password: 'caf\u00e9', scrypt: FAST });
    expect(openPayload(bytes, openOpts({ password: 'cafe\u0301' }))).toEqual(secrets);
  });

  it.each([
    ['policy purpose', { purpose: 'policy' as const }],
    ['empty payload list', {}],
  ])('stand-alone policy and other payloads round trip: %s', (_n, o) => {
    const payload = { mediaId: 'PXM00001', list: [], nested: { x: null, y: [1, 'two'] } };
    for (const password of [null, 'pw']) {
      const bytes = sealPayload(payload, { ...base, ...o, siteKey: key, password, scrypt: FAST });
      expect(openPayload(bytes, openOpts({ ...o, password }))).toEqual(payload);
    }
  });
});

describe('refusals (rules 99, 100): each fails with its own code', () => {
  const signed = sealPayload(secrets, { ...base, siteKey: key });
  const locked = sealPayload(secrets, { ...base, siteKey: key, password: 'pw', scrypt: FAST });
  const pw = { password: 'pw' };

  const cases: [string, Buffer, Partial<OpenOptions>, string][] = [
    // password-protected file
    ['rule 99: wrong password', locked, { password: 'PW' }, MEDIA_ERRORS.wrongPassword],
    ['rule 99: no password given for a password file', locked, {}, MEDIA_ERRORS.passwordRequired],
    ['rule 99: null password for a password file', locked, { password: null }, MEDIA_ERRORS.passwordRequired],
    ['rule 99: empty password for a password file', locked, { password: '' }, MEDIA_ERRORS.passwordRequired],
    ['rule 99: ciphertext bit flipped', edit(locked, (o) => { o.ciphertext = flip(o.ciphertext, 3); }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: tag bit flipped', edit(locked, (o) => { o.tag = flip(o.tag, 5); }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: tag truncated to 12 bytes', edit(locked, (o) => { o.tag = Buffer.from(o.tag, 'base64').subarray(0, 12).toString('base64'); }), pw, MEDIA_ERRORS.format],
    ['rule 99: nonce bit flipped', edit(locked, (o) => { o.nonce = flip(o.nonce, 1); }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: salt changed', edit(locked, (o) => { o.kdf.salt = flip(o.kdf.salt, 0); }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: header r changed (in the AAD)', edit(locked, (o) => { o.kdf.r = 4; }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: header N changed (in the AAD)', edit(locked, (o) => { o.kdf.N = 2048; }), pw, MEDIA_ERRORS.wrongPassword],
    ['rule 99: header mediaId swapped to match the opener', edit(locked, (o) => { o.mediaId = 'PXM00002'; }), { ...pw, mediaId: 'PXM00002' }, MEDIA_ERRORS.wrongPassword],
    ['rule 99: header purpose swapped to match the opener', edit(locked, (o) => { o.purpose = 'policy'; }), { ...pw, purpose: 'policy' }, MEDIA_ERRORS.wrongPassword],
    ['rule 99: file of another medium', locked, { ...pw, mediaId: 'PXM00002' }, MEDIA_ERRORS.format],
    ['rule 99: variables file opened as a policy file', locked, { ...pw, purpose: 'policy' }, MEDIA_ERRORS.format],
    ['rule 99: unsupported cipher', edit(locked, (o) => { o.cipher = 'aes-128-gcm'; }), pw, MEDIA_ERRORS.format],
    ['rule 99: unsupported kdf', edit(locked, (o) => { o.kdf.name = 'pbkdf2'; }), pw, MEDIA_ERRORS.format],
    ['rule 99: extra header member', edit(locked, (o) => { o.note = 'x'; }), pw, MEDIA_ERRORS.format],
    ['rule 99: missing tag', edit(locked, (o) => { delete o.tag; }), pw, MEDIA_ERRORS.format],
    ['rule 99: ciphertext not base64', edit(locked, (o) => { o.ciphertext = 'not base64!'; }), pw, MEDIA_ERRORS.format],
    // hostile scrypt parameters: refused before any work
    ['rule 99: hostile N = 2^30', edit(locked, (o) => { o.kdf.N = 2 ** 30; }), pw, MEDIA_ERRORS.format],
    ['rule 99: hostile N = 2^21', edit(locked, (o) => { o.kdf.N = 2 ** 21; }), pw, MEDIA_ERRORS.format],
    ['rule 99: N not a power of two', edit(locked, (o) => { o.kdf.N = 1000; }), pw, MEDIA_ERRORS.format],
    ['rule 99: hostile r = 1e6', edit(locked, (o) => { o.kdf.r = 1e6; }), pw, MEDIA_ERRORS.format],
    ['rule 99: hostile p = 1e6', edit(locked, (o) => { o.kdf.p = 1e6; }), pw, MEDIA_ERRORS.format],
    ['rule 99: N=2^20 with r=32 (4 GiB of memory)', edit(locked, (o) => { o.kdf.N = 2 ** 20; o.kdf.r = 32; }), pw, MEDIA_ERRORS.format],
    ['rule 99: r not an integer', edit(locked, (o) => { o.kdf.r = 1.5; }), pw, MEDIA_ERRORS.format],
    ['rule 99: N a string', edit(locked, (o) => { o.kdf.N = '1024'; }), pw, MEDIA_ERRORS.format],
    ['rule 99: p zero', edit(locked, (o) => { o.kdf.p = 0; }), pw, MEDIA_ERRORS.format],
    // signed file
    ['rule 100: payload changed', edit(signed, (o) => { o.payload = Buffer.from(JSON.stringify({ ...secrets, secret: 'mine' })).toString('base64'); }), {}, MEDIA_ERRORS.tampered],
    ['rule 100: signature bit flipped', edit(signed, (o) => { o.signature = flip(o.signature, 7); }), {}, MEDIA_ERRORS.tampered],
    ['rule 100: signature truncated', edit(signed, (o) => { o.signature = Buffer.from(o.signature, 'base64').subarray(0, 63).toString('base64'); }), {}, MEDIA_ERRORS.format],
    ['rule 100: header mediaId swapped to match the opener', edit(signed, (o) => { o.mediaId = 'PXM00002'; }), { mediaId: 'PXM00002' }, MEDIA_ERRORS.tampered],
    ['rule 100: variables file relabelled as policy', edit(signed, (o) => { o.purpose = 'policy'; }), { purpose: 'policy' }, MEDIA_ERRORS.tampered],
    ['rule 100: keyId changed to match', edit(signed, (o) => { o.keyId = otherKey.keyId; }), {}, MEDIA_ERRORS.tampered],
    ['rule 100: opened with another site key', signed, { sitePublicKey: otherKey.publicKeyPem }, MEDIA_ERRORS.tampered],
    ['rule 100: re-signed by another site key', sealPayload(secrets, { ...base, siteKey: otherKey }), {}, MEDIA_ERRORS.tampered],
    ['rule 100: file of another medium', signed, { mediaId: 'PXM00002' }, MEDIA_ERRORS.format],
    ['rule 100: variables file opened as a policy file', signed, { purpose: 'policy' }, MEDIA_ERRORS.format],
    ['rule 100: payload not base64', edit(signed, (o) => { o.payload = '%%%'; }), {}, MEDIA_ERRORS.format],
    ['rule 100: payload non-canonical base64', edit(signed, (o) => { o.payload = 'QQ=='.replace('QQ', 'QR'); }), {}, MEDIA_ERRORS.format],
    ['rule 100: protection turned to password', edit(signed, (o) => { o.protection = 'password'; }), {}, MEDIA_ERRORS.format],
    ['rule 100: protection unknown', edit(signed, (o) => { o.protection = 'none'; }), {}, MEDIA_ERRORS.format],
    ['rule 100: opened with a garbage public key', signed, { sitePublicKey: 'nope' }, MEDIA_ERRORS.format],
    // garbage input
    ['garbage: empty', Buffer.alloc(0), {}, MEDIA_ERRORS.format],
    ['garbage: not JSON', Buffer.from('variables'), {}, MEDIA_ERRORS.format],
    ['garbage: not UTF-8', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), {}, MEDIA_ERRORS.format],
    ['garbage: JSON array', Buffer.from('[1,2]'), {}, MEDIA_ERRORS.format],
    ['garbage: JSON null', Buffer.from('null'), {}, MEDIA_ERRORS.format],
    ['garbage: another format', edit(signed, (o) => { o.format = 'pxepoint-sealed/2'; }), {}, MEDIA_ERRORS.format],
    ['garbage: truncated file', signed.subarray(0, signed.length / 2), {}, MEDIA_ERRORS.format],
    ['garbage: over 16 MiB', Buffer.alloc(MAX_SEALED_BYTES + 1, 0x20), {}, MEDIA_ERRORS.format],
    ['garbage: ConfigMgr-style binary', Buffer.from('0000000100000000ABCDEF', 'hex'), {}, MEDIA_ERRORS.format],
  ];
  it.each(cases)('%s', (_name, bytes, o, code) => {
    expect(pxeErrorCode(() => openPayload(bytes, openOpts(o)))).toBe(code);
  });

  it('hostile scrypt parameters are refused before any work (fast)', () => {
    const hostile = edit(locked, (o) => { o.kdf.N = 2 ** 20; o.kdf.r = 32; o.kdf.p = 16; });
    const t0 = Date.now();
    expect(pxeErrorCode(() => openPayload(hostile, openOpts(pw)))).toBe(MEDIA_ERRORS.format);
    expect(pxeErrorCode(() => isPasswordSealed(hostile))).toBe(MEDIA_ERRORS.format);
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('isPasswordSealed refuses garbage with MEDIA_ERRORS.format', () => {
    for (const g of [Buffer.from('{}'), Buffer.from('x'), edit(signed, (o) => { delete o.signature; })]) expect(pxeErrorCode(() => isPasswordSealed(g))).toBe(MEDIA_ERRORS.format);
  });

  it('errors say what to do', () => {
    try {
      openPayload(locked, openOpts({ password: 'nope' }));
    } catch (e) {
      expect((e as Error).message).toMatch(/check it and try again/);
    }
    try {
      openPayload(locked, openOpts());
    } catch (e) {
      expect((e as Error).message).toMatch(/enter the media password/);
    }
  });
});

describe('sealing refuses bad options (builder errors)', () => {
  it.each([
    ['empty password', { password: '' }],
    ['scrypt N too large', { password: 'pw', scrypt: { N: 2 ** 21, r: 8, p: 1 } }],
    ['scrypt N not a power of two', { password: 'pw', scrypt: { N: 3000, r: 8, p: 1 } }],
    ['empty mediaId', { mediaId: '' }],
  ])('%s', (_n, o) => {
    expect(pxeErrorCode(() => sealPayload(secrets, { ...base, siteKey: key, ...o }))).toBe(MEDIA_ERRORS.build);
  });

  it('keyId in a signed file is the content/signing.ts key id', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(keyIdOf(pem)).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.parse(sealPayload(1, { ...base, siteKey: key }).toString()).keyId).toBe(keyIdOf(key.publicKeyPem));
  });
});
