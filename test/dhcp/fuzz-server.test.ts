/**
 * 100,000 mutated DHCP packets (seeds: the firmware captures in fixtures/captures)
 * thrown at running servers on loopback, on both the DHCP and the boot-server port:
 * no crash, memory flat, and a valid DISCOVER is still answered afterwards.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startDhcpServer, type DhcpServer } from '../../src/dhcp/server.js';
import { DhcpMessageType } from '../../src/dhcp/option-codes.js';
import { messageType } from '../../src/dhcp/options.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { loadNativeNet } from '../../src/native/udp-device.js';
import { allCapturedDhcp } from './captures.js';
import { bootEveryone, clientPacket, testSocket, type TestSocket } from './listener-helpers.js';
import { mulberry32 as prng } from '../support/prng.js';

// A real collection before each heap reading, so "flat" is measured, not guessed.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});


function mutator(seeds: Buffer[], seed: number): () => Buffer {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  return () => {
    const base = Buffer.from(seeds[int(seeds.length)]!);
    const kind = int(8);
    let b = base;
    if (kind === 0) {
      b = base.subarray(0, int(base.length + 1)); // truncate anywhere
    } else if (kind === 1) {
      b = Buffer.concat([base, Buffer.from(Array.from({ length: int(300) }, () => int(256)))]); // trailing junk
    } else if (kind === 2) {
      const at = 240 + int(Math.max(1, base.length - 240));
      if (at < b.length) b[at] = int(256); // an option code or length
    } else if (kind === 3) {
      b[242] = int(8) + 1; // message type 53's value: DISCOVER…INFORM at random
      b[28 + int(6)] = int(256); // and a new MAC
    } else if (kind === 4) {
      b[24] = 127; b[25] = 0; b[26] = 0; b[27] = int(2) ? 1 : 0; // giaddr 127.0.0.1 or 127.0.0.0
    } else {
      for (let k = int(12) + 1; k > 0; k--) b[int(b.length)] = int(256); // random bytes anywhere
    }
    // Replies never leave loopback; a random ciaddr/giaddr outside 127/8 is redirected by the server.
    return b;
  };
}

async function flood(client: TestSocket, server: DhcpServer, ports: number[], total: number, next: () => Buffer): Promise<void> {
  const batch = 100;
  const start = server.stats.received;
  for (let sent = 0; sent < total; sent += batch) {
    const n = Math.min(batch, total - sent);
    await Promise.all(Array.from({ length: n }, (_, k) => client.send(next(), ports[(sent + k) % ports.length]!)));
    // Paced: wait (bounded) until the server has read this batch, so every packet is
    // handled instead of being dropped by the kernel; a raw flood is not what this measures.
    for (let i = 0; i < 200 && server.stats.received - start < sent + n; i++) await new Promise((r) => setImmediate(r));
  }
}

async function drain(client: TestSocket): Promise<void> {
  while (await client.next(150)) { /* replies to the flood */ }
}

async function stillAnswers(server: DhcpServer, client: TestSocket, port: number, giaddr?: string): Promise<void> {
  await drain(client);
  await client.send(clientPacket({ type: 1, mac: '52:54:00:fe:fe:fe', xid: 0x600d, ...(giaddr ? { giaddr } : {}) }), port);
  let got = await client.next(2000);
  while (got && got.packet.xid !== 0x600d) got = await client.next(2000);
  expect(got).not.toBeNull();
  expect(messageType(got!.packet)).toBe(DhcpMessageType.Offer);
  expect(server.stats.received).toBeGreaterThan(1000);
}

describe('DHCP server under 100,000 mutated packets', () => {
  const seeds = allCapturedDhcp().filter((c) => c.packet.op === 1).map((c) => c.datagram.payload);

  it('full mode: no crash, bounded heap, bounded lease book, still answers', { timeout: 120_000 }, async () => {
    const repo = await openSqliteRepository({ file: ':memory:' });
    cleanups.push(() => repo.close());
    const client = await testSocket();
    cleanups.push(() => client.close());
    const server = await startDhcpServer({
      mode: 'full', address: '127.0.0.1', dhcpPort: 0, pxePort: 0, clientPort: client.port, relayPort: client.port, interfaces: [],
      pools: [{ subnet: '127.77.0.0/24', rangeStart: '127.77.0.10', rangeEnd: '127.77.0.250' }, { subnet: '127.0.0.0/24', rangeStart: '127.0.0.100', rangeEnd: '127.0.0.200' }],
      leases: repo.leases, decide: bootEveryone,
    });
    cleanups.push(() => server.close());
    const ports = server.endpoints.map((e) => e.port);
    const next = mutator(seeds, 0xd4c9);
    await flood(client, server, ports, 10_000, next);
    await drain(client);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    await flood(client, server, ports, 90_000, next);
    await drain(client);
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    expect(growth).toBeLessThan(16 * 1024 * 1024);
    expect(server.leaseBook!.offerCount).toBeLessThanOrEqual(241 + 101);
    // Nearly every datagram reached the handler (the flood is paced), and most were hostile.
    expect(server.stats.received).toBeGreaterThan(95_000);
    expect(server.stats.invalid).toBeGreaterThan(0);
    expect(server.stats.acks + server.stats.offers + server.stats.naks).toBeGreaterThan(0);
    await stillAnswers(server, client, ports[0]!);
  });

  // The same flood through the per-interface socket's batched native receive (lo, root),
  // with datagrams larger than a receive slot mixed in.
  it.skipIf(process.getuid?.() !== 0 || typeof loadNativeNet().addon?.recvStart !== 'function')(
    'full mode on a device-bound socket (native receive): no crash, still answers', { timeout: 120_000 }, async () => {
      const repo = await openSqliteRepository({ file: ':memory:' });
      cleanups.push(() => repo.close());
      const client = await testSocket();
      cleanups.push(() => client.close());
      const server = await startDhcpServer({
        mode: 'full', address: '0.0.0.0', dhcpPort: 0, pxePort: 0, clientPort: client.port, relayPort: client.port, interfaces: ['lo'],
        pools: [{ subnet: '127.77.0.0/24', rangeStart: '127.77.0.10', rangeEnd: '127.77.0.250' }, { subnet: '127.0.0.0/24', rangeStart: '127.0.0.100', rangeEnd: '127.0.0.200' }],
        leases: repo.leases, decide: bootEveryone,
      });
      cleanups.push(() => server.close());
      const ports = server.endpoints.map((e) => e.port);
      const mutate = mutator(seeds, 0xbee5);
      let n = 0;
      // Every 500th datagram is larger than a slot: dropped in C, never delivered cut short.
      const next = (): Buffer => (++n % 500 === 0 ? Buffer.concat([mutate(), Buffer.alloc(4000, n & 255)]) : mutate());
      const oversize = (total: number): number => Math.floor(total / 500);
      await flood(client, server, ports, 20_000, next);
      await drain(client);
      expect(server.stats.received).toBeGreaterThan(19_000 - oversize(20_000));
      expect(server.stats.invalid).toBeGreaterThan(0);
      // Relayed: a device-bound server on lo broadcasts a direct answer, which a client bound to 127.0.0.1 misses.
      await stillAnswers(server, client, ports[0]!, '127.0.0.1');
    });

  it('proxy mode: no crash, still answers', { timeout: 120_000 }, async () => {
    const client = await testSocket();
    cleanups.push(() => client.close());
    const server = await startDhcpServer({
      mode: 'proxy', address: '127.0.0.1', dhcpPort: 0, pxePort: 0, clientPort: client.port, relayPort: client.port, interfaces: [],
      decide: bootEveryone,
    });
    cleanups.push(() => server.close());
    const ports = server.endpoints.map((e) => e.port);
    await flood(client, server, ports, 20_000, mutator(seeds, 0x5eed));
    expect(server.stats.proxyReplies + server.stats.bootServerReplies).toBeGreaterThan(0);
    await stillAnswers(server, client, ports[0]!);
  });
});
