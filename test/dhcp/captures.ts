/** Loads the golden captures in fixtures/captures (real firmware against dnsmasq 2.90). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dhcpDatagrams, isPcapError, readCapture, type UdpDatagram } from '../../src/dhcp/pcap.js';
import { isDhcpParseError } from '../../src/dhcp/errors.js';
import { parseDhcpPacket, type DhcpPacket } from '../../src/dhcp/packet.js';

export const CAPTURE_DIR = fileURLToPath(new URL('../../fixtures/captures/', import.meta.url));

export const CAPTURES = [
  'full-bios', 'full-uefi', 'full-uefi-ipxe', 'proxy-bios', 'proxy-uefi', 'proxy-uefi-ipxe',
] as const;
export type CaptureName = (typeof CAPTURES)[number];

export const captureBytes = (name: CaptureName): Buffer => readFileSync(`${CAPTURE_DIR}${name}.pcap`);

export interface CapturedDhcp {
  readonly capture: CaptureName;
  readonly datagram: UdpDatagram;
  readonly packet: DhcpPacket;
}

export function capturedDhcp(name: CaptureName): CapturedDhcp[] {
  const c = readCapture(captureBytes(name));
  if (isPcapError(c)) throw new Error(`${name}: ${c.message}`);
  return dhcpDatagrams(c.datagrams).map((datagram) => {
    const packet = parseDhcpPacket(datagram.payload);
    if (isDhcpParseError(packet)) throw new Error(`${name} frame ${datagram.frame}: ${packet.code} ${packet.message}`);
    return { capture: name, datagram, packet };
  });
}

export const allCapturedDhcp = (): CapturedDhcp[] => CAPTURES.flatMap(capturedDhcp);

/** The logical packet without the parser's wire report, for equality checks. */
export function logical(p: DhcpPacket): Omit<DhcpPacket, 'wire'> {
  const { wire: _wire, ...rest } = p;
  return rest;
}
