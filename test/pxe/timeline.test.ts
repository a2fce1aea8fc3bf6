/** The boot timeline: entries from events (table), persistence in SQLite, the subscriber end to end. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { publish } from '../../src/events.js';
import { BootSessions } from '../../src/pxe/boot-sessions.js';
import { prepareBoot } from '../../src/pxe/prepare.js';
import { addressOf, startBootTimeline, timelineEntry, type BootTimeline } from '../../src/pxe/timeline.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { decide, deployment, pxeRequest, pxeSite, MAC_KNOWN } from './helpers.js';

const T = new Date('2026-11-26T05:00:00.000Z');
const macOfIp = (ip: string): string | null => (ip === '10.77.0.50' ? MAC_KNOWN : null);

describe('timelineEntry', () => {
  it.each([
    ['dhcp.decision carries the MAC', 'dhcp.decision', { mac: MAC_KNOWN, clientIp: null, channel: 'proxy', action: 'boot', reasonCode: 'required', bootFile: 'boot/x64/snponly.efi' },
      { mac: MAC_KNOWN, clientIp: null, summary: 'DHCP proxy boot (required) boot/x64/snponly.efi' }],
    ['dhcp.decision as src/dhcp/server.ts publishes it (decision, ip)', 'dhcp.decision',
      { mac: MAC_KNOWN, ip: '10.77.0.50', channel: 'boot-server', messageType: 'REQUEST', decision: 'boot-with-prompt', reasonCode: 'available', decideMs: 0.2 },
      { mac: MAC_KNOWN, clientIp: '10.77.0.50', summary: 'DHCP boot-server REQUEST boot-with-prompt (available)' }],
    ['tftp.transfer.end: the client address names the machine', 'tftp.transfer.end',
      { file: 'boot/x64/snponly.efi', client: '10.77.0.50:2070', outcome: 'ok', bytes: 1024, durationMs: 12.5, retransmits: 2, options: { blksize: 1468, windowsize: 4 } },
      { mac: MAC_KNOWN, clientIp: '10.77.0.50', summary: 'TFTP boot/x64/snponly.efi ok 1024 bytes in 12.5 ms (blksize 1468, windowsize 4, 2 retransmits)' }],
    ['tftp.request.refused', 'tftp.request.refused', { file: 'nope', client: '10.77.0.50:1', code: 1, reason: 'file not found' },
      { mac: MAC_KNOWN, summary: 'TFTP nope refused: file not found' }],
    ['http.boot callback', 'http.boot', { kind: 'callback', ip: '10.77.0.50', mac: MAC_KNOWN, step: 'script', status: 200 },
      { mac: MAC_KNOWN, summary: 'HTTP callback step=script 200' }],
    ['http.boot file without a MAC: mapped from the address', 'http.boot', { kind: 'file', ip: '::ffff:10.77.0.50', path: 'boot/x64/snponly.efi', status: 200 },
      { mac: MAC_KNOWN, clientIp: '10.77.0.50', summary: 'HTTP file boot/x64/snponly.efi 200' }],
    ['http.boot variables: never the path', 'http.boot', { kind: 'variables', ip: '10.77.0.50', status: 403, path: 'secret-name' },
      { summary: 'HTTP variables 403' }],
  ] as const)('%s', (_, kind, data, expected) => {
    expect(timelineEntry(kind, { ...data }, T, macOfIp)).toMatchObject({ kind, time: T.toISOString(), ...expected });
  });

  it('events of an address no session knows are not recorded', () => {
    expect(timelineEntry('tftp.transfer.end', { client: '10.9.9.9:1', file: 'x', outcome: 'ok' }, T, macOfIp)).toBeNull();
  });

  it('a variables file fetched over TFTP: its name (the capability) is blanked', () => {
    const name = `${'A'.repeat(40)}b-_.json`;
    const e = timelineEntry('tftp.transfer.end', { file: `boot/vars/${name}`, client: '10.77.0.50:1', outcome: 'ok' }, T, macOfIp)!;
    expect(JSON.stringify(e)).not.toContain(name);
    expect(e.summary).toBe('TFTP boot/vars/[redacted].json ok');
  });

  it('secret fields never reach the timeline', () => {
    const e = timelineEntry('http.boot', { kind: 'script', ip: '10.77.0.50', token: 'pxpbt_x', variablesName: 'n', status: 200 }, T, macOfIp)!;
    expect(JSON.stringify(e)).not.toMatch(/pxpbt_x|variablesName/);
  });

  it.each([
    ['10.0.0.1:69', '10.0.0.1'], ['[fe80::1]:69', 'fe80::1'], ['::ffff:10.0.0.2', '10.0.0.2'], [undefined, null],
  ])('addressOf(%s) = %s', (input, out) => {
    expect(addressOf(input)).toBe(out);
  });
});

describe('startBootTimeline (SQLite)', () => {
  let repo: SiteRepository;
  let timeline: BootTimeline;
  let sessions: BootSessions;

  beforeEach(async () => {
    repo = await openSqliteRepository({ file: ':memory:' });
    sessions = new BootSessions();
    timeline = startBootTimeline({ store: repo.bootEvents, sessions, clock: () => T });
  });
  afterEach(async () => {
    timeline.stop();
    await repo.close();
  });

  it('records a boot end to end: decision (via prepareBoot), TFTP by address, HTTP callback, in order', async () => {
    const snap = pxeSite({ deployments: [deployment('PXP20002', { purpose: 'required' })] });
    const req = pxeRequest({ clientIp: '10.77.0.50' });
    await prepareBoot(decide(snap, { clientIp: '10.77.0.50' }), req, {
      sessions, publishDecision: true, issueToken: async () => ({ token: 'pxpbt_hidden', id: 'tok', expiresAt: new Date(Date.now() + 60_000).toISOString() }),
    });
    publish('tftp.transfer.end', { file: 'boot/x64/snponly.efi', client: '10.77.0.50:3000', outcome: 'ok', bytes: 5, durationMs: 1 });
    publish('tftp.transfer.end', { file: 'boot/x64/snponly.efi', client: '10.1.2.3:3000', outcome: 'ok', bytes: 5, durationMs: 1 });
    publish('http.boot', { kind: 'callback', ip: '10.77.0.50', mac: MAC_KNOWN, step: 'script', status: 200 });
    await timeline.flush();

    const events = await repo.bootEvents.list({ mac: MAC_KNOWN });
    expect(events.map((e) => e.kind)).toEqual(['dhcp.decision', 'tftp.transfer.end', 'http.boot']);
    expect(events.map((e) => e.id)).toEqual([...events.map((e) => e.id)].sort((a, b) => a - b));
    expect(events[0]).toMatchObject({ mac: MAC_KNOWN, clientIp: '10.77.0.50', data: { action: 'boot', deploymentId: 'PXP20002' } });
    expect(JSON.stringify(events)).not.toContain('pxpbt_hidden');
    expect(timeline.stats).toMatchObject({ recorded: 3, unattributed: 1, failed: 0 });
  });

  it('pages forward with afterId, newest first with a limit, purges by time', async () => {
    for (let i = 0; i < 5; i++) publish('dhcp.decision', { mac: MAC_KNOWN, channel: 'dhcp', action: 'ignore', reasonCode: `r${i}` });
    publish('dhcp.decision', { mac: '52:54:00:77:00:99', channel: 'dhcp', action: 'ignore', reasonCode: 'other' });
    await timeline.flush();
    const all = await repo.bootEvents.list({ mac: MAC_KNOWN });
    expect(all).toHaveLength(5);
    expect((await repo.bootEvents.list({ mac: MAC_KNOWN, afterId: all[2]!.id })).map((e) => e.data.reasonCode)).toEqual(['r3', 'r4']);
    expect((await repo.bootEvents.list({ mac: MAC_KNOWN, limit: 2, newestFirst: true })).map((e) => e.data.reasonCode)).toEqual(['r4', 'r3']);
    expect(await repo.bootEvents.purgeBefore('2026-11-27T00:00:00.000Z')).toBe(6);
    expect(await repo.bootEvents.list({ mac: MAC_KNOWN })).toEqual([]);
  });

  it('a failing store is counted and reported, never thrown into the publisher', async () => {
    const errors: unknown[] = [];
    timeline.stop();
    const failing = startBootTimeline({
      store: { append: () => Promise.reject(new Error('disk full')), list: async () => [], purgeBefore: async () => 0 },
      sessions, onError: (e) => errors.push(e),
    });
    try {
      expect(() => publish('dhcp.decision', { mac: MAC_KNOWN, action: 'ignore' })).not.toThrow();
      await failing.flush();
      expect(failing.stats.failed).toBe(1);
      expect(errors).toHaveLength(1);
    } finally {
      failing.stop();
    }
  });
});
