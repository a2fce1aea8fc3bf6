/**
 * The site's media routes with inject (issue 7): the admin API (/api/media: list,
 * show, block/unblock with the audit, the image download confined to
 * <dataDir>/media/) and the boot loader announce route
 * (GET /boot/media/<id>/start.cfg: a GRUB script built from fixed text and
 * validated values only, every announcement recorded, rate-limited; rules 101–102).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MediaService } from '../../src/app/media-service.js';
import { SiteService } from '../../src/app/site-service.js';
import { buildHttpApp } from '../../src/http/app.js';
import { BoundedRateLimiter, mediaBootRoutes } from '../../src/http/boot/media.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import { ADMIN, MEDIA_SECRET, mediaRecord, sha256Hex } from './site-fixtures.js';

let repo: SiteRepository;
let app: FastifyInstance;
let media: MediaService;
let secret: string;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pxp-media-routes-'));
  repo = await openSqliteRepository({ file: ':memory:' });
  const service = new SiteService(repo);
  ({ secret } = await service.createToken({ name: 'tester' }, { name: 'test-setup', component: 'test' }));
  media = new MediaService(repo);
  app = await buildHttpApp({ service, media, dataDir, tftpRoot: join(dataDir, 'bootfiles') });
  await app.ready();

  mkdirSync(join(dataDir, 'media'), { recursive: true });
  writeFileSync(join(dataDir, 'media', 'M-IMG.iso'), Buffer.from('CD001 stand-in ISO bytes'));
  const outside = mkdtempSync(join(tmpdir(), 'pxp-media-outside-'));
  writeFileSync(join(outside, 'secret.iso'), 'not yours');
  symlinkSync(join(outside, 'secret.iso'), join(dataDir, 'media', 'escape.iso'));
  writeFileSync(join(dataDir, 'pxepoint.db.stand-in'), 'outside the media folder');

  await media.register(mediaRecord('M-OK'), ADMIN);
  await media.register(mediaRecord('M-BLOCKED'), ADMIN);
  await media.block('M-BLOCKED', ADMIN, 'lost');
  await media.register(mediaRecord('M-OLD', { certificateNotBefore: '2020-01-01T00:00:00.000Z', certificateNotAfter: '2021-01-01T00:00:00.000Z' }), ADMIN);
  await media.register(mediaRecord('M-FUTURE', { certificateNotBefore: '2099-01-01T00:00:00.000Z', certificateNotAfter: '2100-01-01T00:00:00.000Z' }), ADMIN);
  await media.register(mediaRecord('M-IMG', { imagePath: 'M-IMG.iso' }), ADMIN);
  await media.register(mediaRecord('M-ABS', { imagePath: join(dataDir, 'media', 'M-IMG.iso') }), ADMIN);
  await media.register(mediaRecord('M-ESCAPE', { imagePath: 'escape.iso' }), ADMIN);
  await media.register(mediaRecord('M-DOTDOT', { imagePath: '../pxepoint.db.stand-in' }), ADMIN);
  await media.register(mediaRecord('M-GONE', { imagePath: 'gone.iso' }), ADMIN);
});
afterAll(async () => {
  await app.close();
  await repo.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const api = (method: InjectOptions['method'], url: string, body?: unknown, token: string | null = secret) =>
  app.inject({ method, url, headers: token === null ? {} : { authorization: `Bearer ${token}` }, ...(body === undefined ? {} : { payload: body as InjectOptions['payload'] }) });
const announce = (url: string, ip = '10.77.0.9') => app.inject({ method: 'GET', url, remoteAddress: ip });

describe('admin API /api/media', () => {
  it('needs an API token on every route', async () => {
    for (const [method, url] of [['GET', '/api/media'], ['GET', '/api/media/M-OK'], ['POST', '/api/media/M-OK/block'], ['POST', '/api/media/M-OK/unblock'], ['GET', '/api/media/M-IMG/image']] as const) {
      expect((await api(method, url, undefined, null)).statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await api('GET', '/api/media', undefined, 'wrong')).statusCode).toBe(401);
    expect((await media.get('M-OK')).blocked).toBe(false);
  });

  it('lists and shows media without the secret or its hash', async () => {
    const list = await api('GET', '/api/media');
    expect(list.statusCode).toBe(200);
    expect(list.headers['cache-control']).toBe('no-store');
    expect(list.json().map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(['M-OK', 'M-BLOCKED', 'M-IMG']));
    expect(list.body).not.toContain(sha256Hex(MEDIA_SECRET));
    expect(list.body).not.toContain('secretHash');
    const one = await api('GET', '/api/media/M-BLOCKED');
    expect(one.json()).toMatchObject({ id: 'M-BLOCKED', blocked: true, blockedBy: 'cli:tester', variableNames: ['SMSTSPreferredAdvertID'] });
    expect(one.json()).not.toHaveProperty('secretHash');
    const missing = await api('GET', '/api/media/NOPE');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'PXE_ERR_NOT_FOUND' });
  });

  it('blocks and unblocks (rule 102), audited under the token name with the reason; idempotent; bodies validated', async () => {
    await media.register(mediaRecord('M-API'), ADMIN);
    const b = await api('POST', '/api/media/M-API/block', { reason: 'left in a taxi' });
    expect(b.statusCode).toBe(200);
    expect(b.json()).toMatchObject({ id: 'M-API', blocked: true, blockedBy: 'token:tester' });
    expect(b.json()).not.toHaveProperty('secretHash');
    expect((await api('POST', '/api/media/M-API/block')).statusCode).toBe(200); // no body, already blocked
    expect((await api('POST', '/api/media/M-API/block', { reason: 5 })).statusCode).toBe(400);
    expect((await api('POST', '/api/media/M-API/block', { reason: 'x', extra: true })).statusCode).toBe(400);
    expect((await api('POST', '/api/media/NOPE/block', {})).statusCode).toBe(404);
    const u = await api('POST', '/api/media/M-API/unblock', {});
    expect(u.json()).toMatchObject({ blocked: false, blockedBy: null });
    const audit = (await repo.statusMessages.list({ kind: 'audit' })).filter((m) => m.data.id === 'M-API');
    expect(audit.map((m) => [m.data.action, m.actor, m.data.reason ?? null])).toEqual([
      ['register-media', 'cli:tester', null], ['block-media', 'token:tester', 'left in a taxi'], ['unblock-media', 'token:tester', null],
    ]);
  });

  it('streams the image only from <dataDir>/media/ (relative or absolute path), 404 with a reason otherwise', async () => {
    for (const id of ['M-IMG', 'M-ABS']) {
      const r = await api('GET', `/api/media/${id}/image`);
      expect(r.statusCode, id).toBe(200);
      expect(r.headers['content-type']).toBe('application/x-iso9660-image');
      expect(r.headers['content-disposition']).toBe('attachment; filename="M-IMG.iso"');
      expect(r.body).toBe('CD001 stand-in ISO bytes');
    }
    const none = await api('GET', '/api/media/M-OK/image');
    expect(none.statusCode).toBe(404);
    expect(none.json().message).toMatch(/has no image on the site/);
    for (const id of ['M-ESCAPE', 'M-DOTDOT', 'M-GONE']) {
      const r = await api('GET', `/api/media/${id}/image`);
      expect(r.statusCode, id).toBe(404);
      expect(r.json()).toMatchObject({ code: 'PXE_ERR_NOT_FOUND', message: expect.stringMatching(/only images there are served/) });
      expect(r.body).not.toContain('not yours');
    }
  });

  it('documents the routes in /openapi.json under the media tag, the announce route without security', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [m, p] of [['get', '/api/media'], ['get', '/api/media/{id}'], ['post', '/api/media/{id}/block'], ['post', '/api/media/{id}/unblock'], ['get', '/api/media/{id}/image']]) {
      expect(doc.paths[p!]?.[m!]?.tags, `${m} ${p}`).toEqual(['media']);
      expect(doc.paths[p!][m!].responses['401']).toBeDefined();
    }
    expect(doc.tags.map((t: { name: string }) => t.name)).toContain('media');
    expect(doc.paths['/api/media'].post?.tags).toEqual(['media']); // the builder's route, hooked in admin/index.ts
    expect(doc.paths['/boot/media/{mediaId}/start.cfg'].get.security).toEqual([]);
  });
});

/** Every line of a reply is one of these: fixed text, a fixed state, an echo of the safe character set. */
const SCRIPT_LINE = /^(# [^\n]*|set pxp_media_state=(ok|blocked|expired|unknown)|(echo |set pxp_media_message=)'[A-Za-z0-9 .,:;()/_+?-]*')$/;
const expectSafeScript = (body: string): void => {
  expect(body.endsWith('\n')).toBe(true);
  for (const line of body.trimEnd().split('\n')) expect(line).toMatch(SCRIPT_LINE);
};
const loaderMessages = async (mediaId: string | null) =>
  (await repo.statusMessages.list()).filter((m) => m.component === 'media' && m.data.stage === 'loader' && m.data.mediaId === mediaId);

describe('GET /boot/media/:mediaId/start.cfg (the boot loader announce route)', () => {
  it('ok: sets pxp_media_state=ok, says the boot was recorded, and records a status message with the machine', async () => {
    const r = await announce('/boot/media/M-OK/start.cfg?mac=52:54:00:12:34:56&uuid={4B1D0000-7777-4000-8000-0000000000AA}&arch=x86_64-efi');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expectSafeScript(r.body);
    expect(r.body).toContain('set pxp_media_state=ok\n');
    expect(r.body).toContain("echo 'pxepoint: the site recorded this boot of medium M-OK (52:54:00:12:34:56)'");
    const [m] = await loaderMessages('M-OK');
    expect(m).toMatchObject({
      kind: 'status', severity: 'info',
      data: { action: 'media-boot', macs: ['52:54:00:12:34:56'], smbiosGuid: '4b1d0000-7777-4000-8000-0000000000aa', architecture: 'x86_64-efi', remoteAddress: '10.77.0.9' },
    });
  });

  it('reads identifiers leniently: other MAC notations, no query at all, garbage left out of the record', async () => {
    const r = await announce('/boot/media/M-OK/start.cfg?mac=52-54-00-AB-CD-EF&uuid=not-a-guid&arch=$(reboot)');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('(52:54:00:ab:cd:ef)');
    const bare = await announce('/boot/media/M-OK/start.cfg');
    expect(bare.statusCode).toBe(200);
    expect(bare.body).toContain('set pxp_media_state=ok');
    const msgs = await loaderMessages('M-OK');
    expect(msgs.at(-2)).toMatchObject({ data: { macs: ['52:54:00:ab:cd:ef'], smbiosGuid: null, architecture: null } });
    expect(msgs.at(-1)).toMatchObject({ data: { macs: [], smbiosGuid: null }, text: expect.stringContaining('an unidentified machine') });
  });

  it('blocked (rule 102): pxp_media_state=blocked, why without secrets, and an audit message', async () => {
    const r = await announce('/boot/media/M-BLOCKED/start.cfg?mac=52:54:00:12:34:57');
    expectSafeScript(r.body);
    expect(r.body).toContain('set pxp_media_state=blocked\n');
    expect(r.body).toMatch(/\necho 'pxepoint: medium M-BLOCKED is blocked by the site since 2026-[^']*Use another medium\.'\n/);
    expect(r.body).toMatch(/\nset pxp_media_message='pxepoint: medium M-BLOCKED is blocked/);
    expect(r.body).not.toContain('lost'); // the administrator's reason stays in the audit log
    const [m] = await loaderMessages('M-BLOCKED');
    expect(m).toMatchObject({ kind: 'audit', severity: 'warning', data: { action: 'media-boot-refused', reason: 'blocked-media' } });
  });

  it('certificate outside its dates (rules 101–102): pxp_media_state=expired, both ways', async () => {
    const old = await announce('/boot/media/M-OLD/start.cfg?mac=52:54:00:12:34:58');
    expectSafeScript(old.body);
    expect(old.body).toContain('set pxp_media_state=expired\n');
    expect(old.body).toContain('expired at 2021-01-01T00:00:00.000Z');
    const future = await announce('/boot/media/M-FUTURE/start.cfg?mac=52:54:00:12:34:58');
    expect(future.body).toContain('set pxp_media_state=expired\n');
    expect(future.body).toContain('is not valid before 2099-01-01T00:00:00.000Z');
    expect((await loaderMessages('M-OLD'))[0]).toMatchObject({ kind: 'audit', data: { reason: 'media-certificate-expired' } });
    expect((await loaderMessages('M-FUTURE'))[0]).toMatchObject({ kind: 'audit', data: { reason: 'media-certificate-not-yet-valid' } });
  });

  it('unknown: pxp_media_state=unknown, audited', async () => {
    const r = await announce('/boot/media/M-NOBODY/start.cfg?mac=52:54:00:12:34:59');
    expectSafeScript(r.body);
    expect(r.body).toContain('set pxp_media_state=unknown\n');
    expect(r.body).not.toContain('M-NOBODY');
    expect((await loaderMessages('M-NOBODY'))[0]).toMatchObject({ kind: 'audit', data: { action: 'media-boot-refused', reason: 'unknown-media' } });
  });

  it('never writes request input into the script', async () => {
    const hostile = ["'; reboot; echo '", '$(reboot)', '"\nset root=(hd0)\n', '`x`', '\\', '${pxp}'];
    for (const h of hostile) {
      const q = encodeURIComponent(h);
      for (const url of [
        `/boot/media/${q}/start.cfg?mac=${q}&uuid=${q}&arch=${q}`,
        `/boot/media/M-OK/start.cfg?mac=52:54:00:12:34:56${q}&uuid=${q}&arch=${q}`,
        `/boot/media/M-BLOCKED/start.cfg?mac=${q}`,
      ]) {
        const r = await announce(url, '10.77.0.66');
        expect(r.statusCode, url).toBe(200);
        expectSafeScript(r.body);
        expect(r.body).not.toContain('reboot');
        expect(r.body).not.toContain('set root');
        expect(r.body).not.toContain('$');
      }
    }
    const stored = JSON.stringify(await repo.statusMessages.list());
    expect(stored).not.toContain('reboot');
  });

  it('rate-limits recording per MAC, still answering the state (a flood cannot fill the status table)', async () => {
    const url = '/boot/media/M-OK/start.cfg?mac=52:54:00:0f:10:0d';
    const before = (await repo.statusMessages.list()).length;
    const replies = [];
    for (let i = 0; i < 15; i++) replies.push(await announce(url));
    expect(replies.every((r) => r.statusCode === 200 && r.body.includes('set pxp_media_state=ok'))).toBe(true);
    expect(replies.map((r) => r.headers['x-pxepoint-recorded']).filter((x) => x === 'yes')).toHaveLength(6);
    expect(replies.at(-1)!.body).toContain('this boot was not recorded');
    expect((await repo.statusMessages.list()).length - before).toBe(6);
  });
});

describe('the announce route\'s limits (own instance, controllable clock)', () => {
  let t = 0;
  let small: FastifyInstance;
  beforeEach(async () => {
    t = 1_000_000;
    small = Fastify();
    await small.register(mediaBootRoutes, {
      prefix: '/boot', media, now: () => t,
      perMedium: { limit: 3, windowMs: 60_000 }, perMac: { limit: 2, windowMs: 60_000 }, unknown: { limit: 1, windowMs: 60_000 }, maxKeys: 4,
    });
    await small.ready();
  });
  const hit = (id: string, mac: string) => small.inject({ method: 'GET', url: `/boot/media/${id}/start.cfg?mac=${mac}` }).then((r) => r.headers['x-pxepoint-recorded']);

  it('per medium, per MAC and for unknown media, each window starting again after it passes', async () => {
    await media.register(mediaRecord('M-RATE'), ADMIN);
    expect([await hit('M-RATE', '52:54:00:00:00:01'), await hit('M-RATE', '52:54:00:00:00:01'), await hit('M-RATE', '52:54:00:00:00:01')]).toEqual(['yes', 'yes', 'no']);
    expect([await hit('M-RATE', '52:54:00:00:00:02'), await hit('M-RATE', '52:54:00:00:00:03')]).toEqual(['yes', 'no']); // the medium's 3
    expect([await hit('M-UNK-1', '52:54:00:00:00:04'), await hit('M-UNK-2', '52:54:00:00:00:05')]).toEqual(['yes', 'no']);
    t += 60_000;
    expect([await hit('M-RATE', '52:54:00:00:00:01'), await hit('M-UNK-3', '52:54:00:00:00:04')]).toEqual(['yes', 'yes']);
    await small.close();
  });

  it('keeps at most maxKeys windows whatever the number of distinct MACs', () => {
    const limiter = new BoundedRateLimiter({ limit: 1, windowMs: 60_000 }, 100);
    for (let i = 0; i < 10_000; i++) {
      const key = `52:54:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}:00`;
      expect(limiter.allows(key, 0)).toBe(true);
      limiter.count(key, 0);
    }
    expect(limiter.size).toBe(100);
    expect(limiter.allows('52:54:00:27:0f:00', 0)).toBe(false); // the most recent are remembered
  });
});
