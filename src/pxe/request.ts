/**
 * From a parsed DHCP packet to the `PxeBootRequest` the decision reads. Pure and
 * shared: the DHCP listeners call it on every PXE packet, the golden-packet tests
 * call it on the captures in fixtures/captures.
 *
 * What each field is read from (docs/dhcp.md, "Firmware behaviour observed"):
 *  - mac: chaddr (htype 1, hlen 6); anything else is not a PXE client we serve → null.
 *  - smbiosGuid: option 97; all zeros (QEMU without -uuid) and all ones (bad firmware,
 *    FOG #198) are junk and read as null, so they never match a record (rule 59).
 *  - architecture: option 93, else the `Arch:` field of option 60, else x86 BIOS,
 *    then the firmware quirks (quirks.ts). A chained undionly.kpxe in proxy mode
 *    sends option 60 without `Arch:`, so option 93 comes first.
 *  - isIpxe: option 77 "iPXE" (raw or RFC 3004) or option 175 (peers.md §3 #5).
 *  - isHttpBoot: option 60 starts with "HTTPClient" (UEFI HTTP Boot).
 *  - clientIp: ciaddr when set (4011 requests, renewals), else what the caller knows
 *    (the address it leases in full mode), else option 50 of a REQUEST (the
 *    address the DHCP server is about to ACK; in a DISCOVER it is only a hint,
 *    often a stale one, so it is not used).
 *    The boot files bind the per-boot variables file to this address.
 */
import { clientArchitectures, clientMachineId, messageType, relayAgentInfo, requestedIpAddress, vendorClass } from '../dhcp/options.js';
import { DhcpMessageType } from '../dhcp/option-codes.js';
import { isIpxe } from '../dhcp/ipxe-options.js';
import { macAddress, type DhcpPacket } from '../dhcp/packet.js';
import { resolveClientArchitecture, type QuirkConfig } from './quirks.js';
import type { PxeBootRequest, PxeChannel } from './types.js';

export interface PxeRequestContext {
  /** Interface the packet arrived on (rule 49), when the listener knows it. */
  interface?: string | null;
  /** The client's address when ciaddr is empty (full DHCP mode: the address being leased). */
  clientIp?: string | null;
  /** Quirk table and switches (defaults: ARCHITECTURE_QUIRKS, each at its default). */
  quirks?: QuirkConfig;
  /** Rule 79: the client's CPU is known to be x64-capable (BIOS clients only matter). */
  x64Capable?: boolean;
}

const ZERO_IP = '0.0.0.0';
const JUNK_GUIDS = new Set(['00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']);

/** Option 60 says this is a PXE or HTTP Boot client: the only packets the responder decides on. */
export function isPxeClientPacket(packet: Pick<DhcpPacket, 'options'>): boolean {
  const vc = vendorClass(packet);
  return vc !== undefined && (vc.startsWith('PXEClient') || vc.startsWith('HTTPClient'));
}

/** SMBIOS GUID of option 97, or null when absent, malformed or junk. */
export function smbiosGuidOf(packet: Pick<DhcpPacket, 'options'>): string | null {
  const guid = clientMachineId(packet)?.guid;
  return guid === undefined || JUNK_GUIDS.has(guid) ? null : guid;
}

/**
 * The request the decision reads, or null when the packet carries no Ethernet MAC
 * (htype/hlen other than 1/6): such a client cannot be identified (rule 59).
 */
export function pxeRequestFrom(packet: DhcpPacket, channel: PxeChannel, ctx: PxeRequestContext = {}): PxeBootRequest | null {
  const mac = macAddress(packet);
  if (mac === undefined) return null;
  const vc = vendorClass(packet) ?? null;
  const architecture = resolveClientArchitecture(
    { codes: clientArchitectures(packet) ?? [], ...(vc !== null ? { vendorClass: vc } : {}), mac },
    ctx.quirks ?? {},
  );
  const relay82 = relayAgentInfo(packet);
  const relay = packet.giaddr !== ZERO_IP
    ? {
      giaddr: packet.giaddr,
      circuitId: relay82?.circuitId?.toString('hex') ?? null,
      remoteId: relay82?.remoteId?.toString('hex') ?? null,
    }
    : null;
  const requested = messageType(packet) === DhcpMessageType.Request ? requestedIpAddress(packet) : undefined;
  const clientIp = packet.ciaddr !== ZERO_IP ? packet.ciaddr : ctx.clientIp ?? requested ?? null;
  return {
    mac,
    smbiosGuid: smbiosGuidOf(packet),
    architecture,
    vendorClass: vc,
    isIpxe: isIpxe(packet),
    isHttpBoot: vc !== null && vc.startsWith('HTTPClient'),
    channel,
    interface: ctx.interface ?? null,
    relay,
    clientIp,
    ...(ctx.x64Capable !== undefined ? { x64Capable: ctx.x64Capable } : {}),
  };
}
