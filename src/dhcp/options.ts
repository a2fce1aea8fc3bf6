/**
 * Typed views of the options pxepoint decides on. Accessors never throw: an absent
 * option and a malformed one both read as `undefined` (or an empty list), and
 * `malformedOptions()` names the malformed ones for the decision log.
 */
import { invalid } from '../errors.js';
import { DhcpOptionCode } from './option-codes.js';
import type { DhcpOption, DhcpPacket } from './packet.js';

type Options = Pick<DhcpPacket, 'options'>;

export function getOption(p: Options, code: number): Buffer | undefined {
  for (const o of p.options) if (o.code === code) return o.data;
  return undefined;
}

export const hasOption = (p: Options, code: number): boolean => getOption(p, code) !== undefined;

/** Replaces the option in place (keeping its position) or appends it. Returns a new list. */
export function withOption(options: readonly DhcpOption[], code: number, data: Buffer): DhcpOption[] {
  let replaced = false;
  const out = options.map((o) => {
    if (o.code !== code) return o;
    replaced = true;
    return { code, data };
  });
  if (!replaced) out.push({ code, data });
  return out;
}

export const withoutOption = (options: readonly DhcpOption[], code: number): DhcpOption[] =>
  options.filter((o) => o.code !== code);

const ip4 = (b: Buffer, o = 0): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
/** Text options: latin1 so every byte survives; a trailing NUL (dnsmasq sends one in 67) is dropped. */
const text = (b: Buffer): string => b.toString('latin1').replace(/\0+$/, '');

// --- RFC 2132 ------------------------------------------------------------------------------

/** Option 53 (RFC 2132 §9.6). */
export function messageType(p: Options): number | undefined {
  const d = getOption(p, DhcpOptionCode.MessageType);
  return d?.length === 1 ? d[0] : undefined;
}

/** Option 54 (RFC 2132 §9.7). */
export function serverIdentifier(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.ServerIdentifier);
  return d?.length === 4 ? ip4(d) : undefined;
}

/** Option 50 (RFC 2132 §9.1). */
export function requestedIpAddress(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.RequestedIpAddress);
  return d?.length === 4 ? ip4(d) : undefined;
}

/** Option 55 (RFC 2132 §9.8): the codes the client asks for, in its order of preference. */
export function parameterRequestList(p: Options): number[] {
  const d = getOption(p, DhcpOptionCode.ParameterRequestList);
  return d ? [...d] : [];
}

/** Option 57 (RFC 2132 §9.10) as sent; values under 576 are malformed and read as undefined. */
export function maxMessageSize(p: Options): number | undefined {
  const d = getOption(p, DhcpOptionCode.MaxMessageSize);
  if (d?.length !== 2) return undefined;
  const v = d.readUInt16BE(0);
  return v >= 576 ? v : undefined;
}

/** Option 60 (RFC 2132 §9.13), e.g. "PXEClient:Arch:00007:UNDI:003000". */
export function vendorClass(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.VendorClassIdentifier);
  return d && d.length > 0 ? text(d) : undefined;
}

export interface ClientIdentifier {
  /** Hardware type (1 = Ethernet) or 0 for a non-hardware identifier (RFC 2132 §9.14). */
  readonly type: number;
  readonly id: Buffer;
  /** Lower-case colon MAC when type is 1 and the id is 6 bytes. */
  readonly mac?: string;
}

/** Option 61 (RFC 2132 §9.14). */
export function clientIdentifier(p: Options): ClientIdentifier | undefined {
  const d = getOption(p, DhcpOptionCode.ClientIdentifier);
  if (!d || d.length < 2) return undefined;
  const id = d.subarray(1);
  if (d[0] === 1 && id.length === 6) {
    return { type: 1, id, mac: [...id].map((b) => b.toString(16).padStart(2, '0')).join(':') };
  }
  return { type: d[0]!, id };
}

/** Option 66 (RFC 2132 §9.4). */
export function tftpServerName(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.TftpServerName);
  return d && d.length > 0 ? text(d) : undefined;
}

/** Option 67 (RFC 2132 §9.5). */
export function bootfileName(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.BootfileName);
  return d && d.length > 0 ? text(d) : undefined;
}

// --- RFC 3004 user class ------------------------------------------------------------------

export interface UserClass {
  /**
   * 'rfc3004': length-prefixed instances as RFC 3004 §4 says.
   * 'raw': the bare string; iPXE sends "iPXE" this way (its 4 bytes are not a valid
   * RFC 3004 instance, since 'i' = 105 would be a length), as does most PXE firmware.
   */
  readonly form: 'rfc3004' | 'raw';
  readonly classes: string[];
}

/** Option 77 in either form. RFC 3004 is tried first; data that does not frame exactly is raw. */
export function userClass(p: Options): UserClass | undefined {
  const d = getOption(p, DhcpOptionCode.UserClass);
  if (!d || d.length === 0) return undefined;
  const classes: string[] = [];
  let i = 0;
  while (i < d.length) {
    const len = d[i]!;
    if (len === 0 || i + 1 + len > d.length) break;
    classes.push(d.toString('latin1', i + 1, i + 1 + len));
    i += 1 + len;
  }
  if (i === d.length) return { form: 'rfc3004', classes };
  return { form: 'raw', classes: [text(d)] };
}

// --- RFC 3046 relay agent information -----------------------------------------------------

export interface RelayAgentInfo {
  /** Sub-option 1. */
  readonly circuitId?: Buffer;
  /** Sub-option 2. */
  readonly remoteId?: Buffer;
  /** Every sub-option in order, including 1 and 2, so replies can echo it unchanged (§2.2). */
  readonly subOptions: DhcpOption[];
}

/** Option 82 (RFC 3046). Malformed sub-option framing reads as undefined. */
export function relayAgentInfo(p: Options): RelayAgentInfo | undefined {
  const d = getOption(p, DhcpOptionCode.RelayAgentInformation);
  if (!d) return undefined;
  const subOptions = readSubOptions(d, false);
  if (!subOptions) return undefined;
  const circuitId = subOptions.find((s) => s.code === 1)?.data;
  const remoteId = subOptions.find((s) => s.code === 2)?.data;
  return {
    ...(circuitId ? { circuitId } : {}),
    ...(remoteId ? { remoteId } : {}),
    subOptions,
  };
}

/**
 * Code/length/value sub-options. With `padAndEnd`, 0 is skipped and 255 stops (the PXE
 * and iPXE encapsulations use them); without, every byte is a code (RFC 3046 §2.0).
 * Returns undefined if a length runs past the end.
 */
export function readSubOptions(d: Buffer, padAndEnd: boolean): DhcpOption[] | undefined {
  const out: DhcpOption[] = [];
  let i = 0;
  while (i < d.length) {
    const code = d[i]!;
    if (padAndEnd && code === 0) { i += 1; continue; }
    if (padAndEnd && code === 255) break;
    if (i + 1 >= d.length) return undefined;
    const len = d[i + 1]!;
    if (i + 2 + len > d.length) return undefined;
    out.push({ code, data: d.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}

export function writeSubOptions(subs: readonly DhcpOption[], end: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const s of subs) {
    if (s.data.length > 255) throw invalid(`sub-option ${s.code}`, `is ${s.data.length} bytes; a sub-option holds at most 255`);
    parts.push(Buffer.from([s.code, s.data.length]), s.data);
  }
  if (end) parts.push(Buffer.from([255]));
  return Buffer.concat(parts);
}

// --- RFC 4578 PXE client options -----------------------------------------------------------

/** Option 93 (RFC 4578 §2.1): a list of 16-bit architecture types, most preferred first. */
export function clientArchitectures(p: Options): number[] | undefined {
  const d = getOption(p, DhcpOptionCode.ClientSystemArchitecture);
  if (!d || d.length === 0 || d.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < d.length; i += 2) out.push(d.readUInt16BE(i));
  return out;
}

export interface ClientNdi {
  /** 1 = UNDI. */
  readonly type: number;
  readonly major: number;
  readonly minor: number;
}

/** Option 94 (RFC 4578 §2.2), e.g. UNDI 3.10 from iPXE, 3.0 from OVMF, 2.1 from PXE ROMs. */
export function clientNdi(p: Options): ClientNdi | undefined {
  const d = getOption(p, DhcpOptionCode.ClientNetworkInterfaceId);
  return d?.length === 3 ? { type: d[0]!, major: d[1]!, minor: d[2]! } : undefined;
}

export interface ClientMachineId {
  /** 0 = GUID (the only type RFC 4578 §2.3 defines). */
  readonly type: number;
  /** Canonical lower-case SMBIOS GUID, when type is 0 and 16 bytes follow. */
  readonly guid?: string;
  readonly raw: Buffer;
}

/**
 * SMBIOS GUID from its 16 wire bytes. SMBIOS 2.6+ stores the first three fields
 * little-endian (as EFI_GUID does) and firmware copies that layout into option 97, so
 * bytes 00 00 1d 4b 77 77 00 40 80 00 … read as 4b1d0000-7777-4000-8000-….
 */
export function guidFromWire(b: Buffer): string {
  const h = (from: number, to: number): string => b.subarray(from, to).toString('hex');
  const le = (from: number, to: number): string => Buffer.from(b.subarray(from, to)).reverse().toString('hex');
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${h(8, 10)}-${h(10, 16)}`;
}

/** The inverse of guidFromWire, for building replies that echo option 97. */
export function guidToWire(guid: string): Buffer {
  const hex = guid.replace(/[{}-]/g, '');
  const b = Buffer.from(hex, 'hex');
  if (b.length !== 16) return Buffer.alloc(16);
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8, 16),
  ]);
}

/** Option 97 (RFC 4578 §2.3). */
export function clientMachineId(p: Options): ClientMachineId | undefined {
  const d = getOption(p, DhcpOptionCode.ClientMachineIdentifier);
  if (!d || d.length === 0) return undefined;
  if (d[0] === 0 && d.length === 17) return { type: 0, guid: guidFromWire(d.subarray(1)), raw: d };
  return { type: d[0]!, raw: d };
}

// --- Microsoft WDS / ConfigMgr -------------------------------------------------------------

/** Option 252 as ConfigMgr/WDS use it: the per-request BCD path (rule 86). */
export function wdsBcdPath(p: Options): string | undefined {
  const d = getOption(p, DhcpOptionCode.WdsBcdPath);
  return d && d.length > 0 ? text(d) : undefined;
}

/** Option 243 (rule 74): type byte 1 = variables file path; 2 = key blob then path. Kept raw. */
export const wdsVariablesFile = (p: Options): Buffer | undefined => getOption(p, DhcpOptionCode.WdsVariablesFile);

/** Option 250 (rule 74): ConfigMgr client request data. Kept raw. */
export const wdsClientRequest = (p: Options): Buffer | undefined => getOption(p, DhcpOptionCode.WdsClientRequest);

// --- validation for logs ----------------------------------------------------------------------

/** Codes of options that are present but do not have the shape their RFC gives them. */
export function malformedOptions(p: Options): number[] {
  const bad: number[] = [];
  const check = (code: number, ok: (d: Buffer) => boolean): void => {
    const d = getOption(p, code);
    if (d !== undefined && !ok(d)) bad.push(code);
  };
  check(DhcpOptionCode.MessageType, (d) => d.length === 1);
  check(DhcpOptionCode.ServerIdentifier, (d) => d.length === 4);
  check(DhcpOptionCode.RequestedIpAddress, (d) => d.length === 4);
  check(DhcpOptionCode.MaxMessageSize, (d) => d.length === 2 && d.readUInt16BE(0) >= 576);
  check(DhcpOptionCode.ClientIdentifier, (d) => d.length >= 2);
  check(DhcpOptionCode.RelayAgentInformation, (d) => readSubOptions(d, false) !== undefined);
  check(DhcpOptionCode.ClientSystemArchitecture, (d) => d.length >= 2 && d.length % 2 === 0);
  check(DhcpOptionCode.ClientNetworkInterfaceId, (d) => d.length === 3);
  check(DhcpOptionCode.ClientMachineIdentifier, (d) => d.length === 17 && d[0] === 0);
  return bad;
}
