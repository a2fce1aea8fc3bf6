/**
 * DHCPv4 option codes and message types that pxepoint reads or writes.
 * Names follow RFC 2132 unless another RFC is cited; the table is for code and logs,
 * not a full IANA registry (unknown codes are kept raw by the codec anyway).
 */

export const DhcpOptionCode = {
  Pad: 0,                    // RFC 2132 §3.1
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  BroadcastAddress: 28,
  VendorSpecific: 43,        // RFC 2132 §8.4; PXE sub-options when option 60 is "PXEClient…"
  RequestedIpAddress: 50,
  LeaseTime: 51,
  Overload: 52,              // RFC 2132 §9.3: 1 = file, 2 = sname, 3 = both hold options
  MessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaxMessageSize: 57,        // RFC 2132 §9.10, minimum 576
  RenewalTime: 58,
  RebindingTime: 59,
  VendorClassIdentifier: 60,
  ClientIdentifier: 61,
  TftpServerName: 66,
  BootfileName: 67,
  UserClass: 77,             // RFC 3004 (iPXE sends the bare string "iPXE")
  RelayAgentInformation: 82, // RFC 3046
  ClientSystemArchitecture: 93, // RFC 4578 §2.1
  ClientNetworkInterfaceId: 94, // RFC 4578 §2.2
  ClientMachineIdentifier: 97,  // RFC 4578 §2.3
  IpxeEncapsulated: 175,     // iPXE "Etherboot" encapsulated options (src/include/ipxe/dhcp.h)
  WdsVariablesFile: 243,     // ConfigMgr: path (and key) of the encrypted boot variables file
  WdsClientRequest: 250,     // ConfigMgr client → DP (reverse-engineered, PXEThief)
  WdsBcdPath: 252,           // WDS/ConfigMgr per-request BCD path (also WPAD in other worlds)
  End: 255,
} as const;

export type DhcpOptionCodeName = keyof typeof DhcpOptionCode;

export const DhcpMessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

const MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'DISCOVER', 2: 'OFFER', 3: 'REQUEST', 4: 'DECLINE', 5: 'ACK', 6: 'NAK', 7: 'RELEASE', 8: 'INFORM',
};

/** "DISCOVER", "OFFER", … or "TYPE-<n>" for values outside RFC 2132 §9.6. */
export function messageTypeName(type: number | undefined): string {
  if (type === undefined) return 'BOOTP';
  return MESSAGE_TYPE_NAMES[type] ?? `TYPE-${type}`;
}

const OPTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DhcpOptionCode).map(([name, code]) => [code, name]),
);

/** A readable name for logs: "VendorClassIdentifier(60)" or "option-200". */
export function optionName(code: number): string {
  const name = OPTION_NAMES[code];
  return name === undefined ? `option-${code}` : `${name}(${code})`;
}

/** UDP ports of the boot path (RFC 2131 §4.1; PXE 2.1 §2.2.6 for 4011). */
export const DhcpPort = { Server: 67, Client: 68, PxeBootServer: 4011 } as const;
