/**
 * Download and verification of package content (rules 116, 117, 122), against a
 * tiny fastify on 127.0.0.1 serving good and bad copies.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ContentCache, fileUrl, safeRelativePath, type DownloadSettings } from '../../src/client/content.js';
import { MemoryLog } from '../../src/client/log.js';
import { contentFile, location, pkg, startFakeSite, tempDir, type FakeSite } from './helpers.js';

const GOOD = 'echo hello from the agent\n';
const BAD = 'echo HELLO from the agent\n'; // same size, one byte class different
const settings = (over: Partial<DownloadSettings> = {}): DownloadSettings => ({ verify: true, retryCount: 2, retryDelayMs: 0, fileTimeoutMs: 5000, ...over });

describe('package content', () => {
  let site: FakeSite;
  beforeAll(async () => {
    site = await startFakeSite();
  });
  afterAll(() => site.close());
  beforeEach(() => {
    site.state.content = {
      good: { 'run.sh': GOOD, 'sub dir/é.txt': 'nested' },
      bad: { 'run.sh': BAD, 'sub dir/é.txt': 'nested' },
      long: { 'run.sh': GOOD + 'tail' },
    };
    site.state.failing.clear();
    site.contentHits.length = 0;
  });

  const files = [contentFile('run.sh', GOOD), contentFile('sub dir/é.txt', 'nested')];

  it('hash mismatch at the first location → copy deleted, next location → success (rule 116)', async () => {
    const target = tempDir();
    const log = new MemoryLog();
    const cache = new ContentCache(target, fetch, log);
    const r = await cache.ensure(pkg('PXP00001', files, [location(site, 'bad'), location(site, 'good')]), settings());
    expect(r).toMatchObject({ ok: true, files: 2, unverified: false });
    // run.sh came from the second location; the nested file is good at the first.
    expect(site.contentHits).toEqual(['bad/run.sh', 'good/run.sh', 'bad/sub dir/é.txt']);
    const dir = join(target, '_SMSTSPackages', 'PXP00001');
    expect(readFileSync(join(dir, 'run.sh'), 'utf8')).toBe(GOOD);
    expect(readFileSync(join(dir, 'sub dir', 'é.txt'), 'utf8')).toBe('nested');
    expect(log.lines.some((l) => l.level === 'warn' && /hash mismatch.*trying the next location/.test(l.text))).toBe(true);
    // No staging folder or partial file left behind.
    expect(readdirSync(join(target, '_SMSTSPackages'))).toEqual(['PXP00001']);
    expect(readdirSync(dir).sort()).toEqual(['run.sh', 'sub dir']);
  });

  it('no good location → fails as hash-mismatch and keeps nothing of the package', async () => {
    const target = tempDir();
    const cache = new ContentCache(target, fetch, new MemoryLog());
    const r = await cache.ensure(pkg('PXP00002', files, [location(site, 'bad'), location(site, 'long')]), settings());
    expect(r).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(!r.ok && r.message).toMatch(/nothing of the package was kept/);
    expect(readdirSync(join(target, '_SMSTSPackages'))).toEqual([]);
    // A mismatch is final for that location: no retry rounds.
    expect(site.contentHits.filter((h) => h.startsWith('bad/run.sh'))).toHaveLength(1);
  });

  it('a copy longer than policy says is cut off and refused', async () => {
    const target = tempDir();
    const r = await new ContentCache(target, fetch, new MemoryLog()).ensure(pkg('PXP00003', [contentFile('run.sh', GOOD)], [location(site, 'long')]), settings());
    expect(r).toMatchObject({ ok: false, reason: 'hash-mismatch' });
    expect(!r.ok && r.message).toMatch(/more than the \d+ bytes/);
  });

  it('access content directly → not verified, said loudly (rule 117)', async () => {
    const target = tempDir();
    const log = new MemoryLog();
    const r = await new ContentCache(target, fetch, log).ensure(pkg('PXP00004', files, [location(site, 'bad')]), settings({ verify: false }));
    expect(r).toMatchObject({ ok: true, unverified: true });
    expect(readFileSync(join(target, '_SMSTSPackages', 'PXP00004', 'run.sh'), 'utf8')).toBe(BAD);
    expect(log.lines.some((l) => /UNVERIFIED CONTENT.*rule 117/.test(l.text))).toBe(true);
    expect(log.lines.some((l) => /DOES NOT match policy/.test(l.text))).toBe(true);
  });

  it('retries a failing location SMSTSDownloadRetryCount times, then gives up as unavailable (rule 122)', async () => {
    site.state.failing.add('down');
    const sleeps: number[] = [];
    const target = tempDir();
    const cache = new ContentCache(target, fetch, new MemoryLog(), async (ms) => void sleeps.push(ms));
    const r = await cache.ensure(pkg('PXP00005', files, [location(site, 'down'), location(site, 'missing')]), settings({ retryCount: 2, retryDelayMs: 7 }));
    expect(r).toMatchObject({ ok: false, reason: 'unavailable' });
    expect(site.contentHits.filter((h) => h === 'down/run.sh')).toHaveLength(3);
    expect(site.contentHits.filter((h) => h === 'missing/run.sh')).toHaveLength(1); // 404 is final
    expect(sleeps).toEqual([7, 7]);
    expect(existsSync(join(target, '_SMSTSPackages', 'PXP00005'))).toBe(false);
  });

  it('downloads a package once per run', async () => {
    const cache = new ContentCache(tempDir(), fetch, new MemoryLog());
    const p = pkg('PXP00006', files, [location(site, 'good')]);
    await cache.ensure(p, settings());
    await cache.ensure(p, settings());
    expect(site.contentHits.filter((h) => h === 'good/run.sh')).toHaveLength(1);
  });

  it('refuses unsafe paths and package ids from policy', async () => {
    for (const bad of ['../x', '/etc/passwd', 'a/../../b', 'a\\b', 'a//b', '']) expect(safeRelativePath(bad)).toBeNull();
    const cache = new ContentCache(tempDir(), fetch, new MemoryLog());
    expect(await cache.ensure(pkg('PXP00007', [{ path: '../escape', size: 1, sha256: '0' }], [location(site, 'good')]), settings())).toMatchObject({ ok: false, reason: 'invalid-policy' });
    expect(await cache.ensure(pkg('../PXP', [], []), settings())).toMatchObject({ ok: false, reason: 'invalid-policy' });
  });

  it('builds file URLs under the location, encoded', () => {
    expect(fileUrl('http://dp/content/PXP00001', 'sub dir/é.txt')).toBe('http://dp/content/PXP00001/sub%20dir/%C3%A9.txt');
  });
});
