/**
 * The native chain: boot program and option-252 BCD path per decision (rules 70,
 * 83, 86), and what the boot manager then reads over pxepoint's TFTP from an
 * imported image — BCD, boot.sdi, boot.wim by backslash paths, windowed as the BCD
 * says — byte-identical to the import manifest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { BCD_OBJECTS } from '../../src/winpe/bcd.js';
import { installImport, prepareImport, type WinpeManifest } from '../../src/winpe/import.js';
import { nativeChainFor } from '../../src/winpe/native-chain.js';
import { windowedGet } from './helpers/window-client.js';
import { itWithTools, nodeAt, readHiveWithHivex, run } from './support.js';

describe('native chain answers', () => {
  it('BIOS: pxeboot.n12 / pxeboot.com / abortpxe.com by decision (rule 70), with the BIOS BCD', () => {
    const base = { firmware: 'bios' as const, architecture: 'x86' as const, bootImageId: 'PXP00004' };
    expect(nativeChainFor({ ...base, action: 'boot' })).toEqual({ bootFile: 'boot/x86/pxeboot.n12', bcdPath: '\\images\\PXP00004\\BCD-bios' });
    expect(nativeChainFor({ ...base, action: 'boot-with-prompt' })).toEqual({ bootFile: 'boot/x86/pxeboot.com', bcdPath: '\\images\\PXP00004\\BCD-bios' });
    expect(nativeChainFor({ ...base, action: 'abort', bootImageId: null })).toEqual({ bootFile: 'boot/x86/abortpxe.com', bcdPath: null });
  });

  it('UEFI: bootmgfw.efi with the UEFI BCD (rule 83); abort hands out nothing', () => {
    expect(nativeChainFor({ action: 'boot', firmware: 'uefi', architecture: 'x64', bootImageId: 'PXP00003' })).toEqual({ bootFile: 'boot/x64/bootmgfw.efi', bcdPath: '\\images\\PXP00003\\BCD-uefi' });
    expect(nativeChainFor({ action: 'abort', firmware: 'uefi', architecture: 'x64', bootImageId: null })).toBeNull();
    expect(nativeChainFor({ action: 'boot', firmware: 'uefi', architecture: 'x64', bootImageId: null })).toBeNull();
  });
});

describe('what bootmgr reads over TFTP after an import', () => {
  let dir: string;
  let root: string;
  let server: TftpServer | null = null;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-native-'));
    root = path.join(dir, 'root');
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  itWithTools({ 'wimlib-imagex': 'wimtools', hivexml: 'libhivex-bin' }, 'the option-252 BCD, then boot.sdi and boot.wim at the BCD\'s block and window size, byte-identical', async () => {
    const tree = path.join(dir, 'pe');
    for (const [rel, text] of Object.entries({
      'Windows/System32/boot/winload.efi': 'MZ winload.efi',
      'Windows/Boot/EFI/bootmgfw.efi': 'MZ bootmgfw.efi',
      'Windows/Boot/DVD/EFI/boot.sdi': 'sdi '.repeat(5000),
      'Windows/System32/big.bin': 'x'.repeat(200_000),
    })) {
      fs.mkdirSync(path.dirname(path.join(tree, rel)), { recursive: true });
      fs.writeFileSync(path.join(tree, rel), text);
    }
    const wim = path.join(dir, 'boot.wim');
    await run('wimlib-imagex', ['capture', tree, wim, 'WinPE', '--boot', '--compress=none']);
    const prep = await prepareImport({ architecture: 'x64', wim, scratch: path.join(dir, 'scratch') });
    let manifest: WinpeManifest;
    try {
      manifest = await installImport(prep, root, 'PXP00003', 'x64', { tftpBlockSize: 1456, tftpWindowSize: 8 });
    } finally {
      await prep.cleanup();
    }
    server = await startTftpServer({ address: '127.0.0.1', port: 0, root });
    const answer = nativeChainFor({ action: 'boot', firmware: 'uefi', architecture: 'x64', bootImageId: 'PXP00003' })!;
    const sha = new Map(manifest.files.map((f) => [f.path, f.sha256]));

    // 1. The BCD named in option 252 (bootmgr reads it with a small block size).
    const bcd = await windowedGet({ port: server.port, file: answer.bcdPath!, blksize: 1456, windowsize: 1, deadlineMs: 10_000 });
    expect(bcd.sha256).toBe(sha.get('images/PXP00003/BCD-uefi'));
    // 2. What the BCD names, at the BCD's block and window size.
    const bcdFile = path.join(root, 'images/PXP00003/BCD-uefi');
    const hive = await readHiveWithHivex(bcdFile);
    const ramdisk = nodeAt(hive, 'Objects', BCD_OBJECTS.ramdiskOptions, 'Elements');
    const blksize = (nodeAt(ramdisk, '35000007').values.get('Element')!.value as Buffer).readUInt32LE(0);
    const windowsize = (nodeAt(ramdisk, '35000008').values.get('Element')!.value as Buffer).readUInt32LE(0);
    const sdiPath = nodeAt(ramdisk, '32000004').values.get('Element')!.value as string;
    expect({ blksize, windowsize, sdiPath }).toEqual({ blksize: 1456, windowsize: 8, sdiPath: '\\boot\\boot.sdi' });
    const sdi = await windowedGet({ port: server.port, file: sdiPath, blksize, windowsize, deadlineMs: 10_000 });
    expect(sdi.sha256).toBe(sha.get('boot/boot.sdi'));
    const wimGot = await windowedGet({ port: server.port, file: '\\images\\PXP00003\\boot.wim', blksize, windowsize, deadlineMs: 20_000 });
    expect(wimGot.oack).toMatchObject({ blksize: '1456', windowsize: '8' });
    expect(wimGot.sha256).toBe(sha.get('images/PXP00003/boot.wim'));
  }, 60_000);
});
