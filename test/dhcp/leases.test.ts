/** The lease book (RFC 2131 §4.3), pure: time is an argument. */
import { describe, expect, it } from 'vitest';
import { LeaseBook, parseCidr, type LeaseQuery } from '../../src/dhcp/leases.js';
import { ipToInt, intToIp } from '../../src/dhcp/ipv4.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';

const POOL = { subnet: '10.77.0.0/24', rangeStart: '10.77.0.100', rangeEnd: '10.77.0.102' };
const q = (mac: string, more: Partial<LeaseQuery> = {}): LeaseQuery =>
  ({ mac, clientId: null, hostname: null, relay: null, requestedIp: null, ciaddr: '0.0.0.0', ...more });
const T = 1_000_000;

function bind(book: LeaseBook, mac: string, now = T): string {
  const pool = book.pools[0]!;
  const offer = book.offer(pool, q(mac), now)!;
  const out = book.request(pool, q(mac, { requestedIp: offer.ip }), true, now);
  if (out.kind !== 'ack') throw new Error(out.reason);
  return out.lease.ip;
}

describe('IPv4 helpers', () => {
  it('converts and parses subnets', () => {
    expect(intToIp(ipToInt('10.77.0.255'))).toBe('10.77.0.255');
    expect(Number.isNaN(ipToInt('10.77.0.256'))).toBe(true);
    expect(parseCidr('10.77.0.9/24')).toEqual({ network: ipToInt('10.77.0.0'), prefix: 24, mask: 0xffffff00 });
    expect(() => parseCidr('10.77.0.0')).toThrow(/subnet/);
  });
});

describe('LeaseBook', () => {
  it('offers addresses from the range, the same one to a client asking again', () => {
    const book = new LeaseBook([POOL]);
    const pool = book.pools[0]!;
    const a = book.offer(pool, q('aa:00:00:00:00:01'), T)!;
    expect(a).toEqual({ ip: '10.77.0.100', leaseSeconds: 3600 });
    expect(book.offer(pool, q('aa:00:00:00:00:01'), T)!.ip).toBe('10.77.0.100');
    expect(book.offer(pool, q('aa:00:00:00:00:02'), T)!.ip).toBe('10.77.0.101');
  });

  it('honours the requested address when free (option 50)', () => {
    const book = new LeaseBook([POOL]);
    expect(book.offer(book.pools[0]!, q('aa:00:00:00:00:01', { requestedIp: '10.77.0.102' }), T)!.ip).toBe('10.77.0.102');
  });

  it('ACKs the offered address, NAKs another client asking for it, ignores a REQUEST for another server', () => {
    const book = new LeaseBook([POOL]);
    const pool = book.pools[0]!;
    const ip = bind(book, 'aa:00:00:00:00:01');
    expect(book.request(pool, q('aa:00:00:00:00:02', { requestedIp: ip }), null, T)).toMatchObject({ kind: 'nak' });
    const offer = book.offer(pool, q('aa:00:00:00:00:03'), T)!;
    expect(book.request(pool, q('aa:00:00:00:00:03', { requestedIp: offer.ip }), false, T)).toMatchObject({ kind: 'ignore' });
    // The offer was freed at once: someone else may have it.
    expect(book.offer(pool, q('aa:00:00:00:00:04', { requestedIp: offer.ip }), T)!.ip).toBe(offer.ip);
  });

  it('INIT-REBOOT: NAKs an address on the wrong network or not the client’s; RENEW extends', () => {
    const book = new LeaseBook([POOL]);
    const pool = book.pools[0]!;
    const ip = bind(book, 'aa:00:00:00:00:01');
    expect(book.request(pool, q('aa:00:00:00:00:01', { requestedIp: '192.168.1.5' }), null, T)).toMatchObject({ kind: 'nak' });
    expect(book.request(pool, q('aa:00:00:00:00:01', { requestedIp: '10.77.0.102' }), null, T)).toMatchObject({ kind: 'nak' });
    const renew = book.request(pool, q('aa:00:00:00:00:01', { ciaddr: ip }), null, T + 1000);
    expect(renew).toMatchObject({ kind: 'ack', lease: { ip, expiresAt: T + 1000 + 3600_000 } });
  });

  it('gives reservations their address and keeps it out of the dynamic range', () => {
    const book = new LeaseBook([POOL], [{ mac: 'AA-00-00-00-00-09', ip: '10.77.0.100', hostname: 'lab1' }]);
    const pool = book.pools[0]!;
    expect(book.offer(pool, q('aa:00:00:00:00:01'), T)!.ip).toBe('10.77.0.101');
    expect(book.offer(pool, q('aa:00:00:00:00:09'), T)!.ip).toBe('10.77.0.100');
    const out = book.request(pool, q('aa:00:00:00:00:09', { requestedIp: '10.77.0.100' }), true, T);
    expect(out).toMatchObject({ kind: 'ack', lease: { hostname: 'lab1' } });
  });

  it('exhausts: bound addresses are never offered to others; pending offers are taken back', () => {
    const book = new LeaseBook([POOL]);
    const pool = book.pools[0]!;
    for (const m of ['01', '02', '03']) bind(book, `aa:00:00:00:00:${m}`);
    expect(book.offer(pool, q('aa:00:00:00:00:04'), T)).toBeNull();
    const book2 = new LeaseBook([POOL]);
    for (const m of ['01', '02', '03']) book2.offer(book2.pools[0]!, q(`aa:00:00:00:00:${m}`), T);
    expect(book2.offer(book2.pools[0]!, q('aa:00:00:00:00:04'), T)!.ip).toBe('10.77.0.100');
  });

  it('expired leases free their address; the client gets it back if still free', () => {
    const book = new LeaseBook([POOL], [], { leaseSeconds: 60 });
    const pool = book.pools[0]!;
    const ip = bind(book, 'aa:00:00:00:00:01');
    expect(book.offer(pool, q('aa:00:00:00:00:01'), T + 61_000)!.ip).toBe(ip);
    for (const m of ['02', '03']) bind(book, `aa:00:00:00:00:${m}`, T + 61_000);
    const other = book.offer(pool, q('aa:00:00:00:00:04'), T + 120_000);
    expect(other).not.toBeNull();
  });

  it('DECLINE quarantines the address; RELEASE frees it but remembers the client', () => {
    const book = new LeaseBook([POOL], [], { declineSeconds: 600 });
    const pool = book.pools[0]!;
    const offer = book.offer(pool, q('aa:00:00:00:00:01'), T)!;
    expect(book.decline(q('aa:00:00:00:00:01', { requestedIp: offer.ip }), T)).toMatchObject({ state: 'declined', ip: offer.ip });
    expect(book.offer(pool, q('aa:00:00:00:00:01'), T)!.ip).not.toBe(offer.ip);
    expect(book.decline(q('aa:00:00:00:00:02', { requestedIp: '10.77.0.102' }), T)).toBeNull(); // not its address
    const ip = bind(book, 'aa:00:00:00:00:05');
    expect(book.release(q('aa:00:00:00:00:06', { ciaddr: ip }), T)).toBeNull();
    expect(book.release(q('aa:00:00:00:00:05', { ciaddr: ip }), T)).toMatchObject({ state: 'released' });
    expect(book.offer(pool, q('aa:00:00:00:00:05'), T + 1)!.ip).toBe(ip);
  });

  it('picks the pool by relay or interface address', () => {
    const book = new LeaseBook([POOL, { subnet: '10.88.0.0/16', rangeStart: '10.88.1.1', rangeEnd: '10.88.1.200' }]);
    expect(book.poolFor('10.88.200.1')?.config.subnet).toBe('10.88.0.0/16');
    expect(book.poolFor('10.77.0.3')?.config.subnet).toBe('10.77.0.0/24');
    expect(book.poolFor('192.168.0.1')).toBeUndefined();
  });

  it('refuses bad configuration with the field to fix', () => {
    expect(() => new LeaseBook([{ subnet: '10.77.0.0/24', rangeStart: '10.77.1.1', rangeEnd: '10.77.1.9' }])).toThrow(/inside 10.77.0.0\/24/);
    expect(() => new LeaseBook([POOL, { subnet: '10.77.0.0/16', rangeStart: '10.77.5.1', rangeEnd: '10.77.5.9' }])).toThrow(/overlap/);
    expect(() => new LeaseBook([POOL], [{ mac: 'nope', ip: '10.77.0.5' }])).toThrow(/MAC/);
    expect(() => new LeaseBook([{ ...POOL, router: '10.77.0.300' }])).toThrow(/router/);
    expect(() => new LeaseBook([POOL], [{ mac: 'aa:00:00:00:00:01', ip: '10.99.0.5' }])).toThrow(/pool/);
  });

  it('restores stored leases: the owner keeps its address, no one else gets it', async () => {
    const repo = await openSqliteRepository({ file: ':memory:' });
    try {
      const book = new LeaseBook([POOL]);
      const ip = bind(book, 'aa:00:00:00:00:01');
      await repo.leases.putMany(book.leases());
      const again = new LeaseBook([POOL], [], {}, await repo.leases.list());
      expect(again.leaseOf('aa:00:00:00:00:01')).toMatchObject({ ip, state: 'bound' });
      expect(again.offer(again.pools[0]!, q('aa:00:00:00:00:02', { requestedIp: ip }), T)!.ip).not.toBe(ip);
      expect(again.offer(again.pools[0]!, q('aa:00:00:00:00:01'), T)!.ip).toBe(ip);
      expect(await repo.leases.purge(T + 10 * 3600_000)).toBe(0); // bound rows are never purged
    } finally {
      await repo.close();
    }
  });
});
