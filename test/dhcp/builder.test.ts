import { describe, expect, it } from 'vitest';
import {
  buildProxyReply,
  buildReply,
  encodeReply,
  ESSENTIAL_REPLY_OPTIONS,
  replyDestination,
  replySizeLimit,
} from '../../src/dhcp/builder.js';
import { DhcpMessageType, DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import { parseDhcpPacket, type DhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { getOption, messageType, withOption, withoutOption } from '../../src/dhcp/options.js';
import { encodePxeVendorOptions } from '../../src/dhcp/pxe-options.js';
import { capturedDhcp, logical } from './captures.js';

const proxyBios = capturedDhcp('proxy-bios');
const proxyUefi = capturedDhcp('proxy-uefi');
const from = (list: typeof proxyBios, frame: number): DhcpPacket => list.find((c) => c.datagram.frame === frame)!.packet;

function reparse(buf: Buffer): DhcpPacket {
  const p = parseDhcpPacket(buf);
  if (isDhcpParseError(p)) throw new Error(p.message);
  return p;
}

describe('buildReply', () => {
  const request = from(proxyBios, 3); // iPXE ROM DHCPREQUEST

  it('copies xid, chaddr, flags, giaddr, htype/hlen; op 2, hops and secs 0; 53 and 54 first', () => {
    const reply = buildReply(request, {
      messageType: DhcpMessageType.Ack, serverId: '10.77.0.1', yiaddr: '10.77.0.217',
      options: [{ code: 51, data: Buffer.from([0, 0, 0x0e, 0x10]) }, { code: 53, data: Buffer.from([9]) }],
    });
    expect(reply).toMatchObject({ op: 2, hops: 0, secs: 0, xid: request.xid, flags: request.flags, giaddr: request.giaddr,
      htype: 1, hlen: 6, yiaddr: '10.77.0.217', siaddr: '0.0.0.0' });
    expect(reply.chaddr).toEqual(request.chaddr);
    expect(reply.chaddr).not.toBe(request.chaddr);
    expect(reply.options.map((o) => o.code)).toEqual([53, 54, 51]); // a second 53 is ignored
    expect(messageType(reply)).toBe(DhcpMessageType.Ack);
  });

  it('ciaddr: copied into an ACK, zero in an OFFER (RFC 2131 table 3)', () => {
    const boot = from(proxyBios, 5); // has ciaddr 10.77.0.217
    expect(buildReply(boot, { messageType: DhcpMessageType.Ack, serverId: '10.77.0.2' }).ciaddr).toBe('10.77.0.217');
    expect(buildReply(boot, { messageType: DhcpMessageType.Offer, serverId: '10.77.0.2' }).ciaddr).toBe('0.0.0.0');
  });

  it('echoes option 82 unchanged, last (RFC 3046 §2.2)', () => {
    const relayed = { ...request, giaddr: '10.99.0.1', options: withOption(request.options, 82, Buffer.from([1, 2, 0x65, 0x31])) };
    const reply = buildReply(relayed, { messageType: DhcpMessageType.Offer, serverId: '10.77.0.1', options: [{ code: 1, data: Buffer.from([255, 255, 255, 0]) }] });
    expect(reply.options.map((o) => o.code)).toEqual([53, 54, 1, 82]);
    expect(getOption(reply, 82)).toEqual(Buffer.from([1, 2, 0x65, 0x31]));
    expect(reply.giaddr).toBe('10.99.0.1');
  });
});

describe('buildProxyReply against what dnsmasq sent for the same requests', () => {
  it('ProxyDHCP OFFER to the BIOS ROM: same options, same length', () => {
    const discover = from(proxyBios, 0);
    const dnsmasq = from(proxyBios, 1);
    const reply = buildProxyReply(discover, {
      serverId: '10.77.0.2', nextServer: '0.0.0.0', vendorOptions: getOption(dnsmasq, DhcpOptionCode.VendorSpecific)!,
    });
    expect(reply.options).toEqual(dnsmasq.options); // 53=OFFER, 54, 60 "PXEClient", 97 echoed, 43
    const { buffer } = encodeReply(discover, reply);
    expect(buffer).toHaveLength(318);
    // dnsmasq sets the broadcast flag on proxy offers; we keep the client's flags (RFC 2131 table 3).
    expect(reply.flags).toBe(0);
    expect(dnsmasq.flags).toBe(0x8000);
  });

  it('boot-server ACK to the BIOS ROM on 4011: same options, PXE boot item 71 byte for byte', () => {
    const req = from(proxyBios, 5);
    const dnsmasq = from(proxyBios, 6);
    const reply = buildProxyReply(req, {
      serverId: '10.77.0.2', bootfile: 'http://10.77.0.1:8080/boot.ipxe',
      vendorOptions: encodePxeVendorOptions({ bootItem: { type: 0x8002, layer: 0 } }),
    });
    expect(messageType(reply)).toBe(DhcpMessageType.Ack);
    expect(reply.options).toEqual(dnsmasq.options);
    expect(reply.file).toBe(dnsmasq.file);
    expect(reply.xid).toBe(0);
  });

  it('boot-server ACK to OVMF (4011 → 4011): byte-identical to dnsmasq\'s', () => {
    const req = from(proxyUefi, 5);
    const dnsmasq = proxyUefi.find((c) => c.datagram.frame === 6)!;
    const reply = buildProxyReply(req, { serverId: '10.77.0.2', bootfile: 'snponly.efi', sname: '10.77.0.2' });
    const { buffer, dropped, fits } = encodeReply(req, reply);
    expect({ dropped, fits }).toEqual({ dropped: [], fits: true });
    expect(buffer.equals(dnsmasq.datagram.payload)).toBe(true);
  });

  it('answers UEFI HTTP Boot clients with option 60 "HTTPClient"', () => {
    const req = { ...from(proxyUefi, 0), options: withOption(from(proxyUefi, 0).options, 60, Buffer.from('HTTPClient:Arch:00016:UNDI:003000')) };
    const reply = buildProxyReply(req, { serverId: '10.77.0.2', bootfile: 'http://10.77.0.2/boot/x64/snponly.efi' });
    expect(getOption(reply, 60)?.toString()).toBe('HTTPClient');
    expect(messageType(reply)).toBe(DhcpMessageType.Offer);
    expect(reply.yiaddr).toBe('0.0.0.0');
  });

  it('omits option 97 when the client sent none', () => {
    const req = { ...from(proxyBios, 0), options: withoutOption(from(proxyBios, 0).options, 97) };
    expect(buildProxyReply(req, { serverId: '10.77.0.2' }).options.map((o) => o.code)).toEqual([53, 54, 60]);
  });
});

describe('maximum message size', () => {
  const base = from(proxyBios, 0);
  const withMax = (v: number | undefined): DhcpPacket => ({
    ...base,
    options: v === undefined ? withoutOption(base.options, 57) : withOption(base.options, 57, Buffer.from([v >> 8, v & 0xff])),
  });

  it('is option 57 minus IP and UDP headers, never below 576 − 28', () => {
    expect(replySizeLimit(withMax(undefined))).toBe(548);
    expect(replySizeLimit(withMax(1472))).toBe(1444);
    expect(replySizeLimit(withMax(65280))).toBe(65252); // OVMF's REQUEST
    expect(replySizeLimit(withMax(300))).toBe(548); // below the RFC 2132 minimum: ignored
  });

  const big = (request: DhcpPacket, file = ''): DhcpPacket => buildReply(request, {
    messageType: DhcpMessageType.Offer, serverId: '10.77.0.1', yiaddr: '10.77.0.50', file,
    options: [
      { code: 51, data: Buffer.from([0, 0, 14, 16]) },
      { code: 1, data: Buffer.from([255, 255, 255, 0]) },
      { code: 3, data: Buffer.from([10, 77, 0, 1]) },
      { code: 15, data: Buffer.alloc(120, 0x61) },    // requested (in 55)
      { code: 224, data: Buffer.alloc(100, 0x62) },   // not requested
      { code: 225, data: Buffer.alloc(100, 0x63) },   // not requested
      { code: 60, data: Buffer.from('PXEClient') },   // essential
    ],
  });

  it('overflows into file and sname before dropping anything', () => {
    const req = withMax(576);
    const reply = big(req);
    const out = encodeReply(req, reply);
    expect(out).toMatchObject({ maxSize: 548, dropped: [], fits: true });
    expect(out.buffer.length).toBeLessThanOrEqual(548);
    const back = reparse(out.buffer);
    expect(back.wire?.overload).not.toBe(0);
    expect(logical(back)).toEqual(logical(reply));
  });

  it('then drops unrequested options last-first, then requested ones least-preferred first, never essential ones', () => {
    const req = withMax(576);
    const reply = big(req, 'boot/bios/undionly.kpxe'); // file in use: no overload into it
    const out = encodeReply(req, reply);
    expect(out.fits).toBe(true);
    expect(out.dropped).toEqual([225]);
    const back = reparse(out.buffer);
    expect(back.options.map((o) => o.code)).toEqual([53, 54, 51, 1, 3, 15, 224, 60]);

    // Option 55 of this client lists 1, 3, …, 12, 15, …: 15 is its least preferred of these.
    const tight = buildReply(req, {
      messageType: DhcpMessageType.Offer, serverId: '10.77.0.1', file: 'boot/bios/undionly.kpxe', sname: 'pxe1',
      options: [
        { code: 1, data: Buffer.from([255, 255, 255, 0]) },
        { code: 3, data: Buffer.from([10, 77, 0, 1]) },
        { code: 12, data: Buffer.alloc(100, 0x68) },
        { code: 15, data: Buffer.alloc(200, 0x64) },
        { code: 224, data: Buffer.alloc(100, 0x62) },
        { code: 60, data: Buffer.from('PXEClient') },
      ],
    });
    const out2 = encodeReply(req, tight);
    expect(out2.dropped).toEqual([224, 15]);
    expect(reparse(out2.buffer).options.map((o) => o.code)).toEqual([53, 54, 1, 3, 12, 60]);
    for (const code of out2.dropped) expect(ESSENTIAL_REPLY_OPTIONS.has(code)).toBe(false);
  });

  it('reports fits: false when even the essential options are too big', () => {
    const req = withMax(576);
    const reply = buildReply(req, {
      messageType: DhcpMessageType.Offer, serverId: '10.77.0.1', file: 'x', sname: 'y',
      options: [{ code: 43, data: Buffer.alloc(400, 1) }],
    });
    const out = encodeReply(req, reply);
    expect(out.fits).toBe(false);
    expect(logical(reparse(out.buffer))).toEqual(logical(reply));
  });
});

describe('replyDestination', () => {
  const offer = (req: DhcpPacket, yiaddr = '0.0.0.0'): DhcpPacket =>
    buildReply(req, { messageType: DhcpMessageType.Offer, serverId: '10.77.0.1', yiaddr });

  it('boot-server requests are answered at their source, 68 or 4011', () => {
    const ipxe = from(proxyBios, 5);
    expect(replyDestination(ipxe, offer(ipxe), { address: '10.77.0.217', port: 68 }, 4011))
      .toEqual({ address: '10.77.0.217', port: 68, broadcast: false, needsArpEntry: false });
    const ovmf = from(proxyUefi, 5);
    expect(replyDestination(ovmf, offer(ovmf), { address: '10.77.0.233', port: 4011 }, 4011))
      .toMatchObject({ address: '10.77.0.233', port: 4011 });
  });

  it('relay → giaddr:67; broadcast bit or no address → broadcast; else unicast yiaddr needing ARP', () => {
    const d = from(proxyBios, 0);
    const relayed = { ...d, giaddr: '10.99.0.1' };
    expect(replyDestination(relayed, offer(relayed), { address: '10.99.0.1', port: 67 }, 67)).toMatchObject({ address: '10.99.0.1', port: 67 });
    const ovmf = from(proxyUefi, 0); // broadcast flag set
    expect(replyDestination(ovmf, offer(ovmf, '10.77.0.233'), { address: '0.0.0.0', port: 68 }, 67)).toMatchObject({ address: '255.255.255.255', broadcast: true });
    expect(replyDestination(d, offer(d), { address: '0.0.0.0', port: 68 }, 67)).toMatchObject({ broadcast: true });
    expect(replyDestination(d, offer(d, '10.77.0.217'), { address: '0.0.0.0', port: 68 }, 67))
      .toEqual({ address: '10.77.0.217', port: 68, broadcast: false, needsArpEntry: true });
    const renewing = { ...d, ciaddr: '10.77.0.217' };
    expect(replyDestination(renewing, offer(renewing), { address: '10.77.0.217', port: 68 }, 67)).toMatchObject({ address: '10.77.0.217', port: 68 });
  });
});
