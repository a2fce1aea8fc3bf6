import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyManifest } from '../../src/content/signing.js';
import type { ContentManifest } from '../../src/content/types.js';
import { ACTOR, bytes, makeFolder, startSite, type Site } from './helpers.js';

const data = bytes(3 * 1024 * 1024 + 5, 11);
const sha = createHash('sha256').update(data).digest('hex');
let site: Site;
let src: string;
let pkgId: string;
let base: string;

beforeAll(async () => {
  site = await startSite();
  src = makeFolder({ 'os/install.wim': data, 'readme.txt': 'hi' });
  pkgId = (await site.service.create('packages', { name: 'OS', copyToPackageShare: true }, ACTOR)).id;
  const r = await site.content.addContent(pkgId, src, ACTOR);
  base = `/content/${pkgId}/${r.version}`;
});
afterAll(async () => {
  await site.close();
  rmSync(src, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => site.app.inject({ method, url, headers });

describe('DP content routes (served by the site from its library)', () => {
  it('serves the signed manifest and the site key', async () => {
    const key = await get('/content/site-key.pem');
    expect(key.statusCode).toBe(200);
    const m = (await get(`${base}/manifest.json`)).json<ContentManifest>();
    expect(verifyManifest(m, key.body)).toBe(true);
    expect(m.files.map((f) => f.path)).toEqual(['os/install.wim', 'readme.txt']);
  });

  it('a whole file with strong ETag, Repr-Digest and Accept-Ranges', async () => {
    const r = await get(`${base}/files/os/install.wim`);
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.equals(data)).toBe(true);
    expect(r.headers.etag).toBe(`"sha256:${sha}"`);
    expect(r.headers['repr-digest']).toBe(`sha-256=:${Buffer.from(sha, 'hex').toString('base64')}:`);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(Number(r.headers['content-length'])).toBe(data.length);
  });

  it('HEAD: headers only', async () => {
    const r = await get(`${base}/files/os/install.wim`, {}, 'HEAD');
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.length).toBe(0);
    expect(r.headers.etag).toBe(`"sha256:${sha}"`);
    expect(Number(r.headers['content-length'])).toBe(data.length);
  });

  it('Range: one range is 206 with Content-Range; suffix and open ranges; 416 outside', async () => {
    const r = await get(`${base}/files/os/install.wim`, { range: 'bytes=100-199' });
    expect(r.statusCode).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 100-199/${data.length}`);
    expect(r.rawPayload.equals(data.subarray(100, 200))).toBe(true);
    expect(r.headers['repr-digest']).toContain('sha-256=:');
    const suffix = await get(`${base}/files/os/install.wim`, { range: 'bytes=-10' });
    expect(suffix.rawPayload.equals(data.subarray(data.length - 10))).toBe(true);
    const open = await get(`${base}/files/os/install.wim`, { range: `bytes=${data.length - 3}-` });
    expect(open.rawPayload.equals(data.subarray(data.length - 3))).toBe(true);
    const out = await get(`${base}/files/os/install.wim`, { range: `bytes=${data.length}-` });
    expect(out.statusCode).toBe(416);
    expect(out.headers['content-range']).toBe(`bytes */${data.length}`);
    // Several ranges: the whole file (documented).
    const multi = await get(`${base}/files/os/install.wim`, { range: 'bytes=0-1,5-9' });
    expect(multi.statusCode).toBe(200);
    // If-Range with another tag: the whole file.
    const stale = await get(`${base}/files/os/install.wim`, { range: 'bytes=0-9', 'if-range': '"sha256:00"' });
    expect(stale.statusCode).toBe(200);
    const fresh = await get(`${base}/files/os/install.wim`, { range: 'bytes=0-9', 'if-range': `"sha256:${sha}"` });
    expect(fresh.statusCode).toBe(206);
  });

  it('304 on If-None-Match', async () => {
    const r = await get(`${base}/files/readme.txt`, { 'if-none-match': `"x", "sha256:${createHash('sha256').update('hi').digest('hex')}"` });
    expect(r.statusCode).toBe(304);
    expect(r.rawPayload.length).toBe(0);
  });

  /** Raw HTTP/1.1 over loopback: the path goes out byte for byte (no client-side normalisation). */
  const raw = (path: string): Promise<{ status: number; text: string }> => new Promise((resolve, reject) => {
    const port = new URL(site.url).port;
    const sock = connect(Number(port), '127.0.0.1', () => sock.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    const parts: Buffer[] = [];
    sock.on('data', (b: Buffer) => parts.push(b));
    sock.on('error', reject);
    sock.on('close', () => {
      const text = Buffer.concat(parts).toString('latin1');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text });
    });
  });

  it('refuses traversal and anything not in the manifest (raw paths over a socket)', async () => {
    for (const url of [`${base}/files/../manifest.json`, `${base}/files/os/../../../../keys/site-signing.key`, `${base}/files/%2e%2e/manifest.json`, `${base}/files/os/%2e%2e/readme.txt`]) {
      const r = await raw(url);
      expect([400, 404], url).toContain(r.status);
      expect(r.text.includes('PRIVATE KEY')).toBe(false);
    }
  });

  it('refuses paths that are not manifest entries', async () => {
    for (const url of [
      `${base}/files/os\\..\\..\\keys`, `${base}/files/%00readme.txt`,
      `${base}/files//etc/passwd`, `${base}/files/os%2F..%2F..%2Fkeys%2Fsite-signing.key`, `${base}/files/missing.txt`,
      `/content/..%2Fkeys/1/files/site-signing.key`, `/content/${pkgId}/0/manifest.json`, `/content/${pkgId}/99/manifest.json`,
    ]) {
      const r = await get(url);
      expect([400, 404], url).toContain(r.statusCode);
      expect(r.rawPayload.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
    }
  });

  it('dp/packages lists the versions held; share serves the newest version of shared packages', async () => {
    const held = (await get('/dp/packages')).json<{ packages: { packageId: string; version: number; share: boolean }[] }>();
    expect(held.packages).toContainEqual({ packageId: pkgId, version: 2, share: true });
    const s = await get(`/share/${pkgId}/readme.txt`);
    expect(s.statusCode).toBe(200);
    expect(s.body).toBe('hi');
    const other = (await site.service.create('packages', { name: 'private' }, ACTOR)).id;
    await site.content.addContent(other, src, ACTOR);
    expect((await get(`/share/${other}/readme.txt`)).statusCode).toBe(404);
  });
});
