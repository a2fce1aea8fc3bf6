/**
 * The batched reply path (src/dhcp/reply-sender.ts, src/native/udp_batch.c): replies of
 * one turn leave in one sendmmsg, in order and byte for byte; what the kernel refuses is
 * reported like a dgram error; what does not fit the socket buffer goes through dgram;
 * and a full-mode server on a device-bound socket (`lo`, root) answers DORA through it
 * with every ACK after its commit, as with PXEPOINT_DHCP_NATIVE=0. Loopback only.
 */
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DhcpEndpoint } from '../../src/dhcp/listener.js';
import { DhcpMessageType } from '../../src/dhcp/option-codes.js';
import { messageType } from '../../src/dhcp/options.js';
import { createReplySender, selectBatchSend } from '../../src/dhcp/reply-sender.js';
import { startDhcpServer } from '../../src/dhcp/server.js';
import { loadNativeNet, type NativeNet } from '../../src/native/udp-device.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { bootEveryone, clientPacket, testSocket } from './listener-helpers.js';

const addon = loadNativeNet().addon;
const hasBatch = typeof addon?.sendBatch === 'function';
const isRoot = process.getuid?.() === 0;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback endpoint; `fd` set when the addon opened the socket (the batched path). */
async function endpoint(native: boolean): Promise<DhcpEndpoint> {
  const socket = dgram.createSocket('udp4');
  let fd: number | null = null;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    if (native) {
      fd = addon!.openUdpSocket('', '127.0.0.1', 0);
      socket.bind({ fd }, () => resolve());
    } else {
      socket.bind(0, '127.0.0.1', () => resolve());
    }
  });
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { kind: 'dhcp', iface: null, port: socket.address().port, socket, fd };
}

async function receiver(): Promise<{ port: number; got: Buffer[]; until: (n: number, ms?: number) => Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const got: Buffer[] = [];
  socket.on('message', (m) => got.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return {
    port: socket.address().port,
    got,
    until: async (n, ms = 3000) => {
      const end = Date.now() + ms;
      while (got.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    },
  };
}

const payload = (i: number): Buffer => {
  const b = Buffer.alloc(300 + (i % 50));
  b.writeUInt32BE(i, 0);
  b.fill(i & 255, 4);
  return b;
};

describe('reply sender', () => {
  it('PXEPOINT_DHCP_NATIVE=0 and nativeSend: false choose dgram', () => {
    const fake = { sendBatch: () => 0 } as unknown as NativeNet;
    expect(selectBatchSend(false, fake)).toBeNull();
    expect(selectBatchSend(undefined, null)).toBeNull();
    expect(selectBatchSend(undefined, {} as NativeNet)).toBeNull(); // an addon built before sendBatch
    const before = process.env.PXEPOINT_DHCP_NATIVE;
    process.env.PXEPOINT_DHCP_NATIVE = '0';
    try {
      expect(selectBatchSend(undefined, fake)).toBeNull();
      expect(selectBatchSend(true, fake)).not.toBeNull();
    } finally {
      if (before === undefined) delete process.env.PXEPOINT_DHCP_NATIVE;
      else process.env.PXEPOINT_DHCP_NATIVE = before;
    }
  });

  it.skipIf(!hasBatch)('sends a turn of replies (more than one ring) in order, byte for byte, from a reused buffer', async () => {
    const ep = await endpoint(true);
    const rx = await receiver();
    const errors: Error[] = [];
    const sender = createReplySender({ nativeSend: true, onError: (e) => errors.push(e) });
    expect(sender.copies(ep)).toBe(true);
    const n = 150; // two full rings and a part
    const scratch = Buffer.alloc(600);
    for (let i = 0; i < n; i++) {
      const p = payload(i);
      p.copy(scratch);
      sender.send(ep, scratch.subarray(0, p.length), rx.port, '127.0.0.1');
      scratch.fill(0xee); // the sender copied it: reusing the buffer must not matter
    }
    await rx.until(n);
    expect(errors).toEqual([]);
    expect(rx.got.length).toBe(n);
    rx.got.forEach((m, i) => expect(m.equals(payload(i))).toBe(true));
    sender.close();
  });

  it.skipIf(!hasBatch)('wildcard sockets (no addon fd) and non-numeric addresses go through dgram', async () => {
    const wild = await endpoint(false);
    const native = await endpoint(true);
    const rx = await receiver();
    const sender = createReplySender({ nativeSend: true, onError: () => {} });
    expect(sender.copies(wild)).toBe(false);
    sender.send(wild, payload(1), rx.port, '127.0.0.1');
    sender.send(native, payload(2), rx.port, 'localhost');
    await rx.until(2);
    expect(rx.got.map((m) => m.readUInt32BE(0)).sort()).toEqual([1, 2]);
    sender.close();
  });

  it('reports refused datagrams like dgram errors and hands what did not fit to dgram', async () => {
    const ep = await endpoint(false);
    const rx = await receiver();
    const fakeEp: DhcpEndpoint = { ...ep, fd: 12345 };
    const calls: number[] = [];
    // 5 queued: the kernel refused one for good (EHOSTUNREACH), took 2 more, then the buffer filled up.
    const fake = {
      sendBatch: (_fd: number, _ring: Buffer, _stride: number, _lens: Uint32Array, _a: Uint32Array, _p: Uint32Array, count: number, status: Int32Array) => {
        calls.push(count);
        status[0] = 1;
        status[1] = 113;
        return 3;
      },
    } as unknown as NativeNet;
    const errors: NodeJS.ErrnoException[] = [];
    const sender = createReplySender({ nativeSend: true, native: fake, onError: (e) => errors.push(e as NodeJS.ErrnoException) });
    for (let i = 0; i < 5; i++) sender.send(fakeEp, payload(i), rx.port, '127.0.0.1');
    sender.flush();
    await rx.until(2);
    expect(calls).toEqual([5]);
    expect(errors.map((e) => e.code)).toEqual(['EHOSTUNREACH']);
    expect(rx.got.map((m) => m.readUInt32BE(0))).toEqual([3, 4]); // the two after the three dealt with
    sender.close();
  });
});

describe.skipIf(!hasBatch || !isRoot)('full mode on a device-bound socket (lo)', () => {
  for (const nativeSend of [true, false]) {
    it(`DORA for a burst of relayed clients, every ACK after its commit (nativeSend ${nativeSend})`, { timeout: 30_000 }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pxp-batch-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const repo = await openSqliteRepository({ dataDir: dir });
      cleanups.push(() => repo.close());
      const relay = await testSocket();
      cleanups.push(() => relay.close());
      const server = await startDhcpServer({
        mode: 'full', address: '0.0.0.0', dhcpPort: 0, pxePort: 0, relayPort: relay.port, interfaces: ['lo'], nativeSend,
        pools: [{ subnet: '127.0.0.0/8', rangeStart: '127.78.0.10', rangeEnd: '127.78.0.250' }],
        leases: repo.leases, decide: bootEveryone,
      });
      cleanups.push(() => server.close());
      const port = server.endpoints.find((e) => e.kind === 'dhcp')!.port;
      // A jumbo datagram (not DHCP): the batched receive drops it and counts it in
      // server.stats.oversized; dgram delivers it and the parser counts it invalid.
      const nativeRecv = typeof addon?.recvStart === 'function' && process.env.PXEPOINT_DHCP_NATIVE !== '0';
      await relay.send(Buffer.alloc(3000), port);
      const n = 100;
      const mac = (i: number): string => `52:54:00:dd:00:${i.toString(16).padStart(2, '0')}`;
      for (let i = 0; i < n; i++) await relay.send(clientPacket({ type: 1, mac: mac(i), vendorClass: null, xid: i + 1, giaddr: '127.0.0.1' }), port);
      const offered = new Map<number, string>();
      for (let k = 0; k < n; k++) {
        const got = await relay.next(3000);
        if (!got) break;
        expect(messageType(got.packet)).toBe(DhcpMessageType.Offer);
        offered.set(got.packet.xid, got.packet.yiaddr);
      }
      expect(offered.size).toBe(n);
      for (let i = 0; i < n; i++) {
        await relay.send(clientPacket({ type: 3, mac: mac(i), vendorClass: null, xid: 1000 + i, giaddr: '127.0.0.1', requestedIp: offered.get(i + 1)!, serverId: '127.0.0.1' }), port);
      }
      const acked = new Map<string, string>();
      for (let k = 0; k < n; k++) {
        const got = await relay.next(3000);
        if (!got) break;
        expect(messageType(got.packet)).toBe(DhcpMessageType.Ack);
        acked.set(got.packet.yiaddr, mac(got.packet.xid - 1000));
        // The ACK is on the wire: its lease must already be in the store.
        const stored = await repo.leases.get(got.packet.yiaddr);
        expect(stored).toMatchObject({ mac: acked.get(got.packet.yiaddr), state: 'bound' });
      }
      expect(acked.size).toBe(n);
      expect(server.stats.sendErrors).toBe(0);
      expect({ oversized: server.stats.oversized, invalid: server.stats.invalid, receiveErrors: server.stats.receiveErrors })
        .toEqual(nativeRecv ? { oversized: 1, invalid: 0, receiveErrors: 0 } : { oversized: 0, invalid: 1, receiveErrors: 0 });
      expect({ ...server.stats }).toMatchObject({ oversized: server.stats.oversized }); // copies carry the counter
    });
  }
});
