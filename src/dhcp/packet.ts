/**
 * DHCPv4 packet codec (RFC 2131 §2 header, RFC 2132 options, RFC 3396 long options,
 * RFC 2132 §9.3 option overload). Pure: Buffer in, value out.
 *
 * The parsed packet is the *logical* message: every option once, in order of first
 * appearance, with split instances concatenated (RFC 3396 §6) and option 52's overload
 * undone (options found in `file`/`sname` are appended, `file`/`sname` are then empty).
 * How the bytes were laid out (pads, splits, overload, trailing bytes) is reported in
 * `wire`, so parse ∘ encode is the identity on the logical message, and encode ∘ parse
 * is byte-identical exactly when `wire.quirks` is empty.
 *
 * Hostile input never throws: `parseDhcpPacket` returns a `DhcpParseError` value.
 */
import { invalid } from '../errors.js';
import { DhcpOptionCode } from './option-codes.js';
import { dhcpParseError, type DhcpField, type DhcpParseError } from './errors.js';
import { ipToInt } from './ipv4.js';

export const MAGIC_COOKIE = 0x63825363;
/** op(1) … file(128): RFC 2131 figure 1. */
export const BOOTP_HEADER_SIZE = 236;
/** Header plus the 4-byte magic cookie: where options start. */
export const DHCP_OPTIONS_OFFSET = 240;
/** RFC 1542 §2.1: a BOOTP message is at least 300 bytes; relays and old clients drop shorter ones. */
export const BOOTP_MIN_SIZE = 300;
/** flags bit 15 (RFC 2131 §2, figure 2). */
export const BROADCAST_FLAG = 0x8000;
const SNAME_OFFSET = 44;
const SNAME_SIZE = 64;
const FILE_OFFSET = 108;
const FILE_SIZE = 128;

export interface DhcpOption {
  readonly code: number;
  readonly data: Buffer;
}

/** Wire layout details the logical packet does not carry. */
export type DhcpWireQuirk =
  /** Pad (0) bytes between options. */
  | 'pad-in-options'
  /** A code appeared more than once in a way the canonical encoder would not write (RFC 3396). */
  | 'split-option'
  /** Option 52 moved options into `file` and/or `sname`. */
  | 'overload'
  /** A field's options ran to its end without the END (255) option. */
  | 'missing-end'
  /** Bytes after END are non-zero, or the packet is longer/shorter than END + zero pad to 300. */
  | 'trailing-bytes'
  /** Bytes after the NUL terminator of `sname` or `file`, or after END in an overloaded field. */
  | 'field-garbage';

export interface DhcpWireInfo {
  /** UDP payload length as received. */
  readonly length: number;
  /** Option 52's value (0 = no overload). */
  readonly overload: 0 | 1 | 2 | 3;
  /** Empty when re-encoding gives back the same bytes. */
  readonly quirks: readonly DhcpWireQuirk[];
}

export interface DhcpPacket {
  /** 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server). */
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  /** Transaction id, unsigned 32-bit. */
  xid: number;
  secs: number;
  /** Bit 15 is BROADCAST; the other bits must be zero (RFC 2131 §2) but are kept as sent. */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  /** "next server" in bootstrap (TFTP server for PXE). */
  siaddr: string;
  giaddr: string;
  /** The 16-byte chaddr field as on the wire; the first `hlen` bytes are the address. */
  chaddr: Buffer;
  /** Server host name (latin1, up to the first NUL); empty when overloaded. */
  sname: string;
  /** Boot file name (latin1, up to the first NUL); empty when overloaded. */
  file: string;
  /** Options in order of first appearance, each code once; 0, 52 and 255 never appear here. */
  options: DhcpOption[];
  /** Set by the parser; ignored by the encoder. */
  wire?: DhcpWireInfo;
}

export const isBroadcast = (p: Pick<DhcpPacket, 'flags'>): boolean => (p.flags & BROADCAST_FLAG) !== 0;

/** Lower-case colon MAC ("52:54:00:77:00:10") for Ethernet (htype 1, hlen 6), else undefined. */
export function macAddress(p: Pick<DhcpPacket, 'htype' | 'hlen' | 'chaddr'>): string | undefined {
  if (p.htype !== 1 || p.hlen !== 6 || p.chaddr.length < 6) return undefined;
  const c = p.chaddr;
  return `${HEX[c[0]!]}:${HEX[c[1]!]}:${HEX[c[2]!]}:${HEX[c[3]!]}:${HEX[c[4]!]}:${HEX[c[5]!]}`;
}

/** "00" … "ff": macAddress runs once per packet. */
const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** chaddr bytes from "52:54:00:77:00:10" (also '-' or no separator), zero-filled to 16. */
export function chaddrFromMac(mac: string): Buffer {
  const hex = mac.toLowerCase().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) throw invalid('chaddr', `"${mac}" is not a MAC address; write it like 52:54:00:77:00:10`);
  const out = Buffer.alloc(16);
  Buffer.from(hex, 'hex').copy(out);
  return out;
}

// ---------------------------------------------------------------------------------------
// Parsing

interface OptionAccumulator {
  /** code → instances in wire order; Map keeps first-appearance order. */
  readonly parts: Map<number, Buffer[]>;
  /** Codes of every instance, in wire order, to judge whether splits were canonical. */
  readonly sequence: number[];
  readonly quirks: Set<DhcpWireQuirk>;
  overload: 0 | 1 | 2 | 3;
}

/** Reads options from buf[start, end). Returns the offset of END, -1 if the field had none, or an error. */
function readOptionField(
  buf: Buffer,
  start: number,
  end: number,
  field: DhcpField,
  acc: OptionAccumulator,
): number | DhcpParseError {
  let i = start;
  while (i < end) {
    const code = buf[i]!;
    if (code === DhcpOptionCode.Pad) {
      acc.quirks.add('pad-in-options');
      i += 1;
      continue;
    }
    if (code === DhcpOptionCode.End) return i;
    if (i + 1 >= end) {
      return dhcpParseError('PXE_ERR_DHCP_OPTION_OVERRUN',
        `option ${code} at byte ${i} of ${field} has no length byte: the ${field} field ends there`, field, i, code);
    }
    const len = buf[i + 1]!;
    if (i + 2 + len > end) {
      return dhcpParseError('PXE_ERR_DHCP_OPTION_OVERRUN',
        `option ${code} at byte ${i} of ${field} claims ${len} bytes but only ${end - i - 2} remain`, field, i, code);
    }
    const data = buf.subarray(i + 2, i + 2 + len); // a view of parseDhcpPacket's own copy
    if (code === DhcpOptionCode.Overload) {
      if (field !== 'options') {
        return dhcpParseError('PXE_ERR_DHCP_BAD_OVERLOAD',
          `option 52 (overload) found inside ${field}; RFC 2131 §4.1 allows it only in the options field`, field, i, code);
      }
      const value = data[0];
      if (len !== 1 || value === undefined || value < 1 || value > 3 || acc.overload !== 0) {
        return dhcpParseError('PXE_ERR_DHCP_BAD_OVERLOAD',
          `option 52 (overload) must appear once with one byte of value 1, 2 or 3 (RFC 2132 §9.3), got length ${len}`, field, i, code);
      }
      acc.overload = value as 1 | 2 | 3;
    } else {
      const list = acc.parts.get(code);
      if (list) list.push(data);
      else acc.parts.set(code, [data]);
      acc.sequence.push(code);
    }
    i += 2 + len;
  }
  return -1;
}

const ip4 = (buf: Buffer, offset: number): string =>
  buf[offset] === 0 && buf[offset + 1] === 0 && buf[offset + 2] === 0 && buf[offset + 3] === 0
    ? '0.0.0.0' // most addresses in a request: no string built
    : `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;

/** NUL-terminated latin1 text in buf[start, start+size); reports whether bytes after the terminator are non-zero. */
function cString(buf: Buffer, start: number, size: number): { text: string; garbage: boolean } {
  const end = start + size;
  let nul = start;
  while (nul < end && buf[nul] !== 0) nul++;
  let garbage = false;
  for (let k = nul + 1; k < end; k++) if (buf[k] !== 0) { garbage = true; break; }
  // Most requests leave sname and file empty: no string is decoded for them.
  return { text: nul === start ? '' : buf.toString('latin1', start, nul), garbage };
}

const allZero = (buf: Buffer, from: number, to: number): boolean => {
  for (let k = from; k < to; k++) if (buf[k] !== 0) return false;
  return true;
};

/** A split is canonical when the instances are adjacent and all but the last are 255 bytes long. */
function splitIsCanonical(code: number, parts: Buffer[], sequence: number[]): boolean {
  for (let k = 0; k < parts.length - 1; k++) if (parts[k]!.length !== 255) return false;
  const first = sequence.indexOf(code);
  for (let k = 0; k < parts.length; k++) if (sequence[first + k] !== code) return false;
  return true;
}

/** Parses a BOOTP/DHCP UDP payload. Never throws; hostile input gives a typed error value. */
export function parseDhcpPacket(input: Buffer): DhcpPacket | DhcpParseError {
  if (input.length < DHCP_OPTIONS_OFFSET) {
    return dhcpParseError('PXE_ERR_DHCP_TRUNCATED',
      `packet is ${input.length} bytes; a DHCP message needs at least ${DHCP_OPTIONS_OFFSET} (header and magic cookie)`,
      'header', input.length);
  }
  // One copy of the whole message; option values and chaddr are views of it, so the
  // packet never aliases the caller's (e.g. the socket's) buffer.
  const buf = Buffer.from(input);
  const op = buf[0]!;
  if (op !== 1 && op !== 2) {
    return dhcpParseError('PXE_ERR_DHCP_BAD_OP', `op is ${op}; only 1 (BOOTREQUEST) and 2 (BOOTREPLY) exist`, 'header', 0);
  }
  const hlen = buf[2]!;
  if (hlen > 16) {
    return dhcpParseError('PXE_ERR_DHCP_BAD_HLEN', `hlen is ${hlen}; chaddr holds at most 16 bytes`, 'header', 2);
  }
  if (buf.readUInt32BE(BOOTP_HEADER_SIZE) !== MAGIC_COOKIE) {
    return dhcpParseError('PXE_ERR_DHCP_BAD_COOKIE',
      `bytes 236-239 are not the DHCP magic cookie 99.130.83.99; plain BOOTP (RFC 951) is not served`, 'header', BOOTP_HEADER_SIZE);
  }

  const acc: OptionAccumulator = { parts: new Map(), sequence: [], quirks: new Set(), overload: 0 };
  const endAt = readOptionField(buf, DHCP_OPTIONS_OFFSET, buf.length, 'options', acc);
  if (typeof endAt !== 'number') return endAt;
  if (endAt === -1) {
    acc.quirks.add('missing-end');
  } else {
    const canonicalLength = Math.max(BOOTP_MIN_SIZE, endAt + 1);
    if (buf.length !== canonicalLength || !allZero(buf, endAt + 1, buf.length)) acc.quirks.add('trailing-bytes');
  }

  // RFC 2131 §4.1: after the options field, 'file' is read next, then 'sname'.
  const fieldsUsed: Array<[DhcpField, number, number]> = [];
  if (acc.overload & 1) fieldsUsed.push(['file', FILE_OFFSET, FILE_SIZE]);
  if (acc.overload & 2) fieldsUsed.push(['sname', SNAME_OFFSET, SNAME_SIZE]);
  for (const [field, offset, size] of fieldsUsed) {
    const end = readOptionField(buf, offset, offset + size, field, acc);
    if (typeof end !== 'number') return end;
    if (end === -1) acc.quirks.add('missing-end');
    else if (!allZero(buf, end + 1, offset + size)) acc.quirks.add('field-garbage');
  }
  if (acc.overload !== 0) acc.quirks.add('overload');

  let sname = '';
  if (!(acc.overload & 2)) {
    const s = cString(buf, SNAME_OFFSET, SNAME_SIZE);
    sname = s.text;
    if (s.garbage) acc.quirks.add('field-garbage');
  }
  let file = '';
  if (!(acc.overload & 1)) {
    const f = cString(buf, FILE_OFFSET, FILE_SIZE);
    file = f.text;
    if (f.garbage) acc.quirks.add('field-garbage');
  }

  const options: DhcpOption[] = [];
  for (const [code, parts] of acc.parts) {
    if (parts.length === 1) {
      options.push({ code, data: parts[0]! });
    } else {
      if (!splitIsCanonical(code, parts, acc.sequence)) acc.quirks.add('split-option');
      options.push({ code, data: Buffer.concat(parts) }); // RFC 3396 §6
    }
  }

  return {
    op,
    htype: buf[1]!,
    hlen,
    hops: buf[3]!,
    xid: buf.readUInt32BE(4),
    secs: buf.readUInt16BE(8),
    flags: buf.readUInt16BE(10),
    ciaddr: ip4(buf, 12),
    yiaddr: ip4(buf, 16),
    siaddr: ip4(buf, 20),
    giaddr: ip4(buf, 24),
    chaddr: buf.subarray(28, 44),
    sname,
    file,
    options,
    wire: { length: buf.length, overload: acc.overload, quirks: [...acc.quirks] },
  };
}

// ---------------------------------------------------------------------------------------
// Encoding

export interface EncodeOptions {
  /** Zero-pad the message to at least this many bytes. Default 300 (RFC 1542 §2.1). */
  minSize?: number;
}

/** The 4 bytes of a dotted IPv4 address; throws PXE_ERR_INVALID for anything else (our own values only). */
export function ipv4Bytes(text: string, field: string): Buffer {
  const out = Buffer.allocUnsafe(4);
  writeIp4(out, 0, text, field);
  return out;
}

function writeIp4(out: Buffer, offset: number, text: string, field: string): void {
  const n = ipToInt(text);
  if (Number.isNaN(n)) throw invalid(field, `"${text}" is not a dotted IPv4 address`);
  out.writeUInt32BE(n, offset);
}

function checkOptionCode(code: number): void {
  if (!Number.isInteger(code) || code < 1 || code > 254 || code === DhcpOptionCode.Overload) {
    throw invalid('options', `option code ${code} cannot be encoded; 0 and 255 are framing and 52 is set by the encoder`);
  }
}

/** Wire size of one option: its data plus 2 bytes per 255-byte piece (RFC 3396 §5). */
const optionWireSize = (data: Buffer): number => (data.length === 0 ? 2 : data.length + 2 * Math.ceil(data.length / 255));

/** One option as wire instances: code, length, data; split into 255-byte pieces (RFC 3396 §5). */
function optionInstances(opt: DhcpOption): Buffer[] {
  const { code, data } = opt;
  checkOptionCode(code);
  if (data.length === 0) return [Buffer.from([code, 0])];
  const out: Buffer[] = [];
  for (let k = 0; k < data.length; k += 255) {
    const piece = data.subarray(k, Math.min(k + 255, data.length));
    out.push(Buffer.concat([Buffer.from([code, piece.length]), piece]));
  }
  return out;
}

/** Writes the options at `at` (split as optionInstances would) and returns where they end. */
function writeOptions(out: Buffer, at: number, options: readonly DhcpOption[]): number {
  for (const { code, data } of options) {
    checkOptionCode(code);
    if (data.length === 0) {
      out[at++] = code;
      out[at++] = 0;
      continue;
    }
    for (let k = 0; k < data.length; k += 255) {
      const len = Math.min(255, data.length - k);
      out[at++] = code;
      out[at++] = len;
      at += data.copy(out, at, k, k + len);
    }
  }
  return at;
}

function writeHeader(out: Buffer, p: DhcpPacket, sname: string, file: string): void {
  out[0] = p.op;
  out[1] = p.htype;
  out[2] = p.hlen;
  out[3] = p.hops;
  out.writeUInt32BE(p.xid >>> 0, 4);
  out.writeUInt16BE(p.secs & 0xffff, 8);
  out.writeUInt16BE(p.flags & 0xffff, 10);
  writeIp4(out, 12, p.ciaddr, 'ciaddr');
  writeIp4(out, 16, p.yiaddr, 'yiaddr');
  writeIp4(out, 20, p.siaddr, 'siaddr');
  writeIp4(out, 24, p.giaddr, 'giaddr');
  p.chaddr.copy(out, 28, 0, Math.min(16, p.chaddr.length));
  if (sname !== '') out.write(sname, SNAME_OFFSET, SNAME_SIZE, 'latin1');
  if (file !== '') out.write(file, FILE_OFFSET, FILE_SIZE, 'latin1');
  out.writeUInt32BE(MAGIC_COOKIE, BOOTP_HEADER_SIZE);
}

/** Size of `p` encoded by encodeDhcpPacket (every option in the options field), before padding. */
export function encodedSize(p: Pick<DhcpPacket, 'options'>): number {
  let size = DHCP_OPTIONS_OFFSET + 1;
  for (const o of p.options) size += optionWireSize(o.data);
  return size;
}

/** Encodes every option into the options field (no overload, no size limit). */
export function encodeDhcpPacket(p: DhcpPacket, opts: EncodeOptions = {}): Buffer {
  const out = Buffer.alloc(Math.max(encodedSize(p), opts.minSize ?? BOOTP_MIN_SIZE));
  encodeInto(p, out);
  return out;
}

/**
 * encodeDhcpPacket into `out` from byte 0 (e.g. a reused scratch buffer): returns the
 * length, or -1 when the message does not fit `out` (nothing is written then).
 */
export function encodeDhcpPacketInto(p: DhcpPacket, out: Buffer, opts: EncodeOptions = {}): number {
  const size = Math.max(encodedSize(p), opts.minSize ?? BOOTP_MIN_SIZE);
  if (size > out.length) return -1;
  out.fill(0, 0, size);
  encodeInto(p, out);
  return size;
}

/** Header, options and END into a zeroed `out` that is large enough. */
function encodeInto(p: DhcpPacket, out: Buffer): void {
  writeHeader(out, p, p.sname, p.file);
  const at = writeOptions(out, DHCP_OPTIONS_OFFSET, p.options);
  out[at] = DhcpOptionCode.End;
}

/**
 * Encodes within `maxSize` bytes of UDP payload. Options go into the options field;
 * when they do not fit, and `file`/`sname` are empty, option 52 moves the rest into
 * `file` and then `sname` (RFC 2131 §4.1 order). Options keep their order and are never
 * split across fields (old PXE ROMs do not concatenate across fields). Returns undefined
 * when they still do not fit: the caller decides what to drop (see builder.ts).
 */
export function encodeDhcpPacketWithin(p: DhcpPacket, maxSize: number, opts: EncodeOptions = {}): Buffer | undefined {
  const instances = p.options.flatMap(optionInstances);
  const optionBytes = instances.reduce((n, b) => n + b.length, 0);
  const minSize = Math.min(opts.minSize ?? BOOTP_MIN_SIZE, maxSize);
  if (DHCP_OPTIONS_OFFSET + optionBytes + 1 <= maxSize) return encodeDhcpPacket(p, { minSize });

  // Overload: [52,1,v] + options + END in the options field, then file, then sname.
  const fields: Array<{ name: 'options' | 'file' | 'sname'; capacity: number; items: Buffer[]; used: number }> = [
    { name: 'options', capacity: maxSize - DHCP_OPTIONS_OFFSET - 3 - 1, items: [], used: 0 },
  ];
  if (p.file === '') fields.push({ name: 'file', capacity: FILE_SIZE - 1, items: [], used: 0 });
  if (p.sname === '') fields.push({ name: 'sname', capacity: SNAME_SIZE - 1, items: [], used: 0 });
  let f = 0;
  for (const item of instances) {
    while (f < fields.length && fields[f]!.used + item.length > fields[f]!.capacity) f++;
    const field = fields[f];
    if (!field) return undefined;
    field.items.push(item);
    field.used += item.length;
  }
  const main = fields[0]!;
  if (main.capacity < 0) return undefined;
  let overload = 0;
  for (const field of fields) {
    if (field.items.length === 0) continue;
    if (field.name === 'file') overload |= 1;
    if (field.name === 'sname') overload |= 2;
  }
  const used = DHCP_OPTIONS_OFFSET + 3 + main.used + 1;
  const out = Buffer.alloc(Math.max(used, minSize));
  writeHeader(out, p, overload & 2 ? '' : p.sname, overload & 1 ? '' : p.file);
  let at = DHCP_OPTIONS_OFFSET;
  out[at++] = DhcpOptionCode.Overload;
  out[at++] = 1;
  out[at++] = overload;
  for (const b of main.items) at += b.copy(out, at);
  out[at] = DhcpOptionCode.End;
  for (const field of fields.slice(1)) {
    if (field.items.length === 0) continue;
    let pos = field.name === 'file' ? FILE_OFFSET : SNAME_OFFSET;
    for (const b of field.items) pos += b.copy(out, pos);
    out[pos] = DhcpOptionCode.End;
  }
  return out;
}
