/**
 * The BCD store pxepoint writes (src/winpe/bcd.ts over src/winpe/regf.ts), read
 * back by hivex (Debian libhivex-bin: hivexml and hivexsh), an independent reader:
 * the objects, their types and every element bootmgr needs for a network WinPE
 * boot (device, path, ramdisk options, TFTP block and window size).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BCD_OBJECTS, deviceElement, guidBytes, guidFromSeed, winpeBcdObjects, writeBcdStore, writeWinpeBcd } from '../../src/winpe/bcd.js';
import { baseBlockChecksum, lhHash, REG_BINARY, REG_SZ, regSz, writeHive } from '../../src/winpe/regf.js';
import { itWithTools, nodeAt, readHiveWithHivex, run, type HiveNode } from './support.js';

const HIVEX = { hivexml: 'libhivex-bin', hivexsh: 'libhivex-bin' };

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxp-bcd-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const element = (root: HiveNode, guid: string, id: string): HiveNode => nodeAt(root, 'Objects', guid, 'Elements', id);
const value = (n: HiveNode): unknown => n.values.get('Element')?.value;
const u64 = (b: unknown): bigint => (b as Buffer).readBigUInt64LE(0);

/** The ramdisk device as the public parsers describe it (bcd.ts header), decoded independently. */
function decodeRamdisk(b: Buffer): { options: Buffer; type: number; length: number; local: number; parentType: number; parentLength: number; path: string } {
  const rec = b.subarray(16);
  const parent = rec.subarray(0x34);
  const parentLength = parent.readUInt32LE(8);
  return {
    options: b.subarray(0, 16),
    type: rec.readUInt32LE(0),
    length: rec.readUInt32LE(8),
    local: rec.readUInt32LE(0x10),
    parentType: parent.readUInt32LE(0),
    parentLength,
    path: parent.subarray(parentLength).toString('utf16le').replace(/\0+$/, ''),
  };
}

describe('regf writer', () => {
  it('computes the lh hash and the base block checksum', () => {
    // h = h*37 + upper(c): "ab" → 'A'*37 + 'B'
    expect(lhHash('ab')).toBe(65 * 37 + 66);
    const hive = writeHive({ name: 'R' });
    expect(hive.subarray(0, 4).toString('latin1')).toBe('regf');
    expect(hive.readUInt32LE(0x1fc)).toBe(baseBlockChecksum(hive));
    expect(hive.length % 4096).toBe(0);
    expect(hive.subarray(4096, 4100).toString('latin1')).toBe('hbin');
  });

  it('refuses what it cannot write (big data, duplicate names)', () => {
    expect(() => writeHive({ name: 'R', values: [{ name: 'v', type: REG_BINARY, data: Buffer.alloc(20000) }] })).toThrow(/big-data/);
    expect(() => writeHive({ name: 'R', subkeys: [{ name: 'a' }, { name: 'A' }] })).toThrow(/duplicate subkey/);
  });

  itWithTools(HIVEX, 'writes a hive hivex reads: many keys over several hbins, inline and cell data, non-ASCII names', async () => {
    const keys = Array.from({ length: 250 }, (_, i) => ({ name: `Key${String(i).padStart(3, '0')}`, values: [{ name: 'Data', type: REG_BINARY, data: Buffer.alloc(64 + (i % 7), i) }] }));
    const file = path.join(dir, 'many.hive');
    fs.writeFileSync(file, writeHive({ name: 'Root', subkeys: [
      { name: 'Many', subkeys: keys },
      { name: 'Größe', values: [{ name: 'Ünïcode', type: REG_SZ, data: regSz('välue') }, { name: 'small', type: REG_BINARY, data: Buffer.from([1, 2, 3]) }, { name: '', type: REG_SZ, data: regSz('default') }] },
    ] }));
    expect(fs.statSync(file).size).toBeGreaterThan(4096 * 4);
    const root = await readHiveWithHivex(file);
    expect(nodeAt(root, 'Many').children.size).toBe(250);
    expect(nodeAt(root, 'Many', 'Key249').values.get('Data')?.value).toEqual(Buffer.alloc(64 + (249 % 7), 249));
    const g = nodeAt(root, 'Größe');
    expect(g.values.get('Ünïcode')?.value).toBe('välue');
    expect(g.values.get('small')?.value).toEqual(Buffer.from([1, 2, 3]));
    expect(g.values.get('')?.value).toBe('default');
  });
});

describe('BCD store for a network WinPE boot', () => {
  itWithTools(HIVEX, 'UEFI, blksize 1456 / windowsize 8: objects, types and elements as hivex reads them', async () => {
    const file = path.join(dir, 'BCD-uefi');
    const { bytes, loaderGuid } = writeWinpeBcd({ firmware: 'uefi', wimPath: 'images/PXP00003/boot.wim', tftpBlockSize: 1456, tftpWindowSize: 8, loaderSeed: 'PXP00003:x64:uefi' });
    fs.writeFileSync(file, bytes);
    const root = await readHiveWithHivex(file);

    expect(nodeAt(root, 'Description').values.get('KeyName')?.value).toBe('BCD00000000');
    expect([...nodeAt(root, 'Objects').children.keys()].sort()).toEqual([BCD_OBJECTS.bootmgr, BCD_OBJECTS.ramdiskOptions, loaderGuid].sort());
    const type = (g: string): unknown => nodeAt(root, 'Objects', g, 'Description').values.get('Type')?.value;
    expect(type(BCD_OBJECTS.bootmgr)).toBe(0x10100002);
    expect(type(BCD_OBJECTS.ramdiskOptions)).toBe(0x30000000);
    expect(type(loaderGuid)).toBe(0x10200003);

    // {bootmgr}: default and displayorder name the loader; device is the boot device.
    expect(value(element(root, BCD_OBJECTS.bootmgr, '23000003'))).toBe(loaderGuid);
    expect((value(element(root, BCD_OBJECTS.bootmgr, '24000001')) as string[]).filter((s) => s !== '')).toEqual([loaderGuid]);
    expect(u64(value(element(root, BCD_OBJECTS.bootmgr, '25000004')))).toBe(30n);
    const bootDev = value(element(root, BCD_OBJECTS.bootmgr, '11000001')) as Buffer;
    expect(bootDev.length).toBe(16 + 0x48);
    expect(bootDev.readUInt32LE(16)).toBe(5);

    // {ramdiskoptions}: boot.sdi on the boot device, the TFTP block and window size.
    expect((value(element(root, BCD_OBJECTS.ramdiskOptions, '31000003')) as Buffer).readUInt32LE(16)).toBe(5);
    expect(value(element(root, BCD_OBJECTS.ramdiskOptions, '32000004'))).toBe('\\boot\\boot.sdi');
    expect(u64(value(element(root, BCD_OBJECTS.ramdiskOptions, '35000007')))).toBe(1456n);
    expect(u64(value(element(root, BCD_OBJECTS.ramdiskOptions, '35000008')))).toBe(8n);

    // The WinPE loader: ramdisk device and osdevice on the boot.wim, winload.efi, winpe.
    for (const id of ['11000001', '21000001']) {
      const dev = decodeRamdisk(value(element(root, loaderGuid, id)) as Buffer);
      expect(dev.options).toEqual(guidBytes(BCD_OBJECTS.ramdiskOptions));
      expect(dev).toMatchObject({ type: 0, local: 3, parentType: 5, parentLength: 0x48, path: '\\images\\PXP00003\\boot.wim' });
      expect(dev.length).toBe((value(element(root, loaderGuid, id)) as Buffer).length - 16);
    }
    expect(value(element(root, loaderGuid, '12000002'))).toBe('\\windows\\system32\\boot\\winload.efi');
    expect(value(element(root, loaderGuid, '22000002'))).toBe('\\windows');
    expect(value(element(root, loaderGuid, '26000010'))).toEqual(Buffer.from([1]));
    expect(value(element(root, loaderGuid, '26000022'))).toEqual(Buffer.from([1]));
  });

  itWithTools(HIVEX, 'BIOS with rule 88 defaults: block size 4096, window size 1, winload.exe (hivexsh)', async () => {
    const file = path.join(dir, 'BCD-bios');
    const { bytes, loaderGuid } = writeWinpeBcd({ firmware: 'bios', wimPath: '\\images\\PXP00004\\boot.wim', sdiPath: '/boot/boot.sdi' });
    fs.writeFileSync(file, bytes);
    const script = [
      `cd \\Objects\\${BCD_OBJECTS.ramdiskOptions}\\Elements\\35000007`, 'lsval',
      `cd \\Objects\\${BCD_OBJECTS.ramdiskOptions}\\Elements\\35000008`, 'lsval',
      `cd \\Objects\\${loaderGuid}\\Elements\\12000002`, 'lsval',
    ].join('\n');
    const scriptFile = path.join(dir, 'bios.hivexsh');
    fs.writeFileSync(scriptFile, `${script}\n`);
    const { stdout } = await run('hivexsh', ['-f', scriptFile, file]);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('"Element"=hex(3):00,10,00,00,00,00,00,00');
    expect(lines[1]).toBe('"Element"=hex(3):01,00,00,00,00,00,00,00');
    // hivexsh prints strings .reg-style, backslashes doubled
    expect(lines[2]).toBe(String.raw`"Element"="\\windows\\system32\\boot\\winload.exe"`);
  });

  it('is reproducible and keeps one loader GUID per image and firmware', () => {
    const a = writeWinpeBcd({ firmware: 'uefi', wimPath: 'images/A/boot.wim' });
    const b = writeWinpeBcd({ firmware: 'uefi', wimPath: 'images/A/boot.wim' });
    expect(a.bytes.equals(b.bytes)).toBe(true);
    expect(writeWinpeBcd({ firmware: 'bios', wimPath: 'images/A/boot.wim' }).loaderGuid).not.toBe(a.loaderGuid);
    expect(guidFromSeed('x')).toMatch(/^\{[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\}$/);
  });

  it('refuses out-of-range TFTP settings and mismatched element formats', () => {
    expect(() => winpeBcdObjects({ firmware: 'uefi', wimPath: 'x.wim', tftpBlockSize: 70000 })).toThrow(/RamDiskTFTPBlockSize/);
    expect(() => winpeBcdObjects({ firmware: 'uefi', wimPath: 'x.wim', tftpWindowSize: 0 })).toThrow(/RamDiskTFTPWindowSize/);
    expect(() => writeBcdStore([{ guid: BCD_OBJECTS.bootmgr, type: 0x10100002, elements: [{ id: 0x25000004, value: { format: 'string', value: '30' } }] }])).toThrow(/format 5/);
  });

  it('encodes GUIDs in Windows byte order and the boot device record', () => {
    expect(guidBytes(BCD_OBJECTS.ramdiskOptions).toString('hex')).toBe('e03455ae24a96c46b836758539a3ee3a');
    const boot = deviceElement({ kind: 'boot' });
    expect(boot.subarray(16, 28).toString('hex')).toBe('050000000100000048000000');
  });
});
