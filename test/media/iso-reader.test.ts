/**
 * Reading media (rules 94, 98, 118): the ISO 9660 reader against images xorriso
 * builds here (Rock Ridge + Joliet, Joliet only, plain ISO level 3, Rock Ridge with
 * relocated deep directories), the directory source, hostile images, and a fuzz run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isPxeError } from '../../src/errors.js';
import { IsoImage, SECTOR } from '../../src/media/iso-reader.js';
import { openMediaSource, type MediaSource } from '../../src/media/source.js';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { mulberry32 } from '../support/prng.js';
import { itWithTools } from '../support/tools.js';

const XORRISO = { xorriso: 'xorriso' };
const work = mkdtempSync(join(tmpdir(), 'pxp-iso-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function prngBytes(n: number, seed: number): Buffer {
  const next = mulberry32(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((next() * 2 ** 32) >>> 0, Math.min(i, n - 4));
  return b;
}
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const BIG = prngBytes(3 * 1024 * 1024 + 123, 7);
/** The medium's tree: relative path → content. */
const TREE: Record<string, Buffer | string> = {
  'MediaLabel.txt': 'label=Test Media\n',
  'pxepoint/media.json': '{"format":"pxepoint-media/1"}\n',
  'pxepoint/boot/BCD': prngBytes(5000, 1),
  'pxepoint/boot/wimboot': prngBytes(2048, 2),
  'pxepoint/content/PXP00001/v1/big.bin': BIG,
  'pxepoint/content/PXP00001/v1/empty.txt': '',
  'a/b/c/d/e/f/g/h/i/j/leaf.txt': 'deep\n',
  ...Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`many/file-${String(i).padStart(3, '0')}-with-a-longer-name.txt`, `entry ${i}\n`])),
};

function writeTree(root: string, tree: Record<string, Buffer | string>): void {
  for (const [p, data] of Object.entries(tree)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), data);
  }
}
const srcDir = join(work, 'tree');
writeTree(srcDir, TREE);

function xorriso(args: string[]): void {
  const r = spawnSync('xorriso', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xorriso ${args.join(' ')} failed: ${r.stderr}`);
}

type Variant = 'rr-joliet' | 'joliet' | 'plain' | 'rr-relocated';
const VARIANTS: Record<Variant, { args: (out: string, src: string) => string[]; naming: string; caseKept: boolean }> = {
  'rr-joliet': { args: (o, s) => ['-as', 'mkisofs', '-R', '-J', '-o', o, s], naming: 'rockridge', caseKept: true },
  joliet: { args: (o, s) => ['-as', 'mkisofs', '--norock', '-J', '-o', o, s], naming: 'joliet', caseKept: true },
  plain: { args: (o, s) => ['-as', 'mkisofs', '--norock', '-iso-level', '3', '-o', o, s], naming: 'iso9660', caseKept: false },
  // Rock Ridge with deep directories relocated (CL/RE entries), as older mkisofs did by default.
  'rr-relocated': { args: (o, s) => ['-compliance', 'deep_paths_off', '-rockridge', 'on', '-rr_reloc_dir', 'rr_moved', '-outdev', o, '-map', s, '/', '-commit'], naming: 'rockridge', caseKept: true },
};
const built = new Map<string, string>();
function isoOf(variant: Variant, src = srcDir, tag = ''): string {
  const key = `${variant}${tag}`;
  const hit = built.get(key);
  if (hit !== undefined) return hit;
  const out = join(work, `${key}.iso`);
  xorriso(VARIANTS[variant].args(out, src));
  built.set(key, out);
  return out;
}

async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    if (isPxeError(e)) return e.code;
    throw e;
  }
  return 'ok';
}
async function streamed(s: MediaSource, p: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await s.stream(p)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const shown = (name: string, caseKept: boolean): string => (caseKept ? name : name.toLowerCase());

describe('ISO 9660 reader against xorriso images (rules 94, 118)', () => {
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    const v = VARIANTS[variant];
    itWithTools(XORRISO, `${variant}: ${v.naming} names, nested and deep directories, case-insensitive lookup`, async () => {
      const img = await IsoImage.open(isoOf(variant));
      expect(img.naming).toBe(v.naming);
      await img.close();
      const s = await openMediaSource(isoOf(variant));
      try {
        expect(s.kind).toBe('iso');
        expect(await s.list('')).toEqual(['MediaLabel.txt', 'a', 'many', 'pxepoint'].map((n) => shown(n, v.caseKept)).sort());
        expect(await s.list('pxepoint')).toEqual(['boot', 'content', 'media.json']);
        expect(await s.list('pxepoint/boot')).toEqual([shown('BCD', v.caseKept), 'wimboot'].sort());
        // Case-insensitive fallback per segment (ISO 9660 names are upper case on the disc).
        expect((await s.readFile('MediaLabel.txt'))?.toString()).toBe('label=Test Media\n');
        expect((await s.readFile('MEDIALABEL.TXT'))?.toString()).toBe('label=Test Media\n');
        expect((await s.readFile('PxePoint/Boot/bcd'))?.equals(TREE['pxepoint/boot/BCD'] as Buffer)).toBe(true);
        expect((await s.readFile('./pxepoint//media.json'))?.toString()).toBe(TREE['pxepoint/media.json']);
        expect((await s.readFile('a/b/c/d/e/f/g/h/i/j/leaf.txt'))?.toString()).toBe('deep\n');
        expect(await s.list('a/b/c/d/e/f/g/h/i')).toEqual(['j']);
        expect(await s.readFile('pxepoint/content/PXP00001/v1/empty.txt')).toEqual(Buffer.alloc(0));
        expect(await streamed(s, 'pxepoint/content/PXP00001/v1/empty.txt')).toEqual(Buffer.alloc(0));
        // Absent things are null; directories are not files.
        expect(await s.readFile('pxepoint/nothing.dat')).toBeNull();
        expect(await s.readFile('nothing/at/all')).toBeNull();
        expect(await s.readFile('pxepoint')).toBeNull();
        expect(await s.size('pxepoint/boot')).toBeNull();
        expect(await s.list('MediaLabel.txt')).toBeNull();
        expect(await s.list('MediaLabel.txt/x')).toBeNull();
        expect(await s.size('pxepoint/boot/wimboot')).toBe(2048);
        if (variant === 'rr-relocated') expect((await s.list('')) ?? []).not.toContain('rr_moved');
      } finally {
        await s.close();
      }
    }, 60_000);

    itWithTools(XORRISO, `${variant}: rule 118: a ~3 MiB file streamed and hashed; size; readFile bound`, async () => {
      const s = await openMediaSource(isoOf(variant));
      try {
        const p = 'pxepoint/content/PXP00001/v1/big.bin';
        expect(await s.size(p)).toBe(BIG.length);
        expect(sha256(await streamed(s, p))).toBe(sha256(BIG));
        expect(sha256((await s.readFile(p))!)).toBe(sha256(BIG));
        expect(await codeOf(() => s.readFile(p, 1024 * 1024))).toBe(MEDIA_ERRORS.format);
        await expect(s.stream('pxepoint/absent.bin')).rejects.toMatchObject({ code: MEDIA_ERRORS.format });
      } finally {
        await s.close();
      }
    }, 60_000);

    itWithTools(XORRISO, `${variant}: a directory over 2048 bytes with 200 entries (multi-sector)`, async () => {
      const s = await openMediaSource(isoOf(variant));
      try {
        const names = (await s.list('many'))!;
        expect(names).toHaveLength(200);
        const expected = Array.from({ length: 200 }, (_, i) => `file-${String(i).padStart(3, '0')}-with-a-longer-name.txt`);
        if (variant !== 'plain') expect(names).toEqual(expected);
        expect((await s.readFile(`many/${expected[199]}`))?.toString() ?? (await s.readFile(`many/${names[199]}`))?.toString()).toBe('entry 199\n');
        expect((await s.readFile(`many/${names[0]}`))?.toString()).toBe('entry 0\n');
      } finally {
        await s.close();
      }
    }, 60_000);
  }

  it('paths that leave the medium are refused (MEDIA_ERRORS.format), for ISO and directory alike', async () => {
    const s = await openMediaSource(srcDir);
    for (const p of ['../etc/passwd', 'pxepoint/../../x', '/etc/passwd', 'pxepoint\\media.json', 'a\0b']) {
      expect(await codeOf(() => s.readFile(p))).toBe(MEDIA_ERRORS.format);
    }
    expect(await codeOf(() => s.list('a/' + 'x/'.repeat(70)))).toBe(MEDIA_ERRORS.format);
  });
});

describe('directory source (a mounted or copied medium)', () => {
  const dir = join(work, 'dir-medium');
  writeTree(dir, { 'MediaLabel.txt': 'label=x\n', 'pxepoint/media.json': '{}', 'pxepoint/Boot/BCD': 'bcd', 'pxepoint/inside.txt': 'inside' });
  writeFileSync(join(work, 'outside.txt'), 'secret');
  symlinkSync(join(work, 'outside.txt'), join(dir, 'pxepoint', 'escape.txt'));
  symlinkSync(work, join(dir, 'pxepoint', 'escape-dir'));
  symlinkSync('inside.txt', join(dir, 'pxepoint', 'link-inside.txt'));
  symlinkSync('nowhere', join(dir, 'pxepoint', 'dangling'));

  it('reads, lists, sizes and streams, with a case-insensitive fallback per segment', async () => {
    const s = await openMediaSource(dir);
    expect(s.kind).toBe('directory');
    expect(await s.list('')).toEqual(['MediaLabel.txt', 'pxepoint']);
    expect((await s.readFile('medialabel.TXT'))?.toString()).toBe('label=x\n');
    expect((await s.readFile('PXEPOINT/boot/bcd'))?.toString()).toBe('bcd');
    expect(await s.size('pxepoint/media.json')).toBe(2);
    expect((await streamed(s, 'pxepoint/Boot/BCD')).toString()).toBe('bcd');
    expect(await s.readFile('pxepoint/none')).toBeNull();
    expect(await s.readFile('pxepoint')).toBeNull();
    expect(await s.list('pxepoint/media.json')).toBeNull();
    expect(await s.readFile('pxepoint/dangling')).toBeNull();
    expect((await s.readFile('pxepoint/link-inside.txt'))?.toString()).toBe('inside');
    expect(await codeOf(() => s.readFile('pxepoint/media.json', 1))).toBe(MEDIA_ERRORS.format);
    await s.close();
  });

  it.each([
    ['a symbolic link to a file outside', 'pxepoint/escape.txt'],
    ['a symbolic link to a directory outside', 'pxepoint/escape-dir/outside.txt'],
    ['".."', 'pxepoint/../../outside.txt'],
    ['an absolute path', '/etc/hostname'],
  ])('refuses %s (MEDIA_ERRORS.format)', async (_n, p) => {
    const s = await openMediaSource(dir);
    expect(await codeOf(() => s.readFile(p))).toBe(MEDIA_ERRORS.format);
    expect(await codeOf(() => s.size(p))).toBe(MEDIA_ERRORS.format);
  });

  it('refuses what is neither a directory nor an ISO image', async () => {
    const notIso = join(work, 'not.iso');
    writeFileSync(notIso, Buffer.alloc(64 * 1024, 0x41));
    expect(await codeOf(() => openMediaSource(notIso))).toBe(MEDIA_ERRORS.format);
    expect(await codeOf(() => openMediaSource(join(work, 'absent.iso')))).toBe(MEDIA_ERRORS.format);
    const tiny = join(work, 'tiny.iso');
    writeFileSync(tiny, 'CD001');
    expect(await codeOf(() => openMediaSource(tiny))).toBe(MEDIA_ERRORS.format);
  });
});

// ---- hostile images ----

/** A small Rock Ridge + Joliet image (a handful of sectors of metadata). */
const smallSrc = join(work, 'small');
writeTree(smallSrc, { 'MediaLabel.txt': 'label=small\n', 'sub/deeper/file.bin': prngBytes(3000, 3), 'sub/two.txt': 'two', 'Hello.TXT': 'hello' });

interface RawRecord { at: number; length: number; name: string; suStart: number }
/** The records of the primary tree's directory at `extent` (test-side parsing, independent of the reader). */
function rawRecords(img: Buffer, extent: number, size: number): RawRecord[] {
  const out: RawRecord[] = [];
  for (let at = extent * SECTOR; at < extent * SECTOR + size;) {
    const len = img[at]!;
    if (len === 0) {
      at = (Math.floor(at / SECTOR) + 1) * SECTOR;
      continue;
    }
    const nl = img[at + 32]!;
    out.push({ at, length: len, name: img.toString('latin1', at + 33, at + 33 + nl), suStart: at + 33 + nl + (nl % 2 === 0 ? 1 : 0) });
    at += len;
  }
  return out;
}
function rootOf(img: Buffer): { extent: number; size: number } {
  const pvd = 16 * SECTOR;
  return { extent: img.readUInt32LE(pvd + 156 + 2), size: img.readUInt32LE(pvd + 156 + 10) };
}
function setBoth32(img: Buffer, at: number, value: number): void {
  img.writeUInt32LE(value, at);
  img.writeUInt32BE(value, at + 4);
}
function recordOf(img: Buffer, dir: { extent: number; size: number }, isoName: string): RawRecord {
  const r = rawRecords(img, dir.extent, dir.size).find((x) => x.name.split(';')[0] === isoName);
  if (r === undefined) throw new Error(`no record ${isoName}`);
  return r;
}

describe('hostile ISO images: MEDIA_ERRORS.format, never a crash or a hang', () => {
  async function withImage(variant: Variant, mutate: (img: Buffer) => Buffer, fn: (path: string) => Promise<void>): Promise<void> {
    const img = mutate(Buffer.from(readFileSync(isoOf(variant, smallSrc, '-small'))));
    const p = join(work, `hostile-${Math.random().toString(36).slice(2)}.iso`);
    writeFileSync(p, img);
    try {
      await fn(p);
    } finally {
      rmSync(p, { force: true });
    }
  }

  itWithTools(XORRISO, 'a directory that contains itself (loop) is refused', async () => {
    await withImage('plain', (img) => {
      const root = rootOf(img);
      const sub = recordOf(img, root, 'SUB');
      setBoth32(img, sub.at + 2, root.extent);
      setBoth32(img, sub.at + 10, root.size);
      return img;
    }, async (p) => {
      const s = await openMediaSource(p);
      expect(await codeOf(() => s.list('sub'))).toBe(MEDIA_ERRORS.format);
      expect(await codeOf(() => s.readFile('sub/sub/sub/sub/hello.txt'))).toBe(MEDIA_ERRORS.format);
      expect((await s.readFile('hello.txt'))?.toString()).toBe('hello');
      await s.close();
    });
    // One level down: sub/deeper is the root again.
    await withImage('plain', (img) => {
      const root = rootOf(img);
      const subRec = recordOf(img, root, 'SUB');
      const sub = { extent: img.readUInt32LE(subRec.at + 2), size: img.readUInt32LE(subRec.at + 10) };
      const deeper = recordOf(img, sub, 'DEEPER');
      setBoth32(img, deeper.at + 2, root.extent);
      setBoth32(img, deeper.at + 10, root.size);
      return img;
    }, async (p) => {
      const s = await openMediaSource(p);
      expect(await s.list('sub')).toEqual(['deeper', 'two.txt']);
      expect(await codeOf(() => s.list('sub/deeper'))).toBe(MEDIA_ERRORS.format);
      expect(await codeOf(() => s.readFile('sub/deeper/sub/deeper/file.bin'))).toBe(MEDIA_ERRORS.format);
      await s.close();
    });
  });

  itWithTools(XORRISO, 'a file whose extent runs past the image is refused', async () => {
    await withImage('plain', (img) => {
      const hello = recordOf(img, rootOf(img), 'HELLO.TXT');
      setBoth32(img, hello.at + 10, 0x7fffffff);
      const label = recordOf(img, rootOf(img), 'MEDIALABEL.TXT');
      setBoth32(img, label.at + 2, 0xfffffff0);
      return img;
    }, async (p) => {
      const s = await openMediaSource(p);
      expect(await codeOf(() => s.readFile('hello.txt'))).toBe(MEDIA_ERRORS.format);
      expect(await codeOf(() => s.size('hello.txt'))).toBe(MEDIA_ERRORS.format);
      expect(await codeOf(() => s.stream('hello.txt'))).toBe(MEDIA_ERRORS.format);
      expect(await codeOf(() => s.readFile('medialabel.txt'))).toBe(MEDIA_ERRORS.format);
      await s.close();
    });
  });

  itWithTools(XORRISO, 'a multi-extent file is refused with a clear error (rule 94)', async () => {
    await withImage('plain', (img) => {
      const hello = recordOf(img, rootOf(img), 'HELLO.TXT');
      img[hello.at + 25] = img[hello.at + 25]! | 0x80;
      return img;
    }, async (p) => {
      const s = await openMediaSource(p);
      await expect(s.readFile('hello.txt')).rejects.toMatchObject({ code: MEDIA_ERRORS.format, message: expect.stringMatching(/several extents/) });
      expect((await s.readFile('medialabel.txt'))?.toString()).toBe('label=small\n');
      await s.close();
    });
  });

  itWithTools(XORRISO, 'a Rock Ridge continuation area that points at itself (CE loop) is refused', async () => {
    await withImage('rr-joliet', (img) => {
      const hello = recordOf(img, rootOf(img), 'HELLO.TXT');
      const at = hello.suStart;
      if (hello.at + hello.length - at < 28) throw new Error('system use area too small for the test');
      img.write('CE', at, 'latin1');
      img[at + 2] = 28;
      img[at + 3] = 1;
      setBoth32(img, at + 4, Math.floor(at / SECTOR));
      setBoth32(img, at + 12, at % SECTOR);
      setBoth32(img, at + 20, 28);
      return img;
    }, async (p) => {
      const s = await openMediaSource(p);
      expect(await codeOf(() => s.list(''))).toBe(MEDIA_ERRORS.format);
      await s.close();
    });
  });

  itWithTools(XORRISO, 'truncated images and a zeroed primary descriptor are refused', async () => {
    const whole = readFileSync(isoOf('rr-joliet', smallSrc, '-small'));
    for (const cut of [0, 100, 16 * SECTOR, 17 * SECTOR, 20 * SECTOR, 30 * SECTOR, whole.length - SECTOR]) {
      const p = join(work, `cut-${cut}.iso`);
      writeFileSync(p, whole.subarray(0, cut));
      const code = await codeOf(async () => {
        const s = await openMediaSource(p);
        try {
          await s.list('');
          await s.readFile('sub/deeper/file.bin');
        } finally {
          await s.close();
        }
      });
      expect([MEDIA_ERRORS.format, 'ok']).toContain(code);
      if (cut <= 17 * SECTOR) expect(code).toBe(MEDIA_ERRORS.format);
    }
    await withImage('rr-joliet', (img) => img.fill(0, 16 * SECTOR, 17 * SECTOR), async (p) => {
      expect(await codeOf(() => openMediaSource(p))).toBe(MEDIA_ERRORS.format);
    });
  });

  itWithTools(XORRISO, 'fuzz: 2,000 mutated copies of a small image — each open/read works or throws a PxeError (seeded, replayable)', async () => {
    const original = readFileSync(isoOf('rr-joliet', smallSrc, '-small'));
    const p = join(work, 'fuzz.iso');
    writeFileSync(p, original);
    const fh = await open(p, 'r+');
    const rand = mulberry32(20261126);
    const int = (n: number): number => Math.floor(rand() * n);
    // Aim most mutations at the bytes that matter: volume descriptors and the directories' records.
    const hot: number[] = [16, 17, 18];
    const dirs = [rootOf(original)];
    while (dirs.length > 0 && hot.length < 64) {
      const d = dirs.pop()!;
      for (let k = 0; k < Math.ceil(d.size / SECTOR); k++) hot.push(d.extent + k);
      for (const r of rawRecords(original, d.extent, d.size)) {
        if (r.name.length === 1 && r.name.charCodeAt(0) <= 1) continue;
        if ((original[r.at + 25]! & 2) !== 0) dirs.push({ extent: original.readUInt32LE(r.at + 2), size: original.readUInt32LE(r.at + 10) });
      }
    }
    const metaEnd = Math.min(original.length, 64 * SECTOR);
    const failures: string[] = [];
    let opened = 0;
    let pxeErrors = 0;
    const refused = { n: 0 };
    try {
      for (let i = 0; i < 2000; i++) {
        const edits: { at: number; bytes: Buffer }[] = [];
        for (let m = 1 + int(6); m > 0; m--) {
          const r = rand();
          const at = r < 0.7 ? hot[int(hot.length)]! * SECTOR + int(SECTOR) : r < 0.9 ? 16 * SECTOR + int(metaEnd - 16 * SECTOR) : int(original.length);
          const kind = int(4);
          const len = kind === 3 ? 4 : 1;
          const bytes = Buffer.alloc(Math.min(len, original.length - at));
          for (let k = 0; k < bytes.length; k++) bytes[k] = kind === 0 ? int(256) : kind === 1 ? 0xff : kind === 2 ? original[at + k]! ^ (1 << int(8)) : int(2) === 0 ? 0 : int(256);
          edits.push({ at, bytes });
        }
        for (const e of edits) await fh.write(e.bytes, 0, e.bytes.length, e.at);
        try {
          const s = await openMediaSource(p);
          opened++;
          try {
            await walk(s, '', 0, refused);
          } finally {
            await s.close();
          }
        } catch (e) {
          if (isPxeError(e)) pxeErrors++;
          else failures.push(`case ${i}: ${(e as Error)?.stack ?? String(e)}`);
        }
        for (const e of edits) await fh.write(original, e.at, e.bytes.length, e.at);
      }
    } finally {
      await fh.close();
    }
    expect(failures.slice(0, 5)).toEqual([]);
    // Both outcomes are exercised: many images still open, many are refused.
    expect(opened).toBeGreaterThan(200);
    expect(pxeErrors + refused.n).toBeGreaterThan(40);
  }, 120_000);
});

/** Lists and reads everything reachable (bounded), as a client exploring a medium would. */
async function walk(s: MediaSource, dir: string, depth: number, refused = { n: 0 }): Promise<void> {
  if (depth > 6) return;
  const names = (await s.list(dir)) ?? [];
  for (const n of names.slice(0, 50)) {
    const p = dir === '' ? n : `${dir}/${n}`;
    let size: number | null;
    try {
      size = await s.size(p);
    } catch (e) {
      if (!isPxeError(e)) throw e;
      refused.n++;
      continue;
    }
    if (size === null) {
      await walk(s, p, depth + 1, refused).catch((e: unknown) => {
        if (!isPxeError(e)) throw e;
        refused.n++;
      });
      continue;
    }
    await s.readFile(p, 64 * 1024).catch((e: unknown) => {
      if (!isPxeError(e)) throw e;
      refused.n++;
    });
    if (size <= 64 * 1024) {
      const st = await s.stream(p);
      for await (const _ of st) void _;
    }
  }
}
