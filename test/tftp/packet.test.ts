import { describe, expect, it } from 'vitest';
import {
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRrq,
  encodeTftpPacket,
  encodeWrq,
  isTftpParseError,
  parseTftpPacket,
  type TftpPacket,
} from '../../src/tftp/packet.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('TFTP codec', () => {
  it('parses the OVMF first RRQ from the capture (tsize=0 blksize=1468 windowsize=4)', () => {
    // full-uefi.pcap: RRQ "snponly.efi" octet tsize 0 blksize 1468 windowsize 4 (54 bytes)
    const wire = Buffer.concat([Buffer.from([0, 1]), Buffer.from('snponly.efi\0octet\0tsize\x000\0blksize\x001468\0windowsize\x004\0', 'latin1')]);
    expect(wire.length).toBe(54);
    const p = parseTftpPacket(wire);
    expect(p).toEqual({
      type: 'rrq',
      filename: 'snponly.efi',
      mode: 'octet',
      options: [
        { name: 'tsize', value: '0' },
        { name: 'blksize', value: '1468' },
        { name: 'windowsize', value: '4' },
      ],
    });
    expect(encodeTftpPacket(p as TftpPacket).equals(wire)).toBe(true);
  });

  it('parses the iPXE RRQ (blksize=1432 tsize=0)', () => {
    const wire = encodeRrq('undionly.kpxe', 'octet', [
      { name: 'blksize', value: '1432' },
      { name: 'tsize', value: '0' },
    ]);
    const p = parseTftpPacket(wire);
    expect(p).toMatchObject({ type: 'rrq', filename: 'undionly.kpxe', options: [{ name: 'blksize', value: '1432' }, { name: 'tsize', value: '0' }] });
  });

  const samples: TftpPacket[] = [
    { type: 'rrq', filename: '\\SMSBoot\\x64\\pxeboot.com', mode: 'octet', options: [] },
    { type: 'wrq', filename: 'up.bin', mode: 'netascii', options: [{ name: 'tsize', value: '100' }] },
    { type: 'data', block: 0, data: Buffer.alloc(0) },
    { type: 'data', block: 65535, data: Buffer.from('hello') },
    { type: 'ack', block: 0 },
    { type: 'ack', block: 65535 },
    { type: 'error', code: 8, message: 'tsize probe' },
    { type: 'error', code: 1, message: '' },
    { type: 'oack', options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '16' }] },
    { type: 'oack', options: [] },
    { type: 'rrq', filename: 'caf\u00e9/\u00ff', mode: 'octet', options: [{ name: 'x', value: '' }] },
  ];
  it.each(samples.map((s) => [s.type, s] as const))('parse ∘ encode = id (%s)', (_t, pkt) => {
    const back = parseTftpPacket(encodeTftpPacket(pkt));
    expect(isTftpParseError(back)).toBe(false);
    expect(back).toEqual(pkt);
  });

  it('encodes the exact RFC 1350 layouts', () => {
    expect(encodeAck(0x1234)).toEqual(hex('0004 1234'));
    expect(encodeAck(65536)).toEqual(hex('0004 0000')); // rollover
    expect(encodeData(1, Buffer.from('ab'))).toEqual(hex('0003 0001 6162'));
    expect(encodeError(5, 'x')).toEqual(hex('0005 0005 78 00'));
    expect(encodeOack([{ name: 'tsize', value: '9' }])).toEqual(hex('0006 7473697a6500 3900'));
    expect(encodeWrq('a')).toEqual(hex('0002 6100 6f6374657400'));
  });

  it('tolerates NUL padding after the options (some PXE ROMs pad requests)', () => {
    const wire = Buffer.concat([encodeRrq('a', 'octet', [{ name: 'tsize', value: '0' }]), Buffer.alloc(6)]);
    expect(parseTftpPacket(wire)).toMatchObject({ type: 'rrq', options: [{ name: 'tsize', value: '0' }] });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'too-short'],
    ['one byte', Buffer.from([0]), 'too-short'],
    ['opcode 0', hex('0000 0000'), 'bad-opcode'],
    ['opcode 7', hex('0007 0000'), 'bad-opcode'],
    ['short ack', hex('0004 00'), 'too-short'],
    ['short data', hex('0003 00'), 'too-short'],
    ['short error', hex('0005 00'), 'too-short'],
    ['rrq without NUL', Buffer.from('\x00\x01file', 'latin1'), 'unterminated-string'],
    ['rrq without mode', Buffer.from('\x00\x01file\x00', 'latin1'), 'empty-mode'],
    ['rrq empty name', Buffer.from('\x00\x01\x00octet\x00', 'latin1'), 'empty-filename'],
    ['odd options', Buffer.from('\x00\x01f\x00octet\x00blksize\x00', 'latin1'), 'odd-option-list'],
    ['odd options (unterminated)', Buffer.from('\x00\x01f\x00octet\x00blksize', 'latin1'), 'unterminated-string'],
    ['empty option name', Buffer.from('\x00\x01f\x00octet\x00\x00512\x00', 'latin1'), 'empty-option-name'],
    ['oversized', Buffer.alloc(70000, 3), 'too-long'],
  ])('returns an error value, never throws: %s', (_n, buf, reason) => {
    const p = parseTftpPacket(buf as Buffer);
    expect(isTftpParseError(p)).toBe(true);
    expect(p).toMatchObject({ type: 'invalid', reason });
  });

  it('accepts an ERROR without its terminating NUL (message is informational)', () => {
    expect(parseTftpPacket(Buffer.from('\x00\x05\x00\x08abc', 'latin1'))).toEqual({ type: 'error', code: 8, message: 'abc' });
  });
});
