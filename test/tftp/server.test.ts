import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { composeResolvers, createDiskResolver, GeneratedFiles } from '../../src/tftp/files.js';
import { encodeRrq, encodeWrq } from '../../src/tftp/packet.js';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { exchange, tftpGet, until } from './helpers/client.js';

let root: string;
let server: TftpServer;
const files: Record<string, Buffer> = {};
const events: Array<{ name: string; data: Record<string, unknown> }> = [];
const unsubs: Array<() => void> = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-srv-'));
  fs.mkdirSync(path.join(root, 'SMSBoot', 'x64'), { recursive: true });
  files['SMSBoot/x64/pxeboot.com'] = crypto.randomBytes(25_000);
  files['big.bin'] = crypto.randomBytes(3 * 1024 * 1024 + 7);
  files['text.txt'] = Buffer.from('line one\nline two\r\nend');
  for (const [n, d] of Object.entries(files)) fs.writeFileSync(path.join(root, n), d);
  const generated = new GeneratedFiles().set('\\SMSTemp\\boot.var', (c) => Buffer.from(`vars for ${c.address}`));
  for (const name of ['tftp.transfer.start', 'tftp.transfer.end', 'tftp.request.refused'] as const) {
    unsubs.push(subscribe(name, (data) => events.push({ name, data })));
  }
  server = await startTftpServer({
    address: '127.0.0.1',
    port: 0,
    root,
    resolver: composeResolvers(generated, createDiskResolver(root)),
    timeoutMs: 200,
    retries: 3,
    maxPerClient: 40,
  });
});

afterAll(async () => {
  await server.close();
  for (const u of unsubs) u();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('TFTP server on loopback', () => {
  it('serves a file lock-step with no options (RFC 1350)', async () => {
    const r = await tftpGet({ port: server.port, file: 'SMSBoot/x64/pxeboot.com' });
    expect(r.oack).toBeNull();
    expect(r.data.equals(files['SMSBoot/x64/pxeboot.com'] as Buffer)).toBe(true);
  });

  it('answers a Windows-style name case-insensitively, with OACK and windowing', async () => {
    const r = await tftpGet({
      port: server.port,
      file: '\\smsboot\\X64\\PXEBOOT.COM',
      options: [['blksize', '1456'], ['windowsize', '8'], ['tsize', '0']],
    });
    expect(r.oack).toEqual({ blksize: '1456', windowsize: '8', tsize: '25000' });
    expect(r.data.equals(files['SMSBoot/x64/pxeboot.com'] as Buffer)).toBe(true);
  });

  it('clamps windowsize and blksize to the server limits', async () => {
    const s = await startTftpServer({ address: '127.0.0.1', port: 0, root, maxBlksize: 1024, maxWindowsize: 4 });
    try {
      const r = await tftpGet({ port: s.port, file: 'big.bin', options: [['blksize', '8192'], ['windowsize', '64']] });
      expect(r.oack).toEqual({ blksize: '1024', windowsize: '4' });
      expect(r.data.equals(files['big.bin'] as Buffer)).toBe(true);
    } finally {
      await s.close();
    }
  });

  it('OVMF pattern: tsize probe aborted with ERROR 8, then the real download', async () => {
    const before = server.stats();
    const probe = await tftpGet({ port: server.port, file: 'big.bin', options: [['tsize', '0'], ['blksize', '1468'], ['windowsize', '4']], abortAfterOack: true });
    expect(probe.oack).toEqual({ tsize: String((files['big.bin'] as Buffer).length), blksize: '1468', windowsize: '4' });
    const r = await tftpGet({ port: server.port, file: 'big.bin', options: [['blksize', '1468'], ['windowsize', '4']] });
    expect(r.data.equals(files['big.bin'] as Buffer)).toBe(true);
    await until(() => server.stats().completed - before.completed >= 1 && server.stats().clientAborted - before.clientAborted >= 1);
    const after = server.stats();
    expect(after.clientAborted - before.clientAborted).toBe(1);
    expect(after.completed - before.completed).toBe(1);
  });

  it('serves generated per-client files in front of the disk', async () => {
    const r = await tftpGet({ port: server.port, file: '/smstemp/BOOT.VAR', options: [['tsize', '0']] });
    expect(r.data.toString()).toBe('vars for 127.0.0.1');
    expect(r.oack).toEqual({ tsize: String('vars for 127.0.0.1'.length) });
  });

  it('netascii mode converts line ends and does not announce tsize', async () => {
    const r = await tftpGet({ port: server.port, file: 'text.txt', mode: 'netascii', options: [['tsize', '0']] });
    expect(r.oack).toBeNull();
    expect(r.data.toString('latin1')).toBe('line one\r\nline two\r\0\r\nend');
  });

  it('ERROR 1 for a missing file, ERROR 2 for a write request, ERROR 4 for a bad mode', async () => {
    const nf = await tftpGet({ port: server.port, file: 'missing.bin' });
    expect(nf.error).toMatchObject({ code: 1 });
    const wrq = await exchange(server.port, encodeWrq('upload.bin'));
    expect(wrq?.msg.readUInt16BE(0)).toBe(5);
    expect(wrq?.msg.readUInt16BE(2)).toBe(2);
    const mail = await exchange(server.port, encodeRrq('big.bin', 'mail'));
    expect(mail?.msg.readUInt16BE(2)).toBe(4);
    const refused = events.filter((e) => e.name === 'tftp.request.refused').map((e) => e.data.reason);
    expect(refused).toEqual(expect.arrayContaining(['not-found', 'write-request', 'bad-mode']));
  });

  it('a packet from a foreign port gets ERROR 5 and the transfer goes on', async () => {
    const client = dgram.createSocket('udp4');
    const stranger = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', r));
    try {
      const first = await exchange(server.port, encodeRrq('SMSBoot/x64/pxeboot.com'), { from: client });
      expect(first?.msg.readUInt16BE(0)).toBe(3);
      const tid = first?.port as number;
      expect(tid).not.toBe(server.port);
      const reply = await exchange(tid, Buffer.from([0, 4, 0, 1]), { from: stranger });
      expect(reply?.msg.readUInt16BE(0)).toBe(5);
      expect(reply?.msg.readUInt16BE(2)).toBe(5);
      const next = await exchange(tid, Buffer.from([0, 4, 0, 1]), { from: client });
      expect(next?.msg.readUInt16BE(0)).toBe(3);
      expect(next?.msg.readUInt16BE(2)).toBe(2);
      client.send(Buffer.from('\x00\x05\x00\x00bye\x00', 'latin1'), tid, '127.0.0.1');
    } finally {
      client.close();
      stranger.close();
    }
  });

  it('ignores a repeated RRQ from the same client port (no second transfer)', async () => {
    const client = dgram.createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    const before = server.stats();
    const ports = new Set<number>();
    client.on('message', (_m, rinfo) => ports.add(rinfo.port));
    const rrq = encodeRrq('big.bin', 'octet', [{ name: 'tsize', value: '0' }]);
    client.send(rrq, server.port, '127.0.0.1');
    client.send(rrq, server.port, '127.0.0.1');
    await until(() => ports.size > 0 && server.stats().duplicateRequests > before.duplicateRequests);
    await new Promise((r) => setTimeout(r, 50));
    client.close();
    expect(ports.size).toBe(1);
    expect(server.stats().duplicateRequests - before.duplicateRequests).toBe(1);
  });

  it('Windows bootmgr profile: blksize 1456 windowsize 8, past block 65535 (rollover)', async () => {
    const size = 65536 * 1456 + 1000; // ≈ 95 MB: block numbers wrap to 0 once
    const data = crypto.randomBytes(size);
    fs.writeFileSync(path.join(root, 'boot.wim'), data);
    const t0 = Date.now();
    const r = await tftpGet({ port: server.port, file: '\\BOOT.WIM', options: [['blksize', '1456'], ['windowsize', '8'], ['tsize', '0']] });
    expect(r.oack).toEqual({ blksize: '1456', windowsize: '8', tsize: String(size) });
    expect(r.data.length).toBe(size);
    expect(r.data.equals(data)).toBe(true);
    console.log(`bootmgr profile: ${(size / 1e6).toFixed(0)} MB in ${Date.now() - t0} ms (JS test client)`);
    fs.rmSync(path.join(root, 'boot.wim'));
  }, 30_000);

  it('serves the same file to 20 clients at once', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        tftpGet({ port: server.port, file: 'big.bin', options: [['blksize', String(1024 + i * 16)], ['windowsize', String(1 + (i % 16))]] }),
      ),
    );
    for (const r of results) expect(r.data.equals(files['big.bin'] as Buffer)).toBe(true);
  });

  it('enforces the per-client cap with ERROR 0 and the global cap by dropping', async () => {
    const s = await startTftpServer({ address: '127.0.0.1', port: 0, root, maxPerClient: 1, maxTransfers: 100, timeoutMs: 100, retries: 1 });
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    try {
      // The holder asks and never ACKs: its transfer occupies the one slot.
      const first = await exchange(s.port, encodeRrq('big.bin'), { from: holder });
      expect(first?.msg.readUInt16BE(0)).toBe(3);
      const second = await tftpGet({ port: s.port, file: 'big.bin' });
      expect(second.error).toMatchObject({ code: 0 });
      expect(s.stats().refused).toBe(1);
    } finally {
      holder.close();
    }
    // The abandoned transfer is cleaned up after its retries.
    await until(() => s.stats().active === 0);
    expect(s.stats()).toMatchObject({ active: 0, failed: 1 });
    await s.close();

    const g = await startTftpServer({ address: '127.0.0.1', port: 0, root, maxTransfers: 1, timeoutMs: 100, retries: 1 });
    const h2 = dgram.createSocket('udp4');
    await new Promise<void>((r) => h2.bind(0, '127.0.0.1', r));
    try {
      await exchange(g.port, encodeRrq('big.bin'), { from: h2 });
      const dropped = await exchange(g.port, encodeRrq('big.bin'), { waitMs: 150 });
      expect(dropped).toBeNull();
    } finally {
      h2.close();
      await g.close();
    }
  });

  it('publishes start and end events with negotiated options, bytes, duration, outcome', async () => {
    events.length = 0;
    await tftpGet({ port: server.port, file: 'big.bin', options: [['blksize', '1468'], ['windowsize', '16']] });
    await until(() => events.some((e) => e.name === 'tftp.transfer.end'));
    const start = events.find((e) => e.name === 'tftp.transfer.start');
    const end = events.find((e) => e.name === 'tftp.transfer.end');
    expect(start?.data).toMatchObject({ file: 'big.bin', options: { blksize: 1468, windowsize: 16 } });
    expect(end?.data).toMatchObject({ file: 'big.bin', outcome: 'ok', bytes: (files['big.bin'] as Buffer).length, retransmits: 0 });
    expect(typeof end?.data.durationMs).toBe('number');
    expect(String(end?.data.client)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('close() ends running transfers and frees the port', async () => {
    const s = await startTftpServer({ address: '127.0.0.1', port: 0, root, timeoutMs: 5000 });
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((r) => holder.bind(0, '127.0.0.1', r));
    await exchange(s.port, encodeRrq('big.bin'), { from: holder });
    expect(s.stats().active).toBe(1);
    await s.close();
    expect(s.stats().active).toBe(0);
    holder.close();
  });
});
