import { generateKeyPairSync } from 'node:crypto';
import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildManifest, canonicalJson, digestFile, xxhashApi } from '../../src/content/manifest.js';
import { loadOrCreateSiteKey, signManifest, verifyManifest } from '../../src/content/signing.js';
import type { ContentManifest } from '../../src/content/types.js';
import { bytes, makeFolder, tempDir } from './helpers.js';

const header = { packageId: 'PXP00001', version: 2, createdAt: '2026-11-26T00:00:00.000Z' };
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('manifest', () => {
  const chunk = 64 * 1024;
  const folder = makeFolder({ 'b.bin': bytes(3 * chunk + 17, 7), 'a/z.txt': 'hello', 'a/empty': '' });
  dirs.push(folder);

  it('is deterministic: same folder, same canonical bytes; files sorted by path', async () => {
    const one = await buildManifest(folder, header, chunk);
    const two = await buildManifest(folder, header, chunk);
    expect(canonicalJson(one)).toBe(canonicalJson(two));
    expect(one.files.map((f) => f.path)).toEqual(['a/empty', 'a/z.txt', 'b.bin']);
    expect(one.chunkSize).toBe(chunk);
  });

  it('records size, SHA-256 and one XXH64 per chunk from one read', async () => {
    const m = await buildManifest(folder, header, chunk);
    const big = m.files.find((f) => f.path === 'b.bin')!;
    expect(big.size).toBe(3 * chunk + 17);
    expect(big.chunks).toHaveLength(4);
    const xx = await xxhashApi();
    const data = bytes(3 * chunk + 17, 7);
    expect(big.chunks[3]).toBe(xx.h64Raw(data.subarray(3 * chunk)).toString(16).padStart(16, '0'));
    expect(big.chunks[0]).toBe(xx.h64Raw(data.subarray(0, chunk)).toString(16).padStart(16, '0'));
    expect(m.files.find((f) => f.path === 'a/empty')!.chunks).toEqual([]);
    expect(m.files.find((f) => f.path === 'a/z.txt')!.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect((await digestFile(join(folder, 'b.bin'), chunk)).sha256).toBe(big.sha256);
  });

  it('canonical JSON sorts keys and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe('{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}');
  });
});

describe('signature', () => {
  const dataDir = tempDir();
  dirs.push(dataDir);
  const folder = makeFolder({ 'f.txt': 'content' });
  dirs.push(folder);

  it('generates the site key once, private key 0600', () => {
    const a = loadOrCreateSiteKey(dataDir);
    const b = loadOrCreateSiteKey(dataDir);
    expect(a.publicKeyPem).toBe(b.publicKeyPem);
    expect(statSync(join(dataDir, 'keys', 'site-signing.key')).mode & 0o777).toBe(0o600);
  });

  it('a signed manifest verifies; a forged one does not', async () => {
    const key = loadOrCreateSiteKey(dataDir);
    const signed = signManifest(await buildManifest(folder, header), key);
    expect(verifyManifest(signed, key.publicKeyPem)).toBe(true);
    // Survives a JSON round trip (what travels over HTTP).
    expect(verifyManifest(JSON.parse(JSON.stringify(signed)) as ContentManifest, key.publicKeyPem)).toBe(true);

    const forged: ContentManifest[] = [
      { ...signed, files: signed.files.map((f) => ({ ...f, sha256: 'f'.repeat(64) })) },
      { ...signed, files: signed.files.map((f) => ({ ...f, size: f.size + 1 })) },
      { ...signed, version: 3 },
      { ...signed, files: [...signed.files, { path: 'evil.exe', size: 1, sha256: '0'.repeat(64), chunks: ['0'.repeat(16)] }] },
      { ...signed, extra: 'unsigned member' } as ContentManifest,
      { ...signed, signature: { ...signed.signature, value: Buffer.alloc(64).toString('base64') } },
    ];
    for (const f of forged) expect(verifyManifest(f, key.publicKeyPem)).toBe(false);

    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    expect(verifyManifest(signed, other)).toBe(false);
    expect(verifyManifest({ ...signed, signature: undefined } as unknown as ContentManifest, key.publicKeyPem)).toBe(false);
  });
});
