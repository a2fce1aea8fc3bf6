/** GET /api/timeline/:mac (authenticated) and `pxepoint timeline <mac>`. */
import { mkdtempSync, rmSync } from 'node:fs';
import { runCli } from '../support/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import type { BootEvent } from '../../src/site/model.js';
import { startHarness, type Harness } from './harness.js';

const MAC = '52:54:00:77:00:10';
const entry = (i: number, mac = MAC): Omit<BootEvent, 'id'> => ({
  time: `2026-11-26T05:00:0${i}.000Z`, mac, kind: i % 2 === 0 ? 'dhcp.decision' : 'tftp.transfer.end', clientIp: '10.77.0.50',
  summary: `step ${i}`, data: { i },
});

describe('GET /api/timeline/:mac', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    for (let i = 0; i < 5; i++) await h.repo.bootEvents.append(entry(i));
    await h.repo.bootEvents.append(entry(9, '52:54:00:77:00:99'));
  });
  afterAll(async () => h.close());

  it('lists a machine\'s events oldest first, any MAC spelling', async () => {
    for (const spelling of [MAC, '52-54-00-77-00-10', '525400770010', '52:54:00:77:00:10'.toUpperCase()]) {
      const r = await h.api('GET', `/api/timeline/${spelling}`);
      expect(r.statusCode).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      const body = r.json() as { mac: string; events: BootEvent[] };
      expect(body.mac).toBe(MAC);
      expect(body.events.map((e) => e.summary)).toEqual(['step 0', 'step 1', 'step 2', 'step 3', 'step 4']);
    }
  });
  it('limit keeps the newest; afterId pages forward', async () => {
    const newest = (await h.api('GET', `/api/timeline/${MAC}?limit=2`)).json() as { events: BootEvent[] };
    expect(newest.events.map((e) => e.summary)).toEqual(['step 3', 'step 4']);
    const after = (await h.api('GET', `/api/timeline/${MAC}?afterId=${newest.events[0]!.id}`)).json() as { events: BootEvent[] };
    expect(after.events.map((e) => e.summary)).toEqual(['step 4']);
  });
  it('400 for a bad MAC or limit', async () => {
    expect((await h.api('GET', '/api/timeline/not-a-mac')).json()).toMatchObject({ code: 'PXE_ERR_INVALID' });
    expect((await h.api('GET', `/api/timeline/${MAC}?limit=0`)).statusCode).toBe(400);
    expect((await h.api('GET', `/api/timeline/${MAC}?limit=5000`)).statusCode).toBe(400);
  });
  it('needs an API token', async () => {
    expect((await h.app.inject({ method: 'GET', url: `/api/timeline/${MAC}` })).statusCode).toBe(401);
  });
  it('an unknown MAC has an empty timeline', async () => {
    expect((await h.api('GET', '/api/timeline/52:54:00:00:00:00')).json()).toEqual({ mac: '52:54:00:00:00:00', events: [] });
  });
});

describe('pxepoint timeline', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pxepoint-timeline-'));
    const repo = await openSqliteRepository({ dataDir });
    for (let i = 0; i < 3; i++) await repo.bootEvents.append(entry(i));
    await repo.close();
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const cli = (...argv: string[]) => runCli(dataDir, ...argv);

  it('prints the timeline as a table', async () => {
    const r = await cli('timeline', '52-54-00-77-00-10');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ID\s+TIME\s+KIND\s+CLIENTIP\s+SUMMARY/);
    expect(r.out).toContain('step 2');
    expect(r.out.indexOf('step 0')).toBeLessThan(r.out.indexOf('step 2'));
  });
  it('--json and --limit', async () => {
    const r = await cli('timeline', MAC, '--json', '--limit', '1');
    expect(JSON.parse(r.out)).toMatchObject({ mac: MAC, events: [{ summary: 'step 2' }] });
  });
  it('refuses a bad MAC and a missing one', async () => {
    expect((await cli('timeline', 'zz')).code).toBe(1);
    expect((await cli('timeline')).code).toBe(2);
  });
});
