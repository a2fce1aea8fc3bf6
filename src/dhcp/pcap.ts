/**
 * A tiny capture reader for golden-packet tests: classic libpcap (either byte order,
 * micro- or nanosecond) and pcapng (SHB/IDB/EPB/SPB, the format tcpdump and Wireshark
 * write today; the captures in fixtures/captures are pcapng despite their .pcap name).
 * Link types: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1/v2, raw IPv4, BSD
 * loopback. IPv4 + UDP only; IP fragments are skipped, not reassembled.
 *
 * Pure: Buffer in, datagrams out; malformed captures give a typed error value.
 */

export interface UdpDatagram {
  /** 0-based position among the capture's packets (all packets, not just UDP). */
  readonly frame: number;
  /** Seconds since the Unix epoch (fractional). */
  readonly time: number;
  readonly srcIp: string;
  readonly srcPort: number;
  readonly dstIp: string;
  readonly dstPort: number;
  readonly payload: Buffer;
}

export interface PcapError {
  readonly kind: 'pcap-error';
  readonly code: 'PXE_ERR_PCAP_FORMAT' | 'PXE_ERR_PCAP_TRUNCATED';
  readonly message: string;
  readonly offset: number;
}

export interface PcapContents {
  readonly format: 'pcap' | 'pcapng';
  /** Every packet frame seen (UDP or not). */
  readonly frames: number;
  readonly datagrams: UdpDatagram[];
}

export const isPcapError = (v: unknown): v is PcapError =>
  typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'pcap-error';

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_LINUX_SLL2 = 276;

const pcapError = (code: PcapError['code'], message: string, offset: number): PcapError =>
  ({ kind: 'pcap-error', code, message, offset });

/** Offset of the IPv4 header inside a link-layer frame, or -1 if the frame is not IPv4. */
function ipv4Offset(frame: Buffer, linkType: number): number {
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      let at = 12;
      for (;;) {
        if (frame.length < at + 2) return -1;
        const type = frame.readUInt16BE(at);
        if (type === 0x8100 || type === 0x88a8) { at += 4; continue; } // VLAN tags
        return type === 0x0800 ? at + 2 : -1;
      }
    }
    case LINKTYPE_LINUX_SLL:
      return frame.length >= 16 && frame.readUInt16BE(14) === 0x0800 ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
      return frame.length >= 20 && frame.readUInt16BE(0) === 0x0800 ? 20 : -1;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return frame.length >= 1 && frame[0]! >> 4 === 4 ? 0 : -1;
    case LINKTYPE_NULL:
      // Address family in host byte order: 2 = AF_INET on every platform.
      return frame.length >= 4 && (frame.readUInt32LE(0) === 2 || frame.readUInt32BE(0) === 2) ? 4 : -1;
    default:
      return -1;
  }
}

const ip4 = (b: Buffer, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;

function udpFrom(frame: Buffer, linkType: number, index: number, time: number): UdpDatagram | undefined {
  const ip = ipv4Offset(frame, linkType);
  if (ip < 0 || frame.length < ip + 20) return undefined;
  if (frame[ip]! >> 4 !== 4) return undefined;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (ihl < 20 || frame[ip + 9] !== 17) return undefined;
  const fragment = frame.readUInt16BE(ip + 6);
  if ((fragment & 0x2000) !== 0 || (fragment & 0x1fff) !== 0) return undefined; // MF or offset
  const totalLength = frame.readUInt16BE(ip + 2);
  const ipEnd = Math.min(frame.length, ip + totalLength);
  const udp = ip + ihl;
  if (ipEnd < udp + 8) return undefined;
  const udpLength = frame.readUInt16BE(udp + 4);
  const payloadEnd = Math.min(ipEnd, udp + Math.max(8, udpLength));
  return {
    frame: index,
    time,
    srcIp: ip4(frame, ip + 12),
    dstIp: ip4(frame, ip + 16),
    srcPort: frame.readUInt16BE(udp),
    dstPort: frame.readUInt16BE(udp + 2),
    payload: Buffer.from(frame.subarray(udp + 8, payloadEnd)),
  };
}

function readClassic(buf: Buffer): PcapContents | PcapError {
  const magicLE = buf.readUInt32LE(0);
  const le = magicLE === 0xa1b2c3d4 || magicLE === 0xa1b23c4d;
  const magic = le ? magicLE : buf.readUInt32BE(0);
  const nano = magic === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (buf.length < 24) return pcapError('PXE_ERR_PCAP_TRUNCATED', 'pcap global header is 24 bytes', buf.length);
  const linkType = u32(20) & 0x0fffffff; // upper bits may carry FCS info
  const datagrams: UdpDatagram[] = [];
  let frames = 0;
  for (let off = 24; off < buf.length;) {
    if (off + 16 > buf.length) return pcapError('PXE_ERR_PCAP_TRUNCATED', `record header cut short at byte ${off}`, off);
    const time = u32(off) + u32(off + 4) / (nano ? 1e9 : 1e6);
    const caplen = u32(off + 8);
    if (off + 16 + caplen > buf.length) return pcapError('PXE_ERR_PCAP_TRUNCATED', `record at byte ${off} claims ${caplen} bytes`, off);
    const d = udpFrom(buf.subarray(off + 16, off + 16 + caplen), linkType, frames, time);
    if (d) datagrams.push(d);
    frames++;
    off += 16 + caplen;
  }
  return { format: 'pcap', frames, datagrams };
}

interface NgInterface { linkType: number; unitsPerSecond: number }

/** if_tsresol (option 9): MSB clear → 10^-n, set → 2^-n seconds (pcapng §4.2). */
function tsResolution(body: Buffer, le: boolean): number {
  let at = 8; // after linktype, reserved, snaplen
  while (at + 4 <= body.length) {
    const code = le ? body.readUInt16LE(at) : body.readUInt16BE(at);
    const len = le ? body.readUInt16LE(at + 2) : body.readUInt16BE(at + 2);
    if (code === 0) break;
    if (code === 9 && len >= 1 && at + 4 < body.length) {
      const v = body[at + 4]!;
      return v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
    }
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return 1e6;
}

function readNg(buf: Buffer): PcapContents | PcapError {
  let le = true;
  let interfaces: NgInterface[] = [];
  const datagrams: UdpDatagram[] = [];
  let frames = 0;
  for (let off = 0; off < buf.length;) {
    if (off + 12 > buf.length) return pcapError('PXE_ERR_PCAP_TRUNCATED', `block header cut short at byte ${off}`, off);
    const type = buf.readUInt32LE(off); // SHB type is a palindrome, others follow the section's order
    if (type === 0x0a0d0d0a) {
      const bom = buf.readUInt32LE(off + 8);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else return pcapError('PXE_ERR_PCAP_FORMAT', `section header at byte ${off} has no byte-order magic`, off);
      interfaces = [];
    }
    const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
    const blockType = u32(off);
    const total = u32(off + 4);
    if (total < 12 || total % 4 !== 0) return pcapError('PXE_ERR_PCAP_FORMAT', `block at byte ${off} has length ${total}`, off);
    if (off + total > buf.length) return pcapError('PXE_ERR_PCAP_TRUNCATED', `block at byte ${off} claims ${total} bytes`, off);
    const body = buf.subarray(off + 8, off + total - 4);
    if (blockType === 1 && body.length >= 8) {
      interfaces.push({
        linkType: le ? body.readUInt16LE(0) : body.readUInt16BE(0),
        unitsPerSecond: tsResolution(body, le),
      });
    } else if ((blockType === 6 || blockType === 2) && body.length >= 20) {
      // Enhanced Packet Block (6), or the obsolete Packet Block (2) with a 16-bit interface id.
      const iface = interfaces[blockType === 6 ? u32(off + 8) : (le ? body.readUInt16LE(0) : body.readUInt16BE(0))];
      const caplen = u32(off + 20);
      if (20 + caplen > body.length) return pcapError('PXE_ERR_PCAP_FORMAT', `packet block at byte ${off} claims ${caplen} bytes`, off);
      if (iface) {
        const ticks = u32(off + 12) * 2 ** 32 + u32(off + 16);
        const d = udpFrom(body.subarray(20, 20 + caplen), iface.linkType, frames, ticks / iface.unitsPerSecond);
        if (d) datagrams.push(d);
      }
      frames++;
    } else if (blockType === 3 && body.length >= 4) {
      // Simple Packet Block: interface 0, no timestamp.
      const iface = interfaces[0];
      if (iface) {
        const d = udpFrom(body.subarray(4), iface.linkType, frames, 0);
        if (d) datagrams.push(d);
      }
      frames++;
    }
    off += total;
  }
  return { format: 'pcapng', frames, datagrams };
}

/** Reads every IPv4/UDP datagram from a pcap or pcapng capture. */
export function readCapture(buf: Buffer): PcapContents | PcapError {
  if (buf.length < 4) return pcapError('PXE_ERR_PCAP_TRUNCATED', 'capture is shorter than its magic number', 0);
  if (buf.readUInt32LE(0) === 0x0a0d0d0a) return readNg(buf);
  const m = buf.readUInt32LE(0);
  const mb = buf.readUInt32BE(0);
  if ([m, mb].some((x) => x === 0xa1b2c3d4 || x === 0xa1b23c4d)) return readClassic(buf);
  return pcapError('PXE_ERR_PCAP_FORMAT', `unknown capture magic 0x${mb.toString(16)}; expected libpcap or pcapng`, 0);
}

/** DHCP and PXE boot-server traffic: either port is 67, 68 or 4011. */
export const DHCP_CAPTURE_PORTS: readonly number[] = [67, 68, 4011];

export function dhcpDatagrams(datagrams: readonly UdpDatagram[]): UdpDatagram[] {
  return datagrams.filter((d) => DHCP_CAPTURE_PORTS.includes(d.srcPort) || DHCP_CAPTURE_PORTS.includes(d.dstPort));
}

/**
 * TFTP traffic: requests to a TFTP port (69 plus `extraServerPorts`) and every datagram
 * from or to a client endpoint that sent one (the server answers from a fresh port,
 * RFC 1350 §4).
 */
export function tftpDatagrams(datagrams: readonly UdpDatagram[], extraServerPorts: readonly number[] = []): UdpDatagram[] {
  const serverPorts = new Set([69, ...extraServerPorts]);
  const clients = new Set<string>();
  const out: UdpDatagram[] = [];
  for (const d of datagrams) {
    const src = `${d.srcIp}:${d.srcPort}`;
    const dst = `${d.dstIp}:${d.dstPort}`;
    if (serverPorts.has(d.dstPort) && d.payload.length >= 2) {
      const opcode = d.payload.readUInt16BE(0);
      if (opcode === 1 || opcode === 2) clients.add(src);
    }
    if (serverPorts.has(d.dstPort) || clients.has(src) || clients.has(dst)) out.push(d);
  }
  return out;
}
