import { describe, expect, it } from 'vitest';
import { dhcpDatagrams, isPcapError, readCapture, tftpDatagrams, type PcapContents } from '../../src/dhcp/pcap.js';
import { captureBytes, CAPTURES } from './captures.js';

/** IPv4 + UDP around a payload (checksums are not checked by the reader). */
function ipUdp(src: string, sport: number, dst: string, dport: number, payload: Buffer, fragment = 0): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(28 + payload.length, 2);
  ip.writeUInt16BE(fragment, 6);
  ip[8] = 64; ip[9] = 17;
  Buffer.from(src.split('.').map(Number)).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0); udp.writeUInt16BE(dport, 2); udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

const ether = (ip: Buffer, vlan = false): Buffer => Buffer.concat([
  Buffer.alloc(12, 0xff),
  vlan ? Buffer.from([0x81, 0x00, 0x00, 0x0a]) : Buffer.alloc(0),
  Buffer.from([0x08, 0x00]),
  ip,
]);
const sll = (ip: Buffer): Buffer => { const h = Buffer.alloc(16); h.writeUInt16BE(0x0800, 14); return Buffer.concat([h, ip]); };
const sll2 = (ip: Buffer): Buffer => { const h = Buffer.alloc(20); h.writeUInt16BE(0x0800, 0); return Buffer.concat([h, ip]); };

function classic(linkType: number, frames: Buffer[], opts: { bigEndian?: boolean; nano?: boolean } = {}): Buffer {
  const be = opts.bigEndian ?? false;
  const u32 = (v: number): Buffer => { const b = Buffer.alloc(4); if (be) b.writeUInt32BE(v); else b.writeUInt32LE(v); return b; };
  const u16 = (v: number): Buffer => { const b = Buffer.alloc(2); if (be) b.writeUInt16BE(v); else b.writeUInt16LE(v); return b; };
  const header = Buffer.concat([u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(65535), u32(linkType)]);
  const records = frames.map((f, k) => Buffer.concat([u32(1_700_000_000 + k), u32(opts.nano ? 500_000_000 : 500_000), u32(f.length), u32(f.length), f]));
  return Buffer.concat([header, ...records]);
}

function read(buf: Buffer): PcapContents {
  const c = readCapture(buf);
  if (isPcapError(c)) throw new Error(c.message);
  return c;
}

const dhcpPayload = Buffer.from('dhcp-payload');

describe('classic libpcap', () => {
  it('reads little-endian microsecond Ethernet, with and without a VLAN tag', () => {
    const c = read(classic(1, [
      ether(ipUdp('0.0.0.0', 68, '255.255.255.255', 67, dhcpPayload)),
      ether(ipUdp('10.0.0.2', 4011, '10.0.0.1', 4011, dhcpPayload), true),
    ]));
    expect(c.format).toBe('pcap');
    expect(c.datagrams).toHaveLength(2);
    expect(c.datagrams[0]).toMatchObject({ frame: 0, srcIp: '0.0.0.0', srcPort: 68, dstIp: '255.255.255.255', dstPort: 67, time: 1_700_000_000.5 });
    expect(c.datagrams[0]!.payload).toEqual(dhcpPayload);
    expect(c.datagrams[1]).toMatchObject({ srcPort: 4011, dstPort: 4011 });
  });

  it('reads big-endian nanosecond Linux cooked (v1 and v2) and raw IP', () => {
    for (const [link, wrap] of [[113, sll], [276, sll2], [101, (b: Buffer) => b]] as const) {
      const c = read(classic(link, [wrap(ipUdp('10.0.0.9', 1025, '10.0.0.1', 69, Buffer.from([0, 1])))], { bigEndian: true, nano: true }));
      expect(c.datagrams).toHaveLength(1);
      expect(c.datagrams[0]).toMatchObject({ srcPort: 1025, dstPort: 69, time: 1_700_000_000.5 });
    }
  });

  it('skips non-UDP, non-IPv4 and fragmented frames', () => {
    const tcp = ipUdp('1.1.1.1', 1, '2.2.2.2', 2, dhcpPayload); tcp[9] = 6;
    const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
    const frag = ipUdp('1.1.1.1', 68, '2.2.2.2', 67, dhcpPayload, 0x2000);
    const c = read(classic(1, [ether(tcp), arp, ether(frag), Buffer.alloc(0)]));
    expect(c.frames).toBe(4);
    expect(c.datagrams).toEqual([]);
  });

  it('ignores Ethernet padding beyond the IP total length', () => {
    const small = ipUdp('1.1.1.1', 67, '2.2.2.2', 68, Buffer.from('x'));
    const c = read(classic(1, [Buffer.concat([ether(small), Buffer.alloc(20)])]));
    expect(c.datagrams[0]!.payload).toEqual(Buffer.from('x'));
  });

  it('gives typed errors for truncated or unknown files, never throws', () => {
    const good = classic(1, [ether(ipUdp('1.1.1.1', 67, '2.2.2.2', 68, dhcpPayload))]);
    for (const bad of [good.subarray(0, 30), good.subarray(0, good.length - 3), Buffer.alloc(2), Buffer.from('not a capture')]) {
      const r = readCapture(bad);
      expect(isPcapError(r)).toBe(true);
    }
    expect(readCapture(good.subarray(0, 24))).toMatchObject({ frames: 0, datagrams: [] });
  });
});

describe('pcapng (the format of the shared captures)', () => {
  it('reads every capture; all UDP in them is DHCP/PXE or TFTP', () => {
    for (const name of CAPTURES) {
      const c = read(captureBytes(name));
      expect(c.format).toBe('pcapng');
      expect(c.frames).toBe(c.datagrams.length); // UDP-only captures
      const dhcp = dhcpDatagrams(c.datagrams);
      const tftp = tftpDatagrams(c.datagrams);
      expect(dhcp.length + tftp.length).toBe(c.datagrams.length);
    }
  });

  it('finds the TFTP read requests with their options and ports', () => {
    const rrq = (name: (typeof CAPTURES)[number]): string[] => tftpDatagrams(read(captureBytes(name)).datagrams)
      .filter((d) => d.payload.readUInt16BE(0) === 1)
      .map((d) => `${d.dstPort} ${d.payload.subarray(2).toString('latin1').split('\0').filter(Boolean).join(' ')}`);
    expect(rrq('full-bios')).toEqual(['69 undionly.kpxe octet blksize 1432 tsize 0']);
    expect(rrq('proxy-uefi')).toEqual([
      '69 snponly.efi octet tsize 0 blksize 1468 windowsize 4', // OVMF asks for RFC 7440 windows
      '69 snponly.efi octet blksize 1468 windowsize 4',
    ]);
    expect(rrq('full-uefi-ipxe')).toEqual([]); // iPXE ROM boots straight from HTTP
  });

  it('follows the transfer to the server\'s ephemeral port (RFC 1350 §4)', () => {
    const t = tftpDatagrams(read(captureBytes('full-bios')).datagrams);
    const ports = new Set(t.filter((d) => d.srcIp === '10.77.0.1').map((d) => d.srcPort));
    expect(ports.size).toBe(1);
    expect([...ports][0]).not.toBe(69);
  });

  it('converts timestamps with the interface resolution (microseconds by default)', () => {
    const c = read(captureBytes('full-uefi-ipxe'));
    const t = c.datagrams.map((d) => d.time);
    expect(t[0]).toBeGreaterThan(1.7e9);
    expect(t[0]).toBeLessThan(2e9);
    expect(t[0]! % 86400).toBeCloseTo(2 * 3600 + 53 * 60 + 46.275655, 5); // "02:53:46.275655" in the tcpdump decode
    expect(t.every((x, k) => k === 0 || x >= t[k - 1]!)).toBe(true);
  });

  it('truncated pcapng is a typed error', () => {
    const buf = captureBytes('full-uefi-ipxe');
    expect(isPcapError(readCapture(buf.subarray(0, buf.length - 5)))).toBe(true);
    const corrupt = Buffer.from(buf); corrupt.writeUInt32LE(7, 4); // SHB length not a multiple of 4
    expect(isPcapError(readCapture(corrupt))).toBe(true);
  });
});
