import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ContentLibrary, ContentVerifyError } from '../../src/content/library.js';
import { buildManifest } from '../../src/content/manifest.js';
import { loadOrCreateSiteKey, signManifest } from '../../src/content/signing.js';
import { ACTOR, bytes, makeFolder, startSite, tempDir } from './helpers.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const header = { packageId: 'PXP00001', version: 1, createdAt: '2026-11-26T00:00:00.000Z' };

describe('content library', () => {
  it('stores files by SHA-256; a manifest commits only when every object is there', async () => {
    const dataDir = tempDir();
    const src = makeFolder({ 'a.bin': bytes(300_000, 3), 'dup/a.bin': bytes(300_000, 3), 'b.txt': 'b' });
    dirs.push(dataDir, src);
    const lib = await ContentLibrary.open(dataDir);
    const body = await lib.importFolder(src, header, 64 * 1024);
    const sha = createHash('sha256').update(bytes(300_000, 3)).digest('hex');
    expect(body.files.map((f) => f.sha256)).toContain(sha);
    expect(existsSync(lib.objectPath(sha))).toBe(true);
    // Identical files are one object.
    expect(readdirSync(join(lib.objectsDir, sha.slice(0, 2)))).toEqual([sha]);
    expect(readdirSync(lib.tmpDir)).toEqual([]);

    const key = loadOrCreateSiteKey(dataDir);
    const signed = signManifest(body, key);
    await lib.commitManifest(signed);
    expect(await lib.readManifest('PXP00001', 1)).toEqual(signed);
    expect(await lib.listVersions()).toEqual([{ packageId: 'PXP00001', version: 1 }]);

    await lib.removeObject(sha);
    await expect(lib.commitManifest({ ...signed, version: 2 })).rejects.toThrow(/not in the store/);
    expect(await lib.readManifest('PXP00001', 2)).toBeUndefined();
  });

  it('writeObject renames only verified bytes: a corrupt chunk aborts and leaves nothing', async () => {
    const dataDir = tempDir();
    const src = makeFolder({ 'f.bin': bytes(200_000, 9) });
    dirs.push(dataDir, src);
    const lib = await ContentLibrary.open(dataDir);
    const m = await buildManifest(src, header, 64 * 1024);
    const file = m.files[0]!;
    const bad = bytes(200_000, 9);
    bad[70_000] = bad[70_000]! ^ 0x01; // second chunk
    const err = await lib.writeObject(Readable.from([bad.subarray(0, 100_000), bad.subarray(100_000)]), file, 64 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContentVerifyError);
    expect((err as ContentVerifyError).chunk).toBe(1);
    expect(await lib.hasObject(file.sha256)).toBe(false);
    expect(readdirSync(lib.tmpDir)).toEqual([]);
    // Truncated: size check.
    await expect(lib.writeObject(Readable.from([bytes(200_000, 9).subarray(0, 150_000)]), file, 64 * 1024)).rejects.toThrow(ContentVerifyError);
    await lib.writeObject(Readable.from([bytes(200_000, 9)]), file, 64 * 1024);
    expect(await lib.hasObject(file.sha256, file.size)).toBe(true);
    expect((await lib.verifyObject(file, 64 * 1024)).ok).toBe(true);
  });

  it('writeObjectResumable keeps only verified whole chunks and asks for the rest', async () => {
    const dataDir = tempDir();
    const src = makeFolder({ 'f.bin': bytes(300_000, 4) });
    dirs.push(dataDir, src);
    const lib = await ContentLibrary.open(dataDir);
    const file = (await buildManifest(src, header, 64 * 1024)).files[0]!;
    const all = bytes(300_000, 4);
    // Attempt 1 dies after 150 000 bytes (two whole chunks = 131 072 bytes are good).
    const broken = async function* () {
      yield all.subarray(0, 150_000);
      await new Promise((r) => setTimeout(r, 50)); // the bytes reach the disk, then the connection drops
      throw new Error('connection reset');
    };
    await expect(lib.writeObjectResumable(file, 64 * 1024, async () => ({ stream: Readable.from(broken()), fromOffset: false }))).rejects.toThrow('connection reset');
    const offsets: number[] = [];
    const r = await lib.writeObjectResumable(file, 64 * 1024, async (offset) => {
      offsets.push(offset);
      return { stream: Readable.from([all.subarray(offset)]), fromOffset: true };
    });
    expect(offsets).toEqual([131_072]);
    expect(r.resumedAt).toBe(131_072);
    expect((await lib.verifyObject(file, 64 * 1024)).ok).toBe(true);
    expect(readdirSync(lib.partialDir)).toEqual([]);

    // A damaged partial is cut back to its last good chunk.
    const other = makeFolder({ 'g.bin': bytes(200_000, 8) });
    dirs.push(other);
    const g = (await buildManifest(other, header, 64 * 1024)).files[0]!;
    const bad = bytes(200_000, 8).subarray(0, 140_000);
    bad[10] = bad[10]! ^ 1;
    writeFileSync(join(lib.partialDir, g.sha256), bad);
    const seen: number[] = [];
    await lib.writeObjectResumable(g, 64 * 1024, async (offset) => {
      seen.push(offset);
      return { stream: Readable.from([bytes(200_000, 8).subarray(offset)]), fromOffset: true };
    });
    expect(seen).toEqual([0]);
    expect((await lib.verifyObject(g, 64 * 1024)).ok).toBe(true);
  });

  it('open() drops temp files a crash left behind, never a manifest', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    const lib = await ContentLibrary.open(dataDir);
    writeFileSync(join(lib.tmpDir, 'partial'), 'half a file');
    mkdirSync(join(lib.manifestsDir, 'PXP00009'), { recursive: true });
    const again = await ContentLibrary.open(dataDir);
    expect(readdirSync(again.tmpDir)).toEqual([]);
    expect(await again.listVersions()).toEqual([]);
  });
});

describe('package versions on the site', () => {
  it('add-content makes a new version (rule 17); identical content makes none', async () => {
    const site = await startSite({ listen: false });
    const src = makeFolder({ 'setup.cmd': 'echo hi', 'data/x.bin': bytes(10_000) });
    dirs.push(src);
    try {
      const pkg = await site.service.create('packages', { name: 'App' }, ACTOR);
      const first = await site.content.addContent(pkg.id, src, ACTOR);
      expect(first).toMatchObject({ created: true, version: 2, files: 2 });
      expect((await site.repo.packages.get(pkg.id))!.version).toBe(2);
      const again = await site.content.addContent(pkg.id, src, ACTOR);
      expect(again).toMatchObject({ created: false, version: 2 });
      writeFileSync(join(src, 'setup.cmd'), 'echo changed');
      const second = await site.content.addContent(pkg.id, src, ACTOR);
      expect(second).toMatchObject({ created: true, version: 3 });
      expect((await site.repo.content.latestVersion(pkg.id))!.version).toBe(3);
      expect((await site.repo.content.listVersions(pkg.id)).map((v) => v.version)).toEqual([3, 2]);
    } finally {
      await site.close();
    }
  });
});

describe('policy files come from the newest manifest', () => {
  it('ContentCatalogue lists path, size and SHA-256 of the newest version (rule 17)', async () => {
    const { ContentCatalogue } = await import('../../src/app/client-content.js');
    const site = await startSite({ listen: false });
    const src = makeFolder({ 'a.txt': 'one' });
    dirs.push(src);
    try {
      const pkg = await site.service.create('packages', { name: 'App' }, ACTOR);
      const catalogue = new ContentCatalogue(() => site.repo);
      expect(await catalogue.filesOf(pkg)).toEqual([]);
      await site.content.addContent(pkg.id, src, ACTOR);
      const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
      expect(await catalogue.filesOf((await site.repo.packages.get(pkg.id))!)).toEqual([{ path: 'a.txt', size: 3, sha256: sha('one') }]);
      writeFileSync(join(src, 'a.txt'), 'two!');
      await site.content.addContent(pkg.id, src, ACTOR);
      expect(await catalogue.filesOf((await site.repo.packages.get(pkg.id))!)).toEqual([{ path: 'a.txt', size: 4, sha256: sha('two!') }]);
    } finally {
      await site.close();
    }
  });
});
