/**
 * TFTP packet codec: RFC 1350 (RRQ, WRQ, DATA, ACK, ERROR) and RFC 2347 (OACK).
 *
 * Every byte from a client is untrusted, so `parseTftpPacket` never throws: it
 * returns a typed packet or a `TftpParseError` value the listener counts and drops.
 * Strings are decoded as latin1 so that parse ∘ encode is the identity on any byte
 * sequence (a file name is bytes on the wire; paths.ts decides what they mean).
 */

export const OPCODE = { RRQ: 1, WRQ: 2, DATA: 3, ACK: 4, ERROR: 5, OACK: 6 } as const;

/** RFC 1350 §5 error codes, plus 8 from RFC 2347. */
export const TFTP_ERROR = {
  NOT_DEFINED: 0,
  FILE_NOT_FOUND: 1,
  ACCESS_VIOLATION: 2,
  DISK_FULL: 3,
  ILLEGAL_OPERATION: 4,
  UNKNOWN_TID: 5,
  FILE_EXISTS: 6,
  NO_SUCH_USER: 7,
  OPTION_NEGOTIATION: 8,
} as const;

/** Largest DATA payload any TFTP peer may negotiate (RFC 2348). */
export const MAX_BLKSIZE = 65464;
/** Largest UDP payload we accept at all; anything bigger cannot be TFTP. */
export const MAX_PACKET = MAX_BLKSIZE + 4;

export interface TftpOption {
  name: string;
  value: string;
}

export interface TftpRequest {
  type: 'rrq' | 'wrq';
  filename: string;
  mode: string;
  /** In wire order, names as sent (negotiation lower-cases them). */
  options: TftpOption[];
}
export interface TftpData {
  type: 'data';
  block: number;
  data: Buffer;
}
export interface TftpAck {
  type: 'ack';
  block: number;
}
export interface TftpErrorPacket {
  type: 'error';
  code: number;
  message: string;
}
export interface TftpOack {
  type: 'oack';
  options: TftpOption[];
}

export type TftpPacket = TftpRequest | TftpData | TftpAck | TftpErrorPacket | TftpOack;

/** Why a datagram is not a TFTP packet. A value, never thrown. */
export interface TftpParseError {
  type: 'invalid';
  reason:
    | 'too-short'
    | 'too-long'
    | 'bad-opcode'
    | 'unterminated-string'
    | 'empty-filename'
    | 'empty-mode'
    | 'odd-option-list'
    | 'empty-option-name';
  opcode: number;
}

export function isTftpParseError(p: TftpPacket | TftpParseError): p is TftpParseError {
  return p.type === 'invalid';
}

const invalid = (reason: TftpParseError['reason'], opcode: number): TftpParseError => ({ type: 'invalid', reason, opcode });

/** Split NUL-terminated latin1 strings from `buf[start..]`. Returns null if the last one is unterminated. */
function splitStrings(buf: Buffer, start: number): string[] | null {
  const strings: string[] = [];
  let pos = start;
  while (pos < buf.length) {
    const end = buf.indexOf(0, pos);
    if (end < 0) return null;
    strings.push(buf.toString('latin1', pos, end));
    pos = end + 1;
  }
  return strings;
}

function parseOptionList(strings: string[], from: number, opcode: number): TftpOption[] | TftpParseError {
  // Some PXE ROMs pad requests with NULs; empty strings after the last pair are padding.
  // An option with an empty value ("x\0\0") is still a pair, so padding is stripped
  // two empties at a time, then one more if the count is odd.
  let end = strings.length;
  while (end - from >= 2 && strings[end - 1] === '' && strings[end - 2] === '') end -= 2;
  if ((end - from) % 2 === 1 && strings[end - 1] === '') end--;
  if ((end - from) % 2 !== 0) return invalid('odd-option-list', opcode);
  const options: TftpOption[] = [];
  for (let i = from; i < end; i += 2) {
    const name = strings[i] as string;
    if (name === '') return invalid('empty-option-name', opcode);
    options.push({ name, value: strings[i + 1] as string });
  }
  return options;
}

export function parseTftpPacket(buf: Buffer): TftpPacket | TftpParseError {
  if (buf.length < 2) return invalid('too-short', -1);
  const opcode = buf.readUInt16BE(0);
  if (buf.length > MAX_PACKET) return invalid('too-long', opcode);
  switch (opcode) {
    case OPCODE.RRQ:
    case OPCODE.WRQ: {
      const s = splitStrings(buf, 2);
      if (!s) return invalid('unterminated-string', opcode);
      if (s.length < 1 || s[0] === '') return invalid('empty-filename', opcode);
      if (s.length < 2 || s[1] === '') return invalid('empty-mode', opcode);
      const options = parseOptionList(s, 2, opcode);
      if (!Array.isArray(options)) return options;
      return { type: opcode === OPCODE.RRQ ? 'rrq' : 'wrq', filename: s[0] as string, mode: s[1] as string, options };
    }
    case OPCODE.DATA:
      if (buf.length < 4) return invalid('too-short', opcode);
      return { type: 'data', block: buf.readUInt16BE(2), data: buf.subarray(4) };
    case OPCODE.ACK:
      // RFC 1350 ACKs are exactly 4 bytes; trailing bytes are ignored rather than
      // refused because a few embedded stacks pad small datagrams.
      if (buf.length < 4) return invalid('too-short', opcode);
      return { type: 'ack', block: buf.readUInt16BE(2) };
    case OPCODE.ERROR: {
      if (buf.length < 4) return invalid('too-short', opcode);
      const code = buf.readUInt16BE(2);
      // A missing terminator is tolerated: the message is informational only.
      const end = buf.indexOf(0, 4);
      return { type: 'error', code, message: buf.toString('latin1', 4, end < 0 ? buf.length : end) };
    }
    case OPCODE.OACK: {
      const split = splitStrings(buf, 2);
      if (!split) return invalid('unterminated-string', opcode);
      const options = parseOptionList(split, 0, opcode);
      if (!Array.isArray(options)) return options;
      return { type: 'oack', options };
    }
    default:
      return invalid('bad-opcode', opcode);
  }
}

function strings(opcode: number, parts: string[]): Buffer {
  let len = 2;
  for (const p of parts) len += Buffer.byteLength(p, 'latin1') + 1;
  const out = Buffer.allocUnsafe(len);
  out.writeUInt16BE(opcode, 0);
  let pos = 2;
  for (const p of parts) {
    pos += out.write(p, pos, 'latin1');
    out[pos++] = 0;
  }
  return out;
}

const flatten = (options: readonly TftpOption[]): string[] => options.flatMap((o) => [o.name, o.value]);

export function encodeRequest(type: 'rrq' | 'wrq', filename: string, mode: string, options: readonly TftpOption[] = []): Buffer {
  return strings(type === 'rrq' ? OPCODE.RRQ : OPCODE.WRQ, [filename, mode, ...flatten(options)]);
}

export function encodeRrq(filename: string, mode = 'octet', options: readonly TftpOption[] = []): Buffer {
  return encodeRequest('rrq', filename, mode, options);
}

export function encodeWrq(filename: string, mode = 'octet', options: readonly TftpOption[] = []): Buffer {
  return encodeRequest('wrq', filename, mode, options);
}

export function encodeData(block: number, data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + data.length);
  writeDataHeader(out, block);
  data.copy(out, 4);
  return out;
}

/** Hot path: stamp a DATA header into a reusable send buffer (block wraps at 65536). */
export function writeDataHeader(buf: Buffer, block: number): void {
  buf[0] = 0;
  buf[1] = OPCODE.DATA;
  buf[2] = (block >>> 8) & 0xff;
  buf[3] = block & 0xff;
}

export function encodeAck(block: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt16BE(OPCODE.ACK, 0);
  out.writeUInt16BE(block & 0xffff, 2);
  return out;
}

export function encodeError(code: number, message: string): Buffer {
  const len = Buffer.byteLength(message, 'latin1');
  const out = Buffer.allocUnsafe(5 + len);
  out.writeUInt16BE(OPCODE.ERROR, 0);
  out.writeUInt16BE(code & 0xffff, 2);
  out.write(message, 4, 'latin1');
  out[4 + len] = 0;
  return out;
}

export function encodeOack(options: readonly TftpOption[]): Buffer {
  return strings(OPCODE.OACK, flatten(options));
}

export function encodeTftpPacket(p: TftpPacket): Buffer {
  switch (p.type) {
    case 'rrq':
    case 'wrq':
      return encodeRequest(p.type, p.filename, p.mode, p.options);
    case 'data':
      return encodeData(p.block, p.data);
    case 'ack':
      return encodeAck(p.block);
    case 'error':
      return encodeError(p.code, p.message);
    case 'oack':
      return encodeOack(p.options);
  }
}
