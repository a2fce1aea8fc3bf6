/**
 * The native send path (sendmmsg of a whole window from the transfer's ring, addon
 * src/native/udp_device.c) and the pure-JS path it falls back to: the same wire
 * behaviour, including RFC 7440 §4 (restart after an earlier ACK) and retransmission
 * on timeout. Tests of the addon itself are skipped where it is not built; the rest
 * runs on every path the machine has (`PXEPOINT_TFTP_NATIVE=0` forces the JS path for
 * the whole suite).
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadNativeNet } from '../../src/native/udp-device.js';
import { startTftpServer } from '../../src/tftp/server.js';
import { tftpGet, until } from './helpers/client.js';

const addon = loadNativeNet().addon;
const hasFastPath = typeof addon?.sendWindow === 'function';
const forcedJs = process.env.PXEPOINT_TFTP_NATIVE === '0';

let dir: string;
const file = crypto.randomBytes(64 * 1024 + 100);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-native-'));
  fs.writeFileSync(path.join(dir, 'f.bin'), file);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function rrq(name: string, options: Array<[string, string]>): Buffer {
  const parts = [name, 'octet', ...options.flat()];
  return Buffer.concat([Buffer.from([0, 1]), ...parts.map((p) => Buffer.from(p + '\0', 'latin1'))]);
}
const ack = (block: number): Buffer => Buffer.from([0, 4, (block >> 8) & 0xff, block & 0xff]);

/** A client socket that queues what it receives, for step-by-step exchanges. */
async function rawClient(): Promise<{
  sock: dgram.Socket;
  next(ms?: number): Promise<{ msg: Buffer; port: number } | null>;
  close(): void;
}> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const queue: Array<{ msg: Buffer; port: number }> = [];
  let waiter: (() => void) | null = null;
  sock.on('message', (msg, rinfo) => {
    queue.push({ msg, port: rinfo.port });
    waiter?.();
  });
  return {
    sock,
    async next(ms = 2000) {
      const end = Date.now() + ms;
      while (queue.length === 0 && Date.now() < end) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, Math.max(1, end - Date.now()));
          waiter = () => {
            clearTimeout(t);
            r();
          };
        });
        waiter = null;
      }
      return queue.shift() ?? null;
    },
    close: () => sock.close(),
  };
}

describe('path selection', () => {
  it('uses the native path when the addon has it, unless told not to', async () => {
    const auto = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir });
    const js = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, nativeSend: false });
    try {
      expect(auto.nativeSend).toBe(hasFastPath && !forcedJs);
      expect(js.nativeSend).toBe(false);
    } finally {
      await auto.close();
      await js.close();
    }
  });
});

describe.skipIf(!hasFastPath)('addon sendWindow', () => {
  it('sends the ring slots in order, wrapping, with their lengths, in one call', async () => {
    const n = addon!;
    const recv = dgram.createSocket('udp4');
    await new Promise<void>((r) => recv.bind(0, '127.0.0.1', r));
    const got: Buffer[] = [];
    recv.on('message', (m) => got.push(m));
    const fd = n.openTransferSocket!('127.0.0.1', 1 << 20, 1 << 20);
    try {
      const stride = 100;
      const slots = 5;
      const ring = Buffer.alloc(stride * slots);
      const lens = new Uint32Array(slots);
      for (let i = 0; i < slots; i++) {
        ring.fill(0x41 + i, i * stride, (i + 1) * stride);
        lens[i] = 10 + i;
      }
      const dest = n.sockaddrFor!('127.0.0.1', recv.address().port) as Buffer;
      expect(dest).toBeInstanceOf(Buffer);
      expect(n.sendWindow!(fd, dest, ring, stride, lens, 3, 4)).toBe(4);
      for (let i = 0; i < 100 && got.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.map((m) => [m.length, String.fromCharCode(m[0] as number)])).toEqual([
        [13, 'D'],
        [14, 'E'],
        [10, 'A'],
        [11, 'B'],
      ]);
      expect(() => n.sendWindow!(fd, dest, ring, stride, lens, 5, 1)).toThrow(RangeError);
      expect(n.sockaddrFor!('fe80::1%nope', 69)).toBeNull();
    } finally {
      n.closeFd(fd);
      recv.close();
    }
  });
});

const hasBusyPoll = typeof addon?.pollRecv === 'function';

describe.skipIf(!hasBusyPoll)('addon pollRecv', () => {
  it("takes only the client's datagram, leaves anything else queued, and gives up after the budget", async () => {
    const n = addon!;
    const client = dgram.createSocket('udp4');
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    const fd = n.openTransferSocket!('127.0.0.1', 1 << 20, 1 << 20);
    // The transfer socket's port: send to it from a throwaway socket and read the source.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const buf = Buffer.alloc(64);
    try {
      const dest = n.sockaddrFor!('127.0.0.1', client.address().port) as Buffer;
      // Nothing queued: -1 after about the budget, not much sooner, not much later.
      let t0 = process.hrtime.bigint();
      expect(n.pollRecv!(fd, dest, buf, 2000, -1)).toBe(-1);
      let us = Number(process.hrtime.bigint() - t0) / 1000;
      expect(us).toBeGreaterThanOrEqual(2000);
      expect(us).toBeLessThan(200_000);
      const selfDest = n.sockaddrFor!('127.0.0.1', probe.address().port) as Buffer;
      const ring = Buffer.from('ping');
      expect(n.sendWindow!(fd, selfDest, ring, 4, new Uint32Array([4]), 0, 1)).toBe(1);
      const port = await new Promise<number>((r) => probe.once('message', (_m, ri) => r(ri.port)));
      // The client's ACK is taken.
      await new Promise<void>((r) => client.send(Buffer.from([0, 4, 0, 7]), port, '127.0.0.1', () => r()));
      expect(n.pollRecv!(fd, dest, buf, 100_000, -1)).toBe(4);
      expect([...buf.subarray(0, 4)]).toEqual([0, 4, 0, 7]);
      // A stranger's datagram is not taken: -2, and it is still there for the event loop.
      await new Promise<void>((r) => stranger.send(Buffer.from([0, 4, 0, 9]), port, '127.0.0.1', () => r()));
      t0 = process.hrtime.bigint();
      expect(n.pollRecv!(fd, dest, buf, 100_000, -1)).toBe(-2);
      us = Number(process.hrtime.bigint() - t0) / 1000;
      expect(us).toBeLessThan(50_000);
      expect(n.pollRecv!(fd, n.sockaddrFor!('127.0.0.1', stranger.address().port) as Buffer, buf, 100_000, -1)).toBe(4);
      expect([...buf.subarray(0, 4)]).toEqual([0, 4, 0, 9]);
      // Larger than the buffer: left for dgram too.
      await new Promise<void>((r) => client.send(Buffer.alloc(100), port, '127.0.0.1', () => r()));
      expect(n.pollRecv!(fd, dest, buf, 100_000, -1)).toBe(-2);
      expect(n.pollRecv!(fd, dest, Buffer.alloc(200), 100_000, -1)).toBe(100);
      expect(() => n.pollRecv!(fd, dest, buf, -1, -1)).toThrow(RangeError);
    } finally {
      n.closeFd(fd);
      client.close();
      stranger.close();
      probe.close();
    }
  });

  it('busy-polled ACKs go through the same state machine: next window, duplicates ignored, stray TIDs get ERROR 5', async () => {
    const server = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, busyPollMicros: 20_000 });
    const c = await rawClient();
    const stranger = await rawClient();
    try {
      expect(server.busyPollMicros).toBe(forcedJs ? 0 : 10_000); // clamped to 10 ms
      c.sock.send(rrq('f.bin', [['blksize', '512'], ['windowsize', '8']]), server.port, '127.0.0.1');
      const oack = await c.next();
      expect(oack?.msg.readUInt16BE(0)).toBe(6);
      const tid = oack?.port as number;
      // Queued together: the event loop takes ACK 0, the busy-poll after window 1 (when
      // on) takes the rest; a stranger's packet in between stops it and gets ERROR 5.
      c.sock.send(ack(0), tid, '127.0.0.1');
      c.sock.send(ack(8), tid, '127.0.0.1');
      c.sock.send(ack(8), tid, '127.0.0.1');
      c.sock.send(ack(16), tid, '127.0.0.1');
      stranger.sock.send(ack(1), tid, '127.0.0.1');
      c.sock.send(ack(24), tid, '127.0.0.1');
      const blocks: number[] = [];
      for (;;) {
        const r = await c.next(blocks.length >= 32 ? 300 : 2000);
        if (!r) break;
        expect(r.msg.readUInt16BE(0)).toBe(3);
        const b = r.msg.readUInt16BE(2);
        expect(r.msg.subarray(4).equals(file.subarray((b - 1) * 512, b * 512))).toBe(true);
        blocks.push(b);
      }
      // Each window once, in order: the duplicate ACK 8 caused no second burst.
      expect(blocks).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
      const err = await stranger.next();
      expect(err?.msg.readUInt16BE(0)).toBe(5);
      expect(err?.msg.readUInt16BE(2)).toBe(5);
      const st = server.stats();
      expect(st.unknownTid).toBe(1);
      expect(st.retransmits).toBe(0);
      if (server.busyPollMicros > 0) expect(st.busyPollHits).toBeGreaterThanOrEqual(1);
      c.sock.send(Buffer.from('\x00\x05\x00\x00bye\x00', 'latin1'), tid, '127.0.0.1');
      await until(() => server.stats().clientAborted === 1);
    } finally {
      c.close();
      stranger.close();
      await server.close();
    }
  });
});

const paths = [...(hasFastPath && !forcedJs ? [true] : []), false];

describe.each(paths)('nativeSend %s', (nativeSend) => {
  it('restarts the window right after an earlier ACK (RFC 7440 §4) and retransmits it on timeout', async () => {
    const server = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, nativeSend, timeoutMs: 200, retries: 3 });
    const c = await rawClient();
    const block = (b: number): Buffer => file.subarray((b - 1) * 512, b * 512);
    const expectData = async (from: number, to: number): Promise<number> => {
      let port = 0;
      for (let b = from; b <= to; b++) {
        const r = await c.next();
        expect(r?.msg.readUInt16BE(0)).toBe(3);
        expect(r?.msg.readUInt16BE(2)).toBe(b);
        expect(r?.msg.subarray(4).equals(block(b))).toBe(true);
        port = r?.port as number;
      }
      return port;
    };
    try {
      c.sock.send(rrq('f.bin', [['blksize', '512'], ['windowsize', '8']]), server.port, '127.0.0.1');
      const oack = await c.next();
      expect(oack?.msg.readUInt16BE(0)).toBe(6);
      const tid = oack?.port as number;
      c.sock.send(ack(0), tid, '127.0.0.1');
      await expectData(1, 8);
      // Block 4 "lost": the client acknowledges 3, the server restarts at 4 at once.
      c.sock.send(ack(3), tid, '127.0.0.1');
      await expectData(4, 11);
      // Silence: after the timeout the unacknowledged window 4..11 comes again.
      await expectData(4, 11);
      c.sock.send(ack(11), tid, '127.0.0.1');
      await expectData(12, 19);
      c.sock.send(Buffer.from('\x00\x05\x00\x00bye\x00', 'latin1'), tid, '127.0.0.1');
      // Counters are added up when the transfer ends: 5 blocks resent at once, 8 on timeout.
      await until(() => server.stats().clientAborted === 1);
      expect(server.stats().retransmits).toBe(5 + 8);
    } finally {
      c.close();
      await server.close();
    }
  });

  it.each([
    ['lock-step 65464', [['blksize', '65464']]],
    ['1468 windowsize 16', [['blksize', '1468'], ['windowsize', '16']]],
    ['8192 windowsize 64, tiny socket buffer', [['blksize', '8192'], ['windowsize', '64']]],
  ] as const)('%s arrives byte-identical', async (label, options) => {
    const server = await startTftpServer({
      address: '127.0.0.1',
      port: 0,
      root: dir,
      nativeSend,
      ...(label.includes('tiny') ? { socketBufferBytes: 4096 } : {}),
    });
    try {
      const r = await tftpGet({ port: server.port, file: 'f.bin', options: options.map(([k, v]) => [k, v] as [string, string]), deadlineMs: 20_000 });
      expect(r.error).toBeNull();
      expect(r.data.equals(file)).toBe(true);
    } finally {
      await server.close();
    }
  });
});
