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
