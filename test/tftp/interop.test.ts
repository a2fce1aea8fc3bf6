/**
 * Interop: real, independently written TFTP clients against the server on
 * loopback, bytes compared. Clients come from Debian (.ci/packages.d/tftp.txt):
 * tftp-hpa's `tftp`, `atftp`, `curl`. Under CI=true a missing client fails the
 * test; elsewhere the test is skipped with a message saying what to install.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { itWithTools, which } from '../support/tools.js';

const run = promisify(execFile);


const clients = { tftp: which('tftp'), atftp: which('atftp'), curl: which('curl') };
const pkg: Record<keyof typeof clients, string> = { tftp: 'tftp-hpa', atftp: 'atftp', curl: 'curl' };

/** it() with one interop client: fails under CI, skips (loudly) elsewhere when it is missing. */
function withClient(name: keyof typeof clients, title: string, fn: (bin: string) => Promise<void>, timeout: number): void {
  itWithTools({ [name]: pkg[name] }, title, () => fn(clients[name]!), timeout);
}


let dir: string;
let root: string;
let out: string;
let server: TftpServer;
const sha = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex');
const originals: Record<string, string> = {};
const ends: Array<Record<string, unknown>> = [];
let unsub: () => void;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-interop-'));
  root = path.join(dir, 'root');
  out = path.join(dir, 'out');
  fs.mkdirSync(path.join(root, 'SMSBoot', 'x64'), { recursive: true });
  fs.mkdirSync(out);
  const write = (name: string, size: number): void => {
    const data = crypto.randomBytes(size);
    fs.writeFileSync(path.join(root, name), data);
    originals[name] = sha(data);
  };
  write('SMSBoot/x64/pxeboot.com', 30_000);
  write('boot.wim', 24 * 1024 * 1024 + 123);
  write('rollover.bin', 40 * 1024 * 1024); // 81920 blocks of 512: wraps past 65535
  write('exact.bin', 8192 * 4); // a multiple of the block size: ends with an empty block
  unsub = subscribe('tftp.transfer.end', (d) => ends.push(d));
  server = await startTftpServer({ address: '127.0.0.1', port: 0, root });
});

afterAll(async () => {
  unsub?.();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function same(name: string, file: string): void {
  const got = fs.readFileSync(file);
  expect(sha(got), `${name}: bytes differ`).toBe(originals[name]);
}

describe('interop with real TFTP clients', () => {
  withClient('tftp', 'tftp-hpa: lock-step 512, small boot program (Windows path, case-insensitive)', async (bin) => {
    const o = path.join(out, 'hpa-small');
    await run(bin, ['-m', 'octet', '127.0.0.1', String(server.port), '-c', 'get', '\\smsboot\\X64\\pxeboot.com', o], { timeout: 20_000 });
    same('SMSBoot/x64/pxeboot.com', o);
  }, 30_000);

  withClient('tftp', 'tftp-hpa: 40 MiB at blksize 512 arrives intact across block-number rollover', async (bin) => {
    const o = path.join(out, 'hpa-rollover');
    const t0 = Date.now();
    await run(bin, ['-m', 'octet', '127.0.0.1', String(server.port), '-c', 'get', 'rollover.bin', o], { timeout: 50_000 });
    const secs = (Date.now() - t0) / 1000;
    same('rollover.bin', o);
    console.log(`tftp-hpa 40 MiB @512 lock-step: ${secs.toFixed(1)} s, ${(40 * 1.048576 / secs).toFixed(1)} MB/s`);
  }, 60_000);

  withClient('atftp', 'atftp: blksize 1468, windowsize 16, tsize', async (bin) => {
    const o = path.join(out, 'atftp-wim');
    await run(bin, ['-g', '-r', 'boot.wim', '-l', o, '--option', 'blksize 1468', '--option', 'windowsize 16', '--option', 'tsize', '127.0.0.1', String(server.port)], { timeout: 30_000 });
    same('boot.wim', o);
  }, 40_000);

  withClient('atftp', 'atftp: exact multiple of blksize (empty final block)', async (bin) => {
    const o = path.join(out, 'atftp-exact');
    await run(bin, ['-g', '-r', 'exact.bin', '-l', o, '--option', 'blksize 8192', '--option', 'windowsize 4', '127.0.0.1', String(server.port)], { timeout: 20_000 });
    same('exact.bin', o);
  }, 30_000);

  withClient('curl', 'curl: --tftp-blksize 8192', async (bin) => {
    const o = path.join(out, 'curl-wim');
    await run(bin, ['-sS', '-o', o, '--tftp-blksize', '8192', `tftp://127.0.0.1:${server.port}/boot.wim`], { timeout: 30_000 });
    same('boot.wim', o);
  }, 40_000);

  withClient('curl', 'curl: --tftp-blksize 65464 and a missing file', async (bin) => {
    const o = path.join(out, 'curl-big');
    await run(bin, ['-sS', '-o', o, '--tftp-blksize', '65464', `tftp://127.0.0.1:${server.port}/boot.wim`], { timeout: 30_000 });
    same('boot.wim', o);
    const missing = await run(bin, ['-sS', '-o', path.join(out, 'x'), `tftp://127.0.0.1:${server.port}/nope.bin`], { timeout: 20_000 }).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(missing?.code).toBe(68); // curl: "TFTP: File Not Found"
  }, 40_000);

  it('every interop transfer ended in outcome ok', async () => {
    await new Promise((r) => setTimeout(r, 100));
    const bad = ends.filter((e) => e.outcome !== 'ok');
    expect(bad).toEqual([]);
    // Real clients run in their own processes, so the busy-poll (native path) catches ACKs.
    if (server.busyPollMicros > 0) expect(server.stats().busyPollHits).toBeGreaterThan(0);
  });
});
