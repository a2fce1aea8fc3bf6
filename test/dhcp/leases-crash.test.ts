/**
 * "A restart loses none", the hard way: a full-mode server in a child process is killed
 * with SIGKILL right after it ACKed a burst of clients; every ACKed lease must be in
 * the store when it is reopened (the ACK leaves only after the lease's commit).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DhcpMessageType } from '../../src/dhcp/option-codes.js';
import { messageType } from '../../src/dhcp/options.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { clientPacket, testSocket } from './listener-helpers.js';

const SERVER = fileURLToPath(new URL('./leases-crash-server.ts', import.meta.url));

describe('full mode leases and kill -9', () => {
  it('every ACKed lease is in the store after SIGKILL', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxp-crash-'));
    const client = await testSocket();
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER, dir, String(client.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('server did not start')), 20_000);
        createInterface({ input: child.stdout! }).once('line', (l) => {
          clearTimeout(t);
          resolve(Number(l.split(' ')[1]));
        });
      });
      const n = 120;
      const macs = Array.from({ length: n }, (_, i) => `52:54:00:cc:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
      // DISCOVER all, then REQUEST all: a burst, so ACKs leave in groups (group commit).
      const offered = new Map<number, string>();
      await Promise.all(macs.map((mac, i) => client.send(clientPacket({ type: 1, mac, vendorClass: null, xid: i + 1 }), port)));
      for (let k = 0; k < n; k++) {
        const got = await client.next(3000);
        if (!got) break;
        offered.set(got.packet.xid, got.packet.yiaddr);
      }
      expect(offered.size).toBe(n);
      await Promise.all(macs.map((mac, i) => client.send(clientPacket({ type: 3, mac, vendorClass: null, xid: 1000 + i, requestedIp: offered.get(i + 1)!, serverId: '127.0.0.1' }), port)));
      const acked = new Map<string, string>();
      for (let k = 0; k < n; k++) {
        const got = await client.next(3000);
        if (!got) break;
        if (messageType(got.packet) === DhcpMessageType.Ack) acked.set(got.packet.yiaddr, macs[got.packet.xid - 1000]!);
      }
      child.kill('SIGKILL'); // at once: no close, no checkpoint
      await new Promise((r) => child.once('exit', r));
      expect(acked.size).toBe(n);

      const repo = await openSqliteRepository({ dataDir: dir });
      try {
        const stored = new Map((await repo.leases.list()).map((l) => [l.ip, l]));
        for (const [ip, mac] of acked) expect(stored.get(ip)).toMatchObject({ mac, state: 'bound' });
      } finally {
        await repo.close();
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
