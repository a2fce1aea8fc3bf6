/**
 * Building replies from a request (RFC 2131 §4.3.1 and table 3), pure and socket-free:
 * OFFER/ACK for full DHCP, and the ProxyDHCP/boot-server reply of PXE 2.1 §2.2.
 *
 * Size rule (RFC 2131 §2, RFC 2132 §9.10): the reply must fit the client's maximum
 * message size. Option 57 is read as the IP datagram size, as ISC dhcpd and dnsmasq
 * read it, so the DHCP payload limit is max(57, 576) − 28 (IP + UDP headers); without
 * 57 it is 548. When the options do not fit, they first overflow into `file` and then
 * `sname` via option 52 (only if those fields are empty), and then optional options are
 * dropped: first those the client did not ask for in option 55 (last first), then the
 * requested ones, least preferred first. Options in ESSENTIAL_REPLY_OPTIONS are never
 * dropped. Replies are zero-padded to the 300-byte BOOTP minimum.
 */
import { DhcpMessageType, DhcpOptionCode, DhcpPort } from './option-codes.js';
import {
  BOOTP_MIN_SIZE,
  encodeDhcpPacket,
  encodeDhcpPacketWithin,
  ipv4Bytes,
  isBroadcast,
  type DhcpOption,
  type DhcpPacket,
} from './packet.js';
import { getOption, maxMessageSize, messageType, parameterRequestList, vendorClass } from './options.js';

/** IPv4 (20) + UDP (8) headers, subtracted from option 57. */
export const IP_UDP_OVERHEAD = 28;
/** RFC 2132 §9.10 minimum for option 57; RFC 2131 §2: every client accepts 576-byte datagrams. */
export const MIN_MAX_MESSAGE_SIZE = 576;

/**
 * Never dropped to make a reply fit: the message type and server id (RFC 2131 §4.3.1
 * MUSTs), lease time in an address offer, the PXE identity options a PXE client checks
 * before it accepts a proxy offer (60, 43, 97), relay agent info, which RFC 3046 §2.2
 * requires to be echoed, and the BCD path of the native Windows chain (252), without
 * which bootmgr cannot find its boot configuration.
 */
export const ESSENTIAL_REPLY_OPTIONS: ReadonlySet<number> = new Set([
  DhcpOptionCode.MessageType,
  DhcpOptionCode.ServerIdentifier,
  DhcpOptionCode.LeaseTime,
  DhcpOptionCode.VendorClassIdentifier,
  DhcpOptionCode.VendorSpecific,
  DhcpOptionCode.ClientMachineIdentifier,
  DhcpOptionCode.RelayAgentInformation,
  DhcpOptionCode.WdsBcdPath,
]);

const ZERO = '0.0.0.0';

export interface ReplySpec {
  /** DhcpMessageType.Offer, .Ack or .Nak. */
  messageType: number;
  /** Option 54: the address the client should talk back to. */
  serverId: string;
  yiaddr?: string;
  /** Next server (TFTP) address. */
  siaddr?: string;
  /** Defaults to the request's ciaddr for ACK (RFC 2131 table 3), else 0.0.0.0. */
  ciaddr?: string;
  sname?: string;
  file?: string;
  /** Written after 53 and 54, in this order; put the most important first. */
  options?: DhcpOption[];
}

/**
 * A reply to `request`: op 2, copies htype/hlen/xid/flags/giaddr/chaddr, hops and secs 0,
 * options 53 and 54 first, then `spec.options`, then the request's option 82 echoed
 * unchanged when present (RFC 3046 §2.2).
 */
export function buildReply(request: DhcpPacket, spec: ReplySpec): DhcpPacket {
  const options: DhcpOption[] = [
    { code: DhcpOptionCode.MessageType, data: Buffer.from([spec.messageType]) },
    { code: DhcpOptionCode.ServerIdentifier, data: ipv4Bytes(spec.serverId, 'serverId') },
  ];
  for (const o of spec.options ?? []) {
    if (o.code === DhcpOptionCode.MessageType || o.code === DhcpOptionCode.ServerIdentifier) continue;
    options.push(o);
  }
  const relay = getOption(request, DhcpOptionCode.RelayAgentInformation);
  if (relay && !options.some((o) => o.code === DhcpOptionCode.RelayAgentInformation)) {
    options.push({ code: DhcpOptionCode.RelayAgentInformation, data: relay });
  }
  return {
    op: 2,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: spec.ciaddr ?? (spec.messageType === DhcpMessageType.Ack ? request.ciaddr : ZERO),
    yiaddr: spec.yiaddr ?? ZERO,
    siaddr: spec.siaddr ?? ZERO,
    giaddr: request.giaddr,
    chaddr: Buffer.from(request.chaddr),
    sname: spec.sname ?? '',
    file: spec.file ?? '',
    options,
  };
}

export interface ProxyReplySpec {
  /** This server's address: option 54, and siaddr unless `nextServer` says otherwise. */
  serverId: string;
  nextServer?: string;
  /** Boot file (TFTP path or, for HTTPClient, a URL), written into the `file` field. */
  bootfile?: string;
  sname?: string;
  /** Option 43 value, e.g. from encodePxeVendorOptions(). */
  vendorOptions?: Buffer;
  /** Further options after 60, 97 and 43. */
  options?: DhcpOption[];
}

/**
 * ProxyDHCP (port 67) or boot-server (port 4011) reply, PXE 2.1 §2.2: OFFER to a
 * DISCOVER, ACK to a REQUEST or INFORM; no address (yiaddr 0); option 60 "PXEClient",
 * or "HTTPClient" for UEFI HTTP Boot clients (peers.md appendix); option 97 echoed as
 * dnsmasq and ConfigMgr do (rule 80), then option 43 when given.
 */
export function buildProxyReply(request: DhcpPacket, spec: ProxyReplySpec): DhcpPacket {
  const requestType = messageType(request);
  const type = requestType === DhcpMessageType.Discover ? DhcpMessageType.Offer : DhcpMessageType.Ack;
  const httpClient = vendorClass(request)?.startsWith('HTTPClient') ?? false;
  const options: DhcpOption[] = [
    { code: DhcpOptionCode.VendorClassIdentifier, data: Buffer.from(httpClient ? 'HTTPClient' : 'PXEClient', 'latin1') },
  ];
  const uuid = getOption(request, DhcpOptionCode.ClientMachineIdentifier);
  if (uuid) options.push({ code: DhcpOptionCode.ClientMachineIdentifier, data: uuid });
  if (spec.vendorOptions) options.push({ code: DhcpOptionCode.VendorSpecific, data: spec.vendorOptions });
  options.push(...(spec.options ?? []));
  return buildReply(request, {
    messageType: type,
    serverId: spec.serverId,
    siaddr: spec.nextServer ?? spec.serverId,
    ...(spec.bootfile !== undefined ? { file: spec.bootfile } : {}),
    ...(spec.sname !== undefined ? { sname: spec.sname } : {}),
    options,
  });
}

/** Largest DHCP payload the client accepts (see the size rule at the top of this file). */
export function replySizeLimit(request: Pick<DhcpPacket, 'options'>): number {
  return Math.max(maxMessageSize(request) ?? MIN_MAX_MESSAGE_SIZE, MIN_MAX_MESSAGE_SIZE) - IP_UDP_OVERHEAD;
}

export interface EncodedReply {
  readonly buffer: Buffer;
  /** Payload limit applied. */
  readonly maxSize: number;
  /** Option codes dropped to fit, in the order they were dropped. */
  readonly dropped: number[];
  /** False only if even the essential options exceed the limit; the buffer then holds everything. */
  readonly fits: boolean;
}

/** Order in which optional options are dropped (first = dropped first). */
function dropOrder(reply: DhcpPacket, requested: number[]): number[] {
  const optional = reply.options.map((o) => o.code).filter((c) => !ESSENTIAL_REPLY_OPTIONS.has(c));
  const unrequested = optional.filter((c) => !requested.includes(c)).reverse();
  const byPreference = optional.filter((c) => requested.includes(c))
    .sort((a, b) => requested.indexOf(b) - requested.indexOf(a));
  return [...unrequested, ...byPreference];
}

/** Encodes `reply` within the limit `request` allows, by the rule at the top of this file. */
export function encodeReply(request: Pick<DhcpPacket, 'options'>, reply: DhcpPacket): EncodedReply {
  const maxSize = replySizeLimit(request);
  const order = dropOrder(reply, parameterRequestList(request));
  const dropped: number[] = [];
  let candidate = reply;
  for (;;) {
    const buffer = encodeDhcpPacketWithin(candidate, maxSize, { minSize: BOOTP_MIN_SIZE });
    if (buffer) return { buffer, maxSize, dropped, fits: true };
    const next = order[dropped.length];
    if (next === undefined) {
      return { buffer: encodeDhcpPacket(reply, { minSize: BOOTP_MIN_SIZE }), maxSize, dropped: [], fits: false };
    }
    dropped.push(next);
    candidate = { ...candidate, options: candidate.options.filter((o) => o.code !== next) };
  }
}

export interface ReplyDestination {
  readonly address: string;
  readonly port: number;
  /** True when the reply goes to 255.255.255.255. */
  readonly broadcast: boolean;
  /**
   * True when the reply is unicast to an address the client does not answer ARP for yet
   * (yiaddr): the sender needs an ARP entry or must fall back to broadcast.
   */
  readonly needsArpEntry: boolean;
}

/**
 * Where a reply goes (RFC 2131 §4.1): through the relay (giaddr:67) when relayed; to a
 * boot-server request (4011) back to its source address and port, as the captures show
 * for both the 68→4011 and 4011→4011 forms; to ciaddr:68 when the client has an address;
 * broadcast when the client set the broadcast bit or gets no address; else unicast to yiaddr.
 */
export function replyDestination(
  request: DhcpPacket,
  reply: DhcpPacket,
  receivedFrom: { address: string; port: number },
  receivedOnPort: number,
): ReplyDestination {
  if (request.giaddr !== ZERO) return { address: request.giaddr, port: DhcpPort.Server, broadcast: false, needsArpEntry: false };
  if (receivedOnPort === DhcpPort.PxeBootServer && receivedFrom.address !== ZERO) {
    return { address: receivedFrom.address, port: receivedFrom.port, broadcast: false, needsArpEntry: false };
  }
  if (request.ciaddr !== ZERO) return { address: request.ciaddr, port: DhcpPort.Client, broadcast: false, needsArpEntry: false };
  if (isBroadcast(request) || reply.yiaddr === ZERO) {
    return { address: '255.255.255.255', port: DhcpPort.Client, broadcast: true, needsArpEntry: false };
  }
  return { address: reply.yiaddr, port: DhcpPort.Client, broadcast: false, needsArpEntry: true };
}
