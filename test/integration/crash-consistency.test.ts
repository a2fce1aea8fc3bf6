/**
 * Issue 2, done-when: killing the server with SIGKILL in the middle of a burst of
 * 1,000 API writes leaves a database that opens, passes PRAGMA integrity_check,
 * and holds every write that was acknowledged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SiteService } from '../../src/app/site-service.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { startServeChild, waitForExit } from '../support/child.js';

const dataDir = mkdtempSync(join(tmpdir(), 'pxepoint-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const TOTAL = 1000;
const CONCURRENCY = 16;
const KILL_AFTER_ACKS = 300;

describe('crash consistency', () => {
  it('keeps every acknowledged write across kill -9 during a 1,000-write burst', async () => {
    const setup = await openSqliteRepository({ dataDir });
    const { secret } = await new SiteService(setup).createToken({ name: 'crash-test' }, { name: 'test', component: 'test' });
    await setup.close();

    const server = await startServeChild(['--data-dir', dataDir, '--listen', '127.0.0.1', '--http-port', '0', '--dhcp-mode', 'off', '--log-level', 'warn']);
    const acknowledged = new Map<string, string>(); // device id → name
    let next = 0;
    let killed = false;
    const deadline = Date.now() + 60_000;

    async function worker(): Promise<void> {
      while (next < TOTAL && Date.now() < deadline) {
        const i = next++;
        const name = `CRASH-${i}`;
        const mac = `52:54:00:10:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
        try {
          const res = await fetch(`${server.url}/api/devices`, {
            method: 'POST',
            headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name, macs: [mac], variables: [{ name: 'Batch', value: String(i) }] }),
          });
          if (res.status === 201) {
            const body = (await res.json()) as { id: string };
            acknowledged.set(body.id, name);
          } else if (!killed) {
            throw new Error(`unexpected ${res.status}: ${await res.text()}`);
          }
        } catch (e) {
          if (!killed) throw e; // after the kill, refused connections are expected and unacknowledged
        }
        if (!killed && acknowledged.size >= KILL_AFTER_ACKS) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await waitForExit(server.child);
    expect(killed).toBe(true);
    expect(server.child.signalCode).toBe('SIGKILL');
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);

    const raw = new Database(join(dataDir, 'pxepoint.db'));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();

    const repo = await openSqliteRepository({ dataDir });
    try {
      const audits = new Set((await repo.statusMessages.list({ kind: 'audit', limit: 100_000 })).map((m) => m.text));
      for (const [id, name] of acknowledged) {
        const device = await repo.devices.get(id);
        expect(device?.name, `acknowledged device ${id}`).toBe(name);
        // The audit message was written in the same transaction: never a device without it.
        expect(audits.has(`created device ${id}`)).toBe(true);
      }
      // Nothing half-written: every stored device (acknowledged or not) has its audit message and MAC index.
      for (const d of await repo.devices.list()) {
        if (d.unknownObject !== null) continue;
        expect(audits.has(`created device ${d.id}`)).toBe(true);
        expect((await repo.devices.findByMac(d.macs[0]!)).map((x) => x.id)).toEqual([d.id]);
      }
    } finally {
      await repo.close();
    }
  }, 90_000);
});
