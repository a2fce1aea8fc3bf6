/**
 * `pxepoint bootimage import` with stand-in WIMs made in the test by
 * `wimlib-imagex capture` (Debian wimtools) of a folder laid out like WinPE:
 * files laid out under the root with sizes and SHA-256, the BootImage record,
 * BCDs that point at the image, and clear errors naming a missing or broken file.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWimInfo, readManifest, verifyManifest, type WinpeManifest } from '../../src/winpe/import.js';
import { runCli } from '../support/cli.js';
import { itWithTools, nodeAt, readHiveWithHivex, run } from './support.js';

const TOOLS = { 'wimlib-imagex': 'wimtools', hivexml: 'libhivex-bin' };

let dir: string;
let dataDir: string;
let root: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-winpe-import-'));
  dataDir = path.join(dir, 'data');
  root = path.join(dir, 'root');
  fs.mkdirSync(dataDir);
  fs.mkdirSync(root);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** A folder laid out like a WinPE image: winload, the PXE and EFI boot programs, boot.sdi, a font. */
function makeWinpeTree(at: string, opts: { bios?: boolean; winload?: boolean } = {}): Record<string, string> {
  const files: Record<string, string> = {
    'Windows/Boot/EFI/bootmgfw.efi': 'MZ stand-in bootmgfw.efi',
    'Windows/Boot/DVD/EFI/boot.sdi': 'stand-in boot.sdi',
    'Windows/Boot/Fonts/wgl4_boot.ttf': 'stand-in font',
    'Windows/System32/startnet.cmd': 'wpeinit\r\n',
    ...(opts.winload === false ? {} : { 'Windows/System32/boot/winload.efi': 'MZ stand-in winload.efi', 'Windows/System32/boot/winload.exe': 'MZ stand-in winload.exe' }),
    ...(opts.bios === false ? {} : {
      'Windows/Boot/PXE/pxeboot.n12': 'stand-in pxeboot.n12',
      'Windows/Boot/PXE/pxeboot.com': 'stand-in pxeboot.com',
      'Windows/Boot/PXE/abortpxe.com': 'stand-in abortpxe.com',
      'Windows/Boot/PXE/bootmgr.exe': 'MZ stand-in bootmgr.exe',
      'Windows/Boot/PXE/wdsnbp.com': 'stand-in wdsnbp.com',
    }),
  };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(at, rel)), { recursive: true });
    fs.writeFileSync(path.join(at, rel), text);
  }
  return files;
}

async function captureWim(tree: string, wim: string): Promise<void> {
  await run('wimlib-imagex', ['capture', tree, wim, 'Microsoft Windows PE (stand-in)', '--boot', '--compress=none']);
}

describe('pxepoint bootimage import', () => {
  it('parses wimlib-imagex info', () => {
    const info = parseWimInfo('Image Count:    2\nBoot Index:     2\n\nAvailable Images:\n-----------------\nIndex:                  1\nName:                   Microsoft Windows PE (amd64)\nArchitecture:           x86_64\n\nIndex:                  2\nName:                   Microsoft Windows Setup (amd64)\nArchitecture:           x86_64\n');
    expect(info).toEqual({ imageCount: 2, bootIndex: 2, images: [{ index: 1, name: 'Microsoft Windows PE (amd64)', architecture: 'x86_64' }, { index: 2, name: 'Microsoft Windows Setup (amd64)', architecture: 'x86_64' }] });
  });

  itWithTools(TOOLS, 'imports an x86 WIM: files under the root with sizes and hashes, a boot image record, BCDs pointing at it', async () => {
    const tree = path.join(dir, 'pe-x86');
    const files = makeWinpeTree(tree);
    const wim = path.join(dir, 'x86.wim');
    await captureWim(tree, wim);
    // The ADK's boot.sdi wins over the one in the WIM (--boot-files first).
    const adk = path.join(dir, 'adk');
    fs.mkdirSync(path.join(adk, 'Media', 'Boot'), { recursive: true });
    fs.writeFileSync(path.join(adk, 'Media', 'Boot', 'boot.sdi'), 'ADK boot.sdi');

    // RamDiskTFTPBlockSize from the configuration (winpe.*), the window size from a flag (rule 88).
    const config = path.join(dir, 'pxepoint.json');
    fs.writeFileSync(config, JSON.stringify({ winpe: { ramdiskTftpBlockSize: 1456 } }));
    const r = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x86', '--wim', wim, '--boot-files', adk, '--root', root, '--name', 'WinPE x86', '--config', config, '--ramdisk-window-size', '8', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const { bootImage, manifest } = JSON.parse(r.out) as { bootImage: { id: string; imagePath: string; architecture: string; deployFromPxe: boolean; name: string }; manifest: WinpeManifest };
    expect(bootImage).toMatchObject({ architecture: 'x86', deployFromPxe: true, name: 'WinPE x86', imagePath: `images/${bootImage.id}/boot.wim` });

    const id = bootImage.id;
    const byPath = new Map(manifest.files.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual([
      'boot/boot.sdi', 'boot/fonts/wgl4_boot.ttf', 'boot/winpe/pxepoint-start.cmd', 'boot/winpe/winpeshl.ini',
      'boot/x86/abortpxe.com', 'boot/x86/bootmgfw.efi', 'boot/x86/bootmgr.exe', 'boot/x86/pxeboot.com', 'boot/x86/pxeboot.n12', 'boot/x86/wdsnbp.com',
      `images/${id}/BCD-bios`, `images/${id}/BCD-uefi`, `images/${id}/boot.wim`,
    ].sort());
    // Bytes on disk are what the manifest says, and what the sources held.
    for (const f of manifest.files) {
      const bytes = fs.readFileSync(path.join(root, f.path));
      expect({ path: f.path, size: bytes.length, sha256: sha(bytes) }).toEqual({ path: f.path, size: f.size, sha256: f.sha256 });
    }
    expect(fs.readFileSync(path.join(root, 'boot/x86/bootmgfw.efi'), 'utf8')).toBe(files['Windows/Boot/EFI/bootmgfw.efi']);
    expect(byPath.get('boot/boot.sdi')?.source).toBe('boot-files');
    expect(fs.readFileSync(path.join(root, 'boot/boot.sdi'), 'utf8')).toBe('ADK boot.sdi');
    expect(byPath.get(`images/${id}/boot.wim`)?.sha256).toBe(sha(fs.readFileSync(wim)));
    expect(await verifyManifest(root, (await readManifest(root, id))!)).toEqual([]);

    // The BCD names the copied WIM and carries the requested TFTP settings.
    const bcd = await readHiveWithHivex(path.join(root, `images/${id}/BCD-bios`));
    const objects = nodeAt(bcd, 'Objects');
    const ramdisk = nodeAt(objects, '{ae5534e0-a924-466c-b836-758539a3ee3a}', 'Elements');
    expect((nodeAt(ramdisk, '35000007').values.get('Element')!.value as Buffer).readUInt32LE(0)).toBe(1456);
    expect((nodeAt(ramdisk, '35000008').values.get('Element')!.value as Buffer).readUInt32LE(0)).toBe(8);
    const loader = [...objects.children.values()].find((o) => nodeAt(o, 'Description').values.get('Type')?.value === 0x10200003)!;
    const device = nodeAt(loader, 'Elements', '11000001').values.get('Element')!.value as Buffer;
    expect(device.toString('utf16le')).toContain(`\\images\\${id}\\boot.wim`);

    // The record is in the site.
    const got = await runCli(dataDir, 'bootimage', 'get', id, '--json');
    expect(JSON.parse(got.out)).toMatchObject({ id, imagePath: `images/${id}/boot.wim` });

    // A settings change regenerates the BCDs (rule 88) and keeps the rest.
    const b = await runCli(dataDir, 'bootimage', 'bcd', id, '--ramdisk-window-size', '16', '--root', root, '--json');
    expect(b.code).toBe(0);
    const again = await readHiveWithHivex(path.join(root, `images/${id}/BCD-uefi`));
    const el = nodeAt(again, 'Objects', '{ae5534e0-a924-466c-b836-758539a3ee3a}', 'Elements');
    expect((nodeAt(el, '35000008').values.get('Element')!.value as Buffer).readUInt32LE(0)).toBe(16);
    expect((nodeAt(el, '35000007').values.get('Element')!.value as Buffer).readUInt32LE(0)).toBe(1456);
    expect(await verifyManifest(root, (await readManifest(root, id))!)).toEqual([]);
  }, 60_000);

  itWithTools(TOOLS, 'an x86 image without the BIOS programs is refused, naming the files (rule 77); nothing is created', async () => {
    const tree = path.join(dir, 'pe-nobios');
    makeWinpeTree(tree, { bios: false });
    const wim = path.join(dir, 'nobios.wim');
    await captureWim(tree, wim);
    const before = (await runCli(dataDir, 'bootimage', 'list', '--json')).out;
    const r = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x86', '--wim', wim, '--root', root);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/PXE_ERR_WINPE_FILE_MISSING/);
    for (const name of ['pxeboot.n12', 'pxeboot.com', 'abortpxe.com', 'bootmgr.exe']) expect(r.err).toContain(name);
    expect(r.err).not.toContain('wdsnbp.com (');
    expect((await runCli(dataDir, 'bootimage', 'list', '--json')).out).toBe(before);
    // The same WIM as x64 is fine: BIOS programs are optional there.
    const ok = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--wim', wim, '--root', root);
    expect(ok.err).toBe('');
    expect(ok.out).toMatch(/not found \(optional\): boot\/x64\/pxeboot\.n12/);
  }, 60_000);

  itWithTools(TOOLS, 'a broken WIM, a non-WinPE WIM and a missing file are clear errors naming them', async () => {
    const broken = path.join(dir, 'broken.wim');
    const good = path.join(dir, 'good-for-broken.wim');
    makeWinpeTree(path.join(dir, 'pe-good'));
    await captureWim(path.join(dir, 'pe-good'), good);
    fs.writeFileSync(broken, fs.readFileSync(good).subarray(0, 100));
    const r1 = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--wim', broken, '--root', root);
    expect(r1.code).toBe(1);
    expect(r1.err).toMatch(/PXE_ERR_WINPE_WIM_UNREADABLE/);
    expect(r1.err).toContain(broken);

    const tree = path.join(dir, 'not-pe');
    makeWinpeTree(tree, { winload: false });
    const notPe = path.join(dir, 'not-pe.wim');
    await captureWim(tree, notPe);
    const r2 = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--wim', notPe, '--root', root);
    expect(r2.err).toMatch(/not a Windows PE image.*PXE_ERR_WINPE_NOT_WINPE/);

    const r3 = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--wim', path.join(dir, 'nope.wim'), '--root', root);
    expect(r3.err).toMatch(/nope\.wim" does not exist.*PXE_ERR_WINPE_FILE_MISSING/);
  }, 60_000);

  itWithTools(TOOLS, 'takes the WIM and boot files from a folder laid out like a Windows ISO', async () => {
    const iso = path.join(dir, 'iso');
    const tree = path.join(dir, 'pe-iso');
    makeWinpeTree(tree);
    fs.mkdirSync(path.join(iso, 'sources'), { recursive: true });
    fs.mkdirSync(path.join(iso, 'Boot', 'Fonts'), { recursive: true });
    await captureWim(tree, path.join(iso, 'sources', 'boot.wim'));
    fs.writeFileSync(path.join(iso, 'Boot', 'boot.sdi'), 'ISO boot.sdi');
    const r = await runCli(dataDir, 'bootimage', 'import', '--arch', 'x64', '--iso-tree', iso, '--root', root, '--json');
    expect(r.err).toBe('');
    const { manifest } = JSON.parse(r.out) as { manifest: WinpeManifest };
    expect(manifest.files.find((f) => f.path === 'boot/boot.sdi')?.source).toBe('iso-tree');
    expect(fs.readFileSync(path.join(root, 'boot/boot.sdi'), 'utf8')).toBe('ISO boot.sdi');
  }, 60_000);
});
