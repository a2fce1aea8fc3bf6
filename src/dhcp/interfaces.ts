/**
 * Rule 49 ("Network interfaces": all, or specific ones listed by MAC address): which
 * interfaces the DHCP listeners answer on. Configuration names an interface by name
 * ("eth1") or by MAC ("52:54:00:12:34:56", the ConfigMgr way); each resolves to the
 * name the kernel binds to (SO_BINDTODEVICE) and the IPv4 address that becomes
 * option 54 and next-server on that interface.
 */
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { PxeError } from '../errors.js';
import { normaliseMac } from './leases.js';

export interface DhcpInterface {
  /** Kernel name, e.g. "eth1". */
  readonly name: string;
  /** First IPv4 address: option 54 and next-server for clients on this interface. */
  readonly address: string;
  readonly netmask: string;
  readonly mac: string;
}

type InterfaceTable = Record<string, NetworkInterfaceInfo[] | undefined>;

/** Resolves configured names or MACs; throws PXE_ERR_CONFIG naming what exists when one is unknown. */
export function resolveInterfaces(wanted: readonly string[], table: InterfaceTable = networkInterfaces()): DhcpInterface[] {
  const out: DhcpInterface[] = [];
  for (const entry of wanted) {
    const mac = normaliseMac(entry);
    const name = mac
      ? Object.keys(table).find((n) => table[n]?.some((a) => a.mac.toLowerCase() === mac))
      : table[entry] ? entry : undefined;
    const v4 = name ? table[name]?.find((a) => a.family === 'IPv4') : undefined;
    if (!name || !v4) {
      const known = Object.entries(table)
        .filter(([, addrs]) => addrs?.some((a) => a.family === 'IPv4'))
        .map(([n, addrs]) => `${n} (${addrs![0]!.mac})`)
        .join(', ');
      throw new PxeError(
        'PXE_ERR_CONFIG',
        `interface "${entry}" ${name ? 'has no IPv4 address' : 'does not exist'}; interfaces with an IPv4 address: ${known || 'none'}`,
      );
    }
    if (!out.some((i) => i.name === name)) out.push({ name, address: v4.address, netmask: v4.netmask, mac: v4.mac.toLowerCase() });
  }
  return out;
}

/** The first non-internal IPv4 address, for option 54 when listening on a wildcard socket. */
export function firstExternalIpv4(table: InterfaceTable = networkInterfaces()): string | undefined {
  for (const addrs of Object.values(table)) {
    const a = addrs?.find((x) => x.family === 'IPv4' && !x.internal);
    if (a) return a.address;
  }
  return undefined;
}
