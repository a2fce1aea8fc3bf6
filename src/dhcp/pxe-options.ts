/**
 * Option 43 as the PXE 2.1 specification (§2.4) encapsulates it when option 60 is
 * "PXEClient…"; RFC 4578 §3 points there. Decoding is a view over the raw option,
 * which the packet keeps byte for byte.
 *
 *   1–5   MTFTP (kept raw)       6   PXE_DISCOVERY_CONTROL (bit field)
 *   8     PXE_BOOT_SERVERS       9   PXE_BOOT_MENU        10  PXE_MENU_PROMPT
 *   71    PXE_BOOT_ITEM          255 end
 */
import { DhcpOptionCode } from './option-codes.js';
import { ipv4Bytes, type DhcpOption, type DhcpPacket } from './packet.js';
import { getOption, readSubOptions, writeSubOptions } from './options.js';

export const PxeSubOption = {
  DiscoveryControl: 6,
  BootServers: 8,
  BootMenu: 9,
  MenuPrompt: 10,
  BootItem: 71,
} as const;

/** Bits of sub-option 6 (PXE 2.1 table 2-1). */
export const DiscoveryControl = {
  /** Bit 0: do not use broadcast discovery. */
  NoBroadcast: 1,
  /** Bit 1: do not use multicast discovery. */
  NoMulticast: 2,
  /** Bit 2: accept only servers listed in sub-option 8. */
  OnlyListedServers: 4,
  /** Bit 3: download the file in `file`/option 67 directly; skip the boot-server request (4011). */
  UseBootfile: 8,
} as const;

export interface PxeBootServer {
  /** Boot server type; 0 = PXE bootstrap server, 0x8000+ vendor-specific. */
  readonly type: number;
  readonly addresses: string[];
}

export interface PxeMenuItem {
  readonly type: number;
  readonly description: string;
}

export interface PxeVendorOptions {
  readonly discoveryControl?: number;
  readonly bootServers?: PxeBootServer[];
  readonly bootMenu?: PxeMenuItem[];
  /** Seconds to wait (255 = forever, 0 = pick the first item at once) and the prompt text. */
  readonly menuPrompt?: { timeout: number; prompt: string };
  /** Sub-option 71: requested/selected boot item; layer bit 15 asks for credentials. */
  readonly bootItem?: { type: number; layer: number };
  /** Every sub-option in wire order, including those decoded above. */
  readonly subOptions: DhcpOption[];
}

const ip4 = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function decodeBootServers(d: Buffer): PxeBootServer[] | undefined {
  const out: PxeBootServer[] = [];
  let i = 0;
  while (i < d.length) {
    if (i + 3 > d.length) return undefined;
    const type = d.readUInt16BE(i);
    const count = d[i + 2]!;
    if (i + 3 + count * 4 > d.length) return undefined;
    const addresses: string[] = [];
    for (let k = 0; k < count; k++) addresses.push(ip4(d, i + 3 + k * 4));
    out.push({ type, addresses });
    i += 3 + count * 4;
  }
  return out;
}

function decodeBootMenu(d: Buffer): PxeMenuItem[] | undefined {
  const out: PxeMenuItem[] = [];
  let i = 0;
  while (i < d.length) {
    if (i + 3 > d.length) return undefined;
    const type = d.readUInt16BE(i);
    const len = d[i + 2]!;
    if (i + 3 + len > d.length) return undefined;
    out.push({ type, description: d.toString('latin1', i + 3, i + 3 + len) });
    i += 3 + len;
  }
  return out;
}

/** Decodes PXE sub-options; undefined if the framing is broken. Malformed known sub-options are left raw. */
export function decodePxeVendorOptions(d: Buffer): PxeVendorOptions | undefined {
  const subOptions = readSubOptions(d, true);
  if (!subOptions) return undefined;
  const find = (code: number): Buffer | undefined => subOptions.find((s) => s.code === code)?.data;
  const control = find(PxeSubOption.DiscoveryControl);
  const servers = find(PxeSubOption.BootServers);
  const menu = find(PxeSubOption.BootMenu);
  const prompt = find(PxeSubOption.MenuPrompt);
  const item = find(PxeSubOption.BootItem);
  const bootServers = servers ? decodeBootServers(servers) : undefined;
  const bootMenu = menu ? decodeBootMenu(menu) : undefined;
  return {
    ...(control?.length === 1 ? { discoveryControl: control[0]! } : {}),
    ...(bootServers ? { bootServers } : {}),
    ...(bootMenu ? { bootMenu } : {}),
    ...(prompt && prompt.length >= 1 ? { menuPrompt: { timeout: prompt[0]!, prompt: prompt.toString('latin1', 1) } } : {}),
    ...(item?.length === 4 ? { bootItem: { type: item.readUInt16BE(0), layer: item.readUInt16BE(2) } } : {}),
    subOptions,
  };
}

/** Option 43 of a packet read as PXE sub-options (the caller checks option 60 first). */
export function pxeVendorOptions(p: Pick<DhcpPacket, 'options'>): PxeVendorOptions | undefined {
  const d = getOption(p, DhcpOptionCode.VendorSpecific);
  return d ? decodePxeVendorOptions(d) : undefined;
}

export interface PxeVendorOptionsInput {
  discoveryControl?: number;
  bootServers?: PxeBootServer[];
  bootMenu?: PxeMenuItem[];
  menuPrompt?: { timeout: number; prompt: string };
  bootItem?: { type: number; layer: number };
  /** Further sub-options, written after the ones above. */
  extra?: DhcpOption[];
}

const ipBytes = (ip: string): number[] => [...ipv4Bytes(ip, 'bootServers')];
const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];

/** Builds option 43's value: sub-options 6, 8, 9, 10, 71, extras, then END (255). */
export function encodePxeVendorOptions(o: PxeVendorOptionsInput): Buffer {
  const subs: DhcpOption[] = [];
  if (o.discoveryControl !== undefined) subs.push({ code: 6, data: Buffer.from([o.discoveryControl & 0xff]) });
  if (o.bootServers?.length) {
    const bytes = o.bootServers.flatMap((s) => [...u16(s.type), s.addresses.length, ...s.addresses.flatMap(ipBytes)]);
    subs.push({ code: 8, data: Buffer.from(bytes) });
  }
  if (o.bootMenu?.length) {
    const parts = o.bootMenu.map((m) => {
      const text = Buffer.from(m.description, 'latin1').subarray(0, 255);
      return Buffer.concat([Buffer.from([...u16(m.type), text.length]), text]);
    });
    subs.push({ code: 9, data: Buffer.concat(parts) });
  }
  if (o.menuPrompt) {
    subs.push({ code: 10, data: Buffer.concat([Buffer.from([o.menuPrompt.timeout & 0xff]), Buffer.from(o.menuPrompt.prompt, 'latin1')]) });
  }
  if (o.bootItem) subs.push({ code: 71, data: Buffer.from([...u16(o.bootItem.type), ...u16(o.bootItem.layer)]) });
  subs.push(...(o.extra ?? []));
  return writeSubOptions(subs, true);
}
