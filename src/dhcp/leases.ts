/**
 * Full DHCP mode's address book (RFC 2131 §4.3): pools per subnet, static reservations
 * by MAC, and the offer → request → bound / declined / released / expired life of a
 * lease. Pure: no socket, clock or disk; time comes in as `now` (ms), and every change
 * that must be durable is returned as a `DhcpLease` for the caller to persist before it
 * answers (src/dhcp/full.ts does, with group commit).
 *
 * Clients are keyed by MAC (chaddr), not by option 61: ConfigMgr identifies PXE clients
 * by MAC (rule 59), and a machine's UEFI firmware (no 61) and iPXE (61 = 01+MAC) must get
 * the same address. Option 61 is recorded with the lease.
 */
import { invalid } from '../errors.js';
import type { DhcpLease } from '../site/model.js';
import { intToIp, ipToInt } from './ipv4.js';

export interface DhcpPoolConfig {
  /** CIDR, e.g. "10.77.0.0/24": which clients this pool serves (by giaddr or interface). */
  subnet: string;
  /** First and last address handed out dynamically (inclusive). */
  rangeStart: string;
  rangeEnd: string;
  /** Option 3. */
  router?: string;
  /** Option 6. */
  dnsServers?: string[];
  /** Option 15. */
  domainName?: string;
  /** Overrides the server-wide lease time for this pool. */
  leaseSeconds?: number;
}

export interface DhcpReservationConfig {
  mac: string;
  ip: string;
  hostname?: string;
}

export interface LeaseBookOptions {
  /** Lease time given to clients (option 51). Default 3600. */
  leaseSeconds?: number;
  /** How long an OFFER holds its address for the client (RFC 2131 §4.3.1 "reserve"). Default 30. */
  offerSeconds?: number;
  /** How long a DECLINEd address stays out of use (RFC 2131 §4.3.3). Default 600. */
  declineSeconds?: number;
}

export interface Pool {
  readonly config: DhcpPoolConfig;
  readonly network: number;
  readonly prefix: number;
  readonly mask: number;
  readonly first: number;
  readonly last: number;
  readonly leaseSeconds: number;
  /** Next address the allocator looks at (round robin, so released addresses rest a while). */
  cursor: number;
}

/** What a client asked for, already read from the packet. */
export interface LeaseQuery {
  mac: string;
  clientId: string | null;
  hostname: string | null;
  relay: DhcpLease['relay'];
  /** Option 50. */
  requestedIp: string | null;
  /** ciaddr, "0.0.0.0" when none. */
  ciaddr: string;
}

export type RequestOutcome =
  | { kind: 'ack'; lease: DhcpLease; leaseSeconds: number }
  | { kind: 'nak'; reason: string }
  | { kind: 'ignore'; reason: string };

// --- IPv4 arithmetic (ipv4.ts) -----------------------------------------------------------


export function parseCidr(cidr: string): { network: number; prefix: number; mask: number } {
  const [addr, bits] = cidr.split('/');
  const prefix = Number(bits);
  const ip = ipToInt(addr ?? '');
  if (!Number.isInteger(prefix) || prefix < 1 || prefix > 30 || Number.isNaN(ip)) {
    throw invalid('dhcp.pools.subnet', `"${cidr}" is not an IPv4 subnet like 10.77.0.0/24 (prefix 1-30)`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ip & mask) >>> 0, prefix, mask };
}

const inSubnet = (pool: Pick<Pool, 'network' | 'mask'>, ip: number): boolean => ((ip & pool.mask) >>> 0) === pool.network;

export function normaliseMac(mac: string): string | undefined {
  const hex = mac.trim().toLowerCase().replace(/[:\-.]/g, '');
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

// --- the book -------------------------------------------------------------------------------

interface Offer {
  mac: string;
  expiresAt: number;
}

export class LeaseBook {
  readonly pools: readonly Pool[];
  readonly #reservedByMac = new Map<string, { ip: number; hostname: string | null }>();
  readonly #reservedIps = new Map<number, string>();
  /** Every remembered lease, by address. */
  readonly #byIp = new Map<number, DhcpLease>();
  /** The address last leased to a MAC (bound, released or expired). */
  readonly #byMac = new Map<string, number>();
  readonly #offers = new Map<number, Offer>();
  /** The address currently offered to a MAC (so repeated DISCOVERs get the same one). */
  readonly #offerByMac = new Map<string, number>();
  readonly #offerMs: number;
  readonly #declineMs: number;

  constructor(
    pools: readonly DhcpPoolConfig[],
    reservations: readonly DhcpReservationConfig[] = [],
    options: LeaseBookOptions = {},
    existing: readonly DhcpLease[] = [],
  ) {
    const defaultLease = options.leaseSeconds ?? 3600;
    this.#offerMs = (options.offerSeconds ?? 30) * 1000;
    this.#declineMs = (options.declineSeconds ?? 600) * 1000;
    this.pools = pools.map((config) => {
      const { network, prefix, mask } = parseCidr(config.subnet);
      const first = ipToInt(config.rangeStart);
      const last = ipToInt(config.rangeEnd);
      const broadcast = (network | (~mask >>> 0)) >>> 0;
      if (Number.isNaN(first) || Number.isNaN(last) || first > last || !inSubnet({ network, mask }, first) || !inSubnet({ network, mask }, last)
        || first === network || last === broadcast) {
        throw invalid('dhcp.pools', `range ${config.rangeStart}-${config.rangeEnd} must be ascending host addresses inside ${config.subnet}`);
      }
      for (const [field, ip] of [['router', config.router], ...(config.dnsServers ?? []).map((d) => ['dnsServers', d])] as Array<[string, string | undefined]>) {
        if (ip !== undefined && Number.isNaN(ipToInt(ip))) throw invalid(`dhcp.pools.${field}`, `"${ip}" (pool ${config.subnet}) is not an IPv4 address`);
      }
      return { config, network, prefix, mask, first, last, leaseSeconds: config.leaseSeconds ?? defaultLease, cursor: first };
    });
    for (let i = 0; i < this.pools.length; i++) {
      for (let j = i + 1; j < this.pools.length; j++) {
        const a = this.pools[i]!;
        const b = this.pools[j]!;
        if (inSubnet(a, b.network) || inSubnet(b, a.network)) {
          throw invalid('dhcp.pools', `subnets ${a.config.subnet} and ${b.config.subnet} overlap; give each subnet one pool`);
        }
      }
    }
    for (const r of reservations) {
      const mac = normaliseMac(r.mac);
      const ip = ipToInt(r.ip);
      if (!mac) throw invalid('dhcp.reservations.mac', `"${r.mac}" is not a MAC address; write it like 52:54:00:77:00:10`);
      if (Number.isNaN(ip) || !this.pools.some((p) => inSubnet(p, ip))) {
        throw invalid('dhcp.reservations.ip', `${r.ip} (for ${mac}) is not inside any pool's subnet`);
      }
      if (this.#reservedIps.has(ip)) throw invalid('dhcp.reservations.ip', `${r.ip} is reserved twice`);
      this.#reservedByMac.set(mac, { ip, hostname: r.hostname ?? null });
      this.#reservedIps.set(ip, mac);
    }
    for (const lease of existing) this.#remember(lease);
  }

  /** The pool serving a client whose relay (giaddr) or receiving interface has this address. */
  poolFor(address: string): Pool | undefined {
    const ip = ipToInt(address);
    if (Number.isNaN(ip)) return undefined;
    return this.pools.find((p) => inSubnet(p, ip));
  }

  /** Every remembered lease (for tests and the admin view). */
  leases(): DhcpLease[] {
    return [...this.#byIp.values()];
  }

  leaseOf(mac: string): DhcpLease | undefined {
    const ip = this.#byMac.get(mac);
    return ip === undefined ? undefined : this.#byIp.get(ip);
  }

  #remember(lease: DhcpLease): void {
    const ip = ipToInt(lease.ip);
    if (Number.isNaN(ip)) return;
    // The address changes hands: the previous client no longer points at it, so the MAC
    // index never holds more entries than the address index (bounded under hostile input).
    const before = this.#byIp.get(ip);
    if (before && before.mac !== lease.mac && this.#byMac.get(before.mac) === ip) this.#byMac.delete(before.mac);
    this.#byIp.set(ip, lease);
    if (lease.state !== 'declined') this.#byMac.set(lease.mac, ip);
  }

  /** May `mac` have address `ip` now? */
  #available(ip: number, mac: string, now: number): boolean {
    const reservedFor = this.#reservedIps.get(ip);
    if (reservedFor !== undefined && reservedFor !== mac) return false;
    const lease = this.#byIp.get(ip);
    if (lease && lease.mac !== mac && lease.expiresAt > now && (lease.state === 'bound' || lease.state === 'declined')) return false;
    if (lease && lease.state === 'declined' && lease.expiresAt > now) return false;
    const offer = this.#offers.get(ip);
    if (offer && offer.mac !== mac && offer.expiresAt > now) return false;
    return true;
  }

  #inRange(pool: Pool, ip: number): boolean {
    return ip >= pool.first && ip <= pool.last;
  }

  /**
   * RFC 2131 §4.3.1, in its order: the client's reservation, its current binding, its
   * previous address if free, the requested address (option 50) if free, else a free
   * one. Returns the address offered (held for `offerSeconds`), or null when the pool is full.
   */
  offer(pool: Pool, q: LeaseQuery, now: number): { ip: string; leaseSeconds: number } | null {
    const ip = this.#choose(pool, q, now);
    if (ip === undefined) return null;
    this.#setOffer(ip, q.mac, now + this.#offerMs);
    return { ip: intToIp(ip), leaseSeconds: pool.leaseSeconds };
  }

  #setOffer(ip: number, mac: string, expiresAt: number): void {
    const before = this.#offers.get(ip);
    if (before && before.mac !== mac && this.#offerByMac.get(before.mac) === ip) this.#offerByMac.delete(before.mac);
    const other = this.#offerByMac.get(mac);
    if (other !== undefined && other !== ip) this.#offers.delete(other);
    this.#offers.set(ip, { mac, expiresAt });
    this.#offerByMac.set(mac, ip);
  }

  #deleteOffer(ip: number): void {
    const o = this.#offers.get(ip);
    if (!o) return;
    this.#offers.delete(ip);
    if (this.#offerByMac.get(o.mac) === ip) this.#offerByMac.delete(o.mac);
  }

  #choose(pool: Pool, q: LeaseQuery, now: number): number | undefined {
    const reserved = this.#reservedByMac.get(q.mac);
    if (reserved && inSubnet(pool, reserved.ip)) return reserved.ip;
    const offered = this.#offerByMac.get(q.mac);
    if (offered !== undefined && this.#inRange(pool, offered) && this.#available(offered, q.mac, now)) return offered;
    const previous = this.#byMac.get(q.mac);
    if (previous !== undefined && inSubnet(pool, previous) && this.#inRange(pool, previous) && this.#available(previous, q.mac, now)) return previous;
    if (q.requestedIp) {
      const wanted = ipToInt(q.requestedIp);
      if (!Number.isNaN(wanted) && this.#inRange(pool, wanted) && this.#available(wanted, q.mac, now)) return wanted;
    }
    // Round robin through the range: at most one pass, so a full pool costs its size once.
    const size = pool.last - pool.first + 1;
    for (let k = 0; k < size; k++) {
      const ip = pool.cursor;
      pool.cursor = ip >= pool.last ? pool.first : ip + 1;
      if (this.#reservedIps.has(ip)) continue;
      const lease = this.#byIp.get(ip);
      // Prefer never-used and long-free addresses; an address remembered for another
      // client that is free again is still fair game on this pass.
      if (lease && lease.mac !== q.mac && lease.state === 'bound' && lease.expiresAt > now) continue;
      if (this.#available(ip, q.mac, now)) return ip;
    }
    // Full: an OFFER does not bind (RFC 2131 §4.3.1), so the oldest pending one in this
    // pool is taken back. A DISCOVER flood from random MACs then cannot starve the pool
    // of the clients that go on to REQUEST.
    for (const [ip, o] of this.#offers) {
      if (o.mac !== q.mac && this.#inRange(pool, ip) && !this.#reservedIps.has(ip)) {
        const lease = this.#byIp.get(ip);
        if (lease && lease.expiresAt > now && (lease.state === 'bound' || lease.state === 'declined') && lease.mac !== q.mac) continue;
        this.#deleteOffer(ip);
        return ip;
      }
    }
    return undefined;
  }

  /**
   * RFC 2131 §4.3.2. `ourServerId` is true when option 54 names this server, false when
   * it names another, null when absent.
   */
  request(pool: Pool | undefined, q: LeaseQuery, ourServerId: boolean | null, now: number): RequestOutcome {
    if (ourServerId === false) {
      // SELECTING another server's offer: free ours at once.
      const offered = this.#offerByMac.get(q.mac);
      if (offered !== undefined) this.#deleteOffer(offered);
      return { kind: 'ignore', reason: 'client selected another server' };
    }
    const ciaddr = q.ciaddr !== '0.0.0.0' ? ipToInt(q.ciaddr) : NaN;
    const requested = q.requestedIp ? ipToInt(q.requestedIp) : NaN;
    let ip: number;
    if (ourServerId === true) {
      // SELECTING: 50 must hold the offered address (ciaddr 0).
      if (Number.isNaN(requested)) return { kind: 'ignore', reason: 'REQUEST with server id but no requested address (option 50)' };
      ip = requested;
    } else if (!Number.isNaN(ciaddr)) {
      ip = ciaddr; // RENEWING / REBINDING
    } else if (!Number.isNaN(requested)) {
      ip = requested; // INIT-REBOOT
    } else {
      return { kind: 'ignore', reason: 'REQUEST without server id, requested address or ciaddr' };
    }
    const target = pool && inSubnet(pool, ip) ? pool : this.pools.find((p) => inSubnet(p, ip));
    if (!target || (pool && target !== pool)) return { kind: 'nak', reason: `${intToIp(ip)} is not on the client's network` };
    const reserved = this.#reservedByMac.get(q.mac);
    if (reserved && reserved.ip !== ip && inSubnet(target, reserved.ip)) return { kind: 'nak', reason: `${q.mac} has reservation ${intToIp(reserved.ip)}` };
    const current = this.#byMac.get(q.mac);
    const currentLease = current === undefined ? undefined : this.#byIp.get(current);
    if (ourServerId === null && Number.isNaN(ciaddr) && currentLease && current !== ip && currentLease.state === 'bound' && currentLease.expiresAt > now) {
      return { kind: 'nak', reason: `${q.mac} is bound to ${intToIp(current!)}, not ${intToIp(ip)}` };
    }
    const isReserved = reserved?.ip === ip;
    if (!isReserved && !this.#inRange(target, ip)) return { kind: 'nak', reason: `${intToIp(ip)} is outside the pool ${target.config.rangeStart}-${target.config.rangeEnd}` };
    if (!this.#available(ip, q.mac, now)) return { kind: 'nak', reason: `${intToIp(ip)} is in use by another client` };
    return { kind: 'ack', lease: this.#bind(target, ip, q, now), leaseSeconds: target.leaseSeconds };
  }

  #bind(pool: Pool, ip: number, q: LeaseQuery, now: number): DhcpLease {
    this.#deleteOffer(ip);
    const previous = this.#byMac.get(q.mac);
    if (previous !== undefined && previous !== ip) {
      // One address per client: the old one is released (kept as history for it).
      const old = this.#byIp.get(previous);
      if (old && old.mac === q.mac && old.state === 'bound') this.#byIp.set(previous, { ...old, state: 'released', expiresAt: now, updatedAt: now });
    }
    const lease: DhcpLease = {
      ip: intToIp(ip),
      mac: q.mac,
      clientId: q.clientId,
      subnet: pool.config.subnet,
      state: 'bound',
      expiresAt: now + pool.leaseSeconds * 1000,
      updatedAt: now,
      hostname: q.hostname ?? this.#reservedByMac.get(q.mac)?.hostname ?? null,
      relay: q.relay,
    };
    this.#remember(lease);
    return lease;
  }

  /** RFC 2131 §4.3.3: the client found the address in use; quarantine it. */
  decline(q: LeaseQuery, now: number): DhcpLease | null {
    if (!q.requestedIp) return null;
    const ip = ipToInt(q.requestedIp);
    const lease = this.#byIp.get(ip);
    const offered = this.#offers.get(ip);
    if (!(lease?.mac === q.mac || offered?.mac === q.mac)) return null;
    const pool = this.pools.find((p) => inSubnet(p, ip));
    if (!pool) return null;
    this.#deleteOffer(ip);
    if (this.#byMac.get(q.mac) === ip) this.#byMac.delete(q.mac);
    const declined: DhcpLease = {
      ip: intToIp(ip), mac: q.mac, clientId: q.clientId, subnet: pool.config.subnet, state: 'declined',
      expiresAt: now + this.#declineMs, updatedAt: now, hostname: null, relay: q.relay,
    };
    this.#byIp.set(ip, declined);
    return declined;
  }

  /** RFC 2131 §4.3.4: the client gives the address back (ciaddr). */
  release(q: LeaseQuery, now: number): DhcpLease | null {
    const ip = ipToInt(q.ciaddr);
    const lease = this.#byIp.get(ip);
    if (!lease || lease.mac !== q.mac || lease.state !== 'bound') return null;
    const released: DhcpLease = { ...lease, state: 'released', expiresAt: now, updatedAt: now };
    this.#byIp.set(ip, released);
    return released;
  }

  /** Forgets expired offers; returns how many (bounded memory under DISCOVER floods). */
  sweepOffers(now: number): number {
    let n = 0;
    for (const [ip, o] of this.#offers) {
      if (o.expiresAt <= now) {
        this.#deleteOffer(ip);
        n++;
      }
    }
    return n;
  }

  get offerCount(): number {
    return this.#offers.size;
  }
}
