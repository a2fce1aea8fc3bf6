/**
 * Typed parse errors for the DHCP codec. Every byte a client sends is untrusted, so
 * the parser never throws: it returns one of these values, which the listener counts
 * (`dhcp.packet.invalid`) and drops. Codes are stable and greppable (PXE_ERR_DHCP_*).
 */

export type DhcpParseErrorCode =
  /** Fewer than 240 bytes: the fixed BOOTP header and magic cookie are not all there. */
  | 'PXE_ERR_DHCP_TRUNCATED'
  /** op is neither 1 (BOOTREQUEST) nor 2 (BOOTREPLY). */
  | 'PXE_ERR_DHCP_BAD_OP'
  /** hlen is larger than the 16-byte chaddr field. */
  | 'PXE_ERR_DHCP_BAD_HLEN'
  /** Bytes 236–239 are not the DHCP magic cookie 99.130.83.99 (plain BOOTP is not served). */
  | 'PXE_ERR_DHCP_BAD_COOKIE'
  /** An option's length byte (or the length byte itself) runs past the end of its field. */
  | 'PXE_ERR_DHCP_OPTION_OVERRUN'
  /** Option 52 is not one byte of value 1, 2 or 3, or appears outside the options field. */
  | 'PXE_ERR_DHCP_BAD_OVERLOAD';

/** Where in the packet the problem is. */
export type DhcpField = 'header' | 'options' | 'file' | 'sname';

export interface DhcpParseError {
  readonly kind: 'dhcp-parse-error';
  readonly code: DhcpParseErrorCode;
  /** Says what is wrong and what the sender would have to fix. */
  readonly message: string;
  readonly field: DhcpField;
  /** Byte offset in the UDP payload where the problem was found. */
  readonly offset: number;
  /** The option code being read, when the problem is inside an option. */
  readonly option?: number;
}

export function dhcpParseError(
  code: DhcpParseErrorCode,
  message: string,
  field: DhcpField,
  offset: number,
  option?: number,
): DhcpParseError {
  return option === undefined
    ? { kind: 'dhcp-parse-error', code, message, field, offset }
    : { kind: 'dhcp-parse-error', code, message, field, offset, option };
}

/** Recognises a parse error by its brand (`kind`), not by class, so copies of the module agree. */
export function isDhcpParseError(value: unknown): value is DhcpParseError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'dhcp-parse-error';
}
