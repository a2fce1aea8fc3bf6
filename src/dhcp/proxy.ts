/**
 * PXE boot information in replies, pure: the ProxyDHCP offer on port 67, the boot-server
 * ACK on 4011 (PXE 2.1 §2.2), and the boot fields full DHCP mode adds to its own offers.
 *
 * What goes where (docs/dhcp.md "Listeners"):
 *  - firmware PXE (TFTP): siaddr = next-server (this server on the receiving interface),
 *    `file` = the boot program; BIOS ROMs also get option 43 with discovery control 8
 *    ("use the boot file, skip boot-server discovery", PXE 2.1 table 2-1), as pixiecore
 *    sends, because Intel-style ROMs ignore a PXEClient offer without option 43. UEFI
 *    firmware (OVMF) gets no option 43, like dnsmasq's UEFI proxy offers in the captures:
 *    it then asks on 4011 (4011→4011) and the boot-server ACK carries the file again.
 *  - iPXE and UEFI HTTP Boot: `file` = an http:// URL; option 60 "HTTPClient" for HTTP Boot.
 *  - 4011 ACK: echoes option 43 sub-option 71 (boot item) when the client sent one (iPXE
 *    BIOS does boot-server discovery with type 0x8002 and expects it back).
 *  - native Windows chain (`pxe.chain: native`, docs/winpe.md): option 252 carries the BCD
 *    path (rule 86) in all three replies when the target names one.
 */
import { buildProxyReply, buildReply } from './builder.js';
import { DhcpMessageType, DhcpOptionCode } from './option-codes.js';
import { ipv4Bytes, type DhcpOption, type DhcpPacket } from './packet.js';
import { getOption, parameterRequestList } from './options.js';
import { DiscoveryControl, encodePxeVendorOptions, pxeVendorOptions } from './pxe-options.js';
import type { PxeBootRequest } from '../pxe/types.js';

/** Where the client fetches its next stage: a TFTP path, or an HTTP path/URL. */
export interface BootTarget {
  file: string;
  http: boolean;
  /** Native Windows chain: the BCD path for option 252 (rule 86); absent/null = no option 252. */
  bcdPath?: string | null;
}

/** Option 252 for a target of the native chain, else nothing. */
function bcdPathOptions(target: BootTarget): DhcpOption[] {
  return target.bcdPath ? [{ code: DhcpOptionCode.WdsBcdPath, data: Buffer.from(target.bcdPath, 'ascii') }] : [];
}

/** An HTTP path ("/boot/…") becomes a URL on the serving interface's address; absolute URLs pass. */
export function bootFileValue(target: BootTarget, serverAddress: string, httpPort: number): string {
  if (!target.http || /^[a-z]+:\/\//i.test(target.file)) return target.file;
  const port = httpPort === 80 ? '' : `:${httpPort}`;
  return `http://${serverAddress}${port}${target.file.startsWith('/') ? '' : '/'}${target.file}`;
}

/** Option 43 for a ProxyDHCP or full-mode offer, when this client needs one. */
function offerVendorOptions(req: PxeBootRequest, target: BootTarget): Buffer | undefined {
  if (target.http || req.isIpxe || req.isHttpBoot) return undefined;
  if (req.architecture.row.firmware !== 'bios') return undefined;
  return encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootfile });
}

/** ProxyDHCP reply on port 67 (OFFER to DISCOVER, ACK to REQUEST): boot info, no address. */
export function proxyOffer(request: DhcpPacket, req: PxeBootRequest, target: BootTarget, serverAddress: string, httpPort: number): DhcpPacket {
  const vendorOptions = offerVendorOptions(req, target);
  return buildProxyReply(request, {
    serverId: serverAddress,
    bootfile: bootFileValue(target, serverAddress, httpPort),
    ...(vendorOptions ? { vendorOptions } : {}),
    options: bcdPathOptions(target),
  });
}

/** Boot-server ACK on 4011 (OVMF 4011→4011, iPXE 68→4011 with xid 0): always an ACK. */
export function bootServerAck(request: DhcpPacket, req: PxeBootRequest, target: BootTarget, serverAddress: string, httpPort: number): DhcpPacket {
  const item = pxeVendorOptions(request)?.bootItem;
  const vendorOptions = item ? encodePxeVendorOptions({ bootItem: item }) : undefined;
  const reply = buildProxyReply(request, {
    serverId: serverAddress,
    bootfile: bootFileValue(target, serverAddress, httpPort),
    ...(vendorOptions ? { vendorOptions } : {}),
    options: bcdPathOptions(target),
  });
  // PXE 2.1 §2.2.6: the boot server answers a REQUEST with an ACK (buildProxyReply
  // would OFFER to a DISCOVER sent to 4011, which some ROMs do).
  return reply.options[0]?.data[0] === DhcpMessageType.Ack ? reply : { ...reply, options: reply.options.map((o) =>
    o.code === DhcpOptionCode.MessageType ? { code: o.code, data: Buffer.from([DhcpMessageType.Ack]) } : o) };
}

export interface AddressReplySpec {
  messageType: number;
  serverAddress: string;
  yiaddr: string;
  leaseSeconds: number;
  subnetMask: string;
  router?: string;
  dnsServers?: string[];
  domainName?: string;
  /** PXE clients of full mode: boot info from the decision. */
  pxe?: { req: PxeBootRequest; target: BootTarget; httpPort: number };
}

/** Option bytes of our own configured addresses, parsed once (the hot path of full mode). */
const addressBytesCache = new Map<string, Buffer>();
function addressBytes(ip: string, field: string): Buffer {
  let b = addressBytesCache.get(ip);
  if (!b) {
    b = ipv4Bytes(ip, field);
    if (addressBytesCache.size < 4096) addressBytesCache.set(ip, b);
  }
  return b;
}

/** 4-byte big-endian option values (lease, T1, T2: a few values per pool), made once each; never written to. */
const u32Cache = new Map<number, Buffer>();
const u32 = (n: number): Buffer => {
  const v = Math.max(0, Math.min(0xffffffff, Math.floor(n)));
  let b = u32Cache.get(v);
  if (!b) {
    b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    if (u32Cache.size < 1024) u32Cache.set(v, b);
  }
  return b;
};

/** Full mode's OFFER/ACK (RFC 2131 §4.3.1/§4.3.2), with PXE boot info for PXE clients. */
export function addressReply(request: DhcpPacket, spec: AddressReplySpec): DhcpPacket {
  const options: DhcpOption[] = [];
  let siaddr: string | undefined;
  let file: string | undefined;
  if (spec.pxe) {
    const { req, target, httpPort } = spec.pxe;
    // PXE 2.1 §2.2.2: a DHCP server that also serves PXE puts "PXEClient" in its offer.
    options.push({ code: DhcpOptionCode.VendorClassIdentifier, data: Buffer.from(req.isHttpBoot ? 'HTTPClient' : 'PXEClient', 'latin1') });
    const vendor = offerVendorOptions(req, target);
    if (vendor) options.push({ code: DhcpOptionCode.VendorSpecific, data: vendor });
    const uuid = getOption(request, DhcpOptionCode.ClientMachineIdentifier);
    if (uuid) options.push({ code: DhcpOptionCode.ClientMachineIdentifier, data: uuid });
    options.push(...bcdPathOptions(target));
    siaddr = spec.serverAddress;
    file = bootFileValue(target, spec.serverAddress, httpPort);
  }
  options.push({ code: DhcpOptionCode.LeaseTime, data: u32(spec.leaseSeconds) });
  options.push({ code: DhcpOptionCode.SubnetMask, data: addressBytes(spec.subnetMask, 'subnetMask') });
  if (spec.router) options.push({ code: DhcpOptionCode.Router, data: addressBytes(spec.router, 'router') });
  if (spec.dnsServers?.length) options.push({ code: DhcpOptionCode.DomainNameServer, data: Buffer.concat(spec.dnsServers.map((d) => addressBytes(d, 'dnsServers'))) });
  if (spec.domainName) options.push({ code: DhcpOptionCode.DomainName, data: Buffer.from(spec.domainName, 'latin1') });
  options.push({ code: DhcpOptionCode.RenewalTime, data: u32(spec.leaseSeconds * 0.5) });
  options.push({ code: DhcpOptionCode.RebindingTime, data: u32(spec.leaseSeconds * 0.875) });
  if (spec.pxe && file !== undefined) {
    const asked = parameterRequestList(request);
    if (asked.includes(DhcpOptionCode.TftpServerName)) options.push({ code: DhcpOptionCode.TftpServerName, data: Buffer.from(spec.serverAddress, 'latin1') });
    if (asked.includes(DhcpOptionCode.BootfileName)) options.push({ code: DhcpOptionCode.BootfileName, data: Buffer.from(file, 'latin1') });
  }
  return buildReply(request, {
    messageType: spec.messageType,
    serverId: spec.serverAddress,
    yiaddr: spec.yiaddr,
    ...(siaddr !== undefined ? { siaddr } : {}),
    ...(file !== undefined ? { file } : {}),
    options,
  });
}

/** RFC 2131 §4.3.2: a NAK carries only 53, 54 (and 56, 82); no address, no lease. */
export function nakReply(request: DhcpPacket, serverAddress: string, message: string): DhcpPacket {
  const reply = buildReply(request, {
    messageType: DhcpMessageType.Nak,
    serverId: serverAddress,
    ciaddr: '0.0.0.0',
    options: [{ code: DhcpOptionCode.Message, data: Buffer.from(message.slice(0, 200), 'latin1') }],
  });
  // §4.1: with a relay, set the broadcast bit so the relay broadcasts the NAK.
  return request.giaddr !== '0.0.0.0' ? { ...reply, flags: reply.flags | 0x8000 } : reply;
}

/** Full mode's ACK to DHCPINFORM (§4.3.5): configuration, no lease time, no yiaddr. */
export function informAck(request: DhcpPacket, serverAddress: string, subnetMask: string | undefined, router?: string, dnsServers?: string[]): DhcpPacket {
  const options: DhcpOption[] = [];
  if (subnetMask) options.push({ code: DhcpOptionCode.SubnetMask, data: ipv4Bytes(subnetMask, 'subnetMask') });
  if (router) options.push({ code: DhcpOptionCode.Router, data: ipv4Bytes(router, 'router') });
  if (dnsServers?.length) options.push({ code: DhcpOptionCode.DomainNameServer, data: Buffer.concat(dnsServers.map((d) => ipv4Bytes(d, 'dnsServers'))) });
  return buildReply(request, { messageType: DhcpMessageType.Ack, serverId: serverAddress, options });
}
