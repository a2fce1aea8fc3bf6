/**
 * Sealing with a key derived once (media/seal.ts deriveSealKey + sealPayloadWithKey),
 * for the PXE password (rules 47, 73, 100): the same pxepoint-sealed/1 file that
 * openPayload opens with the password, without an scrypt per file.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { pxeErrorCode } from '../support/pxe-error-code.js';
import { DEFAULT_SCRYPT, SEAL_PURPOSES, deriveSealKey, derivedSealKeyProblem, isPasswordSealed, openPayload, sealPayload, sealPayloadWithKey, type DerivedSealKey } from '../../src/media/seal.js';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { derivePxeKey } from '../../src/pxe/pxe-password.js';
import { loadOrCreateSiteKey } from '../../src/content/signing.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FAST = { N: 1 << 10, r: 8, p: 1 };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const payload = { variables: [{ name: 'SMSTSSiteURL', value: 'http://10.77.0.2:8080' }, { name: '_PXPBootToken', value: 'pxpbt_SECRET-token' }] };
const opts = (mediaId = 'tok-1') => ({ purpose: 'pxe-variables' as const, mediaId, sitePublicKey: '' });

describe('deriveSealKey + sealPayloadWithKey (rule 100: only the password opens the file)', () => {
  const derived = deriveSealKey('correct horse', FAST);

  it('derives a 32-byte key, a 16-byte random salt, and keeps the parameters', () => {
    expect(derived.key).toHaveLength(32);
    expect(derived.salt).toHaveLength(16);
    expect(derived.params).toEqual(FAST);
    expect(derivedSealKeyProblem(derived)).toBeNull();
    // Same password, same salt → same key (what lets openPayload re-derive it); another salt → another key.
    expect(deriveSealKey('correct horse', FAST, derived.salt).key.equals(derived.key)).toBe(true);
    expect(deriveSealKey('correct horse', FAST).key.equals(derived.key)).toBe(false);
    // NFC: composed and decomposed é derive the same key.
    const d = deriveSealKey('caf\u00e9', FAST);
    expect(deriveSealKey('cafe\u0301', FAST, d.salt).key.equals(d.key)).toBe(true);
  });

  it('rules 47/73/100: the sealed file opens with the password, and not with another or none', () => {
    const bytes = sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived });
    const text = bytes.toString('utf8');
    expect(text).not.toContain('pxpbt_SECRET');
    expect(text).not.toContain(Buffer.from('pxpbt_SECRET').toString('base64').slice(0, 8));
    expect(isPasswordSealed(bytes)).toBe(true);
    expect(openPayload(bytes, { ...opts(), password: 'correct horse' })).toEqual(payload);
    expect(pxeErrorCode(() => openPayload(bytes, { ...opts(), password: 'correct horsE' }))).toBe(MEDIA_ERRORS.wrongPassword);
    expect(pxeErrorCode(() => openPayload(bytes, { ...opts(), password: null }))).toBe(MEDIA_ERRORS.passwordRequired);
    expect(pxeErrorCode(() => openPayload(bytes, { ...opts(), password: '' }))).toBe(MEDIA_ERRORS.passwordRequired);
  });

  it('exactly the file format of sealPayload with a password (same members, kdf with the derived salt)', () => {
    const withKey = JSON.parse(sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived }).toString('utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'pxp-sealder-'));
    dirs.push(dir);
    const key = loadOrCreateSiteKey(dir);
    const withPassword = JSON.parse(sealPayload(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', password: 'correct horse', siteKey: key, scrypt: FAST }).toString('utf8'));
    expect(Object.keys(withKey)).toEqual(Object.keys(withPassword));
    expect(Object.keys(withKey.kdf)).toEqual(Object.keys(withPassword.kdf));
    expect(withKey).toMatchObject({ format: 'pxepoint-sealed/1', purpose: 'pxe-variables', mediaId: 'tok-1', protection: 'password', cipher: 'aes-256-gcm', kdf: { name: 'scrypt', salt: derived.salt.toString('base64'), ...FAST } });
    expect(Buffer.from(withKey.nonce, 'base64')).toHaveLength(12);
    expect(Buffer.from(withKey.tag, 'base64')).toHaveLength(16);
    // And the existing purposes are unchanged.
    expect(SEAL_PURPOSES).toEqual(['variables', 'policy', 'pxe-variables']);
  });

  it('each file gets a fresh nonce (the salt is shared by design)', () => {
    const a = JSON.parse(sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived }).toString('utf8'));
    const b = JSON.parse(sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived }).toString('utf8'));
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.kdf.salt).toBe(b.kdf.salt);
  });

  it('the mediaId (the boot token id) binds the file: another id or a relabelled header does not open', () => {
    const bytes = sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived });
    expect(pxeErrorCode(() => openPayload(bytes, { ...opts('tok-2'), password: 'correct horse' }))).toBe(MEDIA_ERRORS.format);
    const relabelled = Buffer.from(JSON.stringify({ ...JSON.parse(bytes.toString('utf8')), mediaId: 'tok-2' }));
    expect(pxeErrorCode(() => openPayload(relabelled, { ...opts('tok-2'), password: 'correct horse' }))).toBe(MEDIA_ERRORS.wrongPassword);
    // A PXE variables file is not a media variables file, and the other way round.
    expect(pxeErrorCode(() => openPayload(bytes, { ...opts(), purpose: 'variables', password: 'correct horse' }))).toBe(MEDIA_ERRORS.format);
  });

  it('refuses unusable keys and options (MEDIA_ERRORS.build)', () => {
    const bad: [string, DerivedSealKey][] = [
      ['short key', { ...derived, key: derived.key.subarray(0, 16) }],
      ['short salt', { ...derived, salt: Buffer.alloc(4) }],
      ['hostile N', { ...derived, params: { N: 2 ** 30, r: 8, p: 1 } }],
    ];
    for (const [, d] of bad) expect(pxeErrorCode(() => sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-1', derived: d }))).toBe(MEDIA_ERRORS.build);
    expect(pxeErrorCode(() => sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: '', derived }))).toBe(MEDIA_ERRORS.build);
    expect(pxeErrorCode(() => sealPayloadWithKey(payload, { purpose: 'nope' as 'policy', mediaId: 'x', derived }))).toBe(MEDIA_ERRORS.build);
    expect(pxeErrorCode(() => deriveSealKey('', FAST))).toBe(MEDIA_ERRORS.build);
    expect(pxeErrorCode(() => deriveSealKey('pw', { N: 1000, r: 8, p: 1 }))).toBe(MEDIA_ERRORS.build);
  });

  it('the server\'s async derivation (derivePxeKey, off the event loop) is the same scrypt', async () => {
    const d = await derivePxeKey('s3cret pxe', FAST);
    expect(deriveSealKey('s3cret pxe', FAST, d.salt).key.equals(d.key)).toBe(true);
    const bytes = sealPayloadWithKey(payload, { purpose: 'pxe-variables', mediaId: 'tok-9', derived: d });
    expect(openPayload(bytes, { ...opts('tok-9'), password: 's3cret pxe' })).toEqual(payload);
  });
});

describe('cheap per boot: no scrypt per seal', () => {
  it('100 seals with a DEFAULT_SCRYPT key cost well under one derivation', () => {
    const t0 = performance.now();
    const derived = deriveSealKey('correct horse battery', DEFAULT_SCRYPT);
    const deriveMs = performance.now() - t0;
    const vars = { variables: Array.from({ length: 12 }, (_, i) => ({ name: `_PXPVar${i}`, value: 'x'.repeat(40) })) };
    const t1 = performance.now();
    let last: Buffer | null = null;
    for (let i = 0; i < 100; i++) last = sealPayloadWithKey(vars, { purpose: 'pxe-variables', mediaId: `tok-${i}`, derived });
    const sealMs = performance.now() - t1;
    // Recorded for the report; the bound: all 100 seals together under half of ONE derivation.
    console.info(`derive (N=2^16, r=8): ${deriveMs.toFixed(1)} ms; 100 seals: ${sealMs.toFixed(1)} ms`);
    expect(sealMs).toBeLessThan(deriveMs / 2);
    expect(openPayload(last!, { ...opts('tok-99'), password: 'correct horse battery' })).toEqual(vars);
  });
});
