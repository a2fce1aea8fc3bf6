/**
 * Fuzz-style robustness: 100,000 seeded random and mutated datagrams to the codec
 * and 100,000 to a running server (request port and a live transfer port). No
 * throw, no unhandled rejection, bounded heap, and the server still serves.
 */
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeAck,
  encodeData,
  encodeError,
  encodeOack,
  encodeRrq,
  encodeTftpPacket,
  encodeWrq,
  isTftpParseError,
  parseTftpPacket,
} from '../../src/tftp/packet.js';
import { negotiateOptions } from '../../src/tftp/options.js';
import { normalizeRequestName } from '../../src/tftp/paths.js';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { tftpGet, until } from './helpers/client.js';
import { mulberry32 } from './helpers/relay.js';

const COUNT = 100_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const seeds: Buffer[] = [
  encodeRrq('boot.bin', 'octet'),
  encodeRrq('boot.bin', 'octet', [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }]),
  encodeRrq('\\SMSBoot\\x64\\pxeboot.com', 'netascii', [{ name: 'blksize', value: '65464' }, { name: 'timeout', value: '1' }]),
  encodeRrq('../etc/passwd', 'octet'),
  encodeWrq('up.bin', 'octet'),
  encodeAck(0),
  encodeAck(65535),
  encodeData(1, Buffer.alloc(32, 7)),
  encodeError(8, 'tsize probe'),
  encodeOack([{ name: 'blksize', value: '1468' }]),
];

function makeFuzzer(seed: number): () => Buffer {
  const rand = mulberry32(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const randomBytes = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = int(256);
    return b;
  };
  return () => {
    const kind = int(10);
    if (kind < 3) {
      // random, often with a plausible opcode
      const b = randomBytes(int(120));
      if (b.length >= 2 && rand() < 0.7) b.writeUInt16BE(int(8), 0);
      return b;
    }
    let b = Buffer.from(seeds[int(seeds.length)] as Buffer);
    const rounds = 1 + int(4);
    for (let r = 0; r < rounds; r++) {
      switch (int(6)) {
        case 0: // bit flip
          if (b.length) {
            const at = int(b.length);
            b[at] = (b[at] as number) ^ (1 << int(8));
          }
          break;
        case 1: // truncate
          b = b.subarray(0, int(b.length + 1));
          break;
        case 2: // append junk
          b = Buffer.concat([b, randomBytes(int(40))]);
          break;
        case 3: // NUL or separator injection
          if (b.length) b[int(b.length)] = [0, 0x2f, 0x5c, 0x2e][int(4)] as number;
          break;
        case 4: // duplicate a slice
          if (b.length > 2) {
            const s = int(b.length);
            b = Buffer.concat([b, b.subarray(s, s + int(30))]);
          }
          break;
        default: // byte replace
          if (b.length) b[int(b.length)] = int(256);
      }
    }
    return b;
  };
}

let dir: string;
let server: TftpServer;
const file = crypto.randomBytes(300_000);
const rejections: unknown[] = [];
const onRejection = (e: unknown): void => {
  rejections.push(e);
};

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-fuzz-'));
  fs.writeFileSync(path.join(dir, 'boot.bin'), file);
  server = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, timeoutMs: 50, retries: 2, maxTransfers: 64, maxPerClient: 16 });
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fuzz', () => {
  it(`codec: ${COUNT} random and mutated packets never throw; what parses re-encodes to itself`, () => {
    const next = makeFuzzer(42);
    let parsed = 0;
    for (let i = 0; i < COUNT; i++) {
      const buf = next();
      const p = parseTftpPacket(buf);
      if (isTftpParseError(p)) continue;
      parsed++;
      expect(parseTftpPacket(encodeTftpPacket(p))).toEqual(p);
      if (p.type === 'rrq' || p.type === 'wrq') {
        normalizeRequestName(p.filename);
        negotiateOptions(p.options, { maxBlksize: 65464, maxWindowsize: 64, defaultTimeoutMs: 1000 }, 1000);
      }
    }
    // Both branches must have been exercised for the test to mean anything.
    expect(parsed).toBeGreaterThan(COUNT / 10);
    expect(parsed).toBeLessThan(COUNT);
  });

  it(`server: ${COUNT} hostile datagrams; memory stays flat and it still serves`, async () => {
    const next = makeFuzzer(7);
    const attacker = dgram.createSocket('udp4');
    const victim = dgram.createSocket('udp4');
    attacker.on('message', () => undefined);
    attacker.on('error', () => undefined);
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => victim.bind(0, '127.0.0.1', r));
    // A live transfer port to aim at, from its own client and from strangers.
    const tids: number[] = [];
    attacker.on('message', (m, rinfo) => {
      if (rinfo.port !== server.port && tids.length < 64) tids.push(rinfo.port);
    });
    victim.on('message', (m, rinfo) => {
      if (rinfo.port !== server.port && !tids.includes(rinfo.port)) tids.push(rinfo.port);
    });
    victim.send(encodeRrq('boot.bin', 'octet', [{ name: 'blksize', value: '512' }]), server.port, '127.0.0.1');

    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const deadline = Date.now() + 40_000;
    let sent = 0;
    let toRequestPort = 0;
    while (sent < COUNT && Date.now() < deadline) {
      // Small batches: sender and server share this event loop, and libuv reads at
      // most 32 datagrams per socket per turn; the point is that the server parses
      // them, not that the kernel drops them.
      for (let i = 0; i < 20 && sent < COUNT; i++, sent++) {
        const pkt = next();
        const toTid = tids.length > 0 && sent % 10 === 0;
        const port = toTid ? (tids[sent % tids.length] as number) : server.port;
        if (!toTid) toRequestPort++;
        (sent % 20 === 0 ? victim : attacker).send(pkt, port, '127.0.0.1');
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(sent).toBe(COUNT);
    // Let abandoned transfers time out (50 ms × 2 retries) and the kernel queues drain.
    await until(() => server.stats().active === 0, 5000);
    await new Promise((r) => setTimeout(r, 100));
    attacker.close();
    victim.close();
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    const growth = heapAfter - heapBefore;
    const st = server.stats();
    console.log(`fuzz: heap ${((heapBefore / 1e6)).toFixed(1)} → ${(heapAfter / 1e6).toFixed(1)} MB; stats ${JSON.stringify(st)}`);
    expect(growth).toBeLessThan(32 * 1024 * 1024);
    expect(st.invalidPackets).toBeGreaterThan(1000);
    // Nearly every datagram aimed at the request port was parsed and judged.
    expect(st.requests + st.invalidPackets + st.duplicateRequests).toBeGreaterThan(toRequestPort * 0.9);
    expect(st.active).toBe(0);

    const r = await tftpGet({ port: server.port, file: 'boot.bin', options: [['blksize', '1468'], ['windowsize', '16']] });
    expect(r.data.equals(file)).toBe(true);
    expect(rejections).toEqual([]);
  }, 60_000);
});
