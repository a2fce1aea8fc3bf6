/**
 * The site's boot media registry (src/app/media-service.ts, issue 7): registration,
 * blocking (rule 102), the media certificate's dates (rules 101–102), the shared
 * secret, and "every media boot is a status message" — on a real SQLite store
 * (migration 6), in memory and in a file that is reopened.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaService, publicMedia, secretMatches } from '../../src/app/media-service.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { makeTempDir } from '../store/helpers.js';
import { ADMIN, MEDIA_SECRET, T0, mediaRecord, sha256Hex } from './site-fixtures.js';

let repo: SiteRepository;
let now: number;
let media: MediaService;

beforeEach(async () => {
  repo = await openSqliteRepository({ file: ':memory:' });
  now = Date.parse(T0);
  media = new MediaService(repo, { clock: () => new Date(now) });
});
afterEach(() => repo.close());

const audits = async () => (await repo.statusMessages.list({ kind: 'audit' })).filter((m) => String(m.data.action).includes('media'));

describe('the media store (migration 6)', () => {
  it('is the next migration after the content library, and keeps records across reopen', async () => {
    const v6 = MIGRATIONS.find((m) => m.version === 6);
    expect(v6?.name).toBe('boot media');
    expect(Math.max(...MIGRATIONS.map((m) => m.version))).toBeGreaterThanOrEqual(6);
    const dir = makeTempDir('pxepoint-media-');
    try {
      const file = join(dir.path, 'site.db');
      const a = await openSqliteRepository({ file });
      await a.media.insert(mediaRecord('M-1'));
      await a.media.insert(mediaRecord('M-2', { createdAt: '2026-11-27T08:00:00.000Z' }));
      await a.close();
      const b = await openSqliteRepository({ file });
      expect((await b.media.list()).map((m) => m.id)).toEqual(['M-2', 'M-1']); // newest first
      expect(await b.media.get('M-1')).toEqual(mediaRecord('M-1'));
      await expect(b.media.insert(mediaRecord('M-1'))).rejects.toMatchObject({ code: 'PXE_ERR_CONFLICT' });
      await expect(b.media.update(mediaRecord('M-3'))).rejects.toMatchObject({ code: 'PXE_ERR_NOT_FOUND' });
      await b.close();
    } finally {
      dir.remove();
    }
  });

  it('joins transactions: a failed transaction leaves no medium behind', async () => {
    await expect(repo.transaction(async (tx) => {
      await tx.media.insert(mediaRecord('M-TX'));
      throw new Error('boom');
    })).rejects.toThrow('boom');
    expect(await repo.media.get('M-TX')).toBeUndefined();
  });
});

describe('register', () => {
  it('stores the record and an audit message in one transaction; refuses a duplicate id', async () => {
    const saved = await media.register(mediaRecord('M-1'), ADMIN);
    expect(saved).toEqual(mediaRecord('M-1'));
    expect(await media.list()).toEqual([mediaRecord('M-1')]);
    const [audit] = await audits();
    expect(audit).toMatchObject({ kind: 'audit', actor: 'cli:tester', component: 'cli', data: { action: 'register-media', id: 'M-1', type: 'bootable', variableNames: ['SMSTSPreferredAdvertID'] } });
    expect(JSON.stringify(audit)).not.toContain(sha256Hex(MEDIA_SECRET));
    await expect(media.register(mediaRecord('M-1', { label: 'again' }), ADMIN)).rejects.toMatchObject({ code: 'PXE_ERR_CONFLICT', status: 409 });
    expect(await audits()).toHaveLength(1);
    expect((await media.get('M-1')).label).toBe('Media M-1');
  });

  it('refuses malformed records: ids the boot loader route could not echo, no hash, inverted certificate dates (rule 101)', async () => {
    await expect(media.register(mediaRecord("M'; reboot"), ADMIN)).rejects.toMatchObject({ code: 'PXE_ERR_INVALID', details: { field: 'media.id' } });
    await expect(media.register(mediaRecord('M-2', { secretHash: MEDIA_SECRET }), ADMIN)).rejects.toMatchObject({ details: { field: 'media.secretHash' } });
    await expect(media.register(mediaRecord('M-3', { certificateNotAfter: '2026-11-01T00:00:00.000Z' }), ADMIN)).rejects.toMatchObject({ details: { field: 'media.certificateNotAfter' } });
    await expect(media.register(mediaRecord('M-4', { type: 'capture' as never }), ADMIN)).rejects.toMatchObject({ details: { field: 'media.type' } });
    expect(await media.list()).toEqual([]);
  });

  it('get throws PXE_ERR_NOT_FOUND naming the CLI list command; publicMedia drops the hash', async () => {
    await expect(media.get('nope')).rejects.toMatchObject({ code: 'PXE_ERR_NOT_FOUND', status: 404, message: expect.stringContaining('pxepoint media list') });
    expect(publicMedia(mediaRecord('M-1'))).not.toHaveProperty('secretHash');
  });
});

describe('block and unblock (rule 102)', () => {
  beforeEach(async () => {
    await media.register(mediaRecord('M-1'), ADMIN);
  });

  it('blocks with actor, time and reason in the audit; idempotent', async () => {
    now += 60_000;
    const blocked = await media.block('M-1', ADMIN, '  lost in the post  ');
    expect(blocked).toMatchObject({ blocked: true, blockedAt: new Date(now).toISOString(), blockedBy: 'cli:tester' });
    expect(await media.get('M-1')).toMatchObject({ blocked: true });
    now += 60_000;
    expect(await media.block('M-1', { name: 'token:other', component: 'admin-api' }, 'again')).toMatchObject({ blockedBy: 'cli:tester' });
    const blocks = (await audits()).filter((m) => m.data.action === 'block-media');
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ actor: 'cli:tester', severity: 'warning', text: expect.stringContaining('lost in the post'), data: { id: 'M-1', reason: 'lost in the post' } });
  });

  it('unblocks with an audit message naming who blocked it; idempotent', async () => {
    await media.block('M-1', ADMIN);
    const unblocked = await media.unblock('M-1', { name: 'token:ops', component: 'admin-api' }, 'found it');
    expect(unblocked).toMatchObject({ blocked: false, blockedAt: null, blockedBy: null });
    await media.unblock('M-1', ADMIN);
    const un = (await audits()).filter((m) => m.data.action === 'unblock-media');
    expect(un).toHaveLength(1);
    expect(un[0]).toMatchObject({ actor: 'token:ops', data: { id: 'M-1', reason: 'found it', blockedBy: 'cli:tester' } });
  });

  it('refuses unknown ids and over-long reasons', async () => {
    await expect(media.block('nope', ADMIN)).rejects.toMatchObject({ code: 'PXE_ERR_NOT_FOUND' });
    await expect(media.unblock('nope', ADMIN)).rejects.toMatchObject({ code: 'PXE_ERR_NOT_FOUND' });
    await expect(media.block('M-1', ADMIN, 'x'.repeat(501))).rejects.toMatchObject({ code: 'PXE_ERR_INVALID' });
    expect((await media.get('M-1')).blocked).toBe(false);
  });
});

describe('check', () => {
  beforeEach(async () => {
    await media.register(mediaRecord('M-1'), ADMIN);
  });

  it('accepts the right secret inside the certificate dates', async () => {
    expect(await media.check('M-1', MEDIA_SECRET)).toMatchObject({ ok: true, record: { id: 'M-1' } });
    // The loader route knows no secret: null skips that check only.
    expect(await media.check('M-1', null)).toMatchObject({ ok: true });
  });

  it('unknown media and wrong secrets (compared in constant time)', async () => {
    expect(await media.check('M-2', MEDIA_SECRET)).toEqual({ ok: false, reason: 'unknown-media', record: null });
    expect(await media.check('../../etc', null)).toMatchObject({ ok: false, reason: 'unknown-media' });
    expect(await media.check('M-1', 'pxm_wrong')).toMatchObject({ ok: false, reason: 'bad-secret', record: { id: 'M-1' } });
    expect(await media.check('M-1', '')).toMatchObject({ ok: false, reason: 'bad-secret' });
    expect(secretMatches(MEDIA_SECRET, 'not-a-hash')).toBe(false);
    expect(secretMatches(MEDIA_SECRET, sha256Hex(MEDIA_SECRET))).toBe(true);
  });

  it('rule 102: a blocked medium is refused — after the secret check, so the state is not told to a wrong secret', async () => {
    await media.block('M-1', ADMIN);
    expect(await media.check('M-1', MEDIA_SECRET)).toMatchObject({ ok: false, reason: 'blocked-media' });
    expect(await media.check('M-1', 'pxm_wrong')).toMatchObject({ ok: false, reason: 'bad-secret' });
    await media.unblock('M-1', ADMIN);
    expect(await media.check('M-1', MEDIA_SECRET)).toMatchObject({ ok: true });
  });

  it('rules 101–102: the certificate dates, inclusive, against `now` or the clock', async () => {
    const r = mediaRecord('M-1');
    expect(await media.check('M-1', MEDIA_SECRET, new Date(r.certificateNotBefore))).toMatchObject({ ok: true });
    expect(await media.check('M-1', MEDIA_SECRET, new Date(r.certificateNotAfter))).toMatchObject({ ok: true });
    expect(await media.check('M-1', MEDIA_SECRET, new Date(Date.parse(r.certificateNotBefore) - 1))).toMatchObject({ ok: false, reason: 'media-certificate-not-yet-valid' });
    expect(await media.check('M-1', MEDIA_SECRET, new Date(Date.parse(r.certificateNotAfter) + 1))).toMatchObject({ ok: false, reason: 'media-certificate-expired' });
    now = Date.parse('2028-01-01T00:00:00.000Z');
    expect(await media.check('M-1', MEDIA_SECRET)).toMatchObject({ ok: false, reason: 'media-certificate-expired' });
  });
});

describe('recordBoot: every media boot is a status message (issue 7)', () => {
  beforeEach(async () => {
    await media.register(mediaRecord('M-1'), ADMIN);
  });

  it('writes one status message per boot with the machine identity and the stage', async () => {
    await media.recordBoot(await media.get('M-1'), { stage: 'loader', macs: ['52:54:00:12:34:56'], smbiosGuid: null, architecture: 'x86_64-efi', remoteAddress: '10.77.0.9' });
    await media.recordBoot(await media.get('M-1'), {
      stage: 'client', macs: ['52:54:00:12:34:56'], smbiosGuid: '4b1d0000-7777-4000-8000-000000000010', architecture: 'x64', remoteAddress: '10.77.0.9', sessionId: 's-1', deviceId: '16777220',
    });
    const status = await repo.statusMessages.list({ kind: 'status' });
    expect(status).toHaveLength(2);
    expect(status[0]).toMatchObject({
      kind: 'status', severity: 'info', component: 'media', actor: 'media:M-1', deviceId: null,
      text: expect.stringContaining('52:54:00:12:34:56'),
      data: { action: 'media-boot', mediaId: 'M-1', mediaType: 'bootable', stage: 'loader', macs: ['52:54:00:12:34:56'], architecture: 'x86_64-efi', remoteAddress: '10.77.0.9' },
    });
    expect(status[1]).toMatchObject({ deviceId: '16777220', data: { stage: 'client', sessionId: 's-1', smbiosGuid: '4b1d0000-7777-4000-8000-000000000010' } });
  });

  it('a refused boot (blocked, expired) is an audit message instead', async () => {
    await media.block('M-1', ADMIN);
    await media.recordBoot(await media.get('M-1'), { stage: 'loader', macs: [], smbiosGuid: null, architecture: null, remoteAddress: null });
    now = Date.parse('2028-01-01T00:00:00.000Z');
    await media.unblock('M-1', ADMIN);
    await media.recordBoot(await media.get('M-1'), { stage: 'loader', macs: ['52:54:00:12:34:56'], smbiosGuid: null, architecture: null, remoteAddress: null });
    expect(await repo.statusMessages.list({ kind: 'status' })).toEqual([]);
    const refused = (await audits()).filter((m) => m.data.action === 'media-boot-refused');
    expect(refused.map((m) => m.data.reason)).toEqual(['blocked-media', 'media-certificate-expired']);
    expect(refused[0]).toMatchObject({ severity: 'warning', component: 'media', text: expect.stringContaining('an unidentified machine') });
  });
});
