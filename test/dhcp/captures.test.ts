/**
 * Golden packets: every DHCP datagram in the six real-firmware captures parses, re-encodes
 * to the same bytes, and carries the facts the PXE decision will rely on.
 */
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { encodeDhcpPacket, isBroadcast, macAddress, parseDhcpPacket } from '../../src/dhcp/packet.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { DhcpMessageType, DhcpOptionCode } from '../../src/dhcp/option-codes.js';
import {
  bootfileName,
  clientArchitectures,
  clientIdentifier,
  clientMachineId,
  clientNdi,
  getOption,
  hasOption,
  malformedOptions,
  maxMessageSize,
  messageType,
  serverIdentifier,
  userClass,
  vendorClass,
} from '../../src/dhcp/options.js';
import { pxeVendorOptions } from '../../src/dhcp/pxe-options.js';
import { ipxeOptions, ipxeSignals, isIpxe } from '../../src/dhcp/ipxe-options.js';
import { allCapturedDhcp, CAPTURE_DIR, CAPTURES, capturedDhcp, logical, type CapturedDhcp } from './captures.js';

const all = allCapturedDhcp();
const fromClient = (c: CapturedDhcp): boolean => c.packet.op === 1;
const ovmf = (c: CapturedDhcp): boolean => fromClient(c) && vendorClass(c.packet) === 'PXEClient:Arch:00007:UNDI:003000';

describe('capture fixtures', () => {
  it('are the six small pcaps, copied with their README', () => {
    for (const name of CAPTURES) expect(statSync(`${CAPTURE_DIR}${name}.pcap`).size).toBeLessThan(256 * 1024);
    expect(statSync(`${CAPTURE_DIR}README.md`).isFile()).toBe(true);
  });

  it('hold 68 DHCP datagrams, all of which parse', () => {
    const counts = Object.fromEntries(CAPTURES.map((n) => [n, capturedDhcp(n).length]));
    expect(counts).toEqual({
      'full-bios': 12, 'full-uefi': 10, 'full-uefi-ipxe': 8,
      'proxy-bios': 14, 'proxy-uefi': 14, 'proxy-uefi-ipxe': 10,
    });
    expect(all).toHaveLength(68);
  });
});

describe('round trip on every captured packet', () => {
  it.each(all.map((c) => [`${c.capture} frame ${c.datagram.frame}`, c] as const))('%s', (_name, c) => {
    // What is true of these captures: no pads between options, no split or overloaded
    // options, END present and zero padding exactly to 300 (dnsmasq) or none (clients).
    expect(c.packet.wire?.quirks).toEqual([]);
    expect(c.packet.wire?.overload).toBe(0);
    const bytes = encodeDhcpPacket(c.packet);
    expect(bytes.equals(c.datagram.payload)).toBe(true);
    const again = parseDhcpPacket(bytes);
    if (isDhcpParseError(again)) throw new Error(again.message);
    expect(logical(again)).toEqual(logical(c.packet));
    expect(malformedOptions(c.packet)).toEqual([]);
  });
});

describe('OVMF (EDK2 PXE, virtio-net)', () => {
  const packets = all.filter(ovmf);

  it('is present in full-uefi and proxy-uefi', () => {
    expect(new Set(packets.map((c) => c.capture))).toEqual(new Set(['full-uefi', 'proxy-uefi']));
  });

  it('sends option 93 = 7, NDI UNDI 3.0, its vendor class and no 61/77/175', () => {
    for (const { packet } of packets) {
      expect(clientArchitectures(packet)).toEqual([7]);
      expect(clientNdi(packet)).toEqual({ type: 1, major: 3, minor: 0 });
      expect(hasOption(packet, DhcpOptionCode.ClientIdentifier)).toBe(false);
      expect(hasOption(packet, DhcpOptionCode.UserClass)).toBe(false);
      expect(hasOption(packet, DhcpOptionCode.IpxeEncapsulated)).toBe(false);
      expect(isIpxe(packet)).toBe(false);
      expect(clientMachineId(packet)?.guid).toBe('4b1d0000-7777-4000-8000-000000000020');
    }
  });

  it('asks for 1472 bytes in DISCOVER and 65280 in its DHCP REQUEST', () => {
    const dhcp = packets.filter((c) => c.datagram.dstPort === 67);
    for (const c of dhcp) {
      expect(maxMessageSize(c.packet)).toBe(messageType(c.packet) === DhcpMessageType.Request ? 65280 : 1472);
    }
    expect(dhcp.filter((c) => messageType(c.packet) === DhcpMessageType.Request)).toHaveLength(2);
  });

  it('sets the broadcast flag and sends secs 0', () => {
    for (const c of packets.filter((x) => x.datagram.dstPort === 67)) {
      expect(isBroadcast(c.packet)).toBe(true);
      expect(c.packet.secs).toBe(0);
    }
  });

  it('asks the boot server from port 4011 to port 4011 with a new xid, its address in ciaddr, and no option 43', () => {
    const proxy = capturedDhcp('proxy-uefi');
    const boot = proxy.filter((c) => c.datagram.dstPort === 4011 && ovmf(c));
    expect(boot).toHaveLength(1);
    const [req] = boot;
    expect(req!.datagram.srcPort).toBe(4011);
    expect(messageType(req!.packet)).toBe(DhcpMessageType.Request);
    const dhcpXid = proxy.find((c) => ovmf(c) && c.datagram.dstPort === 67)!.packet.xid;
    expect(req!.packet.xid).not.toBe(dhcpXid);
    expect(req!.packet.ciaddr).toBe('10.77.0.233');
    expect(isBroadcast(req!.packet)).toBe(false);
    expect(maxMessageSize(req!.packet)).toBe(1472);
    expect(hasOption(req!.packet, DhcpOptionCode.VendorSpecific)).toBe(false);
    expect(hasOption(req!.packet, DhcpOptionCode.ServerIdentifier)).toBe(false);

    const ack = proxy.find((c) => c.datagram.srcIp === '10.77.0.2' && c.packet.xid === req!.packet.xid)!;
    expect(ack.datagram.srcPort).toBe(4011);
    expect(ack.datagram.dstPort).toBe(4011);
    expect(messageType(ack.packet)).toBe(DhcpMessageType.Ack);
    expect(ack.packet.file).toBe('snponly.efi');
    expect(ack.packet.sname).toBe('10.77.0.2');
    expect(ack.packet.siaddr).toBe('10.77.0.2');
  });
});

describe('iPXE', () => {
  const ipxe = all.filter((c) => fromClient(c) && isIpxe(c.packet));

  it('sends option 77 as the bare string "iPXE" (no RFC 3004 length byte) and option 175', () => {
    expect(ipxe).toHaveLength(26);
    for (const { packet } of ipxe) {
      expect(getOption(packet, DhcpOptionCode.UserClass)).toEqual(Buffer.from('iPXE'));
      expect(userClass(packet)).toEqual({ form: 'raw', classes: ['iPXE'] });
      expect(ipxeSignals(packet)).toEqual({ userClass: true, encapsulated: true });
      expect(ipxeOptions(packet)?.version).toBe('1.0.0');
      expect(clientIdentifier(packet)?.mac).toBe(macAddress(packet));
    }
  });

  it('reports its features and NIC in option 175', () => {
    const bios = ipxe.find((c) => clientArchitectures(c.packet)?.[0] === 0)!;
    expect(ipxeOptions(bios.packet)).toMatchObject({
      features: { 'pxe-ext': 2, pxe: 1, http: 1, tftp: 1, menu: 1, bzimage: 1 },
      busId: { type: 1, vendor: 0x8086, device: 0x100e }, // QEMU e1000
    });
    const snp = capturedDhcp('full-uefi').find((c) => fromClient(c) && isIpxe(c.packet))!;
    expect(ipxeOptions(snp.packet)).toMatchObject({
      features: { efi: 1, http: 1 },
      busId: { type: 1, vendor: 0x1af4, device: 0x1000 }, // virtio-net under snponly.efi
    });
  });

  it('BIOS ROM: boot-server discovery from 68 to 4011 with xid 0, broadcast flag and option 43 sub-option 71', () => {
    const boot = capturedDhcp('proxy-bios').filter((c) => c.datagram.dstPort === 4011);
    expect(boot).toHaveLength(2);
    for (const c of boot) {
      expect(c.datagram.srcPort).toBe(68);
      expect(c.packet.xid).toBe(0);
      expect(isBroadcast(c.packet)).toBe(true);
      expect(c.packet.ciaddr).toBe('10.77.0.217');
      expect(messageType(c.packet)).toBe(DhcpMessageType.Request);
      expect(vendorClass(c.packet)).toBe('PXEClient'); // no ":Arch:" here: option 93 is the only arch source
      expect(clientArchitectures(c.packet)).toEqual([0]);
      expect(pxeVendorOptions(c.packet)).toEqual({
        bootItem: { type: 0x8002, layer: 0 },
        subOptions: [{ code: 71, data: Buffer.from([0x80, 0x02, 0, 0]) }],
      });
    }
  });

  it('UEFI: the 4011 request keeps the DHCP xid, carries option 54 and no option 43', () => {
    for (const name of ['proxy-uefi-ipxe', 'proxy-uefi'] as const) {
      const packets = capturedDhcp(name);
      const boot = packets.filter((c) => c.datagram.dstPort === 4011 && isIpxe(c.packet));
      expect(boot).toHaveLength(1);
      const req = boot[0]!.packet;
      expect(boot[0]!.datagram.srcPort).toBe(68);
      const discover = packets.find((c) => isIpxe(c.packet) && messageType(c.packet) === DhcpMessageType.Discover)!;
      expect(req.xid).toBe(discover.packet.xid);
      expect(isBroadcast(req)).toBe(true);
      expect(serverIdentifier(req)).toBe('10.77.0.2');
      expect(hasOption(req, DhcpOptionCode.VendorSpecific)).toBe(false);
    }
  });

  it('chained undionly.kpxe in proxy mode sends option 60 "PXEClient" without the Arch field', () => {
    const chained = capturedDhcp('proxy-bios').filter((c) => fromClient(c) && c.packet.xid === 0xa2364b13);
    expect(chained.length).toBeGreaterThan(0);
    for (const c of chained) {
      expect(vendorClass(c.packet)).toBe('PXEClient');
      expect(clientArchitectures(c.packet)).toEqual([0]);
    }
  });
});

describe('identity: option 97 and chaddr', () => {
  it('maps each MAC to its SMBIOS GUID, first three fields little-endian on the wire', () => {
    const pairs = new Set<string>();
    for (const { packet } of all) {
      const guid = clientMachineId(packet)?.guid;
      if (guid) pairs.add(`${macAddress(packet)} ${guid}`);
    }
    expect([...pairs].sort()).toEqual([
      '52:54:00:77:00:10 4b1d0000-7777-4000-8000-000000000010',
      '52:54:00:77:00:20 4b1d0000-7777-4000-8000-000000000020',
      '52:54:00:77:00:30 4b1d0000-7777-4000-8000-000000000030',
    ]);
    const raw = getOption(all[0]!.packet, DhcpOptionCode.ClientMachineIdentifier)!;
    expect(raw.toString('hex')).toBe('0000001d4b7777004080000000000000' + '10');
  });
});

describe('dnsmasq replies', () => {
  it('ProxyDHCP offer to the BIOS ROM carries PXE sub-options 6, 10, 8, 9 in that order', () => {
    const offer = capturedDhcp('proxy-bios').find((c) => c.datagram.srcIp === '10.77.0.2' && c.datagram.dstPort === 68
      && messageType(c.packet) === DhcpMessageType.Offer)!;
    expect(vendorClass(offer.packet)).toBe('PXEClient');
    expect(offer.packet.yiaddr).toBe('0.0.0.0');
    expect(isBroadcast(offer.packet)).toBe(true); // set although the client's flag was clear
    const pxe = pxeVendorOptions(offer.packet)!;
    expect(pxe.subOptions.map((s) => s.code)).toEqual([6, 10, 8, 9]);
    expect(pxe).toMatchObject({
      discoveryControl: 3,
      menuPrompt: { timeout: 0, prompt: 'PXE' },
      bootServers: [{ type: 0x8002, addresses: ['10.77.0.2'] }],
      bootMenu: [{ type: 0x8002, description: 'PXETEST iPXE' }],
    });
  });

  it('option 67 ends with a NUL byte, which the accessor drops', () => {
    const ack = capturedDhcp('full-uefi').find((c) => c.packet.op === 2 && hasOption(c.packet, DhcpOptionCode.BootfileName))!;
    expect(getOption(ack.packet, DhcpOptionCode.BootfileName)!.at(-1)).toBe(0);
    expect(bootfileName(ack.packet)).toBe('snponly.efi');
  });

  it('UEFI proxy offers carry no option 43 (dnsmasq leaves UEFI clients to ask on 4011)', () => {
    for (const name of ['proxy-uefi', 'proxy-uefi-ipxe'] as const) {
      const offers = capturedDhcp(name).filter((c) => c.datagram.srcIp === '10.77.0.2' && messageType(c.packet) === DhcpMessageType.Offer);
      expect(offers.length).toBeGreaterThan(0);
      for (const o of offers) expect(o.packet.options.map((x) => x.code)).toEqual([53, 54, 60, 97]);
    }
  });
});
