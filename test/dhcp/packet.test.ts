import { describe, expect, it } from 'vitest';
import {
  BOOTP_MIN_SIZE,
  chaddrFromMac,
  encodeDhcpPacket,
  encodeDhcpPacketWithin,
  macAddress,
  MAGIC_COOKIE,
  parseDhcpPacket,
  type DhcpPacket,
} from '../../src/dhcp/packet.js';
import { isDhcpParseError, type DhcpParseError } from '../../src/dhcp/errors.js';
import { clientArchitectures, clientMachineId, getOption, malformedOptions, messageType, vendorClass } from '../../src/dhcp/options.js';
import { logical } from './captures.js';

/** A DHCP message with hand-written option bytes, and optional file/sname contents. */
function wire(options: number[], fields: { file?: number[]; sname?: number[]; pad?: number } = {}): Buffer {
  const head = Buffer.alloc(240);
  head[0] = 1; head[1] = 1; head[2] = 6;
  head.writeUInt32BE(0x12345678, 4);
  chaddrFromMac('52:54:00:77:00:10').copy(head, 28);
  Buffer.from(fields.sname ?? []).copy(head, 44);
  Buffer.from(fields.file ?? []).copy(head, 108);
  head.writeUInt32BE(MAGIC_COOKIE, 236);
  return Buffer.concat([head, Buffer.from(options), Buffer.alloc(fields.pad ?? 0)]);
}

function ok(buf: Buffer): DhcpPacket {
  const p = parseDhcpPacket(buf);
  if (isDhcpParseError(p)) throw new Error(`${p.code}: ${p.message}`);
  return p;
}

function err(buf: Buffer): DhcpParseError {
  const p = parseDhcpPacket(buf);
  if (!isDhcpParseError(p)) throw new Error('expected a parse error');
  return p;
}

const basePacket = (): DhcpPacket => ({
  op: 2, htype: 1, hlen: 6, hops: 0, xid: 0xdeadbeef, secs: 0, flags: 0x8000,
  ciaddr: '0.0.0.0', yiaddr: '10.0.0.5', siaddr: '10.0.0.1', giaddr: '0.0.0.0',
  chaddr: chaddrFromMac('52:54:00:77:00:10'), sname: '', file: '', options: [],
});

describe('header', () => {
  it('reads every RFC 2131 field', () => {
    const buf = wire([53, 1, 1, 255], { pad: 56 });
    buf[3] = 2; buf.writeUInt16BE(7, 8); buf.writeUInt16BE(0x8000, 10);
    [10, 0, 0, 9].forEach((b, k) => { buf[12 + k] = b; buf[24 + k] = b + 1; });
    const p = ok(buf);
    expect(p).toMatchObject({ op: 1, htype: 1, hlen: 6, hops: 2, xid: 0x12345678, secs: 7, flags: 0x8000,
      ciaddr: '10.0.0.9', giaddr: '11.1.1.10', yiaddr: '0.0.0.0' });
    expect(macAddress(p)).toBe('52:54:00:77:00:10');
    expect(p.chaddr).toHaveLength(16);
  });

  it('keeps sname and file as text up to the NUL, and notes bytes after it', () => {
    const p = ok(wire([255], { sname: [...Buffer.from('srv'), 0, 0x41], file: [...Buffer.from('boot/x64/snponly.efi')], pad: 59 }));
    expect(p.sname).toBe('srv');
    expect(p.file).toBe('boot/x64/snponly.efi');
    expect(p.wire?.quirks).toContain('field-garbage');
  });

  it('macAddress is undefined for non-Ethernet hardware', () => {
    const buf = wire([255], { pad: 59 });
    buf[1] = 6; buf[2] = 8;
    expect(macAddress(ok(buf))).toBeUndefined();
  });
});

describe('options', () => {
  it('skips pads, stops at END, keeps zero-length options and unknown codes in order', () => {
    const p = ok(wire([53, 1, 1, 0, 0, 80, 0, 200, 2, 0xaa, 0xbb, 255, 0, 0], { pad: 50 }));
    expect(p.options).toEqual([
      { code: 53, data: Buffer.from([1]) },
      { code: 80, data: Buffer.alloc(0) },
      { code: 200, data: Buffer.from([0xaa, 0xbb]) },
    ]);
    expect(p.wire?.quirks).toContain('pad-in-options');
  });

  it('accepts options that run to the end without END, and says so', () => {
    const p = ok(wire([53, 1, 3, 60, 3, 0x61, 0x62, 0x63]));
    expect(p.options.map((o) => o.code)).toEqual([53, 60]);
    expect(p.wire?.quirks).toContain('missing-end');
  });

  it('concatenates split instances of one code (RFC 3396), at the first position', () => {
    const p = ok(wire([43, 2, 1, 2, 53, 1, 1, 43, 1, 3, 255], { pad: 49 }));
    expect(p.options).toEqual([
      { code: 43, data: Buffer.from([1, 2, 3]) },
      { code: 53, data: Buffer.from([1]) },
    ]);
    expect(p.wire?.quirks).toContain('split-option');
  });

  it('encodes options over 255 bytes as consecutive instances, which round-trip byte for byte', () => {
    const long = Buffer.alloc(600, 7);
    const bytes = encodeDhcpPacket({ ...basePacket(), options: [{ code: 53, data: Buffer.from([5]) }, { code: 224, data: long }] });
    expect(bytes[243]).toBe(224);
    expect(bytes[244]).toBe(255);
    expect(bytes[243 + 257]).toBe(224);
    const p = ok(bytes);
    expect(getOption(p, 224)).toEqual(long);
    expect(p.wire?.quirks).toEqual([]);
    expect(encodeDhcpPacket(p).equals(bytes)).toBe(true);
  });

  it('reads overloaded options from file, then sname (RFC 2131 §4.1), and concatenates across fields', () => {
    const buf = wire([52, 1, 3, 53, 1, 5, 67, 2, 0x61, 0x62, 255], {
      file: [67, 2, 0x63, 0x64, 12, 1, 0x68, 255],
      sname: [15, 3, 0x6c, 0x61, 0x6e, 255],
      pad: 49,
    });
    const p = ok(buf);
    expect(p.options.map((o) => [o.code, o.data.toString('latin1')])).toEqual([
      [53, '\x05'], [67, 'abcd'], [12, 'h'], [15, 'lan'],
    ]);
    expect(p.file).toBe('');
    expect(p.sname).toBe('');
    expect(p.wire?.overload).toBe(3);
    expect(p.wire?.quirks).toContain('overload');
    // Logically the same message without overload.
    const again = ok(encodeDhcpPacket(p));
    expect(logical(again)).toEqual(logical(p));
    expect(again.wire?.overload).toBe(0);
  });

  it('overload 1 leaves sname as text', () => {
    const p = ok(wire([52, 1, 1, 255], { file: [53, 1, 2, 255], sname: [...Buffer.from('pxe1')], pad: 56 }));
    expect(p.sname).toBe('pxe1');
    expect(p.options).toEqual([{ code: 53, data: Buffer.from([2]) }]);
  });
});

describe('hostile input gives typed errors, never exceptions', () => {
  const cases: Array<[string, Buffer, DhcpParseError['code']]> = [
    ['empty', Buffer.alloc(0), 'PXE_ERR_DHCP_TRUNCATED'],
    ['header cut at 100', wire([]).subarray(0, 100), 'PXE_ERR_DHCP_TRUNCATED'],
    ['cookie cut', wire([]).subarray(0, 238), 'PXE_ERR_DHCP_TRUNCATED'],
    ['bad op', (() => { const b = wire([255]); b[0] = 3; return b; })(), 'PXE_ERR_DHCP_BAD_OP'],
    ['hlen 17', (() => { const b = wire([255]); b[2] = 17; return b; })(), 'PXE_ERR_DHCP_BAD_HLEN'],
    ['no cookie', (() => { const b = wire([255]); b[236] = 0; return b; })(), 'PXE_ERR_DHCP_BAD_COOKIE'],
    ['length runs past end', wire([53, 1, 1, 60, 40, 0x61]), 'PXE_ERR_DHCP_OPTION_OVERRUN'],
    ['code without length byte', wire([53, 1, 1, 60]), 'PXE_ERR_DHCP_OPTION_OVERRUN'],
    ['overload into garbage file', wire([52, 1, 1, 255], { file: [60, 200, 1, 2, 3] }), 'PXE_ERR_DHCP_OPTION_OVERRUN'],
    ['overload value 4', wire([52, 1, 4, 255]), 'PXE_ERR_DHCP_BAD_OVERLOAD'],
    ['overload of length 2', wire([52, 2, 1, 1, 255]), 'PXE_ERR_DHCP_BAD_OVERLOAD'],
    ['overload zero-length', wire([52, 0, 255]), 'PXE_ERR_DHCP_BAD_OVERLOAD'],
    ['overload twice', wire([52, 1, 1, 52, 1, 2, 255]), 'PXE_ERR_DHCP_BAD_OVERLOAD'],
    ['overload inside file', wire([52, 1, 1, 255], { file: [52, 1, 2, 255] }), 'PXE_ERR_DHCP_BAD_OVERLOAD'],
  ];
  it.each(cases)('%s → %s', (_name, buf, code) => {
    const e = err(buf);
    expect(e.code).toBe(code);
    expect(e.kind).toBe('dhcp-parse-error');
    expect(e.message.length).toBeGreaterThan(10);
  });

  it('zero-length options are kept, and typed accessors read a zero-length 53/93/97 as absent', () => {
    const p = ok(wire([53, 0, 93, 0, 97, 0, 60, 0, 255], { pad: 51 }));
    expect(p.options.map((o) => [o.code, o.data.length])).toEqual([[53, 0], [93, 0], [97, 0], [60, 0]]);
    expect(messageType(p)).toBeUndefined();
    expect(clientArchitectures(p)).toBeUndefined();
    expect(clientMachineId(p)).toBeUndefined();
    expect(vendorClass(p)).toBeUndefined();
    expect(malformedOptions(p)).toEqual([53, 93, 97]);
    expect(encodeDhcpPacket(p).equals(wire([53, 0, 93, 0, 97, 0, 60, 0, 255], { pad: 51 }))).toBe(true);
  });

  it('points at the offending option and field', () => {
    const e = err(wire([52, 1, 1, 255], { file: [53, 1, 1, 60, 200] }));
    expect(e).toMatchObject({ field: 'file', option: 60, offset: 108 + 3 });
  });

  it('an overloaded field without END is accepted and noted', () => {
    const file = Array.from({ length: 128 }, (_, k) => (k % 2 === 0 ? 200 : 0)); // 64 zero-length options
    const p = ok(wire([52, 1, 1, 255], { file }));
    expect(getOption(p, 200)).toEqual(Buffer.alloc(0));
    expect(p.wire?.quirks).toContain('missing-end');
  });
});

describe('encoding', () => {
  it('pads to the 300-byte BOOTP minimum with zeros after END', () => {
    const bytes = encodeDhcpPacket({ ...basePacket(), options: [{ code: 53, data: Buffer.from([2]) }] });
    expect(bytes).toHaveLength(BOOTP_MIN_SIZE);
    expect(bytes.subarray(240, 244)).toEqual(Buffer.from([53, 1, 2, 255]));
    expect(bytes.subarray(244).every((b) => b === 0)).toBe(true);
  });

  it('notes trailing bytes the canonical encoding would not write', () => {
    const longer = ok(wire([53, 1, 1, 255], { pad: 100 }));
    expect(longer.wire?.quirks).toEqual(['trailing-bytes']);
    const exact = ok(wire([53, 1, 1, 255], { pad: 56 }));
    expect(exact.wire?.quirks).toEqual([]);
    const dirty = wire([53, 1, 1, 255], { pad: 56 });
    dirty[299] = 1;
    expect(ok(dirty).wire?.quirks).toEqual(['trailing-bytes']);
  });

  it('refuses our own nonsense loudly (encoder input is trusted code, not the network)', () => {
    expect(() => encodeDhcpPacket({ ...basePacket(), yiaddr: '10.0.0.256' })).toThrow(/IPv4/);
    expect(() => encodeDhcpPacket({ ...basePacket(), options: [{ code: 255, data: Buffer.alloc(0) }] })).toThrow(/framing/);
    expect(() => encodeDhcpPacket({ ...basePacket(), options: [{ code: 52, data: Buffer.from([1]) }] })).toThrow();
  });

  it('fits within a size limit by overloading file, then sname', () => {
    const options = [
      { code: 53, data: Buffer.from([5]) },
      { code: 54, data: Buffer.from([10, 0, 0, 1]) },
      ...Array.from({ length: 3 }, (_, k) => ({ code: 224 + k, data: Buffer.alloc(120, k + 1) })),
    ];
    const p = { ...basePacket(), options };
    expect(encodeDhcpPacket(p).length).toBeGreaterThan(548);
    const bytes = encodeDhcpPacketWithin(p, 548)!;
    expect(bytes.length).toBeLessThanOrEqual(548);
    expect(bytes.subarray(240, 243)).toEqual(Buffer.from([52, 1, 1]));
    const back = ok(bytes);
    expect(back.wire?.overload).toBe(1);
    expect(logical(back)).toEqual(logical(p));
  });

  it('uses sname too when file is not enough, and only empty fields', () => {
    const options = [
      { code: 53, data: Buffer.from([5]) },
      ...Array.from({ length: 4 }, (_, k) => ({ code: 224 + k, data: Buffer.alloc(50, k + 1) })),
    ];
    const p = { ...basePacket(), options };
    const both = encodeDhcpPacketWithin(p, 300)!;
    expect(both).toHaveLength(300);
    const back = ok(both);
    expect(back.wire?.overload).toBe(3);
    expect(logical(back)).toEqual(logical(p));
    // A boot file in `file` must not be overwritten: then it does not fit.
    expect(encodeDhcpPacketWithin({ ...p, file: 'boot/bios/undionly.kpxe' }, 300)).toBeUndefined();
  });

  it('does not overload when everything fits', () => {
    const p = { ...basePacket(), options: [{ code: 53, data: Buffer.from([2]) }] };
    expect(encodeDhcpPacketWithin(p, 576)!.equals(encodeDhcpPacket(p))).toBe(true);
  });
});
