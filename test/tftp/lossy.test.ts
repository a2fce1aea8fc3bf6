/**
 * A lossy path: an in-process UDP relay (seeded PRNG) drops, duplicates and
 * reorders 5% of packets each way between a client and the server. The file must
 * still arrive byte-identical, lock-step and windowed, and the server must not
 * answer duplicates with extra bursts.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribe } from '../../src/events.js';
import { startTftpServer, type TftpServer } from '../../src/tftp/server.js';
import { tftpGet, until } from './helpers/client.js';
import { startLossyRelay } from './helpers/relay.js';

let dir: string;
let server: TftpServer;
const data: Record<string, Buffer> = {};
const ends: Array<Record<string, unknown>> = [];
let unsub: () => void;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pxepoint-tftp-lossy-'));
  data['small.bin'] = crypto.randomBytes(200 * 1024 + 17);
  data['wim.bin'] = crypto.randomBytes(3 * 1024 * 1024 + 5);
  for (const [n, d] of Object.entries(data)) fs.writeFileSync(path.join(dir, n), d);
  unsub = subscribe('tftp.transfer.end', (d) => ends.push(d));
  // A short retransmission timeout: loopback RTT is microseconds, and it keeps the test fast.
  server = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, timeoutMs: 40, retries: 40 });
});
afterAll(async () => {
  unsub?.();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const impair = { drop: 0.05, dup: 0.05, reorder: 0.05 };

describe('lossy path (5% drop, 5% duplicate, 5% reorder, both directions)', () => {
  it.each([
    ['windowsize 1, blksize 512', 'small.bin', [['blksize', '512']], 1001],
    ['windowsize 1, blksize 1468', 'small.bin', [['blksize', '1468'], ['windowsize', '1']], 1002],
    ['windowsize 16, blksize 1468', 'wim.bin', [['blksize', '1468'], ['windowsize', '16'], ['tsize', '0']], 1003],
    ['windowsize 16, blksize 8192', 'wim.bin', [['blksize', '8192'], ['windowsize', '16']], 1004],
  ] as const)('%s arrives byte-identical', async (_label, file, options, seed) => {
    const relay = await startLossyRelay({ serverPort: server.port, seed, impair });
    try {
      const r = await tftpGet({ port: relay.port, file, options: options.map(([k, v]) => [k, v] as [string, string]), timeoutMs: 60, retries: 50, deadlineMs: 40_000 });
      expect(r.error).toBeNull();
      expect(r.data.length).toBe((data[file] as Buffer).length);
      expect(r.data.equals(data[file] as Buffer)).toBe(true);
      expect(relay.stats.dropped).toBeGreaterThan(0);
      expect(relay.stats.duplicated).toBeGreaterThan(0);
      expect(relay.stats.reordered).toBeGreaterThan(0);
    } finally {
      await relay.close();
    }
  }, 45_000);

  it('retransmissions stay proportional to the loss (no runaway)', async () => {
    // A transfer whose final ACK was dropped ends by timeout (40 × 40 ms) on the server.
    await until(() => ends.length >= 4, 10_000);
    expect(ends.length).toBeGreaterThanOrEqual(4);
    // Each loss or reorder may cost up to one window; an amplifying server would grow
    // without bound. Timeouts are set aside: on a loaded machine a 40 ms timer also fires
    // from scheduling delay, and each resends at most one window.
    for (const e of ends) {
      const ws = Number((e.options as { windowsize: number }).windowsize);
      const notFromTimeouts = Number(e.retransmits) - Number(e.timeouts) * ws;
      expect(notFromTimeouts).toBeLessThan(Number(e.blocks) * 4);
    }
  });

  it.each([1, 16])('duplicates alone cause no retransmission at all, windowsize %d (no Sorcerer\'s Apprentice)', async (ws) => {
    // Its own server with a long timeout: on a loaded machine a 40 ms timer could fire
    // from scheduling delay alone, and this test is about duplicates, not timeouts.
    const patient = await startTftpServer({ address: '127.0.0.1', port: 0, root: dir, timeoutMs: 5000 });
    const relay = await startLossyRelay({ serverPort: patient.port, seed: 2000 + ws, impair: { drop: 0, dup: 0.2, reorder: 0 } });
    try {
      const r = await tftpGet({ port: relay.port, file: 'small.bin', options: [['blksize', '1024'], ['windowsize', String(ws)]], timeoutMs: 10_000 });
      expect(r.data.equals(data['small.bin'] as Buffer)).toBe(true);
      expect(relay.stats.duplicated).toBeGreaterThan(10);
      await until(() => patient.stats().completed === 1);
      expect(patient.stats()).toMatchObject({ completed: 1, retransmits: 0 });
    } finally {
      await relay.close();
      await patient.close();
    }
  });
});
