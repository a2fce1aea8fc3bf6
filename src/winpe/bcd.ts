/**
 * The BCD store bootmgr reads over TFTP (rule 86: its path goes out in DHCP option
 * 252), as data, written as a registry hive by regf.ts.
 *
 * Layout of a BCD hive (what `bcdedit /createstore` makes):
 *   Description\KeyName = "BCD00000000", System = 1, TreatAsSystem = 1
 *   Objects\{guid}\Description\Type           REG_DWORD object type
 *   Objects\{guid}\Elements\<8 hex>\Element    the element's value
 *
 * An element id's bits 24–27 say how its value is stored (Microsoft,
 * "BcdElementType" / BCDE_FORMAT): 1 device (REG_BINARY), 2 string (REG_SZ),
 * 3 object (REG_SZ "{guid}"), 4 object list (REG_MULTI_SZ), 5 integer (REG_BINARY,
 * 8 bytes little-endian), 6 boolean (REG_BINARY, 1 byte), 7 integer list.
 *
 * Element ids (Microsoft's BcdLibraryElementTypes / BcdOSLoaderElementTypes /
 * BcdBootMgrElementTypes / BcdDeviceObjectElementTypes pages, and the table in
 * "BCD settings and BitLocker", learn.microsoft.com, which lists
 * 0x35000007 ramdisktftpblocksize and 0x35000008 ramdisktftpwindowsize — integers,
 * so format 5, class 3 "device object").
 *
 * The device element layout (not documented by Microsoft; read off public parsers:
 * DiscUtils' BootConfig DeviceRecord, ReactOS boot/environ bcd.h BCD_DEVICE_OPTION
 * and bl.h BL_LOCAL_DEVICE):
 *   GUID    additional options ({ramdiskoptions} for a ramdisk, else zero)
 *   u32     device type     (0 = disk/"local" device, 5 = the boot device)
 *   u32     flags           (1 for the boot device)
 *   u32     length          (of this record, from the device type on)
 *   u32     reserved
 *   boot:    56 zero bytes (record length 0x48)
 *   ramdisk: u32 local type 3 (RAM disk) at +0x10, zeros up to +0x34, then the
 *            parent device record (the boot device, 0x48 bytes), then the image
 *            path, UTF-16LE, NUL-terminated.
 * This is what `ramdisk=[boot]\images\X\boot.wim,{ramdiskoptions}` becomes. It has
 * been checked against the parsers above and read back with hivex; it has not
 * been booted by a real bootmgr in this repository's tests (no Windows media here).
 */
import { createHash } from 'node:crypto';
import { REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_SZ, regDword, regMultiSz, regSz, writeHive, type RegKey, type RegValue } from './regf.js';

/** Well-known object GUIDs (Microsoft, "BCD Identifiers"). */
export const BCD_OBJECTS = {
  bootmgr: '{9dea862c-5cdd-4e70-acc1-f32b344d4795}',
  ramdiskOptions: '{ae5534e0-a924-466c-b836-758539a3ee3a}',
} as const;

/** Object types (Description\Type). */
export const BCD_OBJECT_TYPES = {
  /** Application, firmware-launched, boot manager. */
  bootManager: 0x10100002,
  /** Application, Windows boot environment, OS loader (winload). */
  osLoader: 0x10200003,
  /** Device options (inheritable by devices): {ramdiskoptions}. */
  deviceOptions: 0x30000000,
} as const;

export const BCD_ELEMENTS = {
  /** BcdLibraryDevice_ApplicationDevice ("device"). */
  applicationDevice: 0x11000001,
  /** BcdLibraryString_ApplicationPath ("path"). */
  applicationPath: 0x12000002,
  /** BcdLibraryString_Description ("description"). */
  description: 0x12000004,
  /** BcdLibraryString_PreferredLocale ("locale"). */
  locale: 0x12000005,
  /** BcdBootMgrObject_DefaultObject ("default"). */
  defaultObject: 0x23000003,
  /** BcdBootMgrObjectList_DisplayOrder ("displayorder"). */
  displayOrder: 0x24000001,
  /** BcdBootMgrInteger_Timeout ("timeout", seconds). */
  timeout: 0x25000004,
  /** BcdOSLoaderDevice_OSDevice ("osdevice"). */
  osDevice: 0x21000001,
  /** BcdOSLoaderString_SystemRoot ("systemroot"). */
  systemRoot: 0x22000002,
  /** BcdOSLoaderBoolean_DetectKernelAndHal ("detecthal"). */
  detectHal: 0x26000010,
  /** BcdOSLoaderBoolean_WinPEMode ("winpe"). */
  winpe: 0x26000022,
  /** BcdDeviceInteger_SdiDevice ("ramdisksdidevice"; a device despite the name). */
  sdiDevice: 0x31000003,
  /** BcdDeviceString_SdiPath ("ramdisksdipath"). */
  sdiPath: 0x32000004,
  /** "ramdisktftpblocksize" (BCD settings and BitLocker table). */
  ramdiskTftpBlockSize: 0x35000007,
  /** "ramdisktftpwindowsize" (same table). */
  ramdiskTftpWindowSize: 0x35000008,
} as const;

export type BcdDevice = { kind: 'boot' } | { kind: 'ramdisk'; path: string; options: string };

export type BcdValue =
  | { format: 'device'; device: BcdDevice }
  | { format: 'string'; value: string }
  | { format: 'object'; guid: string }
  | { format: 'objectList'; guids: string[] }
  | { format: 'integer'; value: bigint | number }
  | { format: 'boolean'; value: boolean };

const FORMAT_NIBBLE: Record<BcdValue['format'], number> = { device: 1, string: 2, object: 3, objectList: 4, integer: 5, boolean: 6 };

export interface BcdObject {
  guid: string;
  type: number;
  elements: { id: number; value: BcdValue }[];
}

const GUID_RE = /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/;

export function assertGuid(guid: string): string {
  if (!GUID_RE.test(guid)) throw new Error(`bcd: "${guid}" is not a lower-case {GUID}`);
  return guid;
}

/** A GUID's 16 bytes in Windows order (Data1–3 little-endian, Data4 as written). */
export function guidBytes(guid: string): Buffer {
  const hex = assertGuid(guid).slice(1, -1).split('-');
  const b = Buffer.alloc(16);
  b.writeUInt32LE(parseInt(hex[0]!, 16), 0);
  b.writeUInt16LE(parseInt(hex[1]!, 16), 4);
  b.writeUInt16LE(parseInt(hex[2]!, 16), 6);
  Buffer.from(hex[3]! + hex[4]!, 'hex').copy(b, 8);
  return b;
}

/** A stable GUID from a seed (version-5 style, SHA-256): the same image and architecture get the same loader object. */
export function guidFromSeed(seed: string): string {
  const h = createHash('sha256').update(`pxepoint-bcd:${seed}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `{${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}}`;
}

/** A BCD path: backslashes, one leading backslash. */
export function bcdPath(p: string): string {
  const s = p.replace(/\//g, '\\').replace(/\\+/g, '\\');
  return s.startsWith('\\') ? s : `\\${s}`;
}

const BOOT_DEVICE_LENGTH = 0x48;

function deviceRecord(device: BcdDevice): Buffer {
  if (device.kind === 'boot') {
    const r = Buffer.alloc(BOOT_DEVICE_LENGTH);
    r.writeUInt32LE(5, 0); // the boot device
    r.writeUInt32LE(1, 4);
    r.writeUInt32LE(BOOT_DEVICE_LENGTH, 8);
    return r;
  }
  const path = Buffer.from(`${bcdPath(device.path)}\0`, 'utf16le');
  const parent = deviceRecord({ kind: 'boot' });
  const head = Buffer.alloc(0x34);
  head.writeUInt32LE(0, 0); // local device
  head.writeUInt32LE(0, 4);
  head.writeUInt32LE(0x34 + parent.length + path.length, 8);
  head.writeUInt32LE(3, 0x10); // RAM disk
  return Buffer.concat([head, parent, path]);
}

/** The Element value of a device element: options GUID, then the device record. */
export function deviceElement(device: BcdDevice): Buffer {
  const options = device.kind === 'ramdisk' ? guidBytes(device.options) : Buffer.alloc(16);
  return Buffer.concat([options, deviceRecord(device)]);
}

function elementValue(id: number, v: BcdValue): RegValue {
  const nibble = (id >>> 24) & 0x0f;
  if (nibble !== FORMAT_NIBBLE[v.format]) {
    throw new Error(`bcd: element 0x${id.toString(16)} stores format ${nibble}, not a ${v.format}`);
  }
  switch (v.format) {
    case 'device': return { name: 'Element', type: REG_BINARY, data: deviceElement(v.device) };
    case 'string': return { name: 'Element', type: REG_SZ, data: regSz(v.value) };
    case 'object': return { name: 'Element', type: REG_SZ, data: regSz(assertGuid(v.guid)) };
    case 'objectList': return { name: 'Element', type: REG_MULTI_SZ, data: regMultiSz(v.guids.map(assertGuid)) };
    case 'integer': {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt(v.value));
      return { name: 'Element', type: REG_BINARY, data: b };
    }
    case 'boolean': return { name: 'Element', type: REG_BINARY, data: Buffer.from([v.value ? 1 : 0]) };
  }
}

export const elementKeyName = (id: number): string => id.toString(16).toUpperCase().padStart(8, '0');

/** The registry tree of a BCD store. */
export function bcdTree(objects: readonly BcdObject[]): RegKey {
  return {
    name: 'NewStoreRoot',
    subkeys: [
      {
        name: 'Description',
        values: [
          { name: 'KeyName', type: REG_SZ, data: regSz('BCD00000000') },
          { name: 'System', type: REG_DWORD, data: regDword(1) },
          { name: 'TreatAsSystem', type: REG_DWORD, data: regDword(1) },
        ],
      },
      {
        name: 'Objects',
        subkeys: objects.map((o) => ({
          name: assertGuid(o.guid),
          subkeys: [
            { name: 'Description', values: [{ name: 'Type', type: REG_DWORD, data: regDword(o.type) }] },
            { name: 'Elements', subkeys: o.elements.map((e) => ({ name: elementKeyName(e.id), values: [elementValue(e.id, e.value)] })) },
          ],
        })),
      },
    ],
  };
}

export const writeBcdStore = (objects: readonly BcdObject[]): Buffer => writeHive(bcdTree(objects), { fileName: 'BCD' });

/** Rule 88's defaults: RamDiskTFTPBlockSize 4096, RamDiskTFTPWindowSize 1. */
export const RAMDISK_TFTP_DEFAULTS = { blockSize: 4096, windowSize: 1 } as const;

export interface WinpeBcdOptions {
  firmware: 'bios' | 'uefi';
  /** The boot.wim as the boot manager asks the TFTP server for it, e.g. "\images\PXP00003\boot.wim". */
  wimPath: string;
  /** boot.sdi's path (default "\boot\boot.sdi"). */
  sdiPath?: string;
  /** RamDiskTFTPBlockSize (rule 88; default 4096). RFC 2348 range 8–65464. */
  tftpBlockSize?: number;
  /** RamDiskTFTPWindowSize (rule 88; default 1). RFC 7440 range 1–65535. */
  tftpWindowSize?: number;
  /** Seed of the WinPE loader object's GUID (default: the WIM path and firmware). */
  loaderSeed?: string;
  /** Shown by bootmgr when it lists entries. */
  description?: string;
  /** Boot manager menu timeout in seconds (one entry: no menu is shown). Default 30. */
  timeoutSeconds?: number;
}

function checkRange(what: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`bcd: ${what} must be an integer from ${min} to ${max}, not ${n}`);
  return n;
}

/**
 * The objects of a network WinPE boot: {bootmgr} (default and only entry: the
 * loader), {ramdiskoptions} (boot.sdi on the boot device, the TFTP block and
 * window size) and a WinPE OS loader whose device and osdevice are the ramdisk
 * made from the boot.wim.
 */
export function winpeBcdObjects(opts: WinpeBcdOptions): { objects: BcdObject[]; loaderGuid: string } {
  const blockSize = checkRange('RamDiskTFTPBlockSize', opts.tftpBlockSize ?? RAMDISK_TFTP_DEFAULTS.blockSize, 8, 65464);
  const windowSize = checkRange('RamDiskTFTPWindowSize', opts.tftpWindowSize ?? RAMDISK_TFTP_DEFAULTS.windowSize, 1, 65535);
  const timeout = checkRange('timeout', opts.timeoutSeconds ?? 30, 0, 86400);
  const wimPath = bcdPath(opts.wimPath);
  const loaderGuid = guidFromSeed(opts.loaderSeed ?? `${opts.firmware}:${wimPath.toLowerCase()}`);
  const ramdisk: BcdDevice = { kind: 'ramdisk', path: wimPath, options: BCD_OBJECTS.ramdiskOptions };
  const winload = opts.firmware === 'uefi' ? '\\windows\\system32\\boot\\winload.efi' : '\\windows\\system32\\boot\\winload.exe';
  const E = BCD_ELEMENTS;
  const objects: BcdObject[] = [
    {
      guid: BCD_OBJECTS.bootmgr,
      type: BCD_OBJECT_TYPES.bootManager,
      elements: [
        { id: E.applicationDevice, value: { format: 'device', device: { kind: 'boot' } } },
        { id: E.description, value: { format: 'string', value: 'Windows Boot Manager' } },
        { id: E.defaultObject, value: { format: 'object', guid: loaderGuid } },
        { id: E.displayOrder, value: { format: 'objectList', guids: [loaderGuid] } },
        { id: E.timeout, value: { format: 'integer', value: timeout } },
      ],
    },
    {
      guid: BCD_OBJECTS.ramdiskOptions,
      type: BCD_OBJECT_TYPES.deviceOptions,
      elements: [
        { id: E.description, value: { format: 'string', value: 'Ramdisk Options' } },
        { id: E.sdiDevice, value: { format: 'device', device: { kind: 'boot' } } },
        { id: E.sdiPath, value: { format: 'string', value: bcdPath(opts.sdiPath ?? '\\boot\\boot.sdi') } },
        { id: E.ramdiskTftpBlockSize, value: { format: 'integer', value: blockSize } },
        { id: E.ramdiskTftpWindowSize, value: { format: 'integer', value: windowSize } },
      ],
    },
    {
      guid: loaderGuid,
      type: BCD_OBJECT_TYPES.osLoader,
      elements: [
        { id: E.applicationDevice, value: { format: 'device', device: ramdisk } },
        { id: E.applicationPath, value: { format: 'string', value: winload } },
        { id: E.description, value: { format: 'string', value: opts.description ?? 'Windows PE (pxepoint)' } },
        { id: E.osDevice, value: { format: 'device', device: ramdisk } },
        { id: E.systemRoot, value: { format: 'string', value: '\\windows' } },
        { id: E.detectHal, value: { format: 'boolean', value: true } },
        { id: E.winpe, value: { format: 'boolean', value: true } },
      ],
    },
  ];
  return { objects, loaderGuid };
}

export function writeWinpeBcd(opts: WinpeBcdOptions): { bytes: Buffer; loaderGuid: string } {
  const { objects, loaderGuid } = winpeBcdObjects(opts);
  return { bytes: writeBcdStore(objects), loaderGuid };
}
