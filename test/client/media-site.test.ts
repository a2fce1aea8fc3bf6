/**
 * Bootable media against the real site on loopback (issue 7; rules 20, 23, 24,
 * 97, 102): the sample site in-process (SQLite in memory, the HTTP app
 * listening on 127.0.0.1), a medium registered with the site's media registry,
 * and the reference client identifying with the media credential. The hidden
 * deployment ("Only media and PXE (hidden)") runs only because the medium's
 * SMSTSPreferredAdvertID names it, with no prompt; a blocked medium is refused.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ClientService } from '../../src/app/client-service.js';
import { loadSiteDocument } from '../../src/app/site-document.js';
import { SiteService } from '../../src/app/site-service.js';
import { runFromMedia } from '../../src/client/media.js';
import { EXIT } from '../../src/client/select.js';
import { buildHttpApp } from '../../src/http/app.js';
import { MEDIA_ERRORS, type MediaRecord } from '../../src/media/types.js';
import { SAMPLE_SITE_FILE } from '../../src/server.js';
import type { SiteRepository } from '../../src/site/repository.js';
import { openSqliteRepository } from '../../src/store/sqlite/open.js';
import type { FastifyInstance } from 'fastify';
import { tempDir } from './helpers.js';
import { writeMediaFixture, type MediaFixture } from './support/media-fixture.js';

/** LAB-PC-01 of the sample site (fixtures/sample-site/site.json): in "Lab Workstations". */
const LAB_PC_01 = { mac: '52:54:00:77:00:10', guid: '4b1d0000-7777-4000-8000-000000000010' };
const actor = { name: 'media-test', component: 'test' };

let repo: SiteRepository;
let clients: ClientService;
let app: FastifyInstance;
let url = '';
let hiddenId = '';
let availableId = '';

beforeAll(async () => {
  repo = await openSqliteRepository({ file: ':memory:' });
  const service = new SiteService(repo);
  await loadSiteDocument(service, SAMPLE_SITE_FILE, actor);
  clients = new ClientService(repo);
  app = await buildHttpApp({ service, clientService: clients, media: clients.media });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const deployments = await repo.deployments.list();
  hiddenId = deployments.find((d) => d.deploymentSettings.availableTo === 'media-pxe-hidden')!.id;
  availableId = deployments.find((d) => d.deploymentSettings.availableTo === 'clients-media-pxe')!.id;
});

afterAll(async () => {
  clients?.close();
  await app?.close();
  await repo?.close();
});

/** Registers a fixture medium with the site the way the builder does (MediaService.register). */
async function register(m: MediaFixture): Promise<MediaRecord> {
  const d = m.descriptor;
  return clients.media.register({
    id: m.mediaId, type: d.type, label: d.label, architecture: d.architecture, bootImageId: d.bootImageId, taskSequenceId: null,
    createdAt: d.createdAt, createdBy: d.createdBy,
    certificateNotBefore: d.certificate.body.notBefore, certificateNotAfter: d.certificate.body.notAfter,
    validFrom: null, validUntil: null, unattended: d.unattended, passwordRequired: d.passwordRequired,
    variableNames: ['SMSTSPreferredAdvertID'],
    secretHash: createHash('sha256').update(m.secret, 'utf8').digest('hex'),
    blocked: false, blockedAt: null, blockedBy: null, imagePath: null, imageSha256: null,
  }, actor);
}

describe('bootable media against the site (rules 20, 24, 97, 102)', () => {
  it('identifies with the media credential and runs the hidden deployment SMSTSPreferredAdvertID names, unattended, to success', async () => {
    const medium = writeMediaFixture({
      type: 'bootable', siteUrls: [url], unattended: true, password: 'media pw',
      variables: [{ name: 'SMSTSPreferredAdvertID', value: hiddenId }],
    });
    await register(medium);
    const target = tempDir();
    const askPassword = vi.fn(async () => 'media pw');
    const ask = vi.fn(async () => '1');

    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: target, flags: { macs: [LAB_PC_01.mac], guid: LAB_PC_01.guid }, askPassword, ask, apiAttempts: 1 });

    expect(r.message, JSON.stringify(r, null, 2)).toBeNull();
    expect(r.exitCode).toBe(EXIT.ok);
    expect(r.selection).toEqual({ deploymentId: hiddenId, how: 'preferred' });
    expect(r.run?.succeeded).toBe(true);
    expect(askPassword).toHaveBeenCalledTimes(1); // rule 97: the password, nothing else
    expect(ask).not.toHaveBeenCalled();
    expect(r.identity?.deviceName).toBe('LAB-PC-01');
    expect(existsSync(join(target, 'os'))).toBe(true);
    expect(readFileSync(r.logPath, 'utf8')).not.toContain(medium.secret);

    // The site recorded the media boot and the deployment's success.
    const messages = await repo.statusMessages.list({});
    expect(messages.some((m) => JSON.stringify(m).includes(medium.mediaId))).toBe(true);
    expect(messages.some((m) => m.deploymentId === hiddenId && /successfully completed/.test(m.text ?? ''))).toBe(true);
  });

  it('without SMSTSPreferredAdvertID the hidden deployment is never offered: an unattended medium stops with exit 4, no prompt (rules 23, 97)', async () => {
    const medium = writeMediaFixture({ type: 'bootable', siteUrls: [url], unattended: true });
    await register(medium);
    const ask = vi.fn(async () => '1');
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), flags: { macs: [LAB_PC_01.mac], guid: LAB_PC_01.guid }, ask, apiAttempts: 1 });
    expect(ask).not.toHaveBeenCalled();
    expect(r.offered.map((d) => d.deploymentId)).not.toContain(hiddenId);
    expect(r.offered.map((d) => d.deploymentId)).toContain(availableId);
    expect(r.exitCode).toBe(EXIT.noSelection);
  });

  it('a medium the administrator blocked is refused by the site: exit 6, PXE_ERR_MEDIA_BLOCKED (rule 102)', async () => {
    const medium = writeMediaFixture({ type: 'bootable', siteUrls: [url], variables: [{ name: 'SMSTSPreferredAdvertID', value: hiddenId }] });
    await register(medium);
    await clients.media.block(medium.mediaId, actor, 'lost in the post');
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), flags: { macs: [LAB_PC_01.mac] }, apiAttempts: 1 });
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe(MEDIA_ERRORS.blocked);
    expect(r.run).toBeNull();
  });

  it('a medium the site does not know is refused: 401 from identify, exit 6', async () => {
    const medium = writeMediaFixture({ type: 'bootable', siteUrls: [url] });
    const r = await runFromMedia({ mediaPath: medium.dir, targetDir: tempDir(), flags: { macs: [LAB_PC_01.mac] }, apiAttempts: 1 });
    expect(r.identity).toBeNull();
    expect(r.exitCode).toBe(EXIT.media);
    expect(r.errorCode).toBe('PXE_ERR_CLIENT_UNAUTHENTICATED');
    expect(r.message).toMatch(/this medium cannot be used: .*boot media credential was refused/);
    expect(r.run).toBeNull();
  });
});
