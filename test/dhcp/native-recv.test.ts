/**
 * Batched native receive (src/dhcp/native-recv.ts, recvStart in src/native/udp_batch.c)
 * on device-bound sockets (`lo`, root): what arrives is what dgram would give (bytes,
 * source address and port), datagrams larger than a slot are dropped and counted without
 * harm, PXEPOINT_DHCP_NATIVE=0 / nativeRecv: false keep dgram, and close lets go of the
 * poll (the process is not held open).
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { openDhcpListeners, type DhcpListeners } from '../../src/dhcp/listener.js';
import type { DhcpInterface } from '../../src/dhcp/interfaces.js';
import { loadNativeNet } from '../../src/native/udp-device.js';

const addon = loadNativeNet().addon;
const hasRecv = typeof addon?.recvStart === 'function';
const isRoot = process.getuid?.() === 0;
const lo = { name: 'lo' } as DhcpInterface;
/** `PXEPOINT_DHCP_NATIVE=0 npx vitest run test/dhcp`: only the switch's own test runs. */
const envOff = process.env.PXEPOINT_DHCP_NATIVE === '0';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Got { bytes: Buffer; address: string; port: number; size: number; kind: string }

async function open(nativeRecv?: boolean): Promise<{ listeners: DhcpListeners; got: Got[] }> {
  const got: Got[] = [];
  const listeners = await openDhcpListeners({
    address: '0.0.0.0', dhcpPort: 0, pxePort: 0, interfaces: [lo],
    onMessage: (msg, from, ep) => got.push({ bytes: msg, address: from.address, port: from.port, size: from.size, kind: ep.kind }),
    ...(nativeRecv !== undefined ? { nativeRecv } : {}),
  });
  cleanups.push(() => listeners.close());
  return { listeners, got };
}

async function sender(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

const until = async (cond: () => boolean, ms = 2000): Promise<void> => {
  for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 5));
};

describe.skipIf(!hasRecv || !isRoot)('native batched receive on a device-bound socket (lo)', () => {
  it.skipIf(envOff)('delivers bytes, source and port like dgram; drops datagrams larger than a slot', async () => {
    const { listeners, got } = await open();
    const ep = listeners.endpoints.find((e) => e.kind === 'dhcp')!;
    expect(ep.receiver).toBeTruthy();
    const s = await sender();
    const sizes = [300, 1472, 2048, 2049, 9000, 60000, 0, 548];
    const payloads = sizes.map((n, k) => Buffer.alloc(n, k + 1));
    for (const p of payloads) s.send(p, ep.socket.address().port, '127.0.0.1');
    await until(() => got.length >= 5 && ep.receiver!.stats[0] === 3);
    expect(got.map((g) => g.bytes.length)).toEqual([300, 1472, 2048, 0, 548]);
    got.forEach((g, k) => {
      const want = payloads.filter((p) => p.length <= 2048)[k]!;
      expect(g.bytes.equals(want)).toBe(true);
      expect(g).toMatchObject({ address: '127.0.0.1', port: s.address().port, size: want.length, kind: 'dhcp' });
    });
    expect(ep.receiver!.stats[0]).toBe(3); // 2049, 9000, 60000
  });

  it.skipIf(envOff)('a burst larger than one batch arrives whole, in order; each Buffer is the handler\'s own', async () => {
    const { listeners, got } = await open();
    const ep = listeners.endpoints.find((e) => e.kind === 'pxe')!;
    const s = await sender();
    for (let k = 0; k < 500; k++) {
      const b = Buffer.alloc(300);
      b.writeUInt32BE(k, 0);
      s.send(b, ep.socket.address().port, '127.0.0.1');
    }
    await until(() => got.length >= 500, 5000);
    expect(got.map((g) => g.bytes.readUInt32BE(0))).toEqual(Array.from({ length: 500 }, (_, k) => k));
  });

  it('nativeRecv: false and PXEPOINT_DHCP_NATIVE=0 keep dgram (which delivers large datagrams too)', async () => {
    const saved = process.env.PXEPOINT_DHCP_NATIVE;
    process.env.PXEPOINT_DHCP_NATIVE = '0';
    try {
      for (const { listeners, got } of [await open(false), await open()]) {
        const ep = listeners.endpoints[0]!;
        expect(ep.receiver ?? null).toBeNull();
        const s = await sender();
        s.send(Buffer.alloc(3000, 7), ep.socket.address().port, '127.0.0.1');
        await until(() => got.length >= 1);
        expect(got[0]!.bytes.length).toBe(3000);
      }
    } finally {
      if (saved === undefined) delete process.env.PXEPOINT_DHCP_NATIVE;
      else process.env.PXEPOINT_DHCP_NATIVE = saved;
    }
  });

  it('close stops the poll: nothing more is delivered and close resolves', async () => {
    const { listeners, got } = await open();
    const port = listeners.endpoints[0]!.socket.address().port;
    await listeners.close();
    const s = await sender();
    s.send(Buffer.alloc(300), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(0);
  });
});
