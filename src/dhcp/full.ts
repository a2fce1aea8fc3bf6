/**
 * Full DHCP mode: what a DISCOVER, REQUEST, DECLINE, RELEASE or INFORM does to the
 * lease book (RFC 2131 §4.3), and the group commit that makes every ACKed lease
 * durable before the ACK leaves (a restart, even kill -9, loses none).
 */
import type { DhcpLease } from '../site/model.js';
import type { LeaseStore } from '../site/repository.js';
import { DhcpMessageType, DhcpOptionCode } from './option-codes.js';
import type { DhcpPacket } from './packet.js';
import { getOption, messageType, relayAgentInfo, requestedIpAddress, serverIdentifier } from './options.js';
import { intToIp } from './ipv4.js';
import type { LeaseBook, LeaseQuery, Pool } from './leases.js';

export type LeaseStep =
  | { kind: 'offer'; ip: string; leaseSeconds: number; pool: Pool }
  | { kind: 'ack'; lease: DhcpLease; leaseSeconds: number; pool: Pool }
  | { kind: 'nak'; reason: string }
  | { kind: 'inform'; pool: Pool | undefined }
  /** RELEASE / DECLINE: persisted, never answered (RFC 2131 §4.3.3, §4.3.4). */
  | { kind: 'store'; lease: DhcpLease; what: 'release' | 'decline' }
  | { kind: 'ignore'; reason: string };

export function leaseQueryOf(packet: DhcpPacket, mac: string): LeaseQuery {
  // Option 61 as sent (type byte, then the id), in hex; malformed (< 2 bytes) reads as none.
  const cid = getOption(packet, DhcpOptionCode.ClientIdentifier);
  const host = getOption(packet, DhcpOptionCode.HostName);
  const relay82 = packet.giaddr !== '0.0.0.0' ? relayAgentInfo(packet) : undefined;
  return {
    mac,
    clientId: cid && cid.length >= 2 ? cid.toString('hex') : null,
    hostname: host && host.length > 0 ? host.toString('latin1').replace(/[^\x20-\x7e]/g, '').slice(0, 63) || null : null,
    relay: packet.giaddr !== '0.0.0.0'
      ? { giaddr: packet.giaddr, circuitId: relay82?.circuitId?.toString('hex') ?? null, remoteId: relay82?.remoteId?.toString('hex') ?? null }
      : null,
    requestedIp: requestedIpAddress(packet) ?? null,
    ciaddr: packet.ciaddr,
  };
}

/**
 * The pool for a client (RFC 2131 §4.3.1): the relay's subnet (giaddr), else the
 * receiving interface's, else the only pool, else the one holding our address.
 */
export function poolForRequest(book: LeaseBook, packet: DhcpPacket, interfaceAddress: string | null, serverAddress: string): Pool | undefined {
  if (packet.giaddr !== '0.0.0.0') return book.poolFor(packet.giaddr);
  if (interfaceAddress) return book.poolFor(interfaceAddress);
  if (book.pools.length === 1) return book.pools[0];
  return book.poolFor(serverAddress);
}

export function leaseStep(
  book: LeaseBook,
  packet: DhcpPacket,
  q: LeaseQuery,
  pool: Pool | undefined,
  isOurServerId: (id: string) => boolean,
  now: number,
): LeaseStep {
  switch (messageType(packet)) {
    case DhcpMessageType.Discover: {
      if (!pool) return { kind: 'ignore', reason: `no pool serves ${packet.giaddr !== '0.0.0.0' ? `relay ${packet.giaddr}` : 'this interface'}` };
      const offer = book.offer(pool, q, now);
      if (!offer) return { kind: 'ignore', reason: `pool ${pool.config.subnet} is exhausted` };
      return { kind: 'offer', ip: offer.ip, leaseSeconds: offer.leaseSeconds, pool };
    }
    case DhcpMessageType.Request: {
      const sid = serverIdentifier(packet);
      const outcome = book.request(pool, q, sid === undefined ? null : isOurServerId(sid), now);
      if (outcome.kind !== 'ack') return outcome;
      const leasePool = book.poolFor(outcome.lease.ip)!;
      return { kind: 'ack', lease: outcome.lease, leaseSeconds: outcome.leaseSeconds, pool: leasePool };
    }
    case DhcpMessageType.Decline: {
      const sid = serverIdentifier(packet);
      if (sid !== undefined && !isOurServerId(sid)) return { kind: 'ignore', reason: 'DECLINE for another server' };
      const lease = book.decline(q, now);
      return lease ? { kind: 'store', lease, what: 'decline' } : { kind: 'ignore', reason: 'DECLINE for an address this client does not hold' };
    }
    case DhcpMessageType.Release: {
      const sid = serverIdentifier(packet);
      if (sid !== undefined && !isOurServerId(sid)) return { kind: 'ignore', reason: 'RELEASE for another server' };
      const lease = book.release(q, now);
      return lease ? { kind: 'store', lease, what: 'release' } : { kind: 'ignore', reason: 'RELEASE of an address this client does not hold' };
    }
    case DhcpMessageType.Inform:
      return { kind: 'inform', pool: packet.ciaddr !== '0.0.0.0' ? book.poolFor(packet.ciaddr) : pool };
    default:
      return { kind: 'ignore', reason: `message type ${messageType(packet) ?? 'none'} is not one a server answers` };
  }
}

export const subnetMaskOf = (pool: Pool): string => intToIp(pool.mask);

/**
 * Group commit: leases queued during one turn of the event loop are written in one
 * transaction, then their replies are sent. Nothing is sent before its lease is in
 * the store (kill -9 safe with SQLite WAL, synchronous=NORMAL).
 *
 * Under load, commits are at most one per `coalesceMs` (default 1 ms): a commit costs
 * ~20 us plus ~2.5 us a row, so at 10k ACKs/s one a turn (a handful of rows) spends
 * half its time on commit overhead. The wait applies only right after a commit; an
 * idle server commits (and ACKs) in the same turn.
 */
export class LeaseWriter {
  #pending: Array<{ lease: DhcpLease; after: (() => void) | null }> = [];
  #scheduled = false;
  #closed = false;
  #flushing: Promise<void> = Promise.resolve();
  #lastFlushAt = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  readonly #kick = (): void => {
    this.#timer = null;
    this.#flushing = this.#flushing.then(() => this.#flush());
  };

  constructor(
    private readonly store: LeaseStore,
    private readonly onError: (error: unknown, dropped: number) => void,
    private readonly coalesceMs = 1,
  ) {}

  get pending(): number {
    return this.#pending.length;
  }

  /** Persists `lease`; runs `after` (e.g. sends the ACK) once it is durable, never if writing fails. */
  write(lease: DhcpLease, after: (() => void) | null): void {
    if (this.#closed) return;
    this.#pending.push({ lease, after });
    if (!this.#scheduled) {
      this.#scheduled = true;
      const wait = this.#lastFlushAt + this.coalesceMs - performance.now();
      if (wait > 0) this.#timer = setTimeout(this.#kick, wait);
      else setImmediate(this.#kick);
    }
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    this.#lastFlushAt = performance.now();
    try {
      await this.store.putMany(batch.map((b) => b.lease));
    } catch (e) {
      this.onError(e, batch.length);
      return;
    }
    for (const b of batch) b.after?.();
  }

  /** Writes what is queued, then refuses more. */
  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length > 0) this.#flushing = this.#flushing.then(() => this.#flush());
    this.#closed = true;
    await this.#flushing;
  }
}
