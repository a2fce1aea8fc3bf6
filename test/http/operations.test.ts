import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTOR, startHarness, TOKEN_NAME, type Harness } from './harness.js';
import { createDeployableSite, type DeployableSite } from './fixtures.js';

let h: Harness;
let site: DeployableSite;
beforeAll(async () => {
  h = await startHarness();
  site = await createDeployableSite(h);
});
afterAll(() => h.close());

describe('operations', () => {
  it('clears required PXE deployments of a device and audits it', async () => {
    const device = await h.repo.devices.get(site.deviceId);
    await h.repo.devices.update({ ...device!, pxe: { lastPxeDeploymentId: 'PXP20001', lastPxeDeploymentTime: '2026-11-26T04:00:00Z' } });
    const r = await h.api('POST', '/api/clear-pxe', { deviceId: site.deviceId });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ cleared: [site.deviceId] });
    expect((await h.repo.devices.get(site.deviceId))!.pxe).toEqual({ lastPxeDeploymentId: null, lastPxeDeploymentTime: null });
    const again = await h.api('POST', '/api/clear-pxe', { collectionId: site.collectionId });
    expect(again.json()).toEqual({ cleared: [] });
    const audits = (await h.service.messages({ kind: 'audit' })).filter((m) => m.data.action === 'clear-pxe');
    expect(audits.map((m) => m.actor)).toEqual([ACTOR, ACTOR]);
  });

  it('lists the members of a collection', async () => {
    const r = await h.api('GET', `/api/collections/${site.collectionId}/members`);
    expect(r.statusCode).toBe(200);
    expect(r.json().map((d: { id: string }) => d.id)).toEqual([site.deviceId]);
    const unknown = await h.api('GET', '/api/collections/SMS000US/members');
    expect(unknown.json()).toHaveLength(2);
    expect((await h.api('GET', '/api/collections/PXP0FFFF/members')).statusCode).toBe(404);
  });

  it('checks a task sequence for invalid references (rule 1)', async () => {
    const ok = await h.api('GET', `/api/task-sequences/${site.taskSequenceId}/check`);
    expect(ok.json()).toEqual({ taskSequenceId: site.taskSequenceId, deployable: true, problems: [] });
    const broken = await h.api('POST', '/api/task-sequences', { name: 'broken', steps: [{ name: 'Get', type: 'download-package', packageId: 'PXP0FFFF' }] });
    const r = await h.api('GET', `/api/task-sequences/${broken.json().id}/check`);
    expect(r.json()).toMatchObject({ deployable: false, problems: [{ kind: 'missing-package', stepIndex: 0, referenceId: 'PXP0FFFF' }] });
  });

  it('reads and changes site settings', async () => {
    const before = (await h.api('GET', '/api/settings')).json();
    expect(before).toMatchObject({ siteCode: 'PXP' });
    const r = await h.api('PATCH', '/api/settings', { siteName: 'Lab site', deploymentVerification: { defaultSize: 50 } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ ...before, siteName: 'Lab site', deploymentVerification: { ...before.deploymentVerification, defaultSize: 50 } });
    const refused = await h.api('PATCH', '/api/settings', { deploymentVerification: { maximumSize: 10 } });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'PXE_ERR_VERIFICATION_SETTINGS', rule: 131 });
    expect((await h.api('GET', '/api/settings')).json().deploymentVerification.maximumSize).toBe(0);
  });

  it('pages through messages with afterId and limit, and filters them', async () => {
    const all = (await h.api('GET', '/api/messages?limit=1000')).json() as { id: number; kind: string }[];
    expect(all.length).toBeGreaterThan(5);
    const first = (await h.api('GET', '/api/messages?limit=2')).json() as { id: number }[];
    expect(first).toEqual(all.slice(0, 2));
    const next = (await h.api('GET', `/api/messages?limit=2&afterId=${first[1]!.id}`)).json();
    expect(next).toEqual(all.slice(2, 4));
    const audits = (await h.api('GET', '/api/messages?kind=audit&limit=1000')).json() as { kind: string }[];
    expect(audits.every((m) => m.kind === 'audit')).toBe(true);
    const forDevice = (await h.api('GET', `/api/messages?deviceId=${site.deviceId}`)).json();
    expect(Array.isArray(forDevice)).toBe(true);
  });

  it('returns at most 100 messages unless asked for more', async () => {
    for (let i = 0; i < 110; i++) await h.repo.statusMessages.append({
      time: new Date().toISOString(), kind: 'status', severity: 'info', component: 'test', messageId: 0, actor: 'test', text: `m${i}`, deviceId: null, deploymentId: null, data: {},
    });
    expect((await h.api('GET', '/api/messages')).json()).toHaveLength(100);
    expect((await h.api('GET', '/api/messages?limit=1001')).statusCode).toBe(400);
  });
});

describe('/api/tokens', () => {
  it('shows a new secret once, never a hash, and the new token works', async () => {
    const created = await h.api('POST', '/api/tokens', { name: 'ci' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const { token, secret } = created.json();
    expect(secret).toMatch(/^pxp_/);
    expect(token).not.toHaveProperty('hash');
    expect(token).toMatchObject({ name: 'ci', lastUsedAt: null });

    const listed = (await h.api('GET', '/api/tokens')).json() as Record<string, unknown>[];
    expect(listed.map((t) => t.name)).toEqual(expect.arrayContaining([TOKEN_NAME, 'ci']));
    for (const t of listed) expect(t).not.toHaveProperty('hash');
    expect(JSON.stringify(listed)).not.toContain(secret);

    // A change made with the new token is audited under its name.
    const r = await h.app.inject({ method: 'POST', url: '/api/packages', headers: { authorization: `Bearer ${secret}` }, payload: { name: 'from ci' } });
    expect(r.statusCode).toBe(201);
    const audit = (await h.service.messages({ kind: 'audit' })).find((m) => m.data.entity === 'packages' && m.data.id === r.json().id);
    expect(audit).toMatchObject({ actor: 'token:ci', component: 'admin-api' });
    expect((await h.service.messages({ kind: 'audit' })).find((m) => m.data.entity === 'tokens' && m.data.id === token.id)?.actor).toBe(ACTOR);
  });

  it('answers 404 when revoking a token that does not exist', async () => {
    const r = await h.api('DELETE', '/api/tokens/PXP0FFFF');
    expect(r.statusCode).toBe(404);
  });
});
