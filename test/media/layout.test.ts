/**
 * The file plan of a medium (src/media/layout.ts, pure): bootable vs stand-alone,
 * which boot files per firmware, missing files named with their fix, the 4 GiB limit.
 */
import { describe, expect, it } from 'vitest';
import { isPxeError } from '../../src/errors.js';
import { bootImageCandidates, isSafeMediaPath, MAX_MEDIA_FILE_BYTES, planMedia, type LayoutInput, type PlanEntry } from '../../src/media/layout.js';
import { MEDIA_ERRORS } from '../../src/media/types.js';
import { WIMBOOT_MISSING_HINT } from '../../src/winpe/wimboot.js';

const ID = '9a8b7c6d-0000-4000-8000-000000000001';
const IMG = 'PXP00003';

function presentFor(arch: 'x64' | 'x86', drop: string[] = [], extra: Record<string, number> = {}): Map<string, number> {
  const m = new Map<string, number>();
  for (const rel of bootImageCandidates(IMG, arch)) m.set(rel, 100);
  m.delete(`boot/${arch}/wimboot`); // the shared one is enough
  m.delete('boot/winpe/pxepoint-agent.cmd');
  for (const d of drop) m.delete(d);
  for (const [k, v] of Object.entries(extra)) m.set(k, v);
  return m;
}

const input = (over: Partial<LayoutInput> = {}): LayoutInput => ({
  mediaId: ID,
  type: 'bootable',
  label: 'Lab media',
  bootImageId: IMG,
  architecture: 'x64',
  siteUrls: ['http://10.0.2.100:8099'],
  unattended: true,
  root: '/srv/tftp',
  present: presentFor('x64'),
  descriptor: Buffer.from('{"format":"pxepoint-media/1"}\n'),
  variables: Buffer.from('{"sealed":1}'),
  policy: null,
  packages: [],
  ...over,
});

const paths = (entries: PlanEntry[]): string[] => entries.map((e) => e.path);
const sourceOf = (entries: PlanEntry[], p: string): string | undefined => {
  const e = entries.find((x) => x.path === p);
  return e?.kind === 'file' ? e.source : undefined;
};

function buildErrorOf(fn: () => unknown): { message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    if (isPxeError(e) && e.code === MEDIA_ERRORS.build) return { message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected a build error');
}

describe('planMedia', () => {
  it('bootable x64: label, descriptor, variables, the boot files of both firmware, grub.cfg; no policy, no content', () => {
    const plan = planMedia(input());
    expect(plan.firmwares).toEqual(['bios', 'uefi']);
    expect(paths(plan.entries)).toEqual([
      'MediaLabel.txt',
      'pxepoint/media.json',
      'pxepoint/variables.dat',
      'pxepoint/boot/wimboot',
      'pxepoint/boot/bootmgr.exe',
      'pxepoint/boot/bootmgfw.efi',
      'pxepoint/boot/bcd-bios',
      'pxepoint/boot/bcd-uefi',
      'pxepoint/boot/boot.sdi',
      'pxepoint/boot/boot.wim',
      'pxepoint/boot/winpeshl.ini',
      'pxepoint/boot/pxepoint-start.cmd',
      'boot/grub/grub.cfg',
    ]);
    const e = plan.entries;
    expect(sourceOf(e, 'pxepoint/boot/wimboot')).toBe('/srv/tftp/boot/wimboot');
    expect(sourceOf(e, 'pxepoint/boot/boot.wim')).toBe(`/srv/tftp/images/${IMG}/boot.wim`);
    expect(sourceOf(e, 'pxepoint/boot/bcd-bios')).toBe(`/srv/tftp/images/${IMG}/BCD-bios`);
    expect(sourceOf(e, 'pxepoint/boot/bcd-uefi')).toBe(`/srv/tftp/images/${IMG}/BCD-uefi`);
    expect(sourceOf(e, 'pxepoint/boot/bootmgfw.efi')).toBe('/srv/tftp/boot/x64/bootmgfw.efi');
    const label = e.find((x) => x.path === 'MediaLabel.txt')!;
    expect(label.kind === 'bytes' && label.bytes.toString()).toBe('label=Lab media\r\n');
    const grub = e.find((x) => x.path === 'boot/grub/grub.cfg')!;
    expect(grub.kind === 'bytes' && grub.bytes.toString()).toContain('set timeout=0');
    expect(plan.grub.bios!.files.map((f) => f.name)).toEqual(['bootmgr.exe', 'BCD', 'boot.sdi', 'boot.wim', 'media.json', 'variables.dat', 'winpeshl.ini', 'pxepoint-start.cmd']);
    expect(plan.grub.uefi!.files.map((f) => f.name)).toEqual(['bootmgfw.efi', 'BCD', 'boot.sdi', 'boot.wim', 'media.json', 'variables.dat', 'winpeshl.ini', 'pxepoint-start.cmd']);
    expect(plan.totalBytes).toBe(plan.entries.reduce((n, x) => n + x.size, 0));
  });

  it('the per-architecture wimboot wins over the shared one; without bootmgr.exe BIOS lets wimboot take it from the WIM', () => {
    const plan = planMedia(input({ present: presentFor('x64', ['boot/x64/bootmgr.exe'], { 'boot/x64/wimboot': 7 }) }));
    expect(sourceOf(plan.entries, 'pxepoint/boot/wimboot')).toBe('/srv/tftp/boot/x64/wimboot');
    expect(paths(plan.entries)).not.toContain('pxepoint/boot/bootmgr.exe');
    expect(plan.grub.bios!.files[0]!.name).toBe('BCD');
  });

  it('x86: BIOS only, no bootmgfw.efi, no UEFI BCD', () => {
    const plan = planMedia(input({ architecture: 'x86', present: presentFor('x86', [`images/${IMG}/BCD-uefi`, 'boot/x86/bootmgfw.efi']) }));
    expect(plan.firmwares).toEqual(['bios']);
    expect(plan.grub.uefi).toBeNull();
    expect(paths(plan.entries)).not.toContain('pxepoint/boot/bootmgfw.efi');
    expect(paths(plan.entries)).not.toContain('pxepoint/boot/bcd-uefi');
  });

  it('arm64 is refused', () => {
    expect(buildErrorOf(() => planMedia(input({ architecture: 'arm64' }))).message).toMatch(/arm64.*x64 \(BIOS and UEFI\) and x86 \(BIOS\)/);
  });

  it('stand-alone: the sealed policy and every package file under pxepoint/content/<id>/v<version>/', () => {
    const plan = planMedia(input({
      type: 'standalone',
      policy: Buffer.from('{"policy":1}'),
      packages: [
        { id: 'PXP00010', version: 3, files: [{ path: 'setup.cmd', size: 12, sha256: 'a'.repeat(64), source: '/data/content/objects/aa/aaaa' }, { path: 'sub dir/data.bin', size: 5, sha256: 'b'.repeat(64), source: '/data/content/objects/bb/bbbb' }] },
        { id: 'PXP00011', version: 1, files: [] },
      ],
    }));
    const p = paths(plan.entries);
    expect(p).toContain('pxepoint/standalone/policy.dat');
    expect(p).toContain('pxepoint/content/PXP00010/v3/setup.cmd');
    expect(p).toContain('pxepoint/content/PXP00010/v3/sub dir/data.bin');
    expect(sourceOf(plan.entries, 'pxepoint/content/PXP00010/v3/sub dir/data.bin')).toBe('/data/content/objects/bb/bbbb');
    expect(plan.grub.type).toBe('standalone');
  });

  it('bootable media carry no policy even if one is given; stand-alone without one is refused', () => {
    expect(paths(planMedia(input({ policy: Buffer.from('x') })).entries)).not.toContain('pxepoint/standalone/policy.dat');
    expect(buildErrorOf(() => planMedia(input({ type: 'standalone' }))).message).toMatch(/sealed policy/);
  });

  it('missing wimboot: names both places and how to get it (WIMBOOT_MISSING_HINT)', () => {
    const err = buildErrorOf(() => planMedia(input({ present: presentFor('x64', ['boot/wimboot']) })));
    expect(err.message).toContain('boot/x64/wimboot or boot/wimboot');
    expect(err.message).toContain(WIMBOOT_MISSING_HINT);
    expect(err.message).toContain('/srv/tftp');
    expect(err.details.missing).toEqual(['boot/x64/wimboot or boot/wimboot']);
  });

  it('every missing boot image file is named at once, with its fix', () => {
    const err = buildErrorOf(() => planMedia(input({ present: presentFor('x64', [`images/${IMG}/boot.wim`, `images/${IMG}/BCD-uefi`, 'boot/boot.sdi', 'boot/x64/bootmgfw.efi']) })));
    expect(err.details.missing).toEqual([`images/${IMG}/boot.wim`, 'boot/boot.sdi', `images/${IMG}/BCD-uefi`, 'boot/x64/bootmgfw.efi']);
    expect(err.message).toContain(`pxepoint bootimage import --id ${IMG} --arch x64 --wim FILE`);
    expect(err.message).toContain(`pxepoint bootimage bcd ${IMG}`);
  });

  it('refuses a file over 4 GiB − 1 byte (FAT32, one ISO 9660 extent; rule 94)', () => {
    const err = buildErrorOf(() => planMedia(input({ present: presentFor('x64', [], { [`images/${IMG}/boot.wim`]: MAX_MEDIA_FILE_BYTES + 1 }) })));
    expect(err.message).toMatch(/pxepoint\/boot\/boot\.wim is 4294967296 bytes.*4 GiB/);
    expect(() => planMedia(input({ present: presentFor('x64', [], { [`images/${IMG}/boot.wim`]: MAX_MEDIA_FILE_BYTES }) }))).not.toThrow();
  });

  it.each(['../etc/passwd', 'a/../../b', '/abs', 'a//b', 'back\\slash', 'nl\nname'])('refuses the package file path %j', (bad) => {
    const err = buildErrorOf(() => planMedia(input({ type: 'standalone', policy: Buffer.from('p'), packages: [{ id: 'PXP00010', version: 1, files: [{ path: bad, size: 1, sha256: 'c'.repeat(64), source: '/x' }] }] })));
    expect(err.message).toContain('cannot go on media');
  });

  it('two files that differ only in case are refused (names are case-insensitive on media)', () => {
    const files = [{ path: 'A.txt', size: 1, sha256: 'c'.repeat(64), source: '/x' }, { path: 'a.TXT', size: 1, sha256: 'd'.repeat(64), source: '/y' }];
    expect(buildErrorOf(() => planMedia(input({ type: 'standalone', policy: Buffer.from('p'), packages: [{ id: 'PXP00010', version: 1, files }] }))).message).toMatch(/two files would be/);
  });

  it('isSafeMediaPath', () => {
    expect(isSafeMediaPath('pxepoint/content/P/v1/a b/c.txt')).toBe(true);
    expect(isSafeMediaPath('x=y')).toBe(true);
    for (const bad of ['', '.', 'a/./b', '..', 'a/', '/a']) expect(isSafeMediaPath(bad)).toBe(false);
  });
});
