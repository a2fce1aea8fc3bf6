/**
 * Option 175: iPXE's encapsulated ("Etherboot") options, from iPXE's
 * src/include/ipxe/dhcp.h and features.h. Clients send feature markers (0x10–0x4f,
 * one byte of version each), their version and the NIC's bus id; servers may send
 * settings such as priority or no-pxedhcp. The raw option is always kept.
 *
 * Clients may also carry 0xbe/0xbf (username/password) here when a server hands them
 * out: never log decoded 175 values without redaction.
 */
import { DhcpOptionCode } from './option-codes.js';
import type { DhcpOption, DhcpPacket } from './packet.js';
import { getOption, readSubOptions, userClass } from './options.js';

export const IpxeSubOption = {
  Priority: 0x01,
  KeepSan: 0x08,
  SkipSanBoot: 0x09,
  Scriptlet: 0x51,
  SyslogsServer: 0x55,
  NoPxeDhcp: 0xb0,
  BusId: 0xb1,
  BiosDrive: 0xbd,
  Username: 0xbe,
  Password: 0xbf,
  ReverseUsername: 0xc0,
  ReversePassword: 0xc1,
  Version: 0xeb,
} as const;

/** Feature markers (DHCP_EB_FEATURE_*). */
const FEATURE_NAMES: Record<number, string> = {
  0x10: 'pxe-ext', 0x11: 'iscsi', 0x12: 'aoe', 0x13: 'http', 0x14: 'https', 0x15: 'tftp',
  0x16: 'ftp', 0x17: 'dns', 0x18: 'bzimage', 0x19: 'multiboot', 0x1a: 'slam', 0x1b: 'srp',
  0x20: 'nbi', 0x21: 'pxe', 0x22: 'elf', 0x23: 'comboot', 0x24: 'efi', 0x25: 'fcoe',
  0x26: 'vlan', 0x27: 'menu', 0x28: 'sdi', 0x29: 'nfs',
};

export interface IpxeOptions {
  /** Feature name (or "feature-0x2a" for unnamed markers) → version byte. */
  readonly features: Record<string, number>;
  /** "1.0.0" from sub-option 0xeb. */
  readonly version?: string;
  /** Sub-option 0xb1: bus type 1 = PCI, then vendor and device id. */
  readonly busId?: { type: number; vendor: number; device: number };
  readonly priority?: number;
  readonly noPxeDhcp?: boolean;
  readonly subOptions: DhcpOption[];
}

export const ipxeFeatureCode = (name: string): number | undefined => {
  for (const [code, n] of Object.entries(FEATURE_NAMES)) if (n === name) return Number(code);
  return undefined;
};

export function decodeIpxeOptions(d: Buffer): IpxeOptions | undefined {
  const subOptions = readSubOptions(d, true);
  if (!subOptions) return undefined;
  const features: Record<string, number> = {};
  let version: string | undefined;
  let busId: IpxeOptions['busId'];
  let priority: number | undefined;
  let noPxeDhcp: boolean | undefined;
  for (const s of subOptions) {
    if (s.code >= 0x10 && s.code <= 0x4f) {
      features[FEATURE_NAMES[s.code] ?? `feature-0x${s.code.toString(16)}`] = s.data[0] ?? 0;
    } else if (s.code === IpxeSubOption.Version && s.data.length > 0) {
      version = [...s.data].join('.');
    } else if (s.code === IpxeSubOption.BusId && s.data.length === 5) {
      busId = { type: s.data[0]!, vendor: s.data.readUInt16BE(1), device: s.data.readUInt16BE(3) };
    } else if (s.code === IpxeSubOption.Priority && s.data.length === 1) {
      priority = s.data.readInt8(0);
    } else if (s.code === IpxeSubOption.NoPxeDhcp && s.data.length >= 1) {
      noPxeDhcp = s.data[0] !== 0;
    }
  }
  return {
    features,
    ...(version !== undefined ? { version } : {}),
    ...(busId ? { busId } : {}),
    ...(priority !== undefined ? { priority } : {}),
    ...(noPxeDhcp !== undefined ? { noPxeDhcp } : {}),
    subOptions,
  };
}

export function ipxeOptions(p: Pick<DhcpPacket, 'options'>): IpxeOptions | undefined {
  const d = getOption(p, DhcpOptionCode.IpxeEncapsulated);
  return d ? decodeIpxeOptions(d) : undefined;
}

/**
 * The two independent signs of an iPXE client (peers.md §3 #5: never rely on one; some
 * forks such as Mellanox FlexBoot omit option 77): user class "iPXE" in either RFC 3004
 * or raw form, and option 175.
 */
export function ipxeSignals(p: Pick<DhcpPacket, 'options'>): { userClass: boolean; encapsulated: boolean } {
  const uc = userClass(p);
  return {
    userClass: uc !== undefined && uc.classes.includes('iPXE'),
    encapsulated: getOption(p, DhcpOptionCode.IpxeEncapsulated) !== undefined,
  };
}

export function isIpxe(p: Pick<DhcpPacket, 'options'>): boolean {
  const s = ipxeSignals(p);
  return s.userClass || s.encapsulated;
}
